//! The policy node: carries out skills (replying with progress, then the result) and answers
//! affordance queries from its own view of the state.

use super::common::NetError;
use super::node::{serve, Incoming, Node};
use super::remote::RemotePrimitives;
use crate::domains::Primitives;
use grounding::{Affordance, GroundedModel, SkillPrefix, SkillSpace};
use protocol::keys::{Component, RobotKeys};
use protocol::messages::Primitive;
use protocol::messages::{decode, encode, AffordanceReply, AffordanceRequest, SkillReply, SkillReplyBody, SkillRequest};
use protocol::SCHEMA_VERSION;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use zenoh::query::Query;
use zenoh::Wait;

/// Clears the busy flag when a skill's task ends, however it ends.
struct ReleaseOnDrop(Arc<AtomicBool>);

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

fn skill_reply(body: SkillReplyBody) -> Vec<u8> {
    encode(&SkillReply { schema: SCHEMA_VERSION, body })
}

/// The policy node: carries out skills with the policy of the domain the robot is in,
/// answers affordance queries, and obeys the emergency stop.
pub struct PolicyNode {
    pub keys: RobotKeys,
    /// Bounds each primitive's round trip to the sim.
    pub primitive_timeout: Duration,
    estop: Arc<AtomicBool>,
    busy: Arc<AtomicBool>,
}

impl PolicyNode {
    pub fn new(keys: RobotKeys, primitive_timeout: Duration) -> Self {
        Self { keys, primitive_timeout, estop: Arc::new(AtomicBool::new(false)), busy: Arc::new(AtomicBool::new(false)) }
    }

    fn robot(&self, session: &zenoh::Session) -> RemotePrimitives {
        RemotePrimitives { session: session.clone(), keys: self.keys.clone(), timeout: self.primitive_timeout, estop: self.estop.clone() }
    }

    async fn on_skill(&mut self, session: &zenoh::Session, q: Query) {
        let robot = self.robot(session);
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
            let req = match decode::<SkillRequest>(&bytes) {
                Ok(r) => r,
                Err(e) => {
                    drop(release);
                    let _ = q
                        .reply(q.key_expr().clone(), skill_reply(SkillReplyBody::Result { success: false, reason: Some(e.to_string()), sim_seconds: 0.0 }))
                        .wait();
                    return;
                }
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
        let mut robot = self.robot(session);
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
                    let skills = skills.into_iter().map(|s| (s.text, s.feasibility)).collect();
                    return Ok(AffordanceReply { schema: SCHEMA_VERSION, skills, scores: Vec::new() });
                }
                let model = Affordance::new(crate::domains::AnyDomainSkills, 1e-6);
                let mut bound = model.bind(&obs).map_err(|e| e.to_string())?;
                let prefixes: Vec<SkillPrefix<'_>> = req.texts.iter().map(|t| SkillPrefix { text: &t.text, complete: t.complete }).collect();
                let scores = bound.score(&prefixes).map_err(|e| e.to_string())?.iter().map(|s| s.prob()).collect();
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
        let flag = self.estop.clone();
        Some(Box::new(move |stop| flag.store(stop.engaged, Ordering::SeqCst)))
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
    serve(session, keys.clone(), PolicyNode::new(keys, primitive_timeout)).await
}
