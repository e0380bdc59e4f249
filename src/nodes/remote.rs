//! zenoh clients: the robot's primitives as the policy reaches them, the robot as the daemon reaches it, and
//! the policy's affordances as the daemon's grounded model reaches them.

use super::common::{alive, query_all, query_one};
use crate::controller::{Robot, RobotError};
use grounding::{GroundingError, ScoredSkill, SkillSpace};
use protocol::keys::{Component, RobotKeys};
use protocol::messages::{
    decode, encode, AffordanceReply, AffordanceRequest, Primitive, PrimitiveCommand, PrimitiveReply, SkillReply, SkillReplyBody, SkillRequest,
};
use protocol::{Observation, SCHEMA_VERSION};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use zenoh::Wait;

/// The current observation, asked of the simulator (or robot bridge).
pub fn observe(session: &zenoh::Session, keys: &RobotKeys, timeout: Duration) -> Result<Observation, String> {
    let replies = query_all(session, &keys.state(), Vec::new(), timeout).map_err(|e| e.to_string())?;
    match replies.into_iter().next() {
        None => Err(format!("no observation from {} within {:.1} s (is the sim running?)", keys.state(), timeout.as_secs_f64())),
        Some(Err(e)) => Err(e),
        Some(Ok(bytes)) => decode::<Observation>(&bytes).map_err(|e| e.to_string()),
    }
}

/// The simulated robot's primitives (arm, maze agent, kitchen robot), reached over zenoh.
pub struct RemotePrimitives {
    pub session: zenoh::Session,
    pub keys: RobotKeys,
    pub timeout: Duration,
    /// Set while the robot's emergency stop is not known to be released: every further
    /// command fails.
    pub estop: Arc<AtomicBool>,
    /// The skill's dead-man switch: set when the daemon that sent it went away.
    pub dead_man: Arc<AtomicBool>,
}

impl crate::domains::Primitives for RemotePrimitives {
    fn observe(&mut self) -> Result<Observation, String> {
        observe(&self.session, &self.keys, self.timeout)
    }

    fn primitive(&mut self, body: Primitive) -> Result<PrimitiveReply, String> {
        if self.estop.load(Ordering::SeqCst) {
            return Err("emergency stop engaged".into());
        }
        if self.dead_man.load(Ordering::SeqCst) {
            return Err("dead-man: the daemon that sent this skill went away; the robot was halted".into());
        }
        let reply: PrimitiveReply = query_one(&self.session, &self.keys.primitives(), &PrimitiveCommand { schema: SCHEMA_VERSION, body }, self.timeout)
            .map_err(|e| format!("the sim did not answer: {e}"))??;
        if !reply.ok {
            return Err(reply.reason.unwrap_or_else(|| "the robot refused the primitive".into()));
        }
        Ok(reply)
    }
}

/// The robot as the daemon reaches it: observations from the sim, skills from the policy.
pub struct ZenohRobot {
    pub session: zenoh::Session,
    pub keys: RobotKeys,
    /// How long one skill may take.
    pub skill_timeout: Duration,
    pub observe_timeout: Duration,
    /// The daemon's emergency-stop flag: while engaged, nothing is observed or executed.
    pub estop: Option<Arc<AtomicBool>>,
    /// The zenoh id of the daemon's instance token, sent with each skill so that the
    /// policy's dead-man switch can watch it (None: this client holds no token).
    pub sender: Option<String>,
}

impl ZenohRobot {
    fn stopped(&self) -> Result<(), RobotError> {
        match &self.estop {
            Some(flag) if flag.load(Ordering::SeqCst) => Err(RobotError::Other("emergency stop engaged".into())),
            _ => Ok(()),
        }
    }
}

impl Robot for ZenohRobot {
    fn observe(&mut self) -> Result<Observation, RobotError> {
        self.stopped()?;
        // Asked first, diagnosed after: a slow liveliness answer (a loaded machine, a
        // router between) never makes a sim that answers look gone.
        observe(&self.session, &self.keys, self.observe_timeout).map_err(|e| {
            if alive(&self.session, &self.keys.alive(Component::Sim)) {
                RobotError::Other(e)
            } else {
                RobotError::Lost("sim")
            }
        })
    }

    fn execute(&mut self, skill: &str, progress: &mut dyn FnMut(&str)) -> Result<policies::SkillOutcome, RobotError> {
        self.stopped()?;
        let skill = protocol::SkillText::new(skill).map_err(|e| RobotError::Other(e.to_string()))?;
        let req = SkillRequest { schema: SCHEMA_VERSION, skill, sender: self.sender.clone() };
        // No consolidation: every progress reply arrives as it is sent (zenoh's default
        // would keep back all but the last reply of the key, the result).
        let replies = self
            .session
            .get(self.keys.skill())
            .payload(encode(&req))
            .consolidation(zenoh::query::ConsolidationMode::None)
            .timeout(self.skill_timeout)
            .wait()
            .map_err(|e| RobotError::Other(e.to_string()))?;
        while let Ok(reply) = replies.recv() {
            let sample = match reply.result() {
                Ok(s) => s,
                Err(e) => {
                    let message = String::from_utf8_lossy(&e.payload().to_bytes()).into_owned();
                    // zenoh answers a query that ran out of time with a "Timeout" error.
                    if message == "Timeout" {
                        break;
                    }
                    return Ok(policies::SkillOutcome { success: false, reason: Some(message) });
                }
            };
            match decode::<SkillReply>(&sample.payload().to_bytes()) {
                Ok(SkillReply { body: SkillReplyBody::Progress { phase }, .. }) => progress(&phase),
                Ok(SkillReply { body: SkillReplyBody::Result { success, reason, .. }, .. }) => return Ok(policies::SkillOutcome { success, reason }),
                Err(e) => return Err(RobotError::Other(format!("the policy sent a malformed reply: {e}"))),
            }
        }
        // No result: the policy (or the sim under it) went away, or took too long.
        if !alive(&self.session, &self.keys.alive(Component::Policy)) {
            return Err(RobotError::Lost("policy"));
        }
        if !alive(&self.session, &self.keys.alive(Component::Sim)) {
            return Err(RobotError::Lost("sim"));
        }
        Err(RobotError::Timeout { component: "policy", seconds: self.skill_timeout.as_secs_f64() })
    }
}

/// The policy's own knowledge of what it can do, as a skill space for the affordance model:
/// one query per plan step (not per token).
pub struct RemoteSkillSpace {
    pub session: zenoh::Session,
    pub keys: RobotKeys,
    pub timeout: Duration,
}

impl SkillSpace for RemoteSkillSpace {
    fn admissible(&self, observation: &Observation) -> Result<Vec<ScoredSkill>, GroundingError> {
        // The observation travels with the query: the policy answers on the state this plan
        // step is decoded on (a method's own view of it included), in one round trip.
        let req = AffordanceRequest { schema: SCHEMA_VERSION, texts: Vec::new(), observation: Some(observation.clone()) };
        let err = |message: String| GroundingError::Model { model: "affordance".into(), message };
        let reply: AffordanceReply =
            query_one(&self.session, &self.keys.affordance(), &req, self.timeout).map_err(|e| err(format!("the policy did not answer: {e}")))?.map_err(err)?;
        Ok(reply
            .skills
            .into_iter()
            .filter(|(_, f)| f.is_finite() && *f > 0.0)
            .map(|(text, feasibility)| ScoredSkill { text, feasibility: feasibility.min(1.0) })
            .collect())
    }

    fn prefix_model<'a>(&'a self, observation: &Observation) -> Result<Option<Box<dyn grounding::BoundModel + 'a>>, GroundingError> {
        crate::domains::AnyDomainSkills.prefix_model(observation)
    }

    /// What could become admissible is read from the observation by the domain's own rules.
    fn conceivable(&self, observation: &Observation) -> Result<Option<Vec<String>>, GroundingError> {
        crate::domains::AnyDomainSkills.conceivable(observation)
    }
}
