//! One episode played with asking: at each step the options, their confidences, which are
//! right (the oracle), the set the policy asks about, and a simulated operator who knows
//! the task and answers correctly.

use super::conformal::{confidences, nonconformity, within_margin};
use super::oracle::{carry_out, options_after, world_options, Oracle, Taken};
use super::AskError;
use super::SetRule;
use crate::controller::{InProcessRobot, Robot};
use crate::eval::{task_models, EvalTask};
use crate::planner::Planner;
use serde::Serialize;

/// When the robot asks.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Asking {
    /// Never: the most confident option is carried out.
    Never,
    /// The simple baseline: when the two most confident options' confidences are within
    /// `margin`, about the options within it.
    Margin { margin: f64 },
    /// Conformal: when the set of `rule` (calibrated for `epsilon`) holds more than one
    /// option, about the set ([`SetRule::apply`]).
    Conformal {
        epsilon: f64,
        #[serde(flatten)]
        rule: SetRule,
    },
    /// Calibration: the operator shows which option is right at every step (a right one is
    /// taken: the most confident right option); the episode stops where none is.
    Calibrating,
}

impl Asking {
    /// A short name for tables.
    pub fn label(&self) -> String {
        match self {
            Asking::Never => "never ask".into(),
            Asking::Margin { margin } => format!("margin {margin}"),
            Asking::Conformal { epsilon, .. } => format!("conformal, epsilon {epsilon}"),
            Asking::Calibrating => "calibration".into(),
        }
    }
}

/// One step of an asking episode.
#[derive(Clone, Debug, Serialize)]
pub struct AskStep {
    /// The options, best first.
    pub options: Vec<String>,
    /// Their scores under the decoding rule (`null`: minus infinity).
    pub scores: Vec<f32>,
    /// Their confidences as the policy saw them.
    pub confidences: Vec<f64>,
    /// Which options are right (the oracle).
    pub right: Vec<bool>,
    /// The options the policy would ask about (indices, most confident first).
    pub set: Vec<usize>,
    /// Whether the most confident option departed from what the language model wanted
    /// beyond the limit (a calibrated set's, else the planner's `max_departure`).
    pub departs: bool,
    /// Whether the robot asked.
    pub asked: bool,
    /// The option carried out, if any (none: the operator answered "none of these").
    pub chosen: Option<usize>,
    /// The step's nonconformity under the policy's measure (`1 - p` of the most confident
    /// right option but for a conformal policy's other measure; 1: none right).
    pub nonconformity: f64,
}

impl AskStep {
    /// Whether the set holds a right option.
    pub fn covered(&self) -> bool {
        self.set.iter().any(|&i| self.right[i])
    }
}

/// One episode with asking.
#[derive(Clone, Debug, Serialize)]
pub struct AskEpisode {
    pub task: String,
    pub row: String,
    pub seed: u64,
    pub asking: Asking,
    pub success: bool,
    pub reason: Option<String>,
    pub steps: Vec<AskStep>,
}

impl AskEpisode {
    pub fn questions(&self) -> usize {
        self.steps.iter().filter(|s| s.asked).count()
    }

    /// Every step's set held a right option.
    pub fn covered(&self) -> bool {
        self.steps.iter().all(AskStep::covered)
    }

    /// The episode's nonconformity: the largest of its steps' (0 for none).
    pub fn nonconformity(&self) -> f64 {
        self.steps.iter().map(|s| s.nonconformity).fold(0.0, f64::max)
    }
}

/// Play episode `seed` of `task` with `asking`: options from a grounded beam of `width`
/// (gd-beam's rule), skills carried out by the domain's policies in the simulated world
/// (skills never fail), success by the task's rule. The oracle answers for the operator.
pub fn play(planner: &mut Planner, task: &EvalTask, seed: u64, asking: Asking, width: usize, oracle: &mut Oracle) -> Result<AskEpisode, AskError> {
    let world = task.domain.world(task.id(), seed, &world_options()).map_err(AskError::Config)?;
    let summary = world.summary();
    planner.set_task_models(summary.grounding.as_ref().map(task_models).unwrap_or_default());
    let mut robot = InProcessRobot::new(task.domain, world);
    let mut history: Vec<Taken> = Vec::new();
    let mut steps: Vec<AskStep> = Vec::new();
    let mut stopped: Option<String> = None;
    loop {
        let state = robot.observe().map_err(|e| AskError::Config(e.to_string()))?;
        let options = options_after(planner, &summary.instruction, &history, &state, width)?;
        let Some(options) = options else { break };
        let rule = match asking {
            Asking::Conformal { rule, .. } => Some(rule),
            _ => None,
        };
        let p = confidences(&options, rule.map_or(1.0, |r| r.temperature));
        let right = oracle.label(planner, &history, &options)?;
        // Whether the most confident option (the first: options come best first) departs
        // beyond the planner's `max_departure`, and beyond the limit the step's set is drawn
        // with (a calibrated set's own, else the planner's).
        let top_departs = planner.config.departs_too_far(options.first().and_then(|o| o.departing()));
        let step_departs = match asking {
            Asking::Conformal { rule, .. } => rule.departs(&options),
            _ => top_departs,
        };
        let (set, asked) = match asking {
            Asking::Never => (vec![0], false),
            Asking::Margin { margin } => {
                let set = within_margin(&p, margin);
                let asked = set.len() > 1;
                (set, asked)
            }
            Asking::Conformal { rule, .. } => {
                let set = rule.measure.step_set(&p, rule.threshold, step_departs);
                let asked = set.len() > 1;
                (set, asked)
            }
            Asking::Calibrating => ((0..options.len()).collect(), true),
        };
        // A skill that departs from what the model wanted (beyond the planner's
        // `max_departure`) is not carried out unasked: a policy that asks asks about its set
        // even when that is the skill alone; one that never asks stops, as a plan does, or
        // says `done` where that was said in place of the departing skill, as a plan does.
        let departs = !matches!(asking, Asking::Calibrating) && top_departs;
        let asked = asked || (departs && !matches!(asking, Asking::Never));
        let says_done = options.first().is_some_and(|o| o.skill == protocol::skill::SkillText::DONE);
        // The operator takes the most confident right option among those offered.
        let chosen = if asked {
            set.iter().copied().find(|&i| right[i])
        } else if departs && !says_done {
            None
        } else {
            set.first().copied()
        };
        let score = rule.map_or_else(|| nonconformity(&p, &right), |r| r.measure.step_nonconformity(&p, &right, step_departs));
        let scores = options.iter().map(|o| o.score).collect();
        steps.push(AskStep {
            options: options.iter().map(|o| o.skill.clone()).collect(),
            scores,
            confidences: p,
            right,
            set,
            departs: step_departs,
            asked,
            chosen,
            nonconformity: score,
        });
        let Some(chosen) = chosen else {
            stopped = Some(if asked {
                format!("step {}: the operator answered \"none of these\" and the robot stopped", steps.len())
            } else {
                format!("step {}: the next skill departed from what the language model wanted and the robot stopped", steps.len())
            });
            break;
        };
        let skill = &options[chosen].skill;
        if skill == "done" {
            break;
        }
        let outcome = carry_out(&mut robot, skill)?;
        history.push(Taken { skill: skill.clone(), outcome });
        if history.len() >= planner.config.max_steps {
            break;
        }
    }
    let verdict = robot.world.judge();
    let success = verdict.is_ok() && stopped.is_none();
    Ok(AskEpisode { task: task.id().to_string(), row: task.row().to_string(), seed, asking, success, reason: stopped.or(verdict.err()), steps })
}
