//! The policy node: carries out skills (replying with progress, then the result) and answers
//! affordance queries from its own view of the state.

use super::common::{alive, urgent_put, NetError};
use super::latch::{watch, Latch};
use super::node::{serve, Incoming, Node};
use super::remote::RemotePrimitives;
use super::timeouts;
use crate::domains::Primitives;
use grounding::{Affordance, GroundedModel, Safety, SafetyConfig, SafetyMode, SkillPrefix, SkillSpace};
use protocol::keys::{Component, RobotKeys};
use protocol::messages::Primitive;
use protocol::messages::{decode, encode, AffordanceReply, AffordanceRequest, EStop, SkillReply, SkillReplyBody, SkillRequest};
use protocol::SCHEMA_VERSION;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use zenoh::query::Query;
use zenoh::Wait;

/// Clears the busy flag when a skill's task ends, however it ends.
pub(crate) struct ReleaseOnDrop(pub(crate) Arc<AtomicBool>);

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

pub(crate) fn skill_reply(body: SkillReplyBody) -> Vec<u8> {
    encode(&SkillReply { schema: SCHEMA_VERSION, body })
}

/// The policy node: carries out skills with the policy of the domain the robot is in,
/// answers affordance queries, and obeys the emergency stop.
pub struct PolicyNode {
    pub keys: RobotKeys,
    /// Bounds each primitive's round trip to the sim.
    pub primitive_timeout: Duration,
    /// The robot's emergency stop as this policy follows it (stopped until read released).
    latch: Arc<Latch>,
    busy: Arc<AtomicBool>,
    /// The operator's hard safety rules, enforced here too (defence in depth).
    safety: Option<Arc<Safety>>,
}

/// The dead-man switch of one skill: while the daemon that sent it is alive, nothing
/// happens; when its token goes away, the skill is cancelled and the robot's motion halted.
pub(crate) struct DeadMan {
    _watch: Option<zenoh::pubsub::Subscriber<()>>,
}

impl DeadMan {
    /// Watch `sender`'s instance token (None: a client without one; no dead-man); `cancelled`
    /// is set when it goes away.
    pub(crate) fn arm(session: &zenoh::Session, keys: &RobotKeys, sender: Option<&str>, cancelled: Arc<AtomicBool>) -> Result<Self, String> {
        let Some(sender) = sender else { return Ok(Self { _watch: None }) };
        let token = keys.alive_instance(Component::Daemon, sender);
        let (flag, s, halt) = (cancelled, session.clone(), keys.halt());
        let watch = session
            .liveliness()
            .declare_subscriber(&token)
            .callback(move |sample| {
                if sample.kind() == zenoh::sample::SampleKind::Delete && !flag.swap(true, Ordering::SeqCst) {
                    tracing::warn!("policy: the daemon that sent the skill went away: halting the robot");
                    let stop = EStop { schema: SCHEMA_VERSION, engaged: true, reason: Some("dead-man: the daemon went away".into()) };
                    let _ = urgent_put(&s, &halt, encode(&stop)).wait();
                }
            })
            .wait()
            .map_err(|e| format!("could not watch the daemon that sent the skill: {e}"))?;
        // Declared first, then looked at: a daemon that went away in between is seen either way.
        if !alive(session, &token) {
            return Err(format!("the daemon that sent the skill (zenoh id {sender}) is not running: refused"));
        }
        Ok(Self { _watch: Some(watch) })
    }
}

impl PolicyNode {
    pub fn new(keys: RobotKeys, primitive_timeout: Duration) -> Self {
        Self { keys, primitive_timeout, latch: Arc::new(Latch::default()), busy: Arc::new(AtomicBool::new(false)), safety: None }
    }

    /// Refuse every skill that mentions a term `rules` forbid (as hard rules, whatever their
    /// mode: the policy does not weigh, it refuses), and give such skills affordance 0.
    pub fn with_safety(mut self, rules: &SafetyConfig) -> Result<Self, grounding::GroundingError> {
        let hard = SafetyConfig { mode: SafetyMode::Hard, ..rules.clone() };
        self.safety = Some(Arc::new(Safety::new(&hard)?));
        Ok(self)
    }

    fn robot(&self, session: &zenoh::Session, dead_man: Arc<AtomicBool>) -> RemotePrimitives {
        RemotePrimitives { session: session.clone(), keys: self.keys.clone(), timeout: self.primitive_timeout, estop: self.latch.stopped_flag(), dead_man }
    }

    async fn on_skill(&mut self, session: &zenoh::Session, q: Query) {
        let dead_man = Arc::new(AtomicBool::new(false));
        let robot = self.robot(session, dead_man.clone());
        let (latch, session, keys, safety) = (self.latch.clone(), session.clone(), self.keys.clone(), self.safety.clone());
        // One skill at a time: the robot has one body. The loop keeps serving (affordances,
        // emergency stops) while a skill runs.
        if self.busy.swap(true, Ordering::SeqCst) {
            let _ = q
                .reply(
                    q.key_expr().clone(),
                    skill_reply(SkillReplyBody::Result { success: false, reason: Some("the robot is busy with another skill".into()), sim_seconds: 0.0 }),
                )
                .await;
            return;
        }
        let busy = self.busy.clone();
        tokio::task::spawn_blocking(move || {
            // Released before the result is sent (and however the task ends), so that the
            // asker's next skill, sent on the result, never finds the robot busy.
            let release = ReleaseOnDrop(busy);
            let bytes = q.payload().map(|p| p.to_bytes().into_owned()).unwrap_or_default();
            let refuse = |release: ReleaseOnDrop, reason: String| {
                drop(release);
                let _ = q.reply(q.key_expr().clone(), skill_reply(SkillReplyBody::Result { success: false, reason: Some(reason), sim_seconds: 0.0 })).wait();
            };
            let req = match decode::<SkillRequest>(&bytes) {
                Ok(r) => r,
                Err(e) => return refuse(release, e.to_string()),
            };
            if safety.as_ref().is_some_and(|s| s.score_text(req.skill.as_str()).is_never()) {
                return refuse(release, format!("refused by the policy's safety rules: {:?} mentions a forbidden term", req.skill.as_str()));
            }
            // Nothing moves unless the robot itself says its stop is released.
            if let Err(why) = latch.ensure_released(&session, &keys, timeouts::OBSERVE) {
                return refuse(release, why);
            }
            // The robot's primitives look at the dead-man's flag before each one.
            let _dead_man = match DeadMan::arm(&session, &keys, req.sender.as_deref(), dead_man.clone()) {
                Ok(w) => w,
                Err(e) => return refuse(release, e),
            };
            let mut robot = robot;
            let key = q.key_expr().clone();
            // The skill is carried out by the policy of the domain the robot is in.
            let outcome = match robot.observe() {
                Ok(obs) => match crate::domains::domain(obs.domain) {
                    Ok(domain) => domain.execute(req.skill.as_str(), &mut robot, &mut |phase| {
                        let _ = q.reply(key.clone(), skill_reply(SkillReplyBody::Progress { phase: phase.to_string() })).wait();
                    }),
                    Err(e) => policies::SkillOutcome { success: false, reason: Some(e) },
                },
                Err(e) => policies::SkillOutcome { success: false, reason: Some(format!("the robot could not be observed: {e}")) },
            };
            let sim_seconds = robot.primitive(Primitive::Wait { seconds: 0.0 }).map(|r| r.sim_seconds).unwrap_or(0.0);
            drop(release);
            let _ = q.reply(key, skill_reply(SkillReplyBody::Result { success: outcome.success, reason: outcome.reason, sim_seconds })).wait();
        });
    }

    async fn on_affordance(&mut self, session: &zenoh::Session, q: Query) {
        let mut robot = self.robot(session, Arc::new(AtomicBool::new(false)));
        let safety = self.safety.clone();
        let forbidden = move |text: &str| safety.as_ref().is_some_and(|s| s.score_text(text).is_never());
        let _ = tokio::task::spawn_blocking(move || {
            let bytes = q.payload().map(|p| p.to_bytes().into_owned()).unwrap_or_default();
            let answer = decode::<AffordanceRequest>(&bytes).map_err(|e| e.to_string()).and_then(|req| {
                let obs = match req.observation {
                    Some(obs) => {
                        obs.validate().map_err(|e| format!("the affordance request's observation: {e}"))?;
                        obs
                    }
                    None => robot.observe()?,
                };
                if req.texts.is_empty() {
                    let skills = crate::domains::AnyDomainSkills.admissible(&obs).map_err(|e| e.to_string())?;
                    let skills = skills.into_iter().map(|s| (s.text, s.feasibility)).filter(|(t, _)| !forbidden(t)).collect();
                    return Ok(AffordanceReply { schema: SCHEMA_VERSION, skills, scores: Vec::new() });
                }
                let model = Affordance::new(crate::domains::AnyDomainSkills, 1e-6);
                let mut bound = model.bind(&obs).map_err(|e| e.to_string())?;
                let prefixes: Vec<SkillPrefix<'_>> = req.texts.iter().map(|t| SkillPrefix { text: &t.text, complete: t.complete }).collect();
                let scores = bound
                    .score(&prefixes)
                    .map_err(|e| e.to_string())?
                    .iter()
                    .zip(&req.texts)
                    .map(|(s, t)| if forbidden(&t.text) { 0.0 } else { s.prob() })
                    .collect();
                Ok(AffordanceReply { schema: SCHEMA_VERSION, skills: Vec::new(), scores })
            });
            match answer {
                Ok(reply) => {
                    let _ = q.reply(q.key_expr().clone(), encode(&reply)).wait();
                }
                Err(e) => {
                    let _ = q.reply_err(e).wait();
                }
            }
        })
        .await;
    }
}

impl Node for PolicyNode {
    const COMPONENT: Component = Component::Policy;

    fn queryables(&self, keys: &RobotKeys) -> Vec<String> {
        vec![keys.skill(), keys.affordance()]
    }

    fn subscriptions(&self, _keys: &RobotKeys) -> Vec<String> {
        Vec::new()
    }

    fn estop_handler(&self) -> Option<super::node::EStopHandler> {
        let latch = self.latch.clone();
        Some(Box::new(move |stop| latch.operator(stop)))
    }

    async fn handle(&mut self, session: &zenoh::Session, message: Incoming) {
        match message {
            Incoming::Query { key, query } if key == self.keys.skill() => self.on_skill(session, query).await,
            Incoming::Query { key, query } if key == self.keys.affordance() => self.on_affordance(session, query).await,
            Incoming::Query { .. } | Incoming::Sample { .. } => {}
        }
    }
}

/// Serve until the session closes. `primitive_timeout` bounds each primitive's round trip.
pub async fn run(session: zenoh::Session, keys: RobotKeys, primitive_timeout: Duration) -> Result<(), NetError> {
    run_node(session, PolicyNode::new(keys, primitive_timeout)).await
}

/// Serve `node` (e.g. one with safety rules) until the session closes.
pub async fn run_node(session: zenoh::Session, node: PolicyNode) -> Result<(), NetError> {
    let keys = node.keys.clone();
    let _latch = watch(&session, &keys, node.latch.clone(), timeouts::OBSERVE).await?;
    serve(session, keys, node).await
}
