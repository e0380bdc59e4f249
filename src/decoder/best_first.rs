//! Best-first beam search: the same skill as the lock-step beam search, with fewer passes of
//! the language model.
//!
//! Every candidate's score is its parent's plus a step that is never positive (the step is
//! renormalised over the parent's candidates, so it is at most 0 whatever the weights), so
//! scores only fall as a skill grows. The search therefore keeps one queue of candidates of
//! every length and always continues the best: when the best is a finished skill, nothing
//! still in the queue can beat it. Limiting the candidates taken at each length to the beam
//! width B (and dropping those more than `beam_margin` behind the first taken at their
//! length) makes the result the lock-step beam search's (Meister, Cotterell and Vieira,
//! "Best-First Beam Search", TACL 2020, Theorem 1); a test checks that on many scenes.
//!
//! Where the grounded models leave a beam one way to go, its score stays where it is and
//! the other beams are never run: a pass of the language model carries one sequence, and
//! the search makes about as many passes as greedy decoding. The lock-step search instead
//! runs all B beams in every pass, which is the better trade where batching rows is nearly
//! free (a large model on a GPU).

use super::{
    candidate_lists, child, expand, sort_best_first, unroll, Beam, DecodeConfig, DecodeError, DecodedSkill, Lookahead, NextTokens, Unfinished, WeightedModel,
};
use crate::lm::{KvCache, LanguageModel, TokenId};
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::rc::Rc;

/// A candidate waiting in the queue: its beam, and the cache of its parent's text.
struct Queued {
    beam: Beam,
    /// Tokens in the skill text, this candidate's included.
    length: usize,
    token: TokenId,
    /// The part of the token before its terminator, when it finishes the skill.
    tail: Option<String>,
    /// Rank of the parent among the candidates taken at its length (ties as lock-step).
    parent_rank: usize,
    parent_cache: Rc<KvCache>,
}

impl Queued {
    fn finishes(&self) -> bool {
        self.tail.is_some()
    }

    /// Queue order: higher score first; on a tie a finished skill (it ends the search), then
    /// the longer text (it gets there sooner), then the lock-step search's order.
    fn order(&self, other: &Self) -> Ordering {
        self.beam
            .score
            .total_cmp(&other.beam.score)
            .then(self.finishes().cmp(&other.finishes()))
            .then(self.length.cmp(&other.length))
            .then(other.parent_rank.cmp(&self.parent_rank))
            .then(other.token.cmp(&self.token))
    }
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        self.order(other) == Ordering::Equal
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued {
    fn cmp(&self, other: &Self) -> Ordering {
        self.order(other)
    }
}

/// How many candidates the search has taken at each length, and the score of the first.
struct Taken {
    count: Vec<usize>,
    first: Vec<f32>,
}

impl Taken {
    fn new(max_length: usize) -> Self {
        Self { count: vec![0; max_length + 1], first: vec![f32::NEG_INFINITY; max_length + 1] }
    }

    /// Take `q` if the beam at its length has room and it is within the margin of the best:
    /// its rank among those taken at its length (0 for the first), or `None`.
    fn take(&mut self, q: &Queued, config: &DecodeConfig) -> Option<usize> {
        let n = q.length;
        if self.count[n] == config.beam_width {
            return None;
        }
        if self.count[n] == 0 {
            self.first[n] = q.beam.score;
        } else if q.beam.score < self.first[n] - config.beam_margin {
            return None;
        }
        self.count[n] += 1;
        Some(self.count[n] - 1)
    }
}

/// A candidate the search has run: its beam, where it ranks at its length, and the cache
/// of its text.
struct Expanded {
    beam: Beam,
    length: usize,
    rank: usize,
    cache: KvCache,
}

/// Score the next tokens of `node` (`next`) and queue them,
/// each holding `node`'s cache.
fn push_children(
    queue: &mut BinaryHeap<Queued>,
    lm: &LanguageModel,
    node: Expanded,
    next: NextTokens,
    models: &mut [WeightedModel<'_>],
    config: &DecodeConfig,
) -> Result<(), DecodeError> {
    let beams = [node.beam];
    let mut cands = expand(lm, &beams, &[next], models, config)?;
    // Best first, as lock-step keeps them, so that explanations list them alike.
    sort_best_first(&mut cands);
    let lists = candidate_lists(&beams, &cands);
    // Candidates more than the margin behind their best sibling would be dropped when taken.
    let cutoff = cands.first().map_or(f32::NEG_INFINITY, |c| c.total - config.beam_margin);
    let cache = Rc::new(node.cache);
    for (i, c) in cands.iter().enumerate() {
        if c.total == f32::NEG_INFINITY || c.total < cutoff {
            break;
        }
        queue.push(Queued {
            beam: child(&beams, &cands, i, &lists),
            length: node.length + 1,
            token: c.token,
            tail: c.tail.clone(),
            parent_rank: node.rank,
            parent_cache: Rc::clone(&cache),
        });
    }
    Ok(())
}

/// Decode one skill by best-first beam search, starting from a one-row `cache` whose last
/// logits are `logits`. Returns `None` when no admissible skill finished within the token
/// limit.
pub fn decode_skill_best_first(
    lm: &mut LanguageModel,
    cache: KvCache,
    logits: &[f32],
    models: &mut [WeightedModel<'_>],
    config: &DecodeConfig,
) -> Result<Option<DecodedSkill>, DecodeError> {
    let mut queue = BinaryHeap::new();
    let root = Expanded { beam: Beam::start(), length: 0, rank: 0, cache };
    push_children(&mut queue, lm, root, NextTokens::read(logits, config.top_k, lm), models, config)?;
    let mut taken = Taken::new(config.max_skill_tokens);
    let mut lookahead = Lookahead::new(config);
    while let Some(q) = queue.pop() {
        let Some(rank) = taken.take(&q, config) else { continue };
        if rank + 1 == config.beam_width {
            // The beam at this length is full: let go of the rest (and their parents' caches).
            queue.retain(|other| other.length != q.length);
        }
        if q.finishes() {
            // Nothing left in the queue can beat it. Where it is `done`, the best unfinished
            // skill the search would have run next is what it was said in place of.
            let runs_next = std::iter::from_fn(|| queue.pop()).filter(|o| !o.finishes() && taken.take(o, config).is_some()).map(|o| o.beam);
            let passed_over = Unfinished::of(&q.beam.text, runs_next, models, config, lm);
            // Drop the queue so the cache is ours alone.
            drop(queue);
            let Queued { beam, tail, parent_cache, .. } = q;
            let cache = Rc::try_unwrap(parent_cache).or_else(|shared| shared.row(0))?;
            return Ok(Some(DecodedSkill {
                text: beam.text.trim().to_string(),
                score: beam.score,
                lm_score: beam.lm_score,
                choices: unroll(beam.choices, lm),
                cache,
                pending: tail.unwrap_or_default(),
                passed_over,
            }));
        }
        if q.length == config.max_skill_tokens {
            continue;
        }
        let (logprobs, cache) = lookahead.step(lm, &q.parent_cache, &q.beam.tokens, &q.beam.text, models)?;
        let node = Expanded { rank, beam: q.beam, length: q.length, cache };
        push_children(&mut queue, lm, node, logprobs, models, config)?;
    }
    Ok(None)
}
