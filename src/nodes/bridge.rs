//! A real robot behind a bridge (`grounded bridge ros2`), served on grounded's keys as the
//! simulator and the policy are: `state`, `skill` (progress, then the result), `affordance`,
//! and the latched emergency stop (`estop`, `estop/state`, `halt`). The daemon plans for it
//! as for the sim. The bridge holds the stop: it starts engaged (nothing moves until
//! `grounded estop --release`), tells the robot at every change and every second, and an engage, a halt or a
//! daemon that goes away mid-skill cancels the skill under way.

use super::common::{urgent_put, NetError};
use super::node::{serve, Incoming, Node};
use super::policy::{skill_reply, DeadMan, ReleaseOnDrop};
use super::sim::{publish_estop_state, RobotEStop};
use grounding::SkillSpace;
use hardware::{RobotBridge, SkillGoal};
use protocol::keys::{Component, RobotKeys};
use protocol::messages::{decode, encode, AffordanceReply, AffordanceRequest, EStop, SkillReplyBody, SkillRequest};
use protocol::SCHEMA_VERSION;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use zenoh::query::Query;
use zenoh::Wait;

/// How often the robot is told the stop's state, changed or not.
const REASSERT: std::time::Duration = std::time::Duration::from_secs(1);

/// Ends a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The skill under way: set its flag to cancel it.
type Running = Arc<Mutex<Option<Arc<AtomicBool>>>>;

fn cancel_running(running: &Running) {
    if let Some(flag) = running.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
        flag.store(true, Ordering::SeqCst);
    }
}

/// Serves one bridged robot on grounded's keys.
pub struct BridgeNode {
    keys: RobotKeys,
    robot: Arc<dyn RobotBridge>,
    estop: Arc<RobotEStop>,
    busy: Arc<AtomicBool>,
    running: Running,
    /// The robot's skill file, to send each skill's template and slot words.
    skills: Option<&'static crate::skills::SkillLibrary>,
    session: zenoh::Session,
}

impl BridgeNode {
    /// `start_released`: without it the stop starts engaged.
    pub fn new(
        session: &zenoh::Session,
        keys: RobotKeys,
        robot: Arc<dyn RobotBridge>,
        skills: Option<&'static crate::skills::SkillLibrary>,
        start_released: bool,
    ) -> Self {
        let estop = Arc::new(RobotEStop::new(!start_released));
        let reason = estop.state().reason;
        if let Err(e) = robot.estop(!start_released, reason.as_deref()) {
            tracing::warn!("bridge: could not tell the robot the emergency stop's state: {e}");
        }
        Self { keys, robot, estop, busy: Arc::new(AtomicBool::new(false)), running: Arc::default(), skills, session: session.clone() }
    }

    fn on_state(&self, q: Query) {
        let robot = self.robot.clone();
        tokio::task::spawn_blocking(move || match robot.observe() {
            Ok(obs) => {
                let _ = q.reply(q.key_expr().clone(), encode(&obs)).wait();
            }
            Err(e) => {
                let _ = q.reply_err(e.to_string()).wait();
            }
        });
    }

    fn on_affordance(&self, q: Query) {
        let robot = self.robot.clone();
        tokio::task::spawn_blocking(move || {
            let bytes = q.payload().map(|p| p.to_bytes().into_owned()).unwrap_or_default();
            let answer = decode::<AffordanceRequest>(&bytes).map_err(|e| e.to_string()).and_then(|req| {
                let obs = match req.observation {
                    Some(obs) => obs,
                    None => robot.observe().map_err(|e| e.to_string())?,
                };
                if req.texts.is_empty() {
                    // Asked for the skills themselves: the domain lists them, the robot scores.
                    let listed = crate::domains::AnyDomainSkills.admissible(&obs).map_err(|e| e.to_string())?;
                    let texts: Vec<String> = listed.iter().map(|s| s.text.clone()).collect();
                    let scores = robot.affordance(&texts, &obs).map_err(|e| e.to_string())?;
                    let skills = listed.into_iter().zip(scores).map(|(s, p)| (s.text, s.feasibility.min(f64::from(p)))).filter(|(_, p)| *p > 0.0).collect();
                    return Ok(AffordanceReply { schema: SCHEMA_VERSION, skills, scores: Vec::new() });
                }
                let texts: Vec<String> = req.texts.iter().map(|t| t.text.clone()).collect();
                let scores = robot.affordance(&texts, &obs).map_err(|e| e.to_string())?;
                Ok(AffordanceReply { schema: SCHEMA_VERSION, skills: Vec::new(), scores: scores.into_iter().map(f64::from).collect() })
            });
            let _ = match answer {
                Ok(reply) => q.reply(q.key_expr().clone(), encode(&reply)).wait(),
                Err(e) => q.reply_err(e).wait(),
            };
        });
    }

    fn on_skill(&self, q: Query) {
        let result = |success: bool, reason: Option<String>| skill_reply(SkillReplyBody::Result { success, reason, sim_seconds: 0.0 });
        // One skill at a time: the robot has one body.
        if self.busy.swap(true, Ordering::SeqCst) {
            let _ = q.reply(q.key_expr().clone(), result(false, Some("the robot is busy with another skill".into()))).wait();
            return;
        }
        let release = ReleaseOnDrop(self.busy.clone());
        let (robot, estop, running, skills, session, keys) =
            (self.robot.clone(), self.estop.clone(), self.running.clone(), self.skills, self.session.clone(), self.keys.clone());
        tokio::task::spawn_blocking(move || {
            let bytes = q.payload().map(|p| p.to_bytes().into_owned()).unwrap_or_default();
            let refuse = |release: ReleaseOnDrop, reason: String| {
                drop(release);
                let _ = q.reply(q.key_expr().clone(), result(false, Some(reason))).wait();
            };
            let req = match decode::<SkillRequest>(&bytes) {
                Ok(r) => r,
                Err(e) => return refuse(release, e.to_string()),
            };
            let state = estop.state();
            if state.engaged {
                let why = state.reason.map(|r| format!(" ({r})")).unwrap_or_default();
                return refuse(release, format!("emergency stop engaged{why}: nothing moves until it is released (grounded estop --release)"));
            }
            let cancel = Arc::new(AtomicBool::new(false));
            let _dead_man = match DeadMan::arm(&session, &keys, req.sender.as_deref(), cancel.clone()) {
                Ok(d) => d,
                Err(e) => return refuse(release, e),
            };
            *running.lock().unwrap_or_else(PoisonError::into_inner) = Some(cancel.clone());
            let text = req.skill.as_str().to_string();
            let (template, slots) = match skills.and_then(|l| l.parts_of(&text)) {
                Some((t, s)) => (Some(t.to_string()), s),
                None => (None, Vec::new()),
            };
            let goal = SkillGoal { skill: text, template, slots };
            let key = q.key_expr().clone();
            let outcome = robot.execute(
                &goal,
                &mut |p| {
                    let _ = q.reply(key.clone(), skill_reply(SkillReplyBody::Progress { phase: format!("{} ({:.0}%)", p.phase, p.fraction * 100.0) })).wait();
                },
                &cancel,
            );
            *running.lock().unwrap_or_else(PoisonError::into_inner) = None;
            drop(release);
            let reply = match outcome {
                Ok(end) => result(end.success, end.reason),
                Err(e) => result(false, Some(e.to_string())),
            };
            let _ = q.reply(key, reply).wait();
        });
    }
}

impl Node for BridgeNode {
    const COMPONENT: Component = Component::Sim;

    fn queryables(&self, keys: &RobotKeys) -> Vec<String> {
        vec![keys.state(), keys.skill(), keys.affordance()]
    }

    fn subscriptions(&self, _keys: &RobotKeys) -> Vec<String> {
        Vec::new()
    }

    fn estop_handler(&self) -> Option<super::node::EStopHandler> {
        let (estop, session, key, robot, running) =
            (self.estop.clone(), self.session.clone(), self.keys.estop_state(), self.robot.clone(), self.running.clone());
        let runtime = tokio::runtime::Handle::current();
        Some(Box::new(move |stop: &EStop| {
            let state = estop.apply(stop);
            if stop.engaged {
                cancel_running(&running);
            }
            let (session, key, robot, reason) = (session.clone(), key.clone(), robot.clone(), stop.reason.clone());
            let engaged = stop.engaged;
            runtime.spawn(async move {
                publish_estop_state(&session, &key, &state).await;
                let told = tokio::task::spawn_blocking(move || robot.estop(engaged, reason.as_deref())).await;
                if let Ok(Err(e)) = told {
                    tracing::warn!("bridge: could not tell the robot the emergency stop's state: {e}");
                }
            });
        }))
    }

    async fn handle(&mut self, _session: &zenoh::Session, message: Incoming) {
        let Incoming::Query { key, query } = message else { return };
        if key == self.keys.state() {
            self.on_state(query)
        } else if key == self.keys.skill() {
            self.on_skill(query)
        } else if key == self.keys.affordance() {
            self.on_affordance(query)
        }
    }
}

/// Serve until the session closes.
pub async fn run(session: zenoh::Session, node: BridgeNode) -> Result<(), NetError> {
    let z = |e: zenoh::Error| NetError::Zenoh(super::common::zenoh_text(&e));
    let keys = node.keys.clone();
    let estop = node.estop.clone();
    let _estop_state = session
        .declare_queryable(keys.estop_state())
        .callback(move |q| {
            let _ = q.reply(q.key_expr().clone(), encode(&estop.state())).wait();
        })
        .await
        .map_err(z)?;
    // A halt (a policy's or daemon's dead-man) cancels the skill under way, unlatched.
    let running = node.running.clone();
    let _halt = session
        .declare_subscriber(keys.halt())
        .callback(move |sample| {
            if decode::<EStop>(&sample.payload().to_bytes()).is_ok_and(|s| s.engaged) {
                tracing::warn!("bridge: halt: cancelling the skill under way");
                cancel_running(&running);
            }
        })
        .await
        .map_err(z)?;
    // The robot hears the stop's state again every second: a robot that joins or restarts
    // late, or missed a change, is told within a second.
    let (robot, estop) = (node.robot.clone(), node.estop.clone());
    let reassert = tokio::spawn(async move {
        let mut every = tokio::time::interval(REASSERT);
        loop {
            every.tick().await;
            let (robot, state) = (robot.clone(), estop.state());
            let _ = tokio::task::spawn_blocking(move || robot.estop(state.engaged, state.reason.as_deref())).await;
        }
    });
    let _stop_reassert = AbortOnDrop(reassert);
    // The bridge is the robot's policy too.
    let _policy = session.liveliness().declare_token(keys.alive(Component::Policy)).await.map_err(z)?;
    let state = node.estop.state();
    let _ = urgent_put(&session, &keys.estop_state(), encode(&state)).await;
    serve(session, keys, node).await
}
