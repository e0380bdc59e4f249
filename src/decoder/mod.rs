//! Grounded decoding of one skill: the paper's token-level rule inside a beam search.
//!
//! At every step each live beam proposes its language model's top-k tokens; each candidate's
//! skill text (the beam's text plus the token, compared as text so BPE boundaries do not
//! matter) is scored by every grounded model; a candidate's score is
//!
//! ```text
//! beam score + log p_LM(token) + sum_i weight_i * log p_Gi(skill text so far)
//! ```
//!
//! and the best B candidates survive.
//!
//! Two searches find that same skill ([`Search`]): best-first (the default, in
//! [`best_first`]) always continues the best candidate and runs one sequence per pass of the
//! language model; lock-step (here) runs every beam of a length in one batched pass.
//!
//! Renormalisation (an extension of the paper's rule, on by default): the LM never sees the
//! scene, so at an object word its probability is spread over every object it has seen in
//! training, and a beam that must name an object looks far less likely than `done`. Each
//! beam's step scores are therefore renormalised over its candidates, as a Bayesian update
//! of the LM's guess about the scene, with the normaliser never taken below
//! `renorm_floor`: where the LM strongly wanted something infeasible (a green bowl that is
//! not there), most of that penalty stays. `renorm_floor = 1` turns it off. A token holding a
//! terminator (`.` or a line break) finishes the skill. B = 1 is greedy decoding. Candidates
//! far behind the best of their length (`beam_margin`) are pruned.

mod best_first;
mod departure;
mod fallback;
mod jump_forward;
mod options;

pub use best_first::decode_skill_best_first;
pub use departure::{deferred, departure, Departure, Later, DEPARTURE_RULE};
pub use fallback::Admission;
pub use options::{decode_options, SkillOption};

use jump_forward::Lookahead;

use crate::lm::{KvCache, LanguageModel, LmError, Logits, Purpose, TokenId, TokenTable, TokenText};
use grounding::{BoundModel, GroundingError, LogProb, SkillPrefix};
use serde::{Deserialize, Serialize};
use std::rc::Rc;
use std::sync::Arc;

/// How grounded beam search (gd-beam) walks the candidates. Both choose the same skill.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Search {
    /// Always continue the best candidate of any length: one sequence per pass of the
    /// language model, and the beams a sure choice leaves behind are never run (fewest LM
    /// tokens; fastest where a pass over several rows costs much more than over one).
    #[default]
    BestFirst,
    /// Every beam of a length in one batched pass (fewest passes; fastest where batching rows
    /// is nearly free, e.g. a large model on a GPU).
    LockStep,
}

impl std::fmt::Display for Search {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Search::BestFirst => "best-first",
            Search::LockStep => "lock-step",
        })
    }
}

/// Decoder settings. Every field has a default; see `grounded plan --help`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecodeConfig {
    /// Candidate tokens taken from each beam per step, by language-model probability.
    pub top_k: usize,
    /// Beams kept per step (1 = greedy).
    pub beam_width: usize,
    /// Probability the affordance model gives text that no admissible skill starts with.
    pub floor: f64,
    /// Tokens one skill may take before decoding gives up on it.
    pub max_skill_tokens: usize,
    /// Steps one plan may take (the last is usually `done`).
    pub max_steps: usize,
    /// Smallest normaliser of the per-step renormalisation (1 = none; see the module docs).
    pub renorm_floor: f64,
    /// Beam pruning: candidates more than this many nats below the step's best are dropped
    /// (while the LM is sure, one beam runs instead of B). Infinity turns pruning off.
    pub beam_margin: f32,
    /// How gd-beam walks the candidates (the chosen skill is the same either way).
    pub search: Search,
    /// Jump-forward: where the grounded models leave a skill one way on, run its tokens in
    /// one pass of the language model (the chosen skill is the same either way).
    pub jump_forward: bool,
    /// Where none of a beam's top-k tokens keeps its skill admissible, also score the k
    /// likeliest tokens that do (see [`fallback`]).
    pub beyond_top_k: bool,
    /// Stop a plan before a skill that departs from what the language model wanted by more
    /// than this many nats, its departing tokens' gaps summed ([`departure`]); infinity:
    /// never.
    pub max_departure: f32,
}

impl Default for DecodeConfig {
    fn default() -> Self {
        Self {
            top_k: 20,
            beam_width: 2,
            floor: 1e-6,
            max_skill_tokens: 32,
            max_steps: 16,
            renorm_floor: 0.05,
            beam_margin: 10.0,
            search: Search::BestFirst,
            jump_forward: true,
            beyond_top_k: true,
            max_departure: 5.0,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error(transparent)]
    Lm(#[from] LmError),
    #[error(transparent)]
    Grounding(#[from] GroundingError),
    #[error("invalid decoder setting: {0}")]
    Config(String),
}

impl DecodeConfig {
    /// Whether a skill that departs by `departure` from what the language model wanted is
    /// past `max_departure`: not carried out unless an operator confirms it.
    pub fn departs_too_far(&self, departure: Option<&Departure>) -> bool {
        departure.is_some_and(|d| d.beyond(self.max_departure))
    }

    pub fn validate(&self) -> Result<(), DecodeError> {
        let bad = |m: &str| Err(DecodeError::Config(m.to_string()));
        if self.top_k == 0 || self.top_k > 1000 {
            return bad("top_k must be between 1 and 1000");
        }
        if self.beam_width == 0 || self.beam_width > 64 {
            return bad("beam_width must be between 1 and 64");
        }
        if !(self.floor >= 0.0 && self.floor < 1.0) {
            return bad("floor must be a probability at least 0 and below 1 (0: text no admissible skill starts with is never chosen)");
        }
        if self.max_skill_tokens == 0 || self.max_skill_tokens > 512 {
            return bad("max_skill_tokens must be between 1 and 512");
        }
        if self.max_steps == 0 || self.max_steps > 100 {
            return bad("max_steps must be between 1 and 100");
        }
        if self.beam_margin.is_nan() || self.beam_margin <= 0.0 {
            return bad("beam_margin must be a positive number of nats (inf turns pruning off)");
        }
        if self.max_departure.is_nan() || self.max_departure <= 0.0 {
            return bad("max_departure must be a positive number of nats (inf: never stop)");
        }
        if !(self.renorm_floor > 0.0 && self.renorm_floor <= 1.0) {
            return bad("renorm_floor must be in (0, 1]; 1 turns renormalisation off");
        }
        Ok(())
    }
}

/// A grounded model bound to the current state, with its weight.
pub struct WeightedModel<'a> {
    pub name: String,
    pub weight: f32,
    pub bound: Box<dyn BoundModel + 'a>,
}

/// JSON has no infinities: serde_json writes minus infinity (a score meaning "never") as
/// `null`; these read it back.
pub mod never_as_null {
    use serde::{Deserialize, Deserializer};

    pub fn one<'de, D: Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
        Ok(Option::<f32>::deserialize(d)?.unwrap_or(f32::NEG_INFINITY))
    }

    pub fn many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f32>, D::Error> {
        Ok(Vec::<Option<f32>>::deserialize(d)?.into_iter().map(|v| v.unwrap_or(f32::NEG_INFINITY)).collect())
    }
}

/// One candidate token and how it scored.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CandidateScore {
    /// The token's text (read from the model's table of token texts).
    pub token: TokenText,
    /// log p_LM of the token.
    #[serde(deserialize_with = "never_as_null::one")]
    pub lm: f32,
    /// log p of each grounded model for the text with this token (order: `PlanResult::models`);
    /// `null` in JSON means minus infinity (never).
    #[serde(deserialize_with = "never_as_null::many")]
    pub grounded: Vec<f32>,
    /// The candidate's score: its beam's score plus LM plus weighted grounded scores.
    #[serde(deserialize_with = "never_as_null::one")]
    pub total: f32,
    /// Offered beyond the LM's top-k: none of those kept the skill admissible, so the
    /// likeliest tokens that do were scored as well.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub beyond_top_k: bool,
}

/// A log-score as explanations print it: two decimals, `-inf` for never.
pub fn score_text(v: f32) -> String {
    if v == f32::NEG_INFINITY {
        "-inf".into()
    } else {
        format!("{v:.2}")
    }
}

/// The choice at one token of a skill: the candidates its beam considered.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenChoice {
    pub chosen: TokenText,
    /// The log normaliser subtracted from this beam's step scores (0: none).
    #[serde(deserialize_with = "never_as_null::one")]
    pub normaliser: f32,
    pub candidates: Vec<CandidateScore>,
}

/// A decoded skill with the cache to continue the plan from.
pub struct DecodedSkill {
    /// The skill text, trimmed, without the terminator.
    pub text: String,
    /// The hypothesis' score (sum of LM and weighted grounded terms).
    pub score: f32,
    /// Sum of the language model's log-probabilities of its tokens.
    pub lm_score: f32,
    /// For each token, the candidates considered.
    pub choices: Vec<TokenChoice>,
    /// Cache holding everything before `pending`.
    pub cache: KvCache,
    /// Text of the skill not yet in `cache` (to be fed with the step's ending).
    pub pending: String,
    /// Where the beam search returns the stop skill (`done`) while skills were still being
    /// decoded: the best of those, which `done` beat (see [`Unfinished`]). `None` otherwise,
    /// and from greedy decoding, which keeps no other beam.
    pub passed_over: Option<Unfinished>,
}

/// The best skill a beam search was still decoding when a finished one won: its text so
/// far and its tokens' choices. Where the search ends on `done`, this is what the model
/// wanted to do instead, and its choices say whether that departs from what the model
/// wanted (the instruction named something the scene lacks) or was merely less likely.
#[derive(Clone, Debug)]
pub struct Unfinished {
    pub text: String,
    pub choices: Vec<TokenChoice>,
}

impl Unfinished {
    /// The first of `unfinished` (best first) whose every token keeps its skill admissible,
    /// read out where the search returns the stop skill `finished` (`None` for any other
    /// skill: only `done` needs saying what it was said in place of). A beam that took a
    /// token no admissible skill allows (scored at the floor: it names an object the scene
    /// lacks) is no skill `done` was said in place of.
    fn of(finished: &str, mut unfinished: impl Iterator<Item = Beam>, models: &[WeightedModel<'_>], config: &DecodeConfig, lm: &LanguageModel) -> Option<Self> {
        if finished.trim() != protocol::skill::SkillText::DONE {
            return None;
        }
        let admission = fallback::Admission::of(models, config.floor);
        let beam = unfinished.find(|b| b.all_admitted(&admission))?;
        Some(Unfinished { text: beam.text.trim().to_string(), choices: unroll(beam.choices, lm) })
    }
}

/// Why a plan said `done` where the model wanted to go on: the beam search was still
/// decoding a skill the model found likelier, and that skill departs from what the model
/// wanted by more than `max_departure` (after "pick up the" it wanted "purple", and the
/// scene has no purple block), so `done` scored higher. The robot does nothing more, as it
/// would had the plan stopped before the departing skill; this says why. Read from the
/// search's candidates, never from the instruction. A `done` option ([`SkillOption`])
/// carries one wherever the skill it beat departs at all; the planner judges how far.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DoneInstead {
    /// The skill `done` beat, as far as it was decoded.
    pub unfinished: String,
    /// How it departs, as far as it was decoded (a skill's departure only grows).
    pub departure: Departure,
}

impl std::fmt::Display for DoneInstead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "said \"done\" in place of {:?}, which departs: {}", self.unfinished, self.departure)
    }
}

/// The choices that led to a beam, newest first, shared between beams that branch.
struct ChoiceNode {
    /// Index of the chosen candidate in `candidates`.
    chosen: usize,
    /// Every candidate its parent beam considered at this step (shared by siblings).
    candidates: Rc<KeptList>,
    normaliser: f32,
    previous: Option<Rc<ChoiceNode>>,
}

fn unroll(mut node: Option<Rc<ChoiceNode>>, lm: &LanguageModel) -> Vec<TokenChoice> {
    let mut out = Vec::new();
    while let Some(n) = node {
        let list = &n.candidates;
        let candidates = list
            .cands
            .iter()
            .enumerate()
            .map(|(i, c)| CandidateScore {
                token: lm.token_shared(c.token),
                lm: c.lm,
                grounded: list.grounded(i).to_vec(),
                total: c.total,
                beyond_top_k: c.beyond_top_k,
            })
            .collect();
        out.push(TokenChoice { chosen: lm.token_shared(list.cands[n.chosen].token), normaliser: n.normaliser, candidates });
        node = n.previous.clone();
    }
    out.reverse();
    out
}

#[derive(Clone)]
struct Beam {
    text: String,
    /// The skill's tokens so far (`text` is what they write).
    tokens: Vec<TokenId>,
    score: f32,
    lm_score: f32,
    choices: Option<Rc<ChoiceNode>>,
}

impl Beam {
    /// The beam before a skill's first token.
    fn start() -> Self {
        Beam { text: String::new(), tokens: Vec::new(), score: 0.0, lm_score: 0.0, choices: None }
    }

    /// Whether every token the beam chose keeps its skill admissible.
    fn all_admitted(&self, admission: &fallback::Admission) -> bool {
        let mut node = self.choices.as_deref();
        while let Some(n) = node {
            if !admission.admits(n.candidates.grounded(n.chosen)) {
                return false;
            }
            node = n.previous.as_deref();
        }
        true
    }
}

struct Candidate {
    parent: usize,
    token: TokenId,
    /// Where its text lies in [`Cands::texts`]: the beam text with the token (up to the
    /// terminator, and trimmed, if it finishes the skill).
    text: std::ops::Range<usize>,
    /// Part of the token before its terminator, for a finishing token.
    tail: Option<String>,
    lm: f32,
    /// Where its grounded scores (one per model) start in [`Cands::grounded`].
    grounded: usize,
    /// log of this beam's normaliser, subtracted in `total`.
    normaliser: f32,
    total: f32,
    /// Offered beyond the LM's top-k, none of which kept the skill admissible ([`fallback`]).
    beyond_top_k: bool,
}

/// One step's scored candidates, their texts in one buffer and their grounded scores in
/// another (a step allocates a few buffers, not a text and a score list per candidate).
struct Cands {
    list: Vec<Candidate>,
    texts: String,
    /// Every candidate's grounded scores, `models` at a time.
    grounded: Vec<f32>,
    models: usize,
}

impl Cands {
    fn text(&self, c: &Candidate) -> &str {
        &self.texts[c.text.clone()]
    }

    fn grounded(&self, c: &Candidate) -> &[f32] {
        &self.grounded[c.grounded..c.grounded + self.models]
    }
}

impl std::ops::Deref for Cands {
    type Target = [Candidate];
    fn deref(&self) -> &[Candidate] {
        &self.list
    }
}

impl std::ops::DerefMut for Cands {
    fn deref_mut(&mut self) -> &mut [Candidate] {
        &mut self.list
    }
}

impl Candidate {
    fn finishes(&self) -> bool {
        self.tail.is_some()
    }
}

/// Natural-log softmax of one row of logits (with the standard library's exponential: the
/// SayCan baseline's scores, as they always were).
pub fn log_softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = logits.iter().map(|&v| (v - max).exp()).sum();
    let log_z = max + sum.ln();
    logits.iter().map(|&v| v - log_z).collect()
}

/// log of the sum of exps, -inf for nothing or only -inf.
fn log_sum_exp(values: impl Iterator<Item = f32> + Clone) -> f32 {
    let max = values.clone().fold(f32::NEG_INFINITY, f32::max);
    if max == f32::NEG_INFINITY {
        return max;
    }
    max + values.map(|v| (v - max).exp()).sum::<f32>().ln()
}

/// The language model's best next tokens after one sequence: the `k` best, with their
/// log-probabilities, best first, ties by lower id, among the tokens the decoder may choose
/// (known to the tokenizer, not special). Read from a row of logits in passes over the
/// vocabulary (its largest logit, the normaliser, then the best k by insertion into a short
/// sorted list, runs of tokens that cannot enter it passed over whole), with nothing
/// allocated per token of the vocabulary and no sort of it.
#[derive(Clone, Debug)]
pub struct NextTokens {
    pub top: Vec<(TokenId, f32)>,
    /// Where the whole row of logits is, for the tokens outside `top` that the decoder offers
    /// when none in it keeps the skill admissible ([`admissible_tokens`]).
    row: Option<Row>,
}

/// A row of logits a [`NextTokens`] was read from: copied (a skill's first step), or a row
/// and position of a pass's logits (read again, and copied from the GPU, only when asked).
#[derive(Clone)]
enum Row {
    Copied(Arc<[f32]>),
    InPass { logits: Arc<Logits>, row: usize, position: usize },
}

impl std::fmt::Debug for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Row::Copied(row) => write!(f, "Row[{} logits]", row.len()),
            Row::InPass { logits, row, position } => write!(f, "Row[{row}, {position} of {logits:?}]"),
        }
    }
}

impl NextTokens {
    /// The best next tokens at each `(row, position)` of a pass's logits: found on the GPU
    /// where the logits are there (only `k` pairs a row come back), else as [`read`](Self::read).
    pub fn of(logits: &Arc<Logits>, picks: &[(usize, usize)], k: usize, lm: &LanguageModel) -> Result<Vec<Self>, LmError> {
        let row = |(row, position): (usize, usize)| Some(Row::InPass { logits: Arc::clone(logits), row, position });
        if let Some(found) = logits.top_k_on_device(picks, k) {
            return Ok(found?.into_iter().zip(picks).map(|(top, &pick)| Self { top, row: row(pick) }).collect());
        }
        picks.iter().map(|&pick| Ok(Self { top: Self::read_top(logits.at(pick.0, pick.1)?, k, lm), row: row(pick) })).collect()
    }

    /// The best `k` next tokens of one row of logits (kept whole, for [`admissible_tokens`]).
    pub fn read(logits: &[f32], k: usize, lm: &LanguageModel) -> Self {
        Self { top: Self::read_top(logits, k, lm), row: Some(Row::Copied(logits.into())) }
    }

    /// The log-probabilities of every token of the row this was read from, with the same
    /// normaliser as `top`'s; `None` where the row is not known.
    fn log_probs(&self) -> Option<Result<Vec<f32>, LmError>> {
        let read = |logits: &[f32]| {
            let log_z = log_normaliser(logits, LaneMaxima::of(logits).max());
            logits.iter().map(|&v| v - log_z).collect()
        };
        match self.row.as_ref()? {
            Row::Copied(row) => Some(Ok(read(row))),
            Row::InPass { logits, row, position } => Some(logits.at(*row, *position).map(read)),
        }
    }

    fn read_top(logits: &[f32], k: usize, lm: &LanguageModel) -> Vec<(TokenId, f32)> {
        let tokens = lm.tokens();
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                // SAFETY: the CPU has AVX2 and FMA (checked just above).
                return unsafe { Self::read_avx2(logits, k, tokens) };
            }
        }
        Self::read_lanes(logits, k, tokens, clearing)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn read_avx2(logits: &[f32], k: usize, tokens: &TokenTable) -> Vec<(TokenId, f32)> {
        Self::read_lanes(logits, k, tokens, |run, log_z, bar| {
            // SAFETY: this function runs only where the CPU has AVX2.
            unsafe { clearing_avx2(run, log_z, bar) }
        })
    }

    /// [`read`](Self::read) for whatever vector width the caller was compiled for; `clearing`
    /// marks the tokens of a run with `logit - log_z > bar` (the same marks however it is
    /// computed).
    #[inline(always)]
    fn read_lanes(logits: &[f32], k: usize, tokens: &TokenTable, clearing: impl Fn(&[f32; RUN], f32, f32) -> u32) -> Vec<(TokenId, f32)> {
        if k == 0 {
            return Vec::new();
        }
        let lanes = LaneMaxima::of(logits);
        let log_z = log_normaliser(logits, lanes.max());
        let n = logits.len().min(tokens.len());
        let mut best = BestK::new(k);
        // Tokens past the table's may not be chosen either.
        best.bar = lanes.first_bar(k + tokens.unchoosable() + logits.len().saturating_sub(tokens.len()), log_z);
        let (runs, _) = logits[..n].as_chunks::<RUN>();
        for (r, run) in runs.iter().enumerate() {
            match best.bar {
                // Until k are held, every token is offered.
                None => {
                    for (j, &logit) in run.iter().enumerate() {
                        best.offer(r * RUN + j, logit - log_z, tokens);
                    }
                }
                // Then only those that clear the bar: a run none of which does is passed over.
                Some(bar) => {
                    let mut marks = clearing(run, log_z, bar);
                    while marks != 0 {
                        let j = marks.trailing_zeros() as usize;
                        marks &= marks - 1;
                        best.offer(r * RUN + j, run[j] - log_z, tokens);
                    }
                }
            }
        }
        for (id, &logit) in logits.iter().enumerate().take(n).skip(runs.len() * RUN) {
            best.offer(id, logit - log_z, tokens);
        }
        best.into_sorted()
    }
}

/// Tokens [`NextTokens::read`] looks at together, to pass over those that cannot enter.
const RUN: usize = 16;

/// The best k (token, log-probability) pairs offered, ties to the lower id. Offers go into a
/// buffer of a few k, unsorted; when it fills, the best k are kept and the k-th becomes the
/// bar a later offer must clear (offers come in rising id order, so a later one loses a tie).
/// No insertion per offer, one sort of k at the end.
struct BestK {
    k: usize,
    held: Vec<(TokenId, f32)>,
    /// Once k are held: an offer at or below it cannot be among the best k.
    bar: Option<f32>,
}

impl BestK {
    fn new(k: usize) -> Self {
        Self { k, held: Vec::with_capacity(4 * k), bar: None }
    }

    fn better(a: &(TokenId, f32), b: &(TokenId, f32)) -> std::cmp::Ordering {
        b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
    }

    #[inline(always)]
    fn offer(&mut self, id: usize, v: f32, tokens: &TokenTable) {
        if self.bar.is_some_and(|bar| v <= bar) || !tokens.is_choosable(id as u32) {
            return;
        }
        self.held.push((TokenId(id as u32), v));
        if self.held.len() == self.held.capacity() {
            self.keep_best();
        }
        if self.held.len() == self.k {
            // The worst of any k held is a bar the k-th best overall is at or above.
            self.bar = Some(self.held.iter().map(|&(_, v)| v).fold(f32::INFINITY, f32::min));
        }
    }

    fn keep_best(&mut self) {
        if self.held.len() > self.k {
            self.held.select_nth_unstable_by(self.k - 1, Self::better);
            self.held.truncate(self.k);
        }
    }

    fn into_sorted(mut self) -> Vec<(TokenId, f32)> {
        self.keep_best();
        self.held.sort_unstable_by(Self::better);
        self.held
    }
}

/// Marks (bit j for token j) the tokens of a run with `logit - log_z > bar`, one at a time.
fn clearing(run: &[f32; RUN], log_z: f32, bar: f32) -> u32 {
    run.iter().enumerate().fold(0, |marks, (j, &logit)| marks | (u32::from(logit - log_z > bar) << j))
}

/// [`clearing`] in two eight-lane comparisons (the same subtraction and comparison per token).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn clearing_avx2(run: &[f32; RUN], log_z: f32, bar: f32) -> u32 {
    use std::arch::x86_64::{_mm256_cmp_ps, _mm256_loadu_ps, _mm256_movemask_ps, _mm256_set1_ps, _mm256_sub_ps, _CMP_GT_OQ};
    let (z, b) = (_mm256_set1_ps(log_z), _mm256_set1_ps(bar));
    // SAFETY: `run` holds 16 floats: two loads of eight, unaligned.
    let (low, high) = unsafe { (_mm256_loadu_ps(run.as_ptr()), _mm256_loadu_ps(run.as_ptr().add(8))) };
    let low = _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_GT_OQ>(_mm256_sub_ps(low, z), b)) as u32;
    let high = _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_GT_OQ>(_mm256_sub_ps(high, z), b)) as u32;
    low | (high << 8)
}

/// log of the sum of exps of a row of logits whose largest is `max` (what `log_softmax`
/// subtracts, to within a few parts in ten million). Summed in eight lanes with [`exp_nonpositive`], which the compiler
/// turns into vector instructions (eight wide inside [`NextTokens::read`] where the CPU has
/// AVX2, chosen at run time; the lanes and the order of additions are the same either way, so
/// is the sum, to the bit): over a large vocabulary this is most of the decoder's own time
/// per pass.
#[inline(always)]
fn log_normaliser(logits: &[f32], max: f32) -> f32 {
    if !max.is_finite() {
        return max;
    }
    let mut lanes = [0f32; 8];
    let (chunks, rest) = logits.as_chunks::<8>();
    let rest: f32 = rest.iter().map(|&v| exp_nonpositive(v - max)).sum();
    for chunk in chunks {
        for i in 0..8 {
            lanes[i] += exp_nonpositive(chunk[i] - max);
        }
    }
    max + (lanes.iter().sum::<f32>() + rest).ln()
}

/// Lanes of [`LaneMaxima`].
const LANES: usize = 32;

/// The largest value of a row in each of 32 lanes (lane `j`: the values at `32 i + j`), and
/// of the values after the last whole run of 32. Kept in lanes so that the compiler uses
/// vector maxima instead of one long chain of dependent comparisons; and each lane's maximum
/// is one token's value, so that 32 tokens' values come out of the pass that finds the
/// largest, enough to set a first bar for the best k ([`first_bar`](Self::first_bar)).
struct LaneMaxima {
    lanes: [f32; LANES],
    rest: f32,
}

impl LaneMaxima {
    #[inline(always)]
    fn of(values: &[f32]) -> Self {
        let mut lanes = [f32::NEG_INFINITY; LANES];
        let (chunks, rest) = values.as_chunks::<LANES>();
        for chunk in chunks {
            for i in 0..LANES {
                // Not `f32::max`, whose NaN rule keeps it scalar; the same result (a NaN never
                // wins either way, and the lanes start at -inf).
                lanes[i] = if chunk[i] > lanes[i] { chunk[i] } else { lanes[i] };
            }
        }
        Self { lanes, rest: rest.iter().copied().fold(f32::NEG_INFINITY, f32::max) }
    }

    /// The largest value (as `f32::max` folds it: NaN counts for nothing; the same whatever
    /// the order it is taken in).
    fn max(&self) -> f32 {
        self.lanes.iter().copied().fold(self.rest, f32::max)
    }

    /// A bar for the best k of the row, as [`BestK::bar`], before any token is offered: the
    /// lanes' maxima are `LANES` tokens' values, so the `need`-th largest of them (`need`: k
    /// plus the tokens that may not be chosen, which may be among them) is at or below the
    /// k-th best choosable value. The bar is just below it (`next_down`: a token at it may
    /// still enter, whatever its id), as `logit - log_z` computes it for every offer (a
    /// larger logit never gives a smaller difference). `None` where the lanes are too few or
    /// their value is not finite.
    fn first_bar(&self, need: usize, log_z: f32) -> Option<f32> {
        if need == 0 || need > LANES {
            return None;
        }
        let mut values = self.lanes;
        let (_, &mut nth, _) = values.select_nth_unstable_by(need - 1, |a, b| b.total_cmp(a));
        let bar = (nth - log_z).next_down();
        bar.is_finite().then_some(bar)
    }
}

/// e^x for x <= 0 (e^-87 below -87; NaN counts as -87), within 2e-7 relative of `f32::exp`,
/// in plain arithmetic that vectorises: x = n ln 2 + r with |r| <= ln 2 / 2, e^r by its Taylor
/// polynomial to r^7 (Horner's rule in fused multiply-adds: one instruction a term where the
/// CPU has FMA, and the same bits, computed in software, where it has not), 2^n written into
/// the exponent bits.
#[inline(always)]
fn exp_nonpositive(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    // Adding and taking away 1.5 * 2^23 rounds to the nearest whole number.
    const ROUND: f32 = 12_582_912.0;
    const TERMS: [f32; 7] = [1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0];
    let x = if x < -87.0 { -87.0 } else { x };
    let t = x.mul_add(LOG2E, ROUND);
    let n = t - ROUND;
    let r = (-n).mul_add(LN2_LO, (-n).mul_add(LN2_HI, x));
    let mut p: f32 = 1.0 / 5040.0;
    for term in TERMS {
        p = p.mul_add(r, term);
    }
    // n sits in the low bits of t: 2^n's exponent bits without a float-to-integer conversion.
    let exponent = t.to_bits().wrapping_sub(ROUND.to_bits()).wrapping_add(127);
    p * f32::from_bits(exponent << 23)
}

/// Expand every live beam by its top-k tokens and score each candidate; a beam none of whose
/// top-k keeps its skill admissible is offered the likeliest tokens that do as well
/// ([`fallback`]).
fn expand(lm: &LanguageModel, beams: &[Beam], next: &[NextTokens], models: &mut [WeightedModel<'_>], config: &DecodeConfig) -> Result<Cands, DecodeError> {
    let offered: usize = next.iter().map(|n| n.top.len()).sum();
    let longest = beams.iter().map(|b| b.text.len()).max().unwrap_or(0);
    let mut cands = Cands {
        list: Vec::with_capacity(offered),
        texts: String::with_capacity(offered * (longest + 8)),
        grounded: Vec::with_capacity(offered * models.len()),
        models: models.len(),
    };
    for (parent, (beam, tokens)) in beams.iter().zip(next).enumerate() {
        for &(token, lp) in &tokens.top {
            cands.push(lm, beam, parent, token, lp, false);
        }
    }
    cands.score(0, models)?;
    if config.beyond_top_k {
        let admission = fallback::Admission::of(models, config.floor);
        let scored = cands.len();
        for (parent, beam) in beams.iter().enumerate() {
            if cands[..scored].iter().any(|c| c.parent == parent && admission.admits(cands.grounded(c))) {
                continue;
            }
            for (token, lp) in fallback::admissible_tokens(lm, &beam.text, &next[parent], models, config.top_k)? {
                cands.push(lm, beam, parent, token, lp, true);
            }
        }
        cands.score(scored, models)?;
    }
    // Step scores (LM plus weighted grounded terms), then each beam's normaliser.
    let steps: Vec<f32> = cands
        .iter()
        .map(|c| {
            let step = models.iter().zip(cands.grounded(c)).filter(|(m, _)| m.weight != 0.0).fold(c.lm, |step, (m, &g)| step + m.weight * g);
            if step.is_nan() {
                f32::NEG_INFINITY
            } else {
                step
            }
        })
        .collect();
    let floor = config.renorm_floor.ln() as f32;
    let mut norms = vec![0f32; beams.len()];
    for (parent, norm) in norms.iter_mut().enumerate() {
        let mine = cands.iter().zip(&steps).filter(|(c, _)| c.parent == parent).map(|(_, s)| *s);
        *norm = log_sum_exp(mine).max(floor);
    }
    for (c, step) in cands.iter_mut().zip(steps) {
        c.normaliser = norms[c.parent];
        c.total = beams[c.parent].score + step - c.normaliser;
    }
    Ok(cands)
}

impl Cands {
    /// Add the candidate `token` (log-probability `lp`) makes of `beam` (the `parent`-th),
    /// unscored; none where it would end a skill that says nothing.
    fn push(&mut self, lm: &LanguageModel, beam: &Beam, parent: usize, token: TokenId, lp: f32, beyond_top_k: bool) {
        let (piece, terminator) = lm.tokens().text_and_terminator(token.0);
        let start = self.texts.len();
        let tail = match terminator {
            Some(at) => {
                // A finishing text is trimmed at both ends.
                let whole = [beam.text.as_str(), &piece[..at]].concat();
                self.texts.push_str(whole.trim());
                Some(piece[..at].to_string())
            }
            None => {
                self.texts.push_str(&beam.text);
                self.texts.push_str(piece);
                None
            }
        };
        // A skill must say something before it ends, and may not start with a line break.
        if tail.is_some() && self.texts.len() == start {
            return;
        }
        let grounded = self.list.len() * self.models;
        self.list.push(Candidate { parent, token, text: start..self.texts.len(), tail, lm: lp, grounded, normaliser: 0.0, total: 0.0, beyond_top_k });
    }

    /// Score the candidates from the `from`-th on with every grounded model.
    fn score(&mut self, from: usize, models: &mut [WeightedModel<'_>]) -> Result<(), DecodeError> {
        if from == self.list.len() {
            return Ok(());
        }
        let prefixes: Vec<SkillPrefix<'_>> =
            self.list[from..].iter().map(|c| SkillPrefix { text: self.text(c).trim_start(), complete: c.finishes() }).collect();
        let mut per_model: Vec<Vec<LogProb>> = Vec::with_capacity(models.len());
        for m in models.iter_mut() {
            let scores = m.bound.score(&prefixes)?;
            if scores.len() != prefixes.len() {
                return Err(GroundingError::Model { model: m.name.clone(), message: format!("{} scores for {} texts", scores.len(), prefixes.len()) }.into());
            }
            per_model.push(scores);
        }
        drop(prefixes);
        for i in 0..self.list.len() - from {
            self.grounded.extend(per_model.iter().map(|scores| scores[i].value()));
        }
        Ok(())
    }
}

/// A candidate as explanations keep it until they are read (text looked up only then).
#[derive(Clone)]
struct KeptCandidate {
    token: TokenId,
    lm: f32,
    total: f32,
    beyond_top_k: bool,
}

/// The candidates one beam considered at one step, as explanations keep them.
struct KeptList {
    cands: Vec<KeptCandidate>,
    /// Their grounded scores, `models` per candidate.
    scores: Vec<f32>,
    models: usize,
}

impl KeptList {
    fn grounded(&self, i: usize) -> &[f32] {
        &self.scores[i * self.models..(i + 1) * self.models]
    }
}

/// The scored candidates of each parent beam, as the explanations keep them.
fn candidate_lists(beams: &[Beam], cands: &Cands) -> Vec<Rc<KeptList>> {
    let mut counts = vec![0usize; beams.len()];
    for c in cands.iter() {
        counts[c.parent] += 1;
    }
    let mut lists: Vec<KeptList> =
        counts.iter().map(|&n| KeptList { cands: Vec::with_capacity(n), scores: Vec::with_capacity(n * cands.models), models: cands.models }).collect();
    for c in cands.iter() {
        let list = &mut lists[c.parent];
        list.cands.push(KeptCandidate { token: c.token, lm: c.lm, total: c.total, beyond_top_k: c.beyond_top_k });
        list.scores.extend_from_slice(cands.grounded(c));
    }
    lists.into_iter().map(Rc::new).collect()
}

/// The beam a candidate makes; `lists` from [`candidate_lists`] (same candidate order).
fn child(beams: &[Beam], cands: &Cands, index: usize, lists: &[Rc<KeptList>]) -> Beam {
    let c = &cands[index];
    let parent = &beams[c.parent];
    let chosen = cands[..index].iter().filter(|o| o.parent == c.parent).count();
    let node = ChoiceNode { chosen, candidates: Rc::clone(&lists[c.parent]), normaliser: c.normaliser, previous: parent.choices.clone() };
    let mut tokens = Vec::with_capacity(parent.tokens.len() + 1);
    tokens.extend_from_slice(&parent.tokens);
    tokens.push(c.token);
    Beam { text: cands.text(c).to_string(), tokens, score: c.total, lm_score: parent.lm_score + c.lm, choices: Some(Rc::new(node)) }
}

fn sort_best_first(cands: &mut [Candidate]) {
    cands.sort_by(|a, b| b.total.total_cmp(&a.total).then(a.parent.cmp(&b.parent)).then(a.token.cmp(&b.token)));
}

/// Decode one skill with beam search, by `config.search`, starting from a one-row `cache`
/// whose last logits are `logits`. Returns `None` when no admissible skill finished within
/// the token limit.
pub fn decode_skill(
    lm: &mut LanguageModel,
    cache: KvCache,
    logits: &[f32],
    models: &mut [WeightedModel<'_>],
    config: &DecodeConfig,
) -> Result<Option<DecodedSkill>, DecodeError> {
    match config.search {
        Search::BestFirst => decode_skill_best_first(lm, cache, logits, models, config),
        Search::LockStep => decode_skill_lock_step(lm, cache, logits, models, config),
    }
}

/// What [`advance`] leaves: the cache (shared, so that a finished skill may keep a row of it), the
/// beams, and each beam's next tokens.
type Advanced = (Arc<KvCache>, Vec<Beam>, Vec<NextTokens>);

/// The beams a lock-step search runs next: which candidates, their beams and their models.
struct Step<'s, 'm> {
    beams: &'s [Beam],
    cands: &'s Cands,
    lists: &'s [Rc<KeptList>],
    models: &'s mut [WeightedModel<'m>],
}

/// Run the candidates `next` (indices into `step.cands`) as the next beams, in one batched
/// pass whose cache rows are gathered by parent (read in place where they are a run of rows
/// in order, copied where a parent has two children): the new cache, beams and each beam's
/// log-probabilities for its next token. A lone beam goes through `lookahead`.
fn advance(lm: &mut LanguageModel, cache: Arc<KvCache>, step: Step<'_, '_>, next: &mut [usize], lookahead: &mut Lookahead) -> Result<Advanced, DecodeError> {
    let Step { beams, cands, lists, models } = step;
    // Rows in parent order: when every beam has one child the cache needs no gather.
    next.sort_by_key(|&i| cands[i].parent);
    let parents: Vec<usize> = next.iter().map(|&i| cands[i].parent).collect();
    let new_beams: Vec<Beam> = next.iter().map(|&i| child(beams, cands, i, lists)).collect();
    let gathered = KvCache::gather_shared(cache, &parents)?;
    if let [beam] = new_beams.as_slice() {
        let (logprobs, cache) = lookahead.step(lm, &gathered, &beam.tokens, &beam.text, models)?;
        return Ok((Arc::new(cache), new_beams, vec![logprobs]));
    }
    let tokens: Vec<TokenId> = next.iter().map(|&i| cands[i].token).collect();
    let (out, cache) = lm.forward(gathered, &tokens, Purpose::Decode)?;
    let out = Arc::new(out);
    let last: Vec<(usize, usize)> = (0..out.rows).map(|r| (r, out.positions - 1)).collect();
    let next = NextTokens::of(&out, &last, lookahead.top_k(), lm)?;
    Ok((Arc::new(cache), new_beams, next))
}

/// Lock-step beam search: every live beam advances one token per batched pass, its cache
/// rows gathered by parent. Arguments and result as [`decode_skill`].
pub fn decode_skill_lock_step(
    lm: &mut LanguageModel,
    cache: KvCache,
    logits: &[f32],
    models: &mut [WeightedModel<'_>],
    config: &DecodeConfig,
) -> Result<Option<DecodedSkill>, DecodeError> {
    let mut beams = vec![Beam::start()];
    let mut logprobs = vec![NextTokens::read(logits, config.top_k, lm)];
    let mut cache = Arc::new(cache);
    let mut lookahead = Lookahead::new(config);
    // A finished skill keeps its row of the batch that ran it, read in place.
    let mut best: Option<(Beam, KvCache, String)> = None;
    let mut passed_over = None;
    for length in 0..config.max_skill_tokens {
        let mut cands = expand(lm, &beams, &logprobs, models, config)?;
        sort_best_first(&mut cands);
        let lists = candidate_lists(&beams, &cands);
        let mut next: Vec<usize> = Vec::new();
        let cutoff = cands.first().map_or(f32::NEG_INFINITY, |c| c.total - config.beam_margin);
        // The best B candidates (sorted), finished or not, while within the pruning margin.
        for (i, c) in cands.iter().enumerate() {
            if i == config.beam_width || c.total == f32::NEG_INFINITY || c.total < cutoff {
                break;
            }
            if c.finishes() {
                if best.as_ref().is_none_or(|(b, _, _)| c.total > b.score) {
                    best = Some((child(&beams, &cands, i, &lists), KvCache::rows_of(&cache, c.parent, 1)?, c.tail.clone().unwrap_or_default()));
                }
            } else {
                next.push(i);
            }
        }
        // Scores only fall as text grows: once a finished skill beats every live beam, stop.
        let best_live = next.first().map(|&i| cands[i].total);
        match (best_live, &best) {
            (None, _) => break,
            (Some(live), Some((done, _, _))) if done.score >= live || length + 1 == config.max_skill_tokens => {
                passed_over = Unfinished::of(&done.text, next.iter().map(|&i| child(&beams, &cands, i, &lists)), models, config, lm);
                break;
            }
            // The live beams are as long as a skill may be: nothing to run them for.
            _ if length + 1 == config.max_skill_tokens => break,
            _ => {}
        }
        let step = Step { beams: &beams, cands: &cands, lists: &lists, models: &mut *models };
        (cache, beams, logprobs) = advance(lm, cache, step, &mut next, &mut lookahead)?;
    }
    Ok(best.map(|(beam, cache, pending)| DecodedSkill {
        text: beam.text.trim().to_string(),
        score: beam.score,
        lm_score: beam.lm_score,
        choices: unroll(beam.choices, lm),
        cache,
        pending,
        passed_over,
    }))
}

/// Greedy grounded decoding (the paper's Algorithm 1): at each token, the best candidate.
/// Independent of the beam search's bookkeeping, so that the two can check each other.
pub fn decode_skill_greedy(
    lm: &mut LanguageModel,
    cache: KvCache,
    logits: &[f32],
    models: &mut [WeightedModel<'_>],
    config: &DecodeConfig,
) -> Result<Option<DecodedSkill>, DecodeError> {
    let mut beam = Beam::start();
    let mut cache = cache;
    let mut logprobs = NextTokens::read(logits, config.top_k, lm);
    let mut lookahead = Lookahead::new(config);
    for length in 0..config.max_skill_tokens {
        let beams = [beam];
        let mut cands = expand(lm, &beams, std::slice::from_ref(&logprobs), models, config)?;
        sort_best_first(&mut cands);
        if cands.first().is_none_or(|c| c.total == f32::NEG_INFINITY) {
            return Ok(None);
        }
        let lists = candidate_lists(&beams, &cands);
        let next = child(&beams, &cands, 0, &lists);
        let c = &cands[0];
        if c.finishes() {
            return Ok(Some(DecodedSkill {
                text: cands.text(c).to_string(),
                score: c.total,
                lm_score: next.lm_score,
                choices: unroll(next.choices, lm),
                cache,
                pending: c.tail.clone().unwrap_or_default(),
                passed_over: None,
            }));
        }
        if length + 1 == config.max_skill_tokens {
            break;
        }
        (logprobs, cache) = lookahead.step(lm, &cache, &next.tokens, &next.text, models)?;
        beam = next;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_exponential_is_within_two_ten_millionths_of_the_exact_one() {
        let mut worst = 0f64;
        for i in 0..=200_000 {
            let x = -87.0 * i as f32 / 200_000.0;
            let (fast, exact) = (exp_nonpositive(x) as f64, (x as f64).exp());
            worst = worst.max((fast - exact).abs() / exact);
        }
        assert!(worst < 2e-7, "worst relative error {worst}");
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert!(exp_nonpositive(-1000.0) < 1e-37);
        assert!(exp_nonpositive(f32::NEG_INFINITY) < 1e-37);
    }

    #[test]
    fn the_normaliser_makes_probabilities_sum_to_one() {
        let logits: Vec<f32> = (0..50_001).map(|i| ((i * 7919) % 1000) as f32 / 40.0 - 10.0).collect();
        let log_z = log_normaliser(&logits, LaneMaxima::of(&logits).max());
        let total: f64 = logits.iter().map(|&v| ((v - log_z) as f64).exp()).sum();
        assert!((total - 1.0).abs() < 1e-4, "{total}");
        assert_eq!(log_normaliser(&[f32::NEG_INFINITY; 3], f32::NEG_INFINITY), f32::NEG_INFINITY);
    }

    #[test]
    fn the_wide_and_the_plain_top_k_agree_to_the_bit() {
        #[cfg(target_arch = "x86_64")]
        {
            if !std::arch::is_x86_feature_detected!("avx2") {
                eprintln!("skipped: no AVX2 on this CPU, only the plain path runs");
                return;
            }
            let mut seed = 7u64;
            for vocab in [5, 17, 4_096, 50_001] {
                let logits: Vec<f32> = (0..vocab)
                    .map(|i| {
                        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        if i % 97 == 5 {
                            f32::NEG_INFINITY
                        } else {
                            (seed >> 40) as f32 / (1u64 << 24) as f32 * 30.0 - 15.0
                        }
                    })
                    .collect();
                let choosable: Vec<bool> = (0..vocab).map(|i| i % 11 != 4).collect();
                let tokens = table_of(&choosable);
                for k in [1, 20, 64] {
                    let plain = NextTokens::read_lanes(&logits, k, &tokens, clearing);
                    // SAFETY: AVX2 checked above.
                    let wide = unsafe { NextTokens::read_avx2(&logits, k, &tokens) };
                    let bits = |t: &[(TokenId, f32)]| t.iter().map(|&(id, lp)| (id, lp.to_bits())).collect::<Vec<_>>();
                    assert_eq!(bits(&plain), bits(&wide), "vocab {vocab}, k {k}");
                    assert_eq!(plain.len(), k.min(choosable.iter().filter(|&&c| c).count()));
                }
            }
        }
    }

    /// A token table whose token `id` may be chosen where `choosable[id]` (a text, or none).
    fn table_of(choosable: &[bool]) -> TokenTable {
        let texts: Vec<String> = choosable.iter().map(|&c| if c { "x".into() } else { String::new() }).collect();
        TokenTable::new(&texts, &['.']).expect("a small table")
    }

    #[test]
    fn the_best_k_buffer_agrees_with_a_sort_whatever_the_order_of_offers() {
        // Rising values make every offer enter (a compaction every 3k offers), falling ones
        // make the first k hold out, equal ones are all ties (the lowest ids win).
        let orders: [fn(usize) -> f32; 4] = [|i| i as f32, |i| -(i as f32), |_| 1.5, |i| ((i * 7919) % 13) as f32];
        for (o, value) in orders.iter().enumerate() {
            for (n, k) in [(1, 1), (5, 20), (100, 1), (100, 20), (1000, 20), (1000, 64), (257, 64)] {
                let choosable: Vec<bool> = (0..n).map(|i| i % 9 != 3).collect();
                let tokens = table_of(&choosable);
                let mut best = BestK::new(k);
                for i in 0..n {
                    best.offer(i, value(i), &tokens);
                }
                let got = best.into_sorted();
                let mut all: Vec<(TokenId, f32)> = (0..n).filter(|&i| choosable[i]).map(|i| (TokenId(i as u32), value(i))).collect();
                all.sort_by(BestK::better);
                all.truncate(k);
                assert_eq!(got, all, "order {o}, n {n}, k {k}");
            }
        }
    }

    #[test]
    fn the_best_k_agree_with_a_sort_where_the_first_bar_comes_from_the_lanes() {
        // Few distinct values, so that many tokens tie with the k-th; the best values often
        // on tokens that may not be chosen (every seventh token), which the lanes' maxima
        // count too; rows shorter and longer than the lanes, and longer than the vocabulary.
        let mut seed = 11u64;
        for (len, vocab) in [(31, 31), (32, 32), (100, 100), (4_096, 4_096), (4_100, 4_000), (1_000, 1_200)] {
            for levels in [1u64, 3, 40] {
                let logits: Vec<f32> = (0..len)
                    .map(|i| {
                        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        if i % 7 == 0 {
                            10.0
                        } else {
                            ((seed >> 33) % levels) as f32 * 0.25
                        }
                    })
                    .collect();
                let choosable: Vec<bool> = (0..vocab).map(|i| i % 7 != 0).collect();
                let tokens = table_of(&choosable);
                for k in [1, 5, 20, 30, 64] {
                    let got = NextTokens::read_lanes(&logits, k, &tokens, clearing);
                    let log_z = log_normaliser(&logits, LaneMaxima::of(&logits).max());
                    let mut all: Vec<(TokenId, f32)> = (0..len.min(vocab)).filter(|&i| choosable[i]).map(|i| (TokenId(i as u32), logits[i] - log_z)).collect();
                    all.sort_by(BestK::better);
                    all.truncate(k);
                    assert_eq!(got, all, "{len} logits, vocabulary {vocab}, {levels} levels, k {k}");
                }
            }
        }
    }

    #[test]
    fn log_softmax_normalises() {
        let lp = log_softmax(&[1.0, 2.0, 3.0]);
        let total: f32 = lp.iter().map(|v| v.exp()).sum();
        assert!((total - 1.0).abs() < 1e-6);
        assert!(lp[2] > lp[1] && lp[1] > lp[0]);
    }

    #[test]
    fn config_validation_names_the_setting() {
        let bad = DecodeConfig { beam_width: 0, ..DecodeConfig::default() };
        assert!(bad.validate().unwrap_err().to_string().contains("beam_width"));
        let bad = DecodeConfig { floor: 1.0, ..DecodeConfig::default() };
        assert!(bad.validate().unwrap_err().to_string().contains("floor"));
        assert!(DecodeConfig { floor: 0.0, ..DecodeConfig::default() }.validate().is_ok());
        assert!(DecodeConfig::default().validate().is_ok());
    }
}
