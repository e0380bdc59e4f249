//! The closed loop: observe, decode the next skill against what is observed, have a policy
//! carry it out, and decode again on the new state; a failed skill is written into the plan
//! text as failed and the model decodes again.

use crate::decoder::SkillOption;
use crate::domains::{Domain, InProcess, World};
use crate::planner::{Method, PlanEnd, PlanError, PlanResult, PlanSession, Planner, Proposal, StepOutcome};
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

/// A question to the operator: the plan is uncertain which skill comes next.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Asked {
    /// The plan step it is about.
    pub step: usize,
    /// For a person: what is asked.
    pub text: String,
    /// The options (the prediction set), most confident first, with their confidences.
    pub options: Vec<(String, f64)>,
}

/// What the operator answered.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "kebab-case")]
pub enum OperatorAnswer {
    /// This option (0 = the first).
    Choose(usize),
    /// None of them; the text says what is meant (empty: stop).
    NoneOfThese(String),
    /// No answer came (a timeout, the stop, no operator): the instruction stops, saying why.
    NoAnswer(String),
}

/// Someone who answers the robot's questions: a person through `grounded send`, or a
/// simulated operator.
pub trait Operator {
    fn ask(&mut self, question: &Asked) -> OperatorAnswer;
}

/// How often the operator may say "none of these" at one step before the robot stops.
pub const MAX_CLARIFICATIONS: usize = 3;

/// Asking for help in the closed loop: each step's options come from a grounded beam of
/// `options`, and the robot asks `operator` whenever the set of `rule` (`grounded
/// calibrate`) holds more than one of them.
pub struct AskForHelp<'a> {
    /// The domain calibrated: a robot observed in another domain is not asked about, it is
    /// stopped (none: any).
    pub domain: Option<protocol::Domain>,
    /// Which options the set holds (the calibration's).
    pub rule: crate::ask::SetRule,
    pub options: usize,
    pub operator: &'a mut dyn Operator,
}

/// What the controller reports as it goes.
#[derive(Debug)]
pub enum ControlEvent<'a> {
    Decoded(&'a Proposal),
    /// The robot asks its operator (asking for help).
    Asked(&'a Asked),
    /// The operator's answer to the question just asked.
    Answered {
        step: usize,
        answer: &'a OperatorAnswer,
    },
    Phase {
        index: usize,
        phase: &'a str,
    },
    Executed {
        index: usize,
        skill: &'a str,
        outcome: &'a StepOutcome,
    },
    Ended {
        end: &'a PlanEnd,
        reason: Option<&'a str>,
    },
}

/// Run one instruction to its end on `robot`, closed-loop.
pub fn run_closed_loop(
    planner: &mut Planner,
    robot: &mut dyn Robot,
    instruction: &str,
    method: Method,
    events: &mut dyn FnMut(ControlEvent<'_>),
) -> Result<(PlanResult, Option<String>), PlanError> {
    run_closed_loop_asking(planner, robot, instruction, method, None, events)
}

/// The next skill, asking the operator where the prediction set holds more than one;
/// `Err(reason)` when the robot must stop (no answer, "none of these" without a text or too
/// often); `Ok(None)` when the plan has ended.
fn propose_asking(
    session: &mut PlanSession<'_>,
    state: &Observation,
    help: &mut AskForHelp<'_>,
    events: &mut dyn FnMut(ControlEvent<'_>),
) -> Result<Result<Option<Proposal>, String>, PlanError> {
    if let Some(d) = help.domain.filter(|d| *d != state.domain) {
        return Ok(Err(format!(
            "the calibration for asking is for the {d} domain and the robot is in the {} domain: calibrate that domain (grounded calibrate)",
            state.domain
        )));
    }
    for _ in 0..=MAX_CLARIFICATIONS {
        let Some(options) = session.options(state, help.options)? else { return Ok(Ok(None)) };
        let (p, set) = help.rule.apply(&options);
        // Where the most confident skill (options come best first) departs from what the
        // model wanted, or is a `done` said in place of a skill that does, the step is asked
        // about even when the set holds it alone: the operator confirms it, stops the robot or
        // says what was meant.
        let departs = options.first().filter(|o| session.departs(o)).and_then(SkillOption::departing_in_words);
        if let ([only], None) = (&set[..], &departs) {
            return Ok(Ok(Some(session.force_among(&options[*only], &options)?)));
        }
        let step = session.steps().len() + 1;
        let question = match &departs {
            Some(d) => format!("{d}; do you mean one of these?"),
            None => "which of these do you mean?".to_string(),
        };
        let asked = Asked {
            step,
            text: format!("Step {step} of \"{}\": {question}", session.instruction()),
            options: set.iter().map(|&i| (options[i].skill.clone(), p[i])).collect(),
        };
        events(ControlEvent::Asked(&asked));
        let answer = help.operator.ask(&asked);
        events(ControlEvent::Answered { step, answer: &answer });
        match answer {
            OperatorAnswer::Choose(i) if i < set.len() => return Ok(Ok(Some(session.force_among(&options[set[i]], &options)?))),
            OperatorAnswer::Choose(i) => return Ok(Err(format!("the operator chose option {i} of {}", set.len()))),
            OperatorAnswer::NoneOfThese(text) if text.trim().is_empty() => return Ok(Err("the operator answered \"none of these\"".into())),
            OperatorAnswer::NoneOfThese(text) => match session.clarify(&text) {
                // Words that cannot join the instruction (a control character, too long): the
                // robot stops, saying it was the answer.
                Err(crate::planner::PlanError::Instruction(e)) => return Ok(Err(format!("the operator's words cannot join the instruction: {e}"))),
                other => other?,
            },
            OperatorAnswer::NoAnswer(why) => return Ok(Err(why)),
        }
    }
    Ok(Err(format!("still uncertain after {MAX_CLARIFICATIONS} answers of \"none of these\"")))
}

/// Run one instruction to its end on `robot`, closed-loop, asking the operator for help
/// where `help` says.
pub fn run_closed_loop_asking(
    planner: &mut Planner,
    robot: &mut dyn Robot,
    instruction: &str,
    method: Method,
    mut help: Option<&mut AskForHelp<'_>>,
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
        let next = match help.as_deref_mut() {
            Some(h) => propose_asking(&mut session, &state, h, events)?,
            None => Ok(session.propose(&state)?),
        };
        let proposal = match next {
            Ok(Some(p)) => p,
            Ok(None) => {
                last_state = Some(state);
                break;
            }
            Err(why) => {
                abort = Some(why);
                last_state = Some(state);
                break;
            }
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
    // A plan that stopped before a departing skill, or said `done` in place of one, says
    // why, as an abort does.
    let why = result.end_reason();
    events(ControlEvent::Ended { end: &result.end, reason: abort.as_deref().or(why.as_deref()) });
    Ok((result, abort))
}
