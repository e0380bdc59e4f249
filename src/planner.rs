//! Plans: skills decoded one after another, each against the state the earlier ones left.
//!
//! `plan` is open-loop: each chosen skill's symbolic effect is applied to the scene (as if
//! a policy carried it out perfectly) and the next skill is grounded on the new state. The
//! prompt only grows, so the cache of the text already processed is reused at every step.

pub use crate::decoder::DoneInstead;
use crate::decoder::{
    decode_options, decode_skill, decode_skill_greedy, deferred, departure, Admission, DecodeConfig, DecodeError, DecodedSkill, Departure, Later, SkillOption,
    TokenChoice, WeightedModel,
};
use crate::lm::{KvCache, LanguageModel, LmError, Purpose, TokenStats};
use crate::prompt::{plan_start, step_end, Instruction, InstructionError};
use crate::saycan::{score_skills, SkillScore};
use grounding::tabletop::TabletopSkills;
use grounding::{Affordance, GroundedModel, GroundingError};
use protocol::Observation;
use serde::Serialize;
use std::time::{Duration, Instant};

/// How the next skill is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// The language model alone, greedy: no grounding (the paper's "LLM ungrounded").
    Llm,
    /// Score every admissible skill whole: LM log-likelihood times affordance.
    Saycan,
    /// Grounded decoding, one beam (the paper's Algorithm 1).
    GdGreedy,
    /// Grounded decoding with beam search.
    GdBeam,
}

impl Method {
    pub const ALL: [Method; 4] = [Method::Llm, Method::Saycan, Method::GdGreedy, Method::GdBeam];

    pub fn name(self) -> &'static str {
        match self {
            Method::Llm => "llm",
            Method::Saycan => "saycan",
            Method::GdGreedy => "gd-greedy",
            Method::GdBeam => "gd-beam",
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Instruction(#[from] InstructionError),
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("internal: {0}")]
    Sequence(&'static str),
    #[error("the prompt is too long for the model: its {prompt} tokens (the few-shot prefix of --prompt, if any, and the instruction) leave no room for a plan in the model's context of {limit} tokens; shorten the instruction or the prefix, or use a model with a longer context")]
    Context { prompt: usize, limit: usize },
}

impl From<LmError> for PlanError {
    fn from(e: LmError) -> Self {
        PlanError::Decode(e.into())
    }
}

impl From<GroundingError> for PlanError {
    fn from(e: GroundingError) -> Self {
        PlanError::Decode(e.into())
    }
}

/// What became of a step in the open-loop plan.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "reason", rename_all = "kebab-case")]
pub enum StepOutcome {
    /// Open-loop: the skill's symbolic effect was applied to the scene.
    Applied,
    /// Open-loop: the skill cannot be carried out in the scene (it changed nothing).
    Infeasible(String),
    /// Closed-loop: the policy carried the skill out.
    Succeeded,
    /// Closed-loop: the policy failed, for this reason.
    Failed(String),
    /// The plan's end.
    Done,
}

/// How the choice of a step can be explained.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "detail", rename_all = "kebab-case")]
pub enum StepExplanation {
    /// Token by token (LM and grounded decoding).
    Tokens(Vec<TokenChoice>),
    /// Whole skills (SayCan): the best ones.
    Skills(Vec<SkillScore>),
}

#[derive(Clone, Debug, Serialize)]
pub struct PlanStep {
    pub index: usize,
    pub skill: String,
    pub score: f32,
    pub lm_score: f32,
    pub outcome: StepOutcome,
    pub explanation: StepExplanation,
    /// How far the skill departs from what the language model wanted, its departing tokens'
    /// gaps summed, and where most (`None`: nowhere).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub departure: Option<Departure>,
    /// Where the model wanted most a skill the world allows only later (a locked door
    /// opened before its key is held) and grounding turned the step: not a departure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deferred: Option<Departure>,
    /// A `done` said in place of a skill the model wanted more and that departs from what it
    /// wanted (see [`DoneInstead`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub done_instead: Option<DoneInstead>,
}

/// Why a plan ended.
///
/// Serialized as its name alone (`"done"`, `"step-limit"`, `"no-skill"`, `"departed"`,
/// `"context-full"`); a [`PlanResult`] writes the departed skill beside it.
#[derive(Clone, Debug, PartialEq)]
pub enum PlanEnd {
    /// The plan said `done`.
    Done,
    /// The step limit was reached.
    StepLimit,
    /// No admissible skill could be decoded at this step.
    NoSkill,
    /// The next skill departed from what the language model wanted by more than
    /// `max_departure`: stopped before it, which this holds.
    Departed(Box<DepartedSkill>),
    /// The plan text filled the language model's context: no room for another step.
    ContextFull,
}

impl PlanEnd {
    /// The end's name in records (kebab-case, as serialized).
    pub fn key(&self) -> &'static str {
        match self {
            PlanEnd::Done => "done",
            PlanEnd::StepLimit => "step-limit",
            PlanEnd::NoSkill => "no-skill",
            PlanEnd::Departed(_) => "departed",
            PlanEnd::ContextFull => "context-full",
        }
    }

    /// The skill the plan stopped before, when it ended `Departed`.
    pub fn departed(&self) -> Option<&DepartedSkill> {
        match self {
            PlanEnd::Departed(d) => Some(d),
            _ => None,
        }
    }
}

/// The end's name as people read it: `Done`, `StepLimit`, `NoSkill`, `Departed`, `ContextFull`.
impl std::fmt::Display for PlanEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PlanEnd::Done => "Done",
            PlanEnd::StepLimit => "StepLimit",
            PlanEnd::NoSkill => "NoSkill",
            PlanEnd::Departed(_) => "Departed",
            PlanEnd::ContextFull => "ContextFull",
        })
    }
}

impl Serialize for PlanEnd {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.key())
    }
}

impl PlanError {
    /// Whether the error is the language model's context running out (which ends a plan,
    /// rather than being a fault).
    fn is_context_full(&self) -> bool {
        matches!(self, PlanError::Decode(DecodeError::Lm(LmError::ContextFull { .. })))
    }
}

/// Where a plan's time went.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct PlanTiming {
    /// Wall time choosing skills (decoding or scoring), LM passes included.
    #[serde(serialize_with = "seconds")]
    pub choosing: Duration,
    /// Of that, time inside the language model's forward passes.
    #[serde(serialize_with = "seconds")]
    pub choosing_lm: Duration,
    /// Forward passes made while choosing skills.
    pub choosing_passes: usize,
    /// Of `choosing`, time binding grounded models to each new state (once per step).
    #[serde(serialize_with = "seconds")]
    pub binding: Duration,
}

impl PlanTiming {
    /// Decoder time outside the LM per forward pass made while choosing skills (the
    /// per-step binding of grounded models to the new state not included).
    pub fn overhead_per_pass(&self) -> Duration {
        self.choosing.saturating_sub(self.choosing_lm).saturating_sub(self.binding) / self.choosing_passes.max(1) as u32
    }

    /// LM time per forward pass made while choosing skills.
    pub fn lm_per_pass(&self) -> Duration {
        self.choosing_lm / self.choosing_passes.max(1) as u32
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct PlanResult {
    pub instruction: String,
    pub method: Method,
    /// Names of the grounded models, in the order of every `grounded` score list.
    pub models: Vec<String>,
    pub steps: Vec<PlanStep>,
    /// Why it ended; written as `end` (its name) and, when it departed, `departed` (the
    /// skill it stopped before, and how it departed).
    #[serde(flatten, serialize_with = "end_and_departed")]
    pub end: PlanEnd,
    /// The plan text the model read and wrote.
    pub text: String,
    pub tokens: TokenStats,
    #[serde(serialize_with = "seconds")]
    pub elapsed: Duration,
    pub timing: PlanTiming,
    /// The scene after every applied skill.
    pub final_scene: Observation,
}

/// A skill not carried out because it departed from what the language model wanted.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DepartedSkill {
    pub skill: String,
    pub departure: Departure,
}

impl std::fmt::Display for DepartedSkill {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "stopped before {:?}: {}", self.skill, self.departure)
    }
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// A plan's end as two fields: `end` (its name) and, when it departed, `departed`.
fn end_and_departed<S: serde::Serializer>(end: &PlanEnd, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(None)?;
    map.serialize_entry("end", end)?;
    if let Some(d) = end.departed() {
        map.serialize_entry("departed", d)?;
    }
    map.end()
}

impl PlanResult {
    /// The skills of the plan, `done` included.
    pub fn skills(&self) -> Vec<&str> {
        self.steps.iter().map(|s| s.skill.as_str()).collect()
    }

    /// Where the plan ended `done` in place of a departing skill the model wanted more: why
    /// it did nothing more ([`DoneInstead`]).
    pub fn done_instead(&self) -> Option<&DoneInstead> {
        self.steps.last().filter(|_| self.end == PlanEnd::Done)?.done_instead.as_ref()
    }

    /// Why the plan ended, in words, where its end needs one: the departing skill it stopped
    /// before, or the departing skill its `done` was said in place of.
    pub fn end_reason(&self) -> Option<String> {
        match &self.end {
            PlanEnd::Departed(d) => Some(d.to_string()),
            _ => self.done_instead().map(ToString::to_string),
        }
    }
}

/// A grounded model and its weight in the decoding rule.
pub struct Weighted {
    pub model: Box<dyn GroundedModel>,
    pub weight: f32,
}

/// A grounded model as a planner holds it: its name and its weight in the decoding rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelInUse {
    pub name: String,
    pub weight: f32,
}

/// The language model and the grounded models, ready to plan.
pub struct Planner {
    pub lm: LanguageModel,
    pub affordance: Affordance,
    pub affordance_weight: f32,
    /// Other grounded models the user named (safety, preference, learned scorers).
    pub others: Vec<Weighted>,
    /// Grounded models the current task itself calls for (an evaluation's or a demo's
    /// box-packing task: its hard safety, its preference), set per episode with
    /// [`Planner::set_task_models`]; used after `others`.
    pub task_models: Vec<Weighted>,
    /// The user's weights by grounded-model name, applied to task models as they are set.
    pub weights: Vec<(String, f32)>,
    pub config: DecodeConfig,
    /// A few-shot prompt prefix the language model reads before every plan (`--prompt`):
    /// worked examples in the plan format, for a model that can follow them. Not part of
    /// the plan text a result holds.
    pub prompt_prefix: Option<crate::prompt::PromptPrefix>,
}

/// The plan's cache and the logits for the next token, between steps.
struct Cursor {
    cache: KvCache,
    logits: Vec<f32>,
}

/// The next skill, as decoded against the state; [`PlanSession::record`] says what became of it.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct Proposal {
    pub index: usize,
    pub skill: String,
    #[serde(deserialize_with = "crate::decoder::never_as_null::one")]
    pub score: f32,
    #[serde(deserialize_with = "crate::decoder::never_as_null::one")]
    pub lm_score: f32,
    /// The grounded models whose scores the explanation lists, in order (none for `llm`).
    pub models: Vec<String>,
    /// Why this skill: each token's candidates (or SayCan's best skills).
    pub explanation: StepExplanation,
    /// How far the skill departs from what the language model wanted, its departing tokens'
    /// gaps summed, and where most (journals written before departure rule 3 read too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub departure: Option<Departure>,
    /// Where the model wanted most a skill the world allows only later (not a departure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deferred: Option<Departure>,
    /// A `done` said in place of a departing skill the model wanted more ([`DoneInstead`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_instead: Option<DoneInstead>,
}

/// The skill a plan session proposed, awaiting its outcome.
struct Proposed {
    decoded: DecodedSkill,
    explanation: StepExplanation,
    departure: Option<Departure>,
    deferred: Option<Departure>,
    done_instead: Option<DoneInstead>,
}

/// A plan being made step by step: [`propose`](Self::propose) the next skill against the
/// current state, then [`record`](Self::record) what became of it (its symbolic effect
/// open-loop, the policy's result closed-loop). The prompt only grows: each step continues
/// from the cache of the text already processed.
pub struct PlanSession<'p> {
    planner: &'p mut Planner,
    instruction: Instruction,
    method: Method,
    started: Instant,
    stats_before: TokenStats,
    /// Where decoding continues; `None` while a proposal awaits its outcome.
    cursor: Option<Cursor>,
    proposed: Option<Proposed>,
    text: String,
    /// Bytes of `text` that are the prompt prefix (read by the model, not part of the plan).
    prefix_len: usize,
    steps: Vec<PlanStep>,
    timing: PlanTiming,
    end: Option<PlanEnd>,
}

impl PlanSession<'_> {
    /// Decode the next skill against `state`; `None` once the plan has ended.
    pub fn propose(&mut self, state: &Observation) -> Result<Option<Proposal>, PlanError> {
        if self.end.is_some() {
            return Ok(None);
        }
        if self.steps.len() >= self.planner.config.max_steps {
            self.end = Some(PlanEnd::StepLimit);
            return Ok(None);
        }
        let Some(cursor) = self.cursor.take() else {
            return Err(PlanError::Sequence("propose called twice without record"));
        };
        let method = self.method;
        let Some(next) = self.choosing(|planner, timing| planner.next_skill(cursor.cache, &cursor.logits, state, method, timing))? else {
            return Ok(None);
        };
        let Some((mut decoded, explanation)) = next else {
            self.end = Some(PlanEnd::NoSkill);
            return Ok(None);
        };
        let (departure, deferred) = self.departure_of(&explanation, state);
        if let Some(d) = departure.as_ref().filter(|&d| self.planner.config.departs_too_far(Some(d))) {
            self.end = Some(PlanEnd::Departed(Box::new(DepartedSkill { skill: decoded.text.clone(), departure: d.clone() })));
            return Ok(None);
        }
        let done_instead = decoded.passed_over.take().and_then(|unfinished| {
            let (d, _) = self.departure_of(&StepExplanation::Tokens(unfinished.choices), state);
            let d = d.filter(|d| self.planner.config.departs_too_far(Some(d)))?;
            Some(DoneInstead { unfinished: unfinished.text, departure: d })
        });
        let models = if self.method == Method::Llm { Vec::new() } else { self.planner.model_names() };
        let proposal = Proposal {
            index: self.steps.len() + 1,
            skill: decoded.text.clone(),
            score: decoded.score,
            lm_score: decoded.lm_score,
            models,
            explanation: explanation.clone(),
            departure: departure.clone(),
            deferred: deferred.clone(),
            done_instead: done_instead.clone(),
        };
        self.proposed = Some(Proposed { decoded, explanation, departure, deferred, done_instead });
        Ok(Some(proposal))
    }

    /// Where a decoded skill departs from what the language model wanted, and where it
    /// wanted a skill the world allows only later (grounded methods' token choices; none
    /// for the LM alone or whole-skill scoring).
    fn departure_of(&self, explanation: &StepExplanation, state: &Observation) -> (Option<Departure>, Option<Departure>) {
        let StepExplanation::Tokens(choices) = explanation else { return (None, None) };
        if self.method == Method::Llm {
            return (None, None);
        }
        let admission = Admission::new(self.planner.models_in_use().iter().map(|m| m.weight).collect(), self.planner.config.floor);
        // Most skills depart nowhere; only where one does is the world asked what it rules
        // out only for now.
        let Some(strict) = departure(choices, &admission, None) else { return (None, None) };
        match self.planner.later(state) {
            Some(later) => (departure(choices, &admission, Some(&later)), deferred(choices, &admission, &later)),
            None => (Some(strict), None),
        }
    }

    /// The options for the next skill against `state` (asking for help): every skill a
    /// grounded beam of `width` finishes, best first, with its score; `None` when none could
    /// be decoded (which ends the plan) or the plan has ended. The plan does not move on:
    /// [`force`](Self::force) the chosen one, then [`record`](Self::record) it.
    pub fn options(&mut self, state: &Observation, width: usize) -> Result<Option<Vec<SkillOption>>, PlanError> {
        if self.end.is_some() {
            return Ok(None);
        }
        if self.proposed.is_some() {
            return Err(PlanError::Sequence("options asked while a proposal awaits its outcome"));
        }
        if self.steps.len() >= self.planner.config.max_steps {
            self.end = Some(PlanEnd::StepLimit);
            return Ok(None);
        }
        let Some(cursor) = self.cursor.as_ref() else {
            return Err(PlanError::Sequence("options asked without a cursor"));
        };
        let cache = cursor.cache.row(0)?;
        let logits = cursor.logits.clone();
        let method = self.method;
        let Some(mut options) = self.choosing(|planner, timing| planner.next_options(cache, &logits, state, method, width, timing))? else {
            return Ok(None);
        };
        if options.is_empty() {
            self.end = Some(PlanEnd::NoSkill);
            return Ok(None);
        }
        // What a `done` is said in place of counts only before the first skill: there the
        // robot would do nothing at all for the instruction while the model wanted something
        // the scene does not allow. Later, the model's wanting one more object of a kind it
        // cannot see (a cool colour the scene lacks, once the cool blocks are stacked) is how
        // a plan over a kind of objects ends, and asking there would ask at every such end.
        if !self.steps.is_empty() {
            options.iter_mut().for_each(|o| o.in_place_of = None);
        }
        Ok(Some(options))
    }

    /// Take `option` as the next skill (one of [`options`](Self::options), the operator's
    /// choice, or a skill replayed): it becomes the proposal that [`record`](Self::record)
    /// writes into the plan.
    pub fn force(&mut self, option: &SkillOption) -> Result<Proposal, PlanError> {
        self.force_among(option, std::slice::from_ref(option))
    }

    /// [`force`](Self::force) `option`, chosen among `options` (the step's explanation lists
    /// them all, best first, as SayCan's lists whole skills).
    pub fn force_among(&mut self, option: &SkillOption, options: &[SkillOption]) -> Result<Proposal, PlanError> {
        if self.proposed.is_some() {
            return Err(PlanError::Sequence("force called while a proposal awaits its outcome"));
        }
        let Some(cursor) = self.cursor.take() else {
            return Err(PlanError::Sequence("force called after the plan ended"));
        };
        let decoded = DecodedSkill {
            text: option.skill.clone(),
            score: option.score,
            lm_score: option.lm_score,
            choices: Vec::new(),
            cache: cursor.cache,
            pending: format!(" {}", option.skill),
            passed_over: None,
        };
        // A `done` said in place of a skill that departs too far says so as the plan ends,
        // whoever chose it.
        let done_instead = option.in_place_of.clone().filter(|d| self.planner.config.departs_too_far(Some(&d.departure)));
        let explanation = StepExplanation::Skills(
            options.iter().map(|o| SkillScore { skill: o.skill.clone(), lm: o.lm_score, grounded: Vec::new(), total: o.score }).collect(),
        );
        let proposal = Proposal {
            index: self.steps.len() + 1,
            skill: option.skill.clone(),
            score: option.score,
            lm_score: option.lm_score,
            models: self.planner.model_names(),
            explanation: explanation.clone(),
            departure: option.departure.clone(),
            deferred: None,
            done_instead: done_instead.clone(),
        };
        self.proposed = Some(Proposed { decoded, explanation, departure: option.departure.clone(), deferred: None, done_instead });
        Ok(proposal)
    }

    /// Choose the next skill with `choose`, its time and passes counted as choosing; `None`
    /// when the language model's context ran out, which ends the plan.
    fn choosing<T>(&mut self, choose: impl FnOnce(&mut Planner, &mut PlanTiming) -> Result<T, PlanError>) -> Result<Option<T>, PlanError> {
        let lm = &self.planner.lm;
        let (t0, lm0, passes0) = (Instant::now(), lm.forward_time(), lm.stats().forward_passes);
        let chosen = match choose(self.planner, &mut self.timing) {
            Err(e) if e.is_context_full() => {
                self.end = Some(PlanEnd::ContextFull);
                return Ok(None);
            }
            other => other?,
        };
        let lm = &self.planner.lm;
        self.timing.choosing += t0.elapsed();
        self.timing.choosing_lm += lm.forward_time() - lm0;
        self.timing.choosing_passes += lm.stats().forward_passes - passes0;
        Ok(Some(chosen))
    }

    /// What became of the proposed skill. A `Failed` step is written into the plan text as
    /// failed, so the language model sees it when it decodes the next.
    pub fn record(&mut self, outcome: StepOutcome) -> Result<(), PlanError> {
        let Some(Proposed { decoded, explanation, departure, deferred, done_instead }) = self.proposed.take() else {
            return Err(PlanError::Sequence("record called without a proposal"));
        };
        let index = self.steps.len() + 1;
        self.text.push(' ');
        self.text.push_str(&decoded.text);
        let done = outcome == StepOutcome::Done;
        let failed = matches!(outcome, StepOutcome::Failed(_));
        self.steps.push(PlanStep {
            index,
            skill: decoded.text.clone(),
            score: decoded.score,
            lm_score: decoded.lm_score,
            outcome,
            explanation,
            departure,
            deferred,
            done_instead,
        });
        if done || index >= self.planner.config.max_steps {
            self.text.push('.');
            self.end = Some(if done { PlanEnd::Done } else { PlanEnd::StepLimit });
            return Ok(());
        }
        // Close this step and open the next, on top of the cache of what was decoded.
        let ending = step_end(index + 1, failed);
        let feed = self.planner.lm.encode_remembered(&format!("{}{ending}", decoded.pending))?;
        let (out, cache) = match self.planner.lm.forward(decoded.cache, &feed, Purpose::Prompt).map_err(PlanError::from) {
            Err(e) if e.is_context_full() => {
                self.end = Some(PlanEnd::ContextFull);
                return Ok(());
            }
            other => other?,
        };
        self.cursor = Some(Cursor { cache, logits: out.last(0).map_err(PlanError::from)?.to_vec() });
        self.text.push_str(&ending);
        Ok(())
    }

    /// The instruction the plan is for (with the operator's clarifications).
    pub fn instruction(&self) -> &str {
        self.instruction.as_str()
    }

    /// Whether `option` departs from what the language model wanted by more than the
    /// planner's `max_departure`: carried out only when the operator confirms it.
    pub fn departs(&self, option: &SkillOption) -> bool {
        self.planner.config.departs_too_far(option.departing())
    }

    /// The operator's words go into the prompt: the instruction becomes
    /// `instruction, note` and the plan text so far is read again from the start, so that the
    /// next skill is decoded knowing them. The steps and their scores stay as they were.
    pub fn clarify(&mut self, note: &str) -> Result<(), PlanError> {
        if self.proposed.is_some() || self.cursor.is_none() {
            return Err(PlanError::Sequence("clarify called while a proposal awaits its outcome, or after the plan ended"));
        }
        let note: Vec<&str> = note.split_whitespace().collect();
        // The note is read as the instruction is: in the case the model learned. Joined by a
        // comma, which instructions hold, where parentheses would be signs a corpus's
        // instructions never held (the shipped model's: its plans write "(failed)").
        let clarified =
            self.planner.read(&format!("{}, {}", self.instruction.as_str().trim_end_matches(['.', '!', '?']), crate::prompt::normal_case(&note)))?;
        let old_start = self.prefix_len + plan_start(&self.instruction).len();
        let text = format!("{}{}{}", &self.text[..self.prefix_len], plan_start(&clarified), &self.text[old_start..]);
        let (tokens, ends) = self.planner.prompt_tokens(&text, self.prefix_len)?;
        let (logits, cache) = self.planner.lm.prefill(&tokens, &ends)?;
        self.cursor = Some(Cursor { cache, logits });
        self.text = text;
        self.instruction = clarified;
        Ok(())
    }

    /// The language model's tokens since the plan started (its prompt's included).
    pub fn tokens(&self) -> TokenStats {
        self.planner.lm.stats().since(&self.stats_before)
    }

    /// Plan on to the end open-loop from `scene`: each skill's symbolic effect is applied to
    /// the scene before the next is decoded.
    pub fn open_loop(mut self, scene: &Observation) -> Result<PlanResult, PlanError> {
        let mut state = scene.clone();
        while let Some(proposal) = self.propose(&state)? {
            let outcome = if proposal.skill == "done" {
                StepOutcome::Done
            } else {
                match crate::domains::domain(state.domain).and_then(|d| d.apply(&state, &proposal.skill)) {
                    Ok(next) => {
                        state = next;
                        StepOutcome::Applied
                    }
                    Err(reason) => StepOutcome::Infeasible(reason),
                }
            };
            self.record(outcome)?;
        }
        Ok(self.finish(state))
    }

    /// The steps so far.
    pub fn steps(&self) -> &[PlanStep] {
        &self.steps
    }

    /// The plan text so far (without the prompt prefix).
    pub fn text(&self) -> &str {
        &self.text[self.prefix_len..]
    }

    /// The plan, with the state it left.
    pub fn finish(self, final_scene: Observation) -> PlanResult {
        PlanResult {
            instruction: self.instruction.as_str().to_string(),
            method: self.method,
            models: self.planner.model_names(),
            steps: self.steps,
            end: self.end.unwrap_or(PlanEnd::StepLimit),
            text: self.text[self.prefix_len..].to_string(),
            tokens: self.planner.lm.stats().since(&self.stats_before),
            elapsed: self.started.elapsed(),
            timing: self.timing,
            final_scene,
        }
    }
}

impl Planner {
    /// Tabletop planner with the tabletop affordance and no other grounded model.
    pub fn tabletop(lm: LanguageModel, config: DecodeConfig) -> Self {
        let affordance = Affordance::new(TabletopSkills, config.floor);
        Self { lm, affordance, affordance_weight: 1.0, others: Vec::new(), task_models: Vec::new(), weights: Vec::new(), config, prompt_prefix: None }
    }

    /// A planner with the affordance of every domain (each observation says its own).
    pub fn any_domain(lm: LanguageModel, config: DecodeConfig) -> Self {
        let affordance = Affordance::new(crate::domains::AnyDomainSkills, config.floor);
        Self { lm, affordance, affordance_weight: 1.0, others: Vec::new(), task_models: Vec::new(), weights: Vec::new(), config, prompt_prefix: None }
    }

    /// A planner whose affordance comes from another skill space (e.g. the policy's, over zenoh).
    pub fn with_affordance(lm: LanguageModel, config: DecodeConfig, affordance: Affordance) -> Self {
        Self { lm, affordance, affordance_weight: 1.0, others: Vec::new(), task_models: Vec::new(), weights: Vec::new(), config, prompt_prefix: None }
    }

    /// What the affordance's domain says could become admissible in `state` (see
    /// [`Later`]); `None` where it does not say, or cannot be asked (then every skill not
    /// admissible now counts as never admissible: the stricter reading).
    fn later(&self, state: &Observation) -> Option<Later> {
        match self.affordance.space().conceivable(state) {
            // The affordance is the first model of the decoding rule's order (`models_in_use`,
            // and the models the token decoders bind).
            Ok(Some(texts)) => Some(Later::new(0, texts.iter().map(String::as_str))),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!("what could become admissible is not known ({e}): every skill not admissible now counts as never");
                None
            }
        }
    }

    pub fn model_names(&self) -> Vec<String> {
        self.models_in_use().into_iter().map(|m| m.name).collect()
    }

    /// Every grounded model the planner holds with its weight, in the order the decoding
    /// rule applies them (the llm method applies none).
    pub fn models_in_use(&self) -> Vec<ModelInUse> {
        std::iter::once(ModelInUse { name: self.affordance.name().to_string(), weight: self.affordance_weight })
            .chain(self.others.iter().chain(&self.task_models).map(|w| ModelInUse { name: w.model.name().to_string(), weight: w.weight }))
            .collect()
    }

    /// The user's weight for a grounded model of this name (the last one given), if any.
    pub fn weight_of(&self, name: &str) -> Option<f32> {
        self.weights.iter().rev().find(|(n, _)| n == name).map(|(_, w)| *w)
    }

    /// Give each of `models` the user's weight for its name (those without one keep theirs).
    pub fn weigh(&self, models: &mut [Weighted]) {
        for m in models {
            if let Some(w) = self.weight_of(m.model.name()) {
                m.weight = w;
            }
        }
    }

    /// The grounded models the current task calls for, each weighted by the user's weight
    /// for its name (default 1); replaces the previous task's.
    pub fn set_task_models(&mut self, mut models: Vec<Weighted>) {
        self.weigh(&mut models);
        self.task_models = models;
    }

    /// `text` as this planner's model reads it: a valid [`Instruction`], in the characters and
    /// the case the model learned, a lone word in capitals read against its vocabulary.
    pub fn read(&self, text: &str) -> Result<Instruction, PlanError> {
        Ok(Instruction::in_alphabet(text, |c| self.lm.learned(c))?.in_vocabulary(|w| self.lm.holds_whole(w)))
    }

    /// The tokens of a prompt whose first `prefix_len` bytes are the few-shot prefix, and
    /// where its segments end for [`LanguageModel::prefill`]: after the prefix, where the
    /// prompt's tokens start with the prefix's own (so that prompts with the same prefix
    /// share its keys and values), and at the end.
    fn prompt_tokens(&self, prompt: &str, prefix_len: usize) -> Result<(Vec<crate::lm::TokenId>, Vec<usize>), PlanError> {
        let tokens = self.lm.encode(prompt)?;
        let mut ends = Vec::new();
        if prefix_len > 0 && prefix_len < prompt.len() {
            let prefix = self.lm.encode(&prompt[..prefix_len])?;
            if tokens.starts_with(&prefix) {
                ends.push(prefix.len());
            }
        }
        Ok((tokens, ends))
    }

    /// Start a plan: the prompt is prefilled once; then [`PlanSession::propose`] and
    /// [`PlanSession::record`] alternate, step by step.
    pub fn start(&mut self, instruction: &str, method: Method) -> Result<PlanSession<'_>, PlanError> {
        let started = Instant::now();
        self.config.validate()?;
        let instruction = self.read(instruction)?;
        let stats_before = self.lm.stats();
        let prefix = self.prompt_prefix.as_ref().map_or("", |p| p.as_str()).to_string();
        let prompt = format!("{prefix}{}", plan_start(&instruction));
        let (tokens, ends) = self.prompt_tokens(&prompt, prefix.len())?;
        if let Some(limit) = self.lm.spec().max_positions {
            // Leave room for a plan of a few full steps.
            if tokens.len() + 4 * self.config.max_skill_tokens > limit {
                return Err(PlanError::Context { prompt: tokens.len(), limit });
            }
        }
        let (logits, cache) = self.lm.prefill(&tokens, &ends)?;
        Ok(PlanSession {
            planner: self,
            instruction,
            method,
            started,
            stats_before,
            cursor: Some(Cursor { cache, logits }),
            proposed: None,
            text: prompt,
            prefix_len: prefix.len(),
            steps: Vec::new(),
            timing: PlanTiming::default(),
            end: None,
        })
    }

    /// Plan open-loop for `instruction` in `scene` with `method`: each skill's symbolic
    /// effect is applied to the scene before the next is decoded.
    pub fn plan(&mut self, instruction: &str, scene: &Observation, method: Method) -> Result<PlanResult, PlanError> {
        self.start(instruction, method)?.open_loop(scene)
    }

    /// The options for the next skill against `state` (see [`PlanSession::options`]).
    fn next_options(
        &mut self,
        cache: KvCache,
        logits: &[f32],
        state: &Observation,
        method: Method,
        width: usize,
        timing: &mut PlanTiming,
    ) -> Result<Vec<SkillOption>, PlanError> {
        let bind_started = Instant::now();
        let mut models = bind_models(&self.affordance, self.affordance_weight, &self.others, &self.task_models, state, method)?;
        timing.binding += bind_started.elapsed();
        // The affordance is the first bound model only where the decoder grounds tokens.
        let later = if matches!(method, Method::GdGreedy | Method::GdBeam) { self.later(state) } else { None };
        Ok(decode_options(&mut self.lm, cache, logits, &mut models, &self.config, width, later.as_ref())?)
    }

    /// Decode the next skill with `method` against `state`.
    fn next_skill(
        &mut self,
        cache: KvCache,
        logits: &[f32],
        state: &Observation,
        method: Method,
        timing: &mut PlanTiming,
    ) -> Result<Option<(DecodedSkill, StepExplanation)>, PlanError> {
        let bind_started = Instant::now();
        let mut models = bind_models(&self.affordance, self.affordance_weight, &self.others, &self.task_models, state, method)?;
        timing.binding += bind_started.elapsed();
        let decoded = match method {
            Method::Llm => {
                let config = DecodeConfig { beam_width: 1, ..self.config.clone() };
                decode_skill_greedy(&mut self.lm, cache, logits, &mut models, &config)?
            }
            Method::GdGreedy => decode_skill_greedy(&mut self.lm, cache, logits, &mut models, &self.config)?,
            Method::GdBeam => decode_skill(&mut self.lm, cache, logits, &mut models, &self.config)?,
            Method::Saycan => {
                let listed = Instant::now();
                let view = crate::domains::domain(state.domain).map_or(std::borrow::Cow::Borrowed(state), |d| d.saycan_view(state));
                let skills = self.affordance.space().admissible(&view)?;
                timing.binding += listed.elapsed();
                let scores = score_skills(&mut self.lm, &cache, logits, &skills, &mut models, self.affordance_weight)?;
                let Some(best) = scores.first().filter(|b| b.total > f32::NEG_INFINITY).cloned() else {
                    return Ok(None);
                };
                let shown = scores.into_iter().take(self.config.top_k).collect();
                return Ok(Some((
                    DecodedSkill {
                        text: best.skill.clone(),
                        score: best.total,
                        lm_score: best.lm,
                        choices: Vec::new(),
                        cache,
                        pending: format!(" {}", best.skill),
                        passed_over: None,
                    },
                    StepExplanation::Skills(shown),
                )));
            }
        };
        Ok(decoded.map(|mut d| {
            let choices = std::mem::take(&mut d.choices);
            (d, StepExplanation::Tokens(choices))
        }))
    }
}

/// The grounded models `method` applies, bound to `state`: the affordance (not for SayCan,
/// which multiplies it in itself), then the user's and the task's models; none for `llm`.
fn bind_models<'a>(
    affordance: &'a Affordance,
    affordance_weight: f32,
    others: &'a [Weighted],
    task_models: &'a [Weighted],
    state: &Observation,
    method: Method,
) -> Result<Vec<WeightedModel<'a>>, GroundingError> {
    let mut models: Vec<WeightedModel<'a>> = Vec::new();
    if method == Method::Llm {
        return Ok(models);
    }
    if method != Method::Saycan {
        models.push(WeightedModel { name: affordance.name().into(), weight: affordance_weight, bound: affordance.bind(state)? });
    }
    for w in others.iter().chain(task_models) {
        models.push(WeightedModel { name: w.model.name().into(), weight: w.weight, bound: w.model.bind(state)? });
    }
    Ok(models)
}
