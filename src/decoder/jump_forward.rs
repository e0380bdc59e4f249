//! Jump-forward: where the world leaves a skill one way on, run its tokens through the
//! language model in one pass instead of one pass each.
//!
//! After a candidate token is chosen, the decoder asks the grounded models whether they
//! admit one way on (the affordance's trie: every admissible skill after "pick up the gray
//! block" goes on with " and place it in the "). The tokens of that text (a draft) run
//! through the language model in the same pass as the chosen token, and the logits of
//! every position wait. When the search then continues with exactly those tokens, each is
//! scored as usual from its waiting logits (top-k, grounded scores, renormalisation: nothing
//! is skipped) and no pass is made for it; where the search takes another token, the rest
//! of the draft is dropped. The draft is a guess and the search its judge, so the chosen
//! skill is the one token-by-token decoding chooses, up to floating-point rounding between a
//! pass over several positions and a pass over each.
//!
//! What each served position is handed as its cache is a cut of the pass's cache
//! ([`KvCache::cut`]): its keys and values are copied out only if a pass goes on from that
//! position, so a draft the search takes whole costs no copy at all.
//!
//! The draft stops before the word where admissible skills part ("red" or "blue" bowl): in
//! a byte-level BPE that word's first token carries its leading space, so text up to the
//! space is what the language model would write anyway.

use super::{DecodeConfig, DecodeError, NextTokens, WeightedModel};
use crate::lm::{KvCache, LanguageModel, LmError, Logits, Purpose, TokenId};
use grounding::Continuation;
use std::sync::Arc;

/// The waiting logits of one pass that ran further than the search has gone, for one
/// decode of one skill.
pub(super) struct Lookahead {
    enabled: bool,
    /// Tokens a skill may take: a draft never runs past them.
    max_skill_tokens: usize,
    /// Candidate tokens read from each position's logits.
    top_k: usize,
    waiting: Option<Waiting>,
}

/// A pass that ran a chosen token and its draft.
struct Waiting {
    /// The skill's tokens already in the cache the pass started from.
    before: Vec<TokenId>,
    /// The tokens the pass ran: the chosen one, then the draft.
    ran: Vec<TokenId>,
    /// Length of the cache the pass started from.
    base: usize,
    logits: Arc<Logits>,
    /// The pass's cache; what each position is served is a cut of it.
    cache: Arc<KvCache>,
}

impl Lookahead {
    /// As `config` says (`jump_forward` off: every step is one pass of one token).
    pub(super) fn new(config: &DecodeConfig) -> Self {
        Self { enabled: config.jump_forward, max_skill_tokens: config.max_skill_tokens, top_k: config.top_k, waiting: None }
    }

    /// How many next tokens a step takes.
    pub(super) fn top_k(&self) -> usize {
        self.top_k
    }

    /// The best next tokens at one position of one row of a pass, as many as the decode takes.
    fn next_tokens(&self, logits: &Arc<Logits>, row: usize, position: usize, lm: &LanguageModel) -> Result<NextTokens, DecodeError> {
        let mut found = NextTokens::of(logits, &[(row, position)], self.top_k, lm)?;
        found.pop().ok_or_else(|| LmError::Internal("no next tokens for one position".into()).into())
    }

    /// The language model's best next tokens after `path` (the skill's tokens
    /// so far, its last one just chosen) and a one-row cache holding all of `path`, given the
    /// one-row `cache` holding everything before that last token. `text` is the skill text
    /// `path` writes.
    pub(super) fn step(
        &mut self,
        lm: &mut LanguageModel,
        cache: &KvCache,
        path: &[TokenId],
        text: &str,
        models: &mut [WeightedModel<'_>],
    ) -> Result<(NextTokens, KvCache), DecodeError> {
        let Some((&token, before)) = path.split_last() else {
            return Err(LmError::Internal("a jump-forward step without a token".into()).into());
        };
        if let Some(served) = self.serve(path, lm)? {
            return Ok(served);
        }
        let mut tokens = vec![token];
        if self.enabled && cache.rows() == 1 {
            let context = lm.spec().max_positions.map_or(usize::MAX, |m| m.saturating_sub(cache.len() + 1));
            let room = context.min(self.max_skill_tokens.saturating_sub(path.len()));
            tokens.extend(draft(lm, path, text, models).into_iter().take(room));
        }
        let (out, ran_cache) = lm.forward_after(cache, &tokens, Purpose::Decode)?;
        let out = Arc::new(out);
        let next = self.next_tokens(&out, 0, 0, lm)?;
        if tokens.len() == 1 {
            return Ok((next, ran_cache));
        }
        let base = cache.len();
        let ran_cache = Arc::new(ran_cache);
        let cut = KvCache::cut(&ran_cache, base + 1)?;
        self.waiting = Some(Waiting { before: before.to_vec(), ran: tokens, base, logits: out, cache: ran_cache });
        Ok((next, cut))
    }

    /// The waiting answer for `path`, if the last pass ran it.
    fn serve(&mut self, path: &[TokenId], lm: &LanguageModel) -> Result<Option<(NextTokens, KvCache)>, DecodeError> {
        let Some(w) = &self.waiting else { return Ok(None) };
        let Some(after) = path.strip_prefix(w.before.as_slice()) else { return Ok(None) };
        if after.is_empty() || after.len() > w.ran.len() || after != &w.ran[..after.len()] {
            return Ok(None);
        }
        let at = after.len() - 1;
        let next = self.next_tokens(&w.logits, 0, at, lm)?;
        let cut = KvCache::cut(&w.cache, w.base + at + 1)?;
        if at + 1 == w.ran.len() {
            // The last waiting position: its cache is all of the pass's own (nothing to copy).
            self.waiting = None;
        }
        Ok(Some((next, cut)))
    }
}

/// The one way on the grounded models leave after `text`, where those that tell agree.
fn one_way_on(text: &str, models: &mut [WeightedModel<'_>]) -> Option<Continuation> {
    let mut way: Option<Continuation> = None;
    for m in models.iter_mut().filter(|m| m.weight != 0.0) {
        let Some(next) = m.bound.continuation(text) else { continue };
        way = Some(match way {
            None => next,
            Some(known) => {
                let (short, long) = if known.text.len() <= next.text.len() { (known, next) } else { (next, known) };
                // Both hold: the longer, unless the shorter ends the skill before it.
                if !long.text.starts_with(&short.text) || (short.ends_skill && short.text.len() < long.text.len()) {
                    return None;
                }
                long
            }
        });
    }
    way
}

/// The tokens the grounded models force after `path` (writing `text`), as the tokenizer
/// would write them; empty where nothing is forced.
fn draft(lm: &mut LanguageModel, path: &[TokenId], text: &str, models: &mut [WeightedModel<'_>]) -> Vec<TokenId> {
    let Some(way) = one_way_on(text.trim_start(), models) else { return Vec::new() };
    let forced = if way.ends_skill { way.text.as_str() } else { &way.text[..way.text.rfind(' ').unwrap_or(0)] };
    if forced.is_empty() {
        return Vec::new();
    }
    // The whole text tokenized, where it keeps the tokens chosen so far...
    if let Ok(all) = lm.encode_remembered(&format!("{text}{forced}")) {
        if let Some(rest) = all.strip_prefix(path) {
            return rest.to_vec();
        }
    }
    // ...or else the forced text alone, where it starts a word.
    if forced.starts_with(' ') {
        return lm.encode_remembered(forced).unwrap_or_default();
    }
    Vec::new()
}
