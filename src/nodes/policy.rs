//! The policy node: carries out skills (replying with progress, then the result) and answers
//! affordance queries from its own view of the state.

use super::common::NetError;
use super::remote::RemotePrimitives;
use crate::domains::Primitives;
use grounding::{Affordance, GroundedModel, SkillPrefix, SkillSpace};
use protocol::keys::{Component, RobotKeys};
use protocol::messages::Primitive;
use protocol::messages::{decode, encode, AffordanceReply, AffordanceRequest, EStop, SkillReply, SkillReplyBody, SkillRequest};
use protocol::SCHEMA_VERSION;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
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

/// Serve until the session closes. `primitive_timeout` bounds each primitive's round trip.
pub async fn run(session: zenoh::Session, keys: RobotKeys, primitive_timeout: Duration) -> Result<(), NetError> {
    let z = |e: zenoh::Error| NetError::Zenoh(e.to_string());
    let skills = session.declare_queryable(keys.skill()).await.map_err(z)?;
    let affordances = session.declare_queryable(keys.affordance()).await.map_err(z)?;
    let estops = session.declare_subscriber(keys.estop()).await.map_err(z)?;
    // Alive only once it answers.
    let _token = session.liveliness().declare_token(keys.alive(Component::Policy)).await.map_err(z)?;
    let estop = Arc::new(AtomicBool::new(false));
    let busy = Arc::new(AtomicBool::new(false));
    loop {
        tokio::select! {
            q = skills.recv_async() => {
                let Ok(q) = q else { break };
                let robot = RemotePrimitives { session: session.clone(), keys: keys.clone(), timeout: primitive_timeout, estop: estop.clone() };
                // One skill at a time: the robot has one body. The loop keeps serving (affordances,
                // emergency stops) while a skill runs.
                if busy.swap(true, Ordering::SeqCst) {
                    let _ = q.reply(q.key_expr().clone(), skill_reply(SkillReplyBody::Result { success: false, reason: Some("the robot is busy with another skill".into()), sim_seconds: 0.0 })).await;
                    continue;
                }
                let busy = busy.clone();
                tokio::task::spawn_blocking(move || {
                    let _release = ReleaseOnDrop(busy);
                    let bytes = q.payload().map(|p| p.to_bytes().into_owned()).unwrap_or_default();
                    let req = match decode::<SkillRequest>(&bytes) {
                        Ok(r) => r,
                        Err(e) => {
                            let _ = q.reply(q.key_expr().clone(), skill_reply(SkillReplyBody::Result { success: false, reason: Some(e.to_string()), sim_seconds: 0.0 })).wait();
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
                    let _ = q.reply(key, skill_reply(SkillReplyBody::Result { success: outcome.success, reason: outcome.reason, sim_seconds })).wait();
                });
            }
            q = affordances.recv_async() => {
                let Ok(q) = q else { break };
                let mut robot = RemotePrimitives { session: session.clone(), keys: keys.clone(), timeout: primitive_timeout, estop: estop.clone() };
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
                        Ok(reply) => { let _ = q.reply(q.key_expr().clone(), encode(&reply)).wait(); }
                        Err(e) => { let _ = q.reply_err(e).wait(); }
                    }
                }).await;
            }
            s = estops.recv_async() => {
                let Ok(s) = s else { break };
                match decode::<EStop>(&s.payload().to_bytes()) {
                    Ok(stop) => {
                        tracing::warn!("policy: emergency stop {}", if stop.engaged { "engaged" } else { "released" });
                        estop.store(stop.engaged, Ordering::SeqCst);
                    }
                    Err(e) => tracing::warn!("policy: ignored a malformed emergency stop: {e}"),
                }
            }
        }
    }
    Ok(())
}
