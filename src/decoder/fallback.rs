//! Admissible tokens beyond the top-k: where none of the language model's k likeliest tokens
//! keeps a beam's skill admissible, the beam is also offered the likeliest tokens that do.
//!
//! The paper's rule multiplies p_LM by the grounded models' scores over the LM's tokens;
//! taking only the top k is an approximation of that rule, and it fails where the LM is sure
//! of something the world rules out: after "pick up the green block and place it in the",
//! with no green bowl on the table, a confident model's top 20 may hold "green" and no colour
//! that is there, and every candidate scores at the affordance's floor. Greedy decoding then
//! gave up ("no admissible skill"), and a beam died. Here such a beam is offered, besides
//! its top k, the k likeliest tokens that start a word the grounded models admit next
//! ([`BoundModel::next_words`](grounding::BoundModel::next_words)), each with its own
//! log-probability from the same row of logits and scored like any other candidate. Where
//! the top k holds an admissible token, nothing changes and nothing is computed.

use super::{BestK, DecodeError, NextTokens, WeightedModel};
use crate::lm::{LanguageModel, TokenId};
use grounding::NextWords;

/// Most words one model is asked to list after a prefix.
const WORD_LIMIT: usize = 256;

/// What keeps a skill admissible: no grounded model that counts (a weight other than 0)
/// scores a token of it never, nor at the floor (the affordance's score for text no
/// admissible skill starts with). Built once per decode from the models' weights, in the
/// order candidates hold their grounded scores, and the configured floor.
#[derive(Clone, Debug, PartialEq)]
pub struct Admission {
    weights: Vec<f32>,
    /// The highest score that does not admit: the floor's log, a hair above it, since the
    /// floor as the affordance stores it (a probability's log in f32) may round either way.
    bar: f32,
}

impl Admission {
    /// For grounded models weighted `weights` and the floor probability `floor` (0: text no
    /// admissible skill starts with is never chosen).
    pub fn new(weights: Vec<f32>, floor: f64) -> Self {
        Self::with_log_floor(weights, floor.ln() as f32)
    }

    /// The same, from the floor's log.
    pub(super) fn with_log_floor(weights: Vec<f32>, log_floor: f32) -> Self {
        let bar = if log_floor.is_finite() { log_floor + 1e-4 * log_floor.abs().max(1.0) } else { f32::NEG_INFINITY };
        Self { weights, bar }
    }

    /// For the models a decode runs with.
    pub(super) fn of(models: &[WeightedModel<'_>], floor: f64) -> Self {
        Self::new(models.iter().map(|m| m.weight).collect(), floor)
    }

    /// Whether a candidate with these grounded scores (one per model) keeps its skill
    /// admissible.
    pub fn admits(&self, grounded: &[f32]) -> bool {
        self.weights.iter().zip(grounded).all(|(&w, &g)| self.admits_one(w, g))
    }

    /// Whether every model but the one at `model` admits a candidate with these scores.
    pub(super) fn others_admit(&self, grounded: &[f32], model: usize) -> bool {
        self.weights.iter().zip(grounded).enumerate().filter(|&(i, _)| i != model).all(|(_, (&w, &g))| self.admits_one(w, g))
    }

    fn admits_one(&self, weight: f32, score: f32) -> bool {
        weight == 0.0 || score > self.bar
    }
}

/// The words every model that can list them admits after `prefix` (`None`: no model can).
fn words_after(prefix: &str, models: &mut [WeightedModel<'_>]) -> Option<NextWords> {
    let mut agreed: Option<NextWords> = None;
    for m in models.iter_mut().filter(|m| m.weight != 0.0) {
        let Some(next) = m.bound.next_words(prefix, WORD_LIMIT) else { continue };
        agreed = Some(match agreed {
            None => next,
            Some(mut known) => {
                known.words.retain_mut(|(word, ends)| match next.words.iter().find(|(w, _)| w == word) {
                    Some((_, also)) => {
                        *ends &= also;
                        true
                    }
                    None => false,
                });
                known.ends_here &= next.ends_here;
                known
            }
        });
    }
    agreed
}

/// Whether a token whose text is `piece` (with its terminator at `terminator`, if it has
/// one) starts one of `words`, or ends the skill where that is admitted. At a skill's start
/// (`at_start`) the token's leading space does not count, as the grounded models never see it.
fn starts_a_word(piece: &str, terminator: Option<usize>, at_start: bool, words: &NextWords) -> bool {
    fn trim(t: &str, at_start: bool) -> &str {
        if at_start {
            t.trim_start()
        } else {
            t
        }
    }
    match terminator {
        Some(at) => {
            let before = trim(&piece[..at], at_start).trim_end();
            if before.is_empty() {
                words.ends_here && !at_start
            } else {
                words.words.iter().any(|(w, ends)| *ends && w == before)
            }
        }
        None => {
            let piece = trim(piece, at_start);
            !piece.is_empty() && words.words.iter().any(|(w, _)| w.starts_with(piece))
        }
    }
}

/// The `k` likeliest tokens outside `next.top` after a beam's `text` that start a word every
/// listing model admits next (or end an admitted skill), with their log-probabilities, best
/// first. Empty where no model lists words, or the row of logits is not known.
pub(super) fn admissible_tokens(
    lm: &LanguageModel,
    text: &str,
    next: &NextTokens,
    models: &mut [WeightedModel<'_>],
    k: usize,
) -> Result<Vec<(TokenId, f32)>, DecodeError> {
    let prefix = text.trim_start();
    let Some(words) = words_after(prefix, models) else { return Ok(Vec::new()) };
    if words.words.is_empty() && !words.ends_here {
        return Ok(Vec::new());
    }
    let Some(log_probs) = next.log_probs() else { return Ok(Vec::new()) };
    let log_probs = log_probs?;
    let tokens = lm.tokens();
    let at_start = prefix.is_empty();
    let mut best = BestK::new(k);
    for (id, &lp) in log_probs.iter().enumerate().take(tokens.len()) {
        let token = id as u32;
        if !lp.is_finite() || next.top.iter().any(|&(t, _)| t.0 == token) {
            continue;
        }
        let (piece, terminator) = tokens.text_and_terminator(token);
        if starts_a_word(piece, terminator, at_start, &words) {
            best.offer(id, lp, tokens);
        }
    }
    Ok(best.into_sorted())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[(&str, bool)], ends_here: bool) -> NextWords {
        NextWords { words: list.iter().map(|&(w, e)| (w.to_string(), e)).collect(), ends_here }
    }

    #[test]
    fn a_token_starts_a_word_by_its_text_or_ends_an_admitted_skill() {
        let colours = words(&[(" red", false), (" blue", true)], false);
        assert!(starts_a_word(" red", None, false, &colours));
        assert!(starts_a_word(" r", None, false, &colours));
        assert!(!starts_a_word(" green", None, false, &colours));
        assert!(!starts_a_word("red", None, false, &colours), "the word's leading space counts mid-skill");
        // A terminator ends the skill only where a skill ends.
        assert!(starts_a_word(" blue.", Some(5), false, &colours));
        assert!(!starts_a_word(" red.", Some(4), false, &colours));
        assert!(!starts_a_word(".", Some(0), false, &colours));
        assert!(starts_a_word(".", Some(0), false, &words(&[], true)));
        // At a skill's start the leading space is dropped, and an empty skill never ends.
        let first = words(&[("pick", false), ("done", true)], false);
        assert!(starts_a_word(" pick", None, true, &first));
        assert!(starts_a_word("done\n", Some(4), true, &first));
        assert!(!starts_a_word("\n", Some(0), true, &words(&[], true)));
        assert!(!starts_a_word(" ", None, true, &first));
    }
}
