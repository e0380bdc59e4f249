//! Which options are right: the oracle of calibration and of the simulated operator.
//!
//! An option is *right* at a step when the task can still be done after it: in a fresh copy
//! of the episode's world (same task and seed, skills that never fail), the steps so far and
//! the option are carried out by the domain's policies, and then the grounded planner
//! (gd-beam, the task's own instruction) goes on closed-loop to its end; the option is right
//! when the task's success rule accepts the final state. `done` is right exactly when the
//! success rule accepts the state it would end in. So "right" comes from the success rule
//! alone, the same in every domain: for an instruction that does not say which object is
//! meant, only the skills that serve the object meant are right.

use super::AskError;
use crate::controller::{InProcessRobot, Robot};
use crate::decoder::SkillOption;
use crate::domains::WorldOptions;
use crate::eval::EvalTask;
use crate::planner::{Method, PlanSession, Planner, StepOutcome};
use std::collections::HashMap;

/// A step taken: the skill and what became of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Taken {
    pub skill: String,
    pub outcome: StepOutcome,
}

/// The oracle of one episode; answers are remembered by (steps so far, option).
pub struct Oracle {
    task: EvalTask,
    seed: u64,
    instruction: String,
    known: HashMap<(Vec<String>, String), bool>,
    /// Rollouts run (answers not remembered).
    pub rollouts: usize,
}

/// The world an episode is judged in: its skills never fail (planning success).
pub fn world_options() -> WorldOptions {
    WorldOptions { skill_failures: false, ..WorldOptions::default() }
}

impl Oracle {
    pub fn new(task: EvalTask, seed: u64, instruction: &str) -> Self {
        Self { task, seed, instruction: instruction.to_string(), known: HashMap::new(), rollouts: 0 }
    }

    /// Which of `options` are right after `history`, in their order.
    pub fn label(&mut self, planner: &mut Planner, history: &[Taken], options: &[SkillOption]) -> Result<Vec<bool>, AskError> {
        options.iter().map(|o| self.right(planner, history, &o.skill)).collect()
    }

    /// Whether `skill` is right after `history`.
    pub fn right(&mut self, planner: &mut Planner, history: &[Taken], skill: &str) -> Result<bool, AskError> {
        let key = (history.iter().map(|t| t.skill.clone()).collect::<Vec<_>>(), skill.to_string());
        if let Some(&known) = self.known.get(&key) {
            return Ok(known);
        }
        self.rollouts += 1;
        let answer = self.rollout(planner, history, skill)?;
        self.known.insert(key, answer);
        Ok(answer)
    }

    fn rollout(&self, planner: &mut Planner, history: &[Taken], skill: &str) -> Result<bool, AskError> {
        let world = self.task.domain.world(self.task.id(), self.seed, &world_options()).map_err(AskError::Config)?;
        let mut robot = InProcessRobot::new(self.task.domain, world);
        let mut session = planner.start(&self.instruction, Method::GdBeam)?;
        replay(&mut session, &mut robot, history)?;
        if skill == "done" {
            return Ok(robot.world.judge().is_ok());
        }
        let outcome = carry_out(&mut robot, skill)?;
        session.force(&SkillOption { skill: skill.to_string(), score: 0.0, lm_score: 0.0 })?;
        session.record(outcome)?;
        loop {
            let state = robot.observe().map_err(|e| AskError::Config(e.to_string()))?;
            let Some(proposal) = session.propose(&state)? else { break };
            if proposal.skill == "done" {
                session.record(StepOutcome::Done)?;
                break;
            }
            let outcome = carry_out(&mut robot, &proposal.skill)?;
            session.record(outcome)?;
        }
        Ok(robot.world.judge().is_ok())
    }
}

/// Carry `skill` out on `robot` with the domain's policy: what became of it.
pub fn carry_out(robot: &mut InProcessRobot, skill: &str) -> Result<StepOutcome, AskError> {
    let outcome = robot.execute(skill, &mut |_| {}).map_err(|e| AskError::Config(e.to_string()))?;
    Ok(if outcome.success { StepOutcome::Succeeded } else { StepOutcome::Failed(outcome.reason.unwrap_or_else(|| "the policy gave no reason".into())) })
}

/// Write `history` into `session`'s plan text and carry it out on `robot` again (a fresh
/// world of the same seed comes out as it did).
pub fn replay(session: &mut PlanSession<'_>, robot: &mut InProcessRobot, history: &[Taken]) -> Result<(), AskError> {
    for t in history {
        carry_out(robot, &t.skill)?;
    }
    write(session, history)
}

/// Write `history` into `session`'s plan text (the steps as they were taken, with what became
/// of them), without carrying anything out.
pub fn write(session: &mut PlanSession<'_>, history: &[Taken]) -> Result<(), AskError> {
    for t in history {
        session.force(&SkillOption { skill: t.skill.clone(), score: 0.0, lm_score: 0.0 })?;
        session.record(t.outcome.clone())?;
    }
    Ok(())
}
