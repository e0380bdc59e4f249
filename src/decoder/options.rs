//! The options for the next skill: every skill a wide grounded beam finishes, with its score,
//! the set a prediction set (`crate::ask`) is drawn from.
//!
//! The search is the lock-step beam of [`super::decode_skill_lock_step`] with the scoring
//! rule unchanged, but a finished skill does not end it: finished skills are collected (each
//! text once, at its best score) until `width` of them are at least as good as every live
//! beam, or no beam is left. Options are returned best first, at most `width`.

use super::{
    advance, candidate_lists, child, departure, expand, sort_best_first, unroll, Admission, Beam, DecodeConfig, DecodeError, Departure, DoneInstead, Later,
    Lookahead, NextTokens, Step, Unfinished, WeightedModel,
};
use crate::lm::{KvCache, LanguageModel};
use protocol::skill::SkillText;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One option for the next skill.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SkillOption {
    /// The skill text, trimmed, without the terminator.
    pub skill: String,
    /// The decoding rule's score of the whole skill (LM plus weighted grounded terms).
    #[serde(deserialize_with = "super::never_as_null::one")]
    pub score: f32,
    /// Sum of the language model's log-probabilities of its tokens.
    #[serde(deserialize_with = "super::never_as_null::one")]
    pub lm_score: f32,
    /// How far the skill departs from what the language model wanted, and where most
    /// ([`super::departure`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub departure: Option<Departure>,
    /// For `done`: the skill the search was still decoding when `done` beat every live
    /// beam, where that skill departs from what the model wanted (as a plan's search reads
    /// it: [`DoneInstead`]). A plan session's options keep it at the first step only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_place_of: Option<DoneInstead>,
}

impl SkillOption {
    /// An option with no departure (a skill named by the operator or replayed).
    pub fn new(skill: impl Into<String>, score: f32, lm_score: f32) -> Self {
        Self { skill: skill.into(), score, lm_score, departure: None, in_place_of: None }
    }

    /// How taking this option departs from what the language model wanted: its own
    /// departure, or for a `done` said in place of a skill that departs, that skill's. A
    /// step whose most confident option departs too far is not acted on unasked.
    pub fn departing(&self) -> Option<&Departure> {
        self.departure.as_ref().or(self.in_place_of.as_ref().map(|d| &d.departure))
    }

    /// [`departing`](Self::departing) in words, for the operator: the departure, or the
    /// `done` said in place of a skill that departs.
    pub fn departing_in_words(&self) -> Option<String> {
        self.departure.as_ref().map(ToString::to_string).or_else(|| self.in_place_of.as_ref().map(ToString::to_string))
    }
}

/// Candidate tokens per beam and step when looking for options: wider than a plan's top-k,
/// so that a skill the world allows is found even where the language model all but rules it
/// out (after "pick up the red block and place it in the", a bowl of another colour).
pub const OPTIONS_TOP_K: usize = 60;

/// The best `width` skills a grounded beam of `width` finishes from a one-row `cache` whose
/// last logits are `logits`, best first (ties by text), each token chosen among at least
/// [`OPTIONS_TOP_K`] candidates. Empty when none finishes. Each option's departure leaves
/// out what `later` says the world rules out only for now.
pub fn decode_options(
    lm: &mut LanguageModel,
    cache: KvCache,
    logits: &[f32],
    models: &mut [WeightedModel<'_>],
    config: &DecodeConfig,
    width: usize,
    later: Option<&Later>,
) -> Result<Vec<SkillOption>, DecodeError> {
    let width = width.max(1);
    let config = &DecodeConfig { top_k: config.top_k.max(OPTIONS_TOP_K), ..config.clone() };
    let mut beams = vec![Beam::start()];
    let mut logprobs = vec![NextTokens::read(logits, config.top_k, lm)];
    let mut cache = Arc::new(cache);
    let mut lookahead = Lookahead::new(config);
    let mut finished: Vec<SkillOption> = Vec::new();
    let admission = Admission::of(models, config.floor);
    for length in 0..config.max_skill_tokens {
        let mut cands = expand(lm, &beams, &logprobs, models, config)?;
        sort_best_first(&mut cands);
        let lists = candidate_lists(&beams, &cands);
        let cutoff = cands.first().map_or(f32::NEG_INFINITY, |c| c.total - config.beam_margin);
        let mut next: Vec<usize> = Vec::new();
        for (i, c) in cands.iter().enumerate() {
            if c.total == f32::NEG_INFINITY || c.total < cutoff {
                break;
            }
            if c.finishes() {
                let beam = child(&beams, &cands, i, &lists);
                let text = beam.text.trim().to_string();
                if finished.iter().any(|o| o.skill == text && o.score >= beam.score) {
                    continue;
                }
                let departure = departure(&unroll(beam.choices.clone(), lm), &admission, later);
                let option = SkillOption { skill: text, score: beam.score, lm_score: beam.lm_score, departure, in_place_of: None };
                match finished.iter_mut().find(|o| o.skill == option.skill) {
                    Some(o) => *o = option,
                    None => finished.push(option),
                }
            } else if next.len() < width {
                next.push(i);
            }
        }
        finished.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.skill.cmp(&b.skill)));
        finished.truncate(width);
        // Scores only fall as text grows: stop once `width` finished skills beat every live beam.
        let Some(best_live) = next.first().map(|&i| cands[i].total) else { break };
        // `done` first and beating every live beam: what the best of them was decoding is
        // what `done` is said in place of, read as a plan's search reads it when it ends; at
        // the first such step where that departs (until then, each such step reads it).
        if let Some(top) = finished.first_mut().filter(|o| o.skill == SkillText::DONE && o.score >= best_live && o.in_place_of.is_none()) {
            let unfinished = next.iter().map(|&i| child(&beams, &cands, i, &lists));
            top.in_place_of = Unfinished::of(&top.skill, unfinished, models, config, lm)
                .and_then(|u| Some(DoneInstead { departure: departure(&u.choices, &admission, later)?, unfinished: u.text }));
        }
        if finished.len() == width && finished.last().is_some_and(|o| o.score >= best_live) {
            break;
        }
        if length + 1 == config.max_skill_tokens {
            break;
        }
        let step = Step { beams: &beams, cands: &cands, lists: &lists, models: &mut *models };
        (cache, beams, logprobs) = advance(lm, cache, step, &mut next, &mut lookahead)?;
    }
    Ok(finished)
}
