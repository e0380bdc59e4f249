//! Plans: skills decoded one after another, each against the state the earlier ones left.
//!
//! `plan` is open-loop: each chosen skill's symbolic effect is applied to the scene (as if
//! a policy carried it out perfectly) and the next skill is grounded on the new state. The
//! prompt only grows, so the cache of the text already processed is reused at every step.

use crate::decoder::{decode_skill, decode_skill_greedy, DecodeConfig, DecodeError, DecodedSkill, TokenChoice, WeightedModel};
use crate::lm::{KvCache, LanguageModel, LmError, Purpose, TokenStats};
use crate::prompt::{plan_start, step_end, Instruction, InstructionError};
use crate::saycan::{score_skills, SkillScore};
use grounding::tabletop::{apply, TabletopSkills};
use grounding::{Affordance, GroundedModel, GroundingError};
use protocol::tabletop::TabletopSkill;
use protocol::{Domain, Observation};
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
    #[error("the scene is a {0} scene; only tabletop scenes can be planned in this version")]
    Domain(Domain),
    #[error("the instruction is too long for the model: {prompt} tokens leave no room for a plan in its context of {limit} tokens; shorten it")]
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
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", content = "reason", rename_all = "kebab-case")]
pub enum StepOutcome {
    /// The skill's effect was applied to the scene.
    Applied,
    /// The skill cannot be carried out in the scene (it changed nothing).
    Infeasible(String),
    /// The plan's end.
    Done,
}

/// How the choice of a step can be explained.
#[derive(Clone, Debug, Serialize)]
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
}

/// Why a plan ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlanEnd {
    /// The plan said `done`.
    Done,
    /// The step limit was reached.
    StepLimit,
    /// No admissible skill could be decoded at this step.
    NoSkill,
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

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl PlanResult {
    /// The skills of the plan, `done` included.
    pub fn skills(&self) -> Vec<&str> {
        self.steps.iter().map(|s| s.skill.as_str()).collect()
    }
}

/// A grounded model and its weight in the decoding rule.
pub struct Weighted {
    pub model: Box<dyn GroundedModel>,
    pub weight: f32,
}

/// The language model and the grounded models, ready to plan.
pub struct Planner {
    pub lm: LanguageModel,
    pub affordance: Affordance,
    pub affordance_weight: f32,
    /// Other grounded models (safety, preference, learned scorers).
    pub others: Vec<Weighted>,
    pub config: DecodeConfig,
}

/// The step and the plan's cache and logits before it.
struct Cursor {
    cache: KvCache,
    logits: Vec<f32>,
    text: String,
}

impl Planner {
    /// Tabletop planner with the tabletop affordance and no other grounded model.
    pub fn tabletop(lm: LanguageModel, config: DecodeConfig) -> Self {
        let affordance = Affordance::new(TabletopSkills, config.floor);
        Self { lm, affordance, affordance_weight: 1.0, others: Vec::new(), config }
    }

    pub fn model_names(&self) -> Vec<String> {
        std::iter::once(self.affordance.name().to_string()).chain(self.others.iter().map(|w| w.model.name().to_string())).collect()
    }

    /// Plan open-loop for `instruction` in `scene` with `method`.
    pub fn plan(&mut self, instruction: &str, scene: &Observation, method: Method) -> Result<PlanResult, PlanError> {
        let started = Instant::now();
        self.config.validate()?;
        let instruction = Instruction::new(instruction)?;
        if scene.domain != Domain::Tabletop {
            return Err(PlanError::Domain(scene.domain));
        }
        let stats_before = self.lm.stats();
        let prompt = plan_start(&instruction);
        let tokens = self.lm.encode(&prompt)?;
        if let Some(limit) = self.lm.spec().max_positions {
            // Leave room for a plan of a few full steps.
            if tokens.len() + 4 * self.config.max_skill_tokens > limit {
                return Err(PlanError::Context { prompt: tokens.len(), limit });
            }
        }
        let (logits, cache) = self.lm.forward(self.lm.empty_cache(1)?, &tokens, Purpose::Prompt)?;
        let mut cursor = Cursor { cache, logits: logits.last(0).to_vec(), text: prompt };
        let mut state = scene.clone();
        let mut steps = Vec::new();
        let mut end = PlanEnd::StepLimit;
        let mut timing = PlanTiming::default();
        for index in 1..=self.config.max_steps {
            let (t0, lm0, passes0) = (Instant::now(), self.lm.forward_time(), self.lm.stats().forward_passes);
            let next = self.next_skill(cursor.cache, &cursor.logits, &state, method, &mut timing)?;
            timing.choosing += t0.elapsed();
            timing.choosing_lm += self.lm.forward_time() - lm0;
            timing.choosing_passes += self.lm.stats().forward_passes - passes0;
            let Some((decoded, explanation)) = next else {
                end = PlanEnd::NoSkill;
                break;
            };
            let outcome = if decoded.text == "done" {
                StepOutcome::Done
            } else {
                match TabletopSkill::parse(&decoded.text).map_err(|e| e.to_string()).and_then(|s| apply(&state, &s).map_err(|e| e.to_string())) {
                    Ok(next) => {
                        state = next;
                        StepOutcome::Applied
                    }
                    Err(reason) => StepOutcome::Infeasible(reason),
                }
            };
            cursor.text.push(' ');
            cursor.text.push_str(&decoded.text);
            steps.push(PlanStep { index, skill: decoded.text.clone(), score: decoded.score, lm_score: decoded.lm_score, outcome: outcome.clone(), explanation });
            if outcome == StepOutcome::Done {
                cursor.text.push('.');
                end = PlanEnd::Done;
                break;
            }
            if index == self.config.max_steps {
                cursor.text.push('.');
                break;
            }
            // Close this step and open the next, on top of the cache of what was decoded.
            let ending = step_end(index + 1, false);
            let feed = self.lm.encode(&format!("{}{ending}", decoded.pending))?;
            let (out, cache) = self.lm.forward(decoded.cache, &feed, Purpose::Prompt)?;
            cursor = Cursor { cache, logits: out.last(0).to_vec(), text: cursor.text + &ending };
        }
        Ok(PlanResult {
            instruction: instruction.as_str().to_string(),
            method,
            models: self.model_names(),
            steps,
            end,
            text: cursor.text,
            tokens: self.lm.stats().since(&stats_before),
            elapsed: started.elapsed(),
            timing,
            final_scene: state,
        })
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
        let mut models: Vec<WeightedModel<'_>> = Vec::new();
        if method != Method::Llm {
            if method != Method::Saycan {
                models.push(WeightedModel { name: self.affordance.name().into(), weight: self.affordance_weight, bound: self.affordance.bind(state)? });
            }
            for w in &self.others {
                models.push(WeightedModel { name: w.model.name().into(), weight: w.weight, bound: w.model.bind(state)? });
            }
        }
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
                let skills = self.affordance.space().admissible(state);
                timing.binding += listed.elapsed();
                let scores = score_skills(&mut self.lm, &cache, logits, &skills, &mut models, self.affordance_weight)?;
                let Some(best) = scores.first().filter(|b| b.total > f32::NEG_INFINITY).cloned() else {
                    return Ok(None);
                };
                let shown = scores.into_iter().take(self.config.top_k).collect();
                return Ok(Some((
                    DecodedSkill { text: best.skill.clone(), score: best.total, lm_score: best.lm, choices: Vec::new(), cache, pending: format!(" {}", best.skill) },
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
