//! The closed loop: observe, decode the next skill against what is observed, have a policy
//! carry it out, and decode again on the new state; a failed skill is written into the plan
//! text as failed and the model decodes again.

use crate::domains::{Domain, InProcess, World};
use crate::planner::{Method, PlanEnd, PlanError, PlanResult, Planner, Proposal, StepOutcome};
use protocol::Observation;

/// Why a robot could not be reached (as opposed to a skill that failed).
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum RobotError {
    #[error("no answer from the {component} within {seconds} s")]
    Timeout { component: &'static str, seconds: f64 },
    #[error("the {0} went away (its liveliness token was lost)")]
    Lost(&'static str),
    #[error("{0}")]
    Other(String),
}

/// A robot as the controller sees it: an observation, and skills carried out.
pub trait Robot {
    fn observe(&mut self) -> Result<Observation, RobotError>;
    /// Carry out a skill; `progress` hears each phase's name.
    fn execute(&mut self, skill: &str, progress: &mut dyn FnMut(&str)) -> Result<policies::SkillOutcome, RobotError>;
}

/// A robot in this process: a simulated world of any domain, its skills carried out by the
/// domain's own policies on the world's primitives (the same policies the policy node runs).
pub struct InProcessRobot {
    pub world: Box<dyn World>,
    domain: &'static dyn Domain,
}

impl InProcessRobot {
    /// `world` is an episode of `domain`.
    pub fn new(domain: &'static dyn Domain, world: Box<dyn World>) -> Self {
        Self { world, domain }
    }
}

impl Robot for InProcessRobot {
    fn observe(&mut self) -> Result<Observation, RobotError> {
        Ok(self.world.observe())
    }

    fn execute(&mut self, skill: &str, progress: &mut dyn FnMut(&str)) -> Result<policies::SkillOutcome, RobotError> {
        Ok(self.domain.execute(skill, &mut InProcess(self.world.as_mut()), progress))
    }
}

/// What the controller reports as it goes.
#[derive(Debug)]
pub enum ControlEvent<'a> {
    Decoded(&'a Proposal),
    Phase { index: usize, phase: &'a str },
    Executed { index: usize, skill: &'a str, outcome: &'a StepOutcome },
    Ended { end: &'a PlanEnd, reason: Option<&'a str> },
}

/// Run one instruction to its end on `robot`, closed-loop.
pub fn run_closed_loop(
    planner: &mut Planner,
    robot: &mut dyn Robot,
    instruction: &str,
    method: Method,
    events: &mut dyn FnMut(ControlEvent<'_>),
) -> Result<(PlanResult, Option<String>), PlanError> {
    let mut session = planner.start(instruction, method)?;
    let mut last_state: Option<Observation> = None;
    let mut abort: Option<String> = None;
    loop {
        let state = match robot.observe() {
            Ok(s) => s,
            Err(e) => {
                abort = Some(format!("cannot observe the robot: {e}"));
                break;
            }
        };
        let Some(proposal) = session.propose(&state)? else {
            last_state = Some(state);
            break;
        };
        events(ControlEvent::Decoded(&proposal));
        let outcome = if proposal.skill == "done" {
            StepOutcome::Done
        } else {
            let index = proposal.index;
            match robot.execute(&proposal.skill, &mut |phase| events(ControlEvent::Phase { index, phase })) {
                Ok(o) if o.success => StepOutcome::Succeeded,
                Ok(o) => StepOutcome::Failed(o.reason.unwrap_or_else(|| "the policy gave no reason".into())),
                Err(e) => {
                    let reason = e.to_string();
                    session.record(StepOutcome::Failed(reason.clone()))?;
                    abort = Some(reason);
                    last_state = Some(state);
                    break;
                }
            }
        };
        events(ControlEvent::Executed { index: proposal.index, skill: &proposal.skill, outcome: &outcome });
        session.record(outcome)?;
        last_state = Some(state);
    }
    let final_state = robot.observe().ok().or(last_state).unwrap_or_else(|| Observation::new(protocol::Domain::TABLETOP, Vec::new()));
    let result = session.finish(final_state);
    events(ControlEvent::Ended { end: &result.end, reason: abort.as_deref() });
    Ok((result, abort))
}
