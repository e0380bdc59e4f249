//! The SayCan-style baseline: score every admissible skill text whole.
//!
//! Each admissible skill in the state (and `done`) is scored by the language model's summed
//! log-probability of its tokens (with the terminating `.`), plus the log of its affordance
//! (`done`: 0.2, as in SayCan) and the weighted scores of the other grounded models on the
//! whole text; the best is taken. To be a fair, fast baseline, the candidates are sorted and
//! batched, each batch's common token prefix is run once and shared, and all candidates
//! share the cached prompt.

use crate::decoder::{log_softmax, DecodeError, WeightedModel};
use crate::lm::{KvCache, LanguageModel, Purpose, TokenId};
use grounding::{LogProb, ScoredSkill, SkillPrefix};
use serde::Serialize;

/// Skills scored in one batched forward pass.
pub const BATCH: usize = 32;

/// The affordance SayCan gives `done`.
pub const DONE_AFFORDANCE: f64 = 0.2;

/// One whole skill and how it scored.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct SkillScore {
    pub skill: String,
    /// Sum of log p_LM over the skill's tokens.
    #[serde(deserialize_with = "crate::decoder::never_as_null::one")]
    pub lm: f32,
    /// log of the affordance, then each other grounded model's log p (`null`: never).
    #[serde(deserialize_with = "crate::decoder::never_as_null::many")]
    pub grounded: Vec<f32>,
    #[serde(deserialize_with = "crate::decoder::never_as_null::one")]
    pub total: f32,
}

/// Score every admissible skill from the prompt in `root` (one row, whose last logits are
/// `logits`). Returns all scores, best first.
pub fn score_skills(
    lm: &mut LanguageModel,
    root: &KvCache,
    logits: &[f32],
    skills: &[ScoredSkill],
    others: &mut [WeightedModel<'_>],
    affordance_weight: f32,
) -> Result<Vec<SkillScore>, DecodeError> {
    let first = log_softmax(logits);
    let mut texts: Vec<(String, Vec<TokenId>, f64)> = Vec::with_capacity(skills.len());
    for s in skills {
        let feasibility = if s.text == "done" { DONE_AFFORDANCE } else { s.feasibility };
        texts.push((s.text.clone(), lm.encode(&format!(" {}.", s.text))?, feasibility));
    }
    texts.sort_by(|a, b| a.1.cmp(&b.1));
    let mut lm_scores = vec![0f32; texts.len()];
    for (chunk_index, chunk) in texts.chunks(BATCH).enumerate() {
        let seqs: Vec<&[TokenId]> = chunk.iter().map(|t| t.1.as_slice()).collect();
        let scores = score_batch(lm, root, &first, &seqs)?;
        lm_scores[chunk_index * BATCH..chunk_index * BATCH + chunk.len()].copy_from_slice(&scores);
    }
    let prefixes: Vec<SkillPrefix<'_>> = texts.iter().map(|t| SkillPrefix::complete(&t.0)).collect();
    let mut other_scores = Vec::with_capacity(others.len());
    for m in others.iter_mut() {
        other_scores.push(m.bound.score(&prefixes)?);
    }
    let mut out: Vec<SkillScore> = texts
        .iter()
        .enumerate()
        .map(|(i, (skill, _, feasibility))| {
            let aff = LogProb::from_prob(*feasibility).value();
            let mut grounded = vec![aff];
            let mut total = lm_scores[i] + affordance_weight * aff;
            for (m, s) in others.iter().zip(&other_scores) {
                let g = s[i].value();
                grounded.push(g);
                if m.weight != 0.0 {
                    total += m.weight * g;
                }
            }
            let total = if total.is_nan() { f32::NEG_INFINITY } else { total };
            SkillScore { skill: skill.clone(), lm: lm_scores[i], grounded, total }
        })
        .collect();
    out.sort_by(|a, b| b.total.total_cmp(&a.total).then(a.skill.cmp(&b.skill)));
    Ok(out)
}

/// Summed log-probabilities of token sequences after the prompt, in one batch.
fn score_batch(lm: &mut LanguageModel, root: &KvCache, first: &[f32], seqs: &[&[TokenId]]) -> Result<Vec<f32>, DecodeError> {
    let shared = seqs.iter().skip(1).fold(seqs[0].len(), |n, s| n.min(common_prefix(seqs[0], s)));
    // Every sequence needs at least its first token scored from the prompt's logits, and one
    // token left for the batched pass unless it is entirely shared.
    let mut score_shared = 0f32;
    let mut cache = root.row(0)?;
    let mut shared_logits = first.to_vec();
    let shared = shared.min(seqs.iter().map(|s| s.len()).min().unwrap_or(0).saturating_sub(1));
    if shared > 0 {
        let prefix = &seqs[0][..shared];
        score_shared = first[prefix[0].0 as usize];
        let (out, c) = lm.forward(cache, prefix, Purpose::Scoring)?;
        for (p, token) in prefix.iter().enumerate().skip(1) {
            score_shared += log_softmax(out.at(0, p - 1)?)[token.0 as usize];
        }
        cache = c;
        shared_logits = log_softmax(out.at(0, shared - 1)?);
    }
    let suffixes: Vec<&[TokenId]> = seqs.iter().map(|s| &s[shared..]).collect();
    let width = suffixes.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut scores: Vec<f32> = suffixes.iter().map(|s| score_shared + shared_logits[s[0].0 as usize]).collect();
    if width > 1 {
        // Feed all but each suffix's last token; right padding does not disturb earlier
        // positions of a causal model, and padded positions are never read.
        let rows = suffixes.len();
        let mut tokens = Vec::with_capacity(rows * (width - 1));
        for s in &suffixes {
            for p in 0..width - 1 {
                tokens.push(*s.get(p).unwrap_or(&s[0]));
            }
        }
        let (out, _) = lm.forward(cache.gather(&vec![0; rows])?, &tokens, Purpose::Scoring)?;
        for (r, s) in suffixes.iter().enumerate() {
            for p in 1..s.len() {
                let lp = log_softmax(out.at(r, p - 1)?);
                scores[r] += lp[s[p].0 as usize];
            }
        }
    }
    Ok(scores)
}

fn common_prefix(a: &[TokenId], b: &[TokenId]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}
