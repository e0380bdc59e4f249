//! Which options are right: the oracle of calibration and of the simulated operator.
//!
//! An option is *right* at a step when the task can still be done after it, and the oracle
//! labels it so only when it has shown that: in a fresh copy of the episode's world (same
//! task and seed, skills that never fail), the steps so far and the option are carried out by
//! the domain's policies, and then
//!
//! 1. the grounded planner (gd-beam, the task's own instruction) goes on closed-loop to its
//!    end, and the task's success rule accepts the final state; or, at a step where that
//!    shows no option right,
//! 2. a breadth-first search over the options of the steps after it, as an operator asked at
//!    each of them would choose, finds a step from whose continuation (1) succeeds, within
//!    [`SEARCH_CONTINUATIONS`] continuations per option.
//!
//! `done` is right exactly when the success rule accepts the state it would end in. So
//! "right" comes from the success rule alone, the same in every domain: for an instruction
//! that does not say which object is meant, only the skills that serve the object meant are
//! right. An option the oracle could not show right within that effort counts as not right,
//! so a label of right is always true, and the labels are a function of the steps so far
//! and the options alone (the same whichever policy or order asks).

use super::AskError;
use crate::controller::{InProcessRobot, Robot};
use crate::decoder::SkillOption;
use crate::domains::WorldOptions;
use crate::eval::EvalTask;
use crate::planner::{Method, PlanSession, Planner, StepOutcome};
use std::collections::{HashMap, VecDeque};

/// The planner's continuations a search may run for one option, before the option counts as
/// not right.
pub const SEARCH_CONTINUATIONS: usize = 24;

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
    /// Options per step where a search asks the planner for them.
    width: usize,
    /// Whether the planner's continuation after (steps so far, option) succeeds.
    continued: HashMap<Key, bool>,
    /// Whether a search found a way to success after (steps so far, option).
    searched: HashMap<Key, bool>,
    /// Rollouts run (answers not remembered).
    pub rollouts: usize,
}

type Key = (Vec<String>, String);

fn key(history: &[Taken], skill: &str) -> Key {
    (history.iter().map(|t| t.skill.clone()).collect(), skill.to_string())
}

/// The world an episode is judged in: its skills never fail (planning success).
pub fn world_options() -> WorldOptions {
    WorldOptions { skill_failures: false, ..WorldOptions::default() }
}

impl Oracle {
    /// The oracle of episode `seed` of `task`, said as `instruction`; a search asks the
    /// planner for `width` options per step.
    pub fn new(task: EvalTask, seed: u64, instruction: &str, width: usize) -> Self {
        Self { task, seed, instruction: instruction.to_string(), width, continued: HashMap::new(), searched: HashMap::new(), rollouts: 0 }
    }

    /// Which of `options` are right after `history`, in their order: those after which the
    /// planner's continuation succeeds; where none does, those after which a search finds a
    /// way.
    pub fn label(&mut self, planner: &mut Planner, history: &[Taken], options: &[SkillOption]) -> Result<Vec<bool>, AskError> {
        let continued: Vec<bool> = options.iter().map(|o| self.continues(planner, history, &o.skill)).collect::<Result<_, _>>()?;
        if continued.contains(&true) {
            return Ok(continued);
        }
        options.iter().map(|o| self.search(planner, history, &o.skill)).collect()
    }

    /// Whether the planner's own continuation after `history` and `skill` succeeds (for
    /// `done`: whether the task is done after `history`).
    pub fn continues(&mut self, planner: &mut Planner, history: &[Taken], skill: &str) -> Result<bool, AskError> {
        let key = key(history, skill);
        if let Some(&known) = self.continued.get(&key) {
            return Ok(known);
        }
        self.rollouts += 1;
        let answer = self.rollout(planner, history, skill)?;
        self.continued.insert(key, answer);
        Ok(answer)
    }

    /// What the planner's own continuation after the steps `history` (skills) and `skill`
    /// showed, if it has been run.
    pub fn continuation_shown(&self, history: &[String], skill: &str) -> Option<bool> {
        self.continued.get(&(history.to_vec(), skill.to_string())).copied()
    }

    /// Whether a breadth-first search over the options of the steps after `history` and
    /// `skill` reaches a step whose continuation succeeds, within [`SEARCH_CONTINUATIONS`]
    /// continuations.
    fn search(&mut self, planner: &mut Planner, history: &[Taken], skill: &str) -> Result<bool, AskError> {
        let root = key(history, skill);
        if let Some(&known) = self.searched.get(&root) {
            return Ok(known);
        }
        let mut found = self.continues(planner, history, skill)?;
        let mut budget = SEARCH_CONTINUATIONS - 1;
        // Steps to go on from, each after the steps before it; `done` ends a plan.
        let mut frontier: VecDeque<(Vec<Taken>, String)> = VecDeque::new();
        if !found && skill != "done" {
            frontier.push_back((history.to_vec(), skill.to_string()));
        }
        'search: while let Some((before, step)) = frontier.pop_front() {
            let (after, options) = self.expand(planner, &before, &step)?;
            for o in options.unwrap_or_default() {
                if budget == 0 {
                    break 'search;
                }
                budget -= 1;
                if self.continues(planner, &after, &o.skill)? {
                    found = true;
                    break 'search;
                }
                if o.skill != "done" {
                    frontier.push_back((after.clone(), o.skill));
                }
            }
        }
        self.searched.insert(root, found);
        Ok(found)
    }

    /// Carry out `history` and `skill` in a fresh world: the steps taken, and the options for
    /// the next step (none where the plan cannot go on: the step limit, or nothing left).
    fn expand(&self, planner: &mut Planner, history: &[Taken], skill: &str) -> Result<(Vec<Taken>, Option<Vec<SkillOption>>), AskError> {
        let mut robot = self.fresh_robot()?;
        for t in history {
            carry_out(&mut robot, &t.skill)?;
        }
        let outcome = carry_out(&mut robot, skill)?;
        let mut after = history.to_vec();
        after.push(Taken { skill: skill.to_string(), outcome });
        if after.len() >= planner.config.max_steps {
            return Ok((after, None));
        }
        let state = robot.observe().map_err(|e| AskError::Config(e.to_string()))?;
        let options = options_after(planner, &self.instruction, &after, &state, self.width)?;
        Ok((after, options))
    }

    /// The episode's world, fresh, on a robot.
    fn fresh_robot(&self) -> Result<InProcessRobot, AskError> {
        let world = self.task.domain.world(self.task.id(), self.seed, &world_options()).map_err(AskError::Config)?;
        Ok(InProcessRobot::new(self.task.domain, world))
    }

    fn rollout(&self, planner: &mut Planner, history: &[Taken], skill: &str) -> Result<bool, AskError> {
        let mut robot = self.fresh_robot()?;
        let mut session = planner.start(&self.instruction, Method::GdBeam)?;
        replay(&mut session, &mut robot, history)?;
        if skill == "done" {
            return Ok(robot.world.judge().is_ok());
        }
        let outcome = carry_out(&mut robot, skill)?;
        session.force(&SkillOption::new(skill, 0.0, 0.0))?;
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

/// The options a grounded beam of `width` finishes for the next step of `instruction` after
/// `history`, in `state` (none where the plan has ended).
pub fn options_after(
    planner: &mut Planner,
    instruction: &str,
    history: &[Taken],
    state: &protocol::Observation,
    width: usize,
) -> Result<Option<Vec<SkillOption>>, AskError> {
    let mut session = planner.start(instruction, Method::GdBeam)?;
    write(&mut session, history)?;
    Ok(session.options(state, width)?)
}

/// Write `history` into `session`'s plan text (the steps as they were taken, with what became
/// of them), without carrying anything out.
pub fn write(session: &mut PlanSession<'_>, history: &[Taken]) -> Result<(), AskError> {
    for t in history {
        session.force(&SkillOption::new(t.skill.clone(), 0.0, 0.0))?;
        session.record(t.outcome.clone())?;
    }
    Ok(())
}
