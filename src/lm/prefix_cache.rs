//! A bounded cache of the key/value caches of prompts already read (the RadixAttention
//! idea): a new prompt starts from the longest start it shares with one read before, and only
//! the rest runs through the model.
//!
//! Prompts share long starts: a few-shot prefix read before every instruction, the same
//! instruction sent again, an instruction replanned after a failure, a prompt re-read with
//! the operator's clarification. A prompt is read in segments (the few-shot prefix, then the
//! rest), each in one pass, whether the cache is on or not, and the cache keeps the keys and
//! values at the end of each segment (one row) with the logits after it. A start is reused
//! only at a segment's end, never in the middle of a segment: keys and values computed by a
//! pass over a whole segment are what a pass over the same segment computes again, to the
//! bit, so the cache changes how much is run, never a plan (a pass over part of a segment
//! would round differently). Entries are few (a couple per prompt), so a lookup compares
//! the new prompt's segment ends with each; the least recently used go first when the
//! entries' keys and values outgrow the budget.

use super::{KvCache, LmError, TokenId};

/// What the cache did, since the model was loaded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct PrefixCacheStats {
    /// Prompts read whole from the cache (no pass).
    pub whole_hits: usize,
    /// Prompts that started from their first segments, cached, and ran the rest.
    pub partial_hits: usize,
    /// Prompts read from nothing.
    pub misses: usize,
    /// Prompt tokens whose keys and values came from the cache instead of a pass.
    pub reused_tokens: usize,
    /// Prompts (or first segments) held now.
    pub entries: usize,
    /// Bytes they hold now (keys, values, logits and tokens).
    pub held_bytes: usize,
}

struct Entry {
    tokens: Vec<TokenId>,
    cache: KvCache,
    /// Logits after the last token (the next token's).
    logits: Vec<f32>,
    bytes: usize,
    used_at: u64,
}

/// Where a prompt can start from.
pub enum CachedStart {
    /// The whole prompt: its keys and values, and the logits after it.
    Whole { cache: KvCache, logits: Vec<f32> },
    /// The first `len` tokens' keys and values; the rest is still to run.
    Part { cache: KvCache, len: usize },
}

/// A bounded cache of prompts' keys and values, by their tokens.
pub struct PrefixCache {
    budget_bytes: usize,
    used_bytes: usize,
    entries: Vec<Entry>,
    clock: u64,
    stats: PrefixCacheStats,
}

impl PrefixCache {
    /// A cache whose entries hold at most `budget_bytes` of keys and values.
    pub fn new(budget_bytes: usize) -> Self {
        Self { budget_bytes, used_bytes: 0, entries: Vec::new(), clock: 0, stats: PrefixCacheStats::default() }
    }

    pub fn stats(&self) -> PrefixCacheStats {
        PrefixCacheStats { entries: self.entries.len(), held_bytes: self.used_bytes, ..self.stats }
    }

    /// The most bytes the entries may hold.
    pub fn budget_bytes(&self) -> usize {
        self.budget_bytes
    }

    /// Bytes of keys and values held now.
    pub fn used_bytes(&self) -> usize {
        self.used_bytes
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The best start for `tokens` read in segments ending at `ends` (sorted, the last is
    /// `tokens.len()`): the whole prompt if it was read before, else the keys and values of
    /// its longest first segments read before; a copy the caller owns. `None`: read it all.
    pub fn start(&mut self, tokens: &[TokenId], ends: &[usize]) -> Result<Option<CachedStart>, LmError> {
        self.clock += 1;
        let found =
            ends.iter().rev().find_map(|&end| self.entries.iter().position(|e| e.tokens.as_slice() == &tokens[..end.min(tokens.len())]).map(|i| (i, end)));
        let Some((i, len)) = found else {
            self.stats.misses += 1;
            return Ok(None);
        };
        let entry = &mut self.entries[i];
        entry.used_at = self.clock;
        self.stats.reused_tokens += len;
        if len == tokens.len() {
            self.stats.whole_hits += 1;
            return Ok(Some(CachedStart::Whole { cache: entry.cache.prefix(len)?, logits: entry.logits.clone() }));
        }
        self.stats.partial_hits += 1;
        Ok(Some(CachedStart::Part { cache: entry.cache.prefix(len)?, len }))
    }

    /// Keep a copy of a prompt (or its first segments) read: its tokens, the one-row `cache`
    /// holding exactly them and the logits after the last. One already held is only marked as
    /// used; one larger than the whole budget is not kept.
    pub fn insert(&mut self, tokens: &[TokenId], cache: &KvCache, logits: &[f32]) -> Result<(), LmError> {
        self.clock += 1;
        if let Some(e) = self.entries.iter_mut().find(|e| e.tokens == tokens) {
            e.used_at = self.clock;
            return Ok(());
        }
        if cache.rows() != 1 || cache.len() != tokens.len() {
            return Err(LmError::Internal(format!("a prompt of {} tokens with a cache of {} rows x {}", tokens.len(), cache.rows(), cache.len())));
        }
        let bytes = cache.bytes()? + std::mem::size_of_val(logits) + std::mem::size_of_val(tokens);
        if bytes > self.budget_bytes {
            return Ok(());
        }
        while self.used_bytes + bytes > self.budget_bytes {
            let Some(oldest) = self.entries.iter().enumerate().min_by_key(|(_, e)| e.used_at).map(|(i, _)| i) else { break };
            let gone = self.entries.swap_remove(oldest);
            self.used_bytes -= gone.bytes;
        }
        self.entries.push(Entry { tokens: tokens.to_vec(), cache: cache.prefix(tokens.len())?, logits: logits.to_vec(), bytes, used_at: self.clock });
        self.used_bytes += bytes;
        Ok(())
    }
}
