//! The language-model backend: a causal LM in the standard ONNX export layout, run by ONNX
//! Runtime through `ort`, with its key/value cache kept between calls.
//!
//! A model directory holds `model.onnx` (inputs `input_ids`, `attention_mask`, optionally
//! `position_ids`, and `past_key_values.{i}.{key,value}`; outputs `logits` and
//! `present.{i}.{key,value}`), `tokenizer.json` and `config.json`: what
//! `optimum-cli export onnx --task text-generation-with-past` writes for GPT-2, Llama or
//! Qwen2 models. Layer count, key/value heads and head size are read from the graph (and
//! from `config.json` where the graph leaves them symbolic), never assumed.

mod alphabet;
mod fingerprint;
pub mod gpu;
mod kv_cache;
mod logits;
mod prefix_cache;
mod spec;
mod spelling;
mod token_table;

pub use alphabet::Alphabet;
pub use fingerprint::fingerprint;
use fingerprint::MODEL_FILES;
pub use kv_cache::KvCache;
pub use logits::{Logits, TopTokens};
pub use prefix_cache::{CachedStart, PrefixCache, PrefixCacheStats};
pub use spec::ModelSpec;
pub use spelling::{Spelling, Unspellable};
pub use token_table::{TokenTable, TokenText};

use gpu::Gpu;
use grounding::runtime::{open_session_on, RuntimeError};
use grounding::Device;
use ort::memory::{AllocationDevice, AllocatorType, MemoryInfo, MemoryType};
use ort::session::{Session, SessionInputValue, SessionOutputs};
use ort::value::{DynTensorValueType, DynValue, Tensor};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokenizers::Tokenizer;

/// Start ONNX Runtime for a model on `device`. For a GPU, the plainest failure is reported
/// first: no NVIDIA driver or no such GPU, then a missing CUDA build or CUDA library.
pub fn start_runtime(device: Device) -> Result<&'static grounding::runtime::RuntimeInfo, LmError> {
    if device.is_cuda() {
        gpu::check_device(device).map_err(|e| LmError::Gpu(e.to_string()))?;
    }
    Ok(grounding::runtime::start_for(device)?)
}

/// A token of the language model's vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct TokenId(pub u32);

#[derive(Debug, thiserror::Error)]
pub enum LmError {
    #[error("model directory {0} does not exist (pass --model DIR with a model in the standard ONNX export layout: model.onnx, tokenizer.json, config.json)")]
    NoDirectory(PathBuf),
    #[error("model directory {dir} has no {file} (expected the standard ONNX export layout: model.onnx, tokenizer.json, config.json; `optimum-cli export onnx --task text-generation-with-past` writes it)")]
    MissingFile { dir: PathBuf, file: &'static str },
    #[error("{path} is not a usable config.json: {message}")]
    Config { path: PathBuf, message: String },
    #[error("{path} is not a usable tokenizer: {message}")]
    Tokenizer { path: PathBuf, message: String },
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error("{path}: {message}")]
    Graph { path: PathBuf, message: String },
    #[error("the tokenizer does not match the model: {0}")]
    Mismatch(String),
    #[error("ONNX Runtime failed while running the language model: {0}")]
    Run(ort::Error),
    #[error("the text needs {needed} tokens but the model's context holds {limit}")]
    ContextFull { needed: usize, limit: usize },
    #[error("{0}")]
    Gpu(String),
    #[error("internal: {0}")]
    Internal(String),
}

// The ONNX Runtime error is in `Run`'s message and not its `source`: the CLI prints an
// error's chain, which would say it twice.
impl From<ort::Error> for LmError {
    fn from(e: ort::Error) -> Self {
        Self::Run(e)
    }
}

/// What a run of the model was for: for the token accounting, and how its logits are kept
/// (a decoding pass's copied to the host, the others' read where ONNX Runtime wrote them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Prompt text: the instruction and the plan's earlier steps.
    Prompt,
    /// Tokens of skills being decoded (every live beam counts).
    Decode,
    /// Whole skill texts scored by a SayCan-style baseline.
    Scoring,
}

/// Tokens the language model processed, by purpose.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TokenStats {
    pub prompt_tokens: usize,
    pub decode_tokens: usize,
    pub scoring_tokens: usize,
    pub forward_passes: usize,
    /// Prompt tokens whose keys and values came from the prefix cache instead of a pass
    /// (not in `prompt_tokens`: the model did not run them).
    pub cached_prompt_tokens: usize,
}

impl TokenStats {
    /// Every token position the model processed.
    pub fn total(&self) -> usize {
        self.prompt_tokens + self.decode_tokens + self.scoring_tokens
    }

    pub fn since(&self, earlier: &TokenStats) -> TokenStats {
        TokenStats {
            prompt_tokens: self.prompt_tokens - earlier.prompt_tokens,
            decode_tokens: self.decode_tokens - earlier.decode_tokens,
            scoring_tokens: self.scoring_tokens - earlier.scoring_tokens,
            forward_passes: self.forward_passes - earlier.forward_passes,
            cached_prompt_tokens: self.cached_prompt_tokens - earlier.cached_prompt_tokens,
        }
    }
}

/// The prefix cache's budget unless told otherwise: keys and values of this many MiB.
pub const DEFAULT_PREFIX_CACHE_MIB: usize = 64;

/// A loaded language model and its tokenizer.
pub struct LanguageModel {
    dir: PathBuf,
    session: Session,
    tokenizer: Tokenizer,
    spec: ModelSpec,
    /// Each token's text, where it ends a skill, and whether the decoder may choose it.
    tokens: Arc<TokenTable>,
    candidate_ids: Vec<u32>,
    stats: TokenStats,
    forward_time: std::time::Duration,
    /// ONNX Runtime's intra-op threads for this model's session.
    threads: usize,
    /// Prompts read before, by their tokens (`None`: off).
    prefix_cache: Option<PrefixCache>,
    /// Where the model runs.
    device: Device,
    /// The GPU the logits stay on and are read on (`--device cuda`).
    gpu: Option<Arc<Gpu>>,
    /// Run through ONNX Runtime's I/O binding (always with a GPU; on the CPU, for tests).
    io_binding: bool,
    /// Texts the decoder had tokenized, with their tokens ([`encode_remembered`](Self::encode_remembered)).
    remembered: std::collections::HashMap<String, Vec<TokenId>>,
    /// The characters it learned ([`learned`](Self::learned)).
    alphabet: Alphabet,
}

/// Texts [`LanguageModel::encode_remembered`] keeps before it starts afresh.
const REMEMBERED_TEXTS: usize = 4096;

impl LanguageModel {
    /// Load a model directory onto the CPU, checking the layout, the graph and the tokenizer.
    pub fn load(dir: &Path, threads: usize) -> Result<Self, LmError> {
        Self::load_on(dir, threads, Device::Cpu)
    }

    /// [`load`](Self::load) onto `device`. For a GPU: ONNX Runtime's CUDA build is started
    /// (an error if this process started the CPU one already), the GPU is opened and the
    /// decoder's top-k kernel compiled, and the model's session runs on ONNX Runtime's CUDA
    /// provider; each failure says what is missing.
    pub fn load_on(dir: &Path, threads: usize, device: Device) -> Result<Self, LmError> {
        if !dir.is_dir() {
            return Err(LmError::NoDirectory(dir.to_path_buf()));
        }
        for file in MODEL_FILES {
            if !dir.join(file).is_file() {
                return Err(LmError::MissingFile { dir: dir.to_path_buf(), file });
            }
        }
        let config_path = dir.join("config.json");
        let config: serde_json::Value = std::fs::read_to_string(&config_path)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
            .map_err(|message| LmError::Config { path: config_path.clone(), message })?;
        let tok_path = dir.join("tokenizer.json");
        let tokenizer = Tokenizer::from_file(&tok_path).map_err(|e| LmError::Tokenizer { path: tok_path.clone(), message: e.to_string() })?;
        start_runtime(device)?;
        let session = open_session_on(&dir.join("model.onnx"), threads, device)?;
        let spec = ModelSpec::read(&session, &config, &dir.join("model.onnx"))?;
        let tok_vocab = tokenizer.get_vocab_size(true);
        if let Some(model_vocab) = spec.vocab {
            if tok_vocab > model_vocab {
                return Err(LmError::Mismatch(format!(
                    "tokenizer.json has {tok_vocab} tokens but the model's output has {model_vocab}; use the tokenizer the model was trained with"
                )));
            }
        }
        if let Some(eos) = spec.eos {
            if tokenizer.id_to_token(eos.0).is_none() {
                return Err(LmError::Mismatch(format!(
                    "config.json's eos_token_id {} is not a token of tokenizer.json; use the tokenizer the model was trained with",
                    eos.0
                )));
            }
        }
        let token_texts = token_texts(&tokenizer, tok_vocab);
        let alphabet = Alphabet::of_model(token_texts.iter().map(String::as_str), dir);
        let tokens = TokenTable::new(&token_texts, &protocol::skill::TERMINATORS).map_err(|e| LmError::Mismatch(e.to_string()))?;
        let candidate_ids: Vec<u32> = (0..tokens.len() as u32).filter(|&i| tokens.is_choosable(i)).collect();
        let gpu = match device {
            Device::Cpu => None,
            Device::Cuda { .. } => {
                let choosable: Vec<bool> = (0..tokens.len() as u32).map(|i| tokens.is_choosable(i)).collect();
                Some(Arc::new(Gpu::open(device, &choosable).map_err(|e| LmError::Gpu(e.to_string()))?))
            }
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            session,
            tokenizer,
            spec,
            tokens: Arc::new(tokens),
            candidate_ids,
            stats: TokenStats::default(),
            forward_time: Default::default(),
            threads: threads.max(1),
            prefix_cache: Some(PrefixCache::new(DEFAULT_PREFIX_CACHE_MIB << 20)),
            device,
            io_binding: gpu.is_some(),
            gpu,
            remembered: std::collections::HashMap::new(),
            alphabet,
        })
    }

    /// Where the model runs.
    pub fn device(&self) -> Device {
        self.device
    }

    /// The GPU the model runs on, if any.
    pub fn gpu(&self) -> Option<&Arc<Gpu>> {
        self.gpu.as_ref()
    }

    /// Run through ONNX Runtime's I/O binding, as the GPU path does, on the CPU too (for
    /// tests: plans must not change). A GPU model always binds.
    pub fn set_io_binding(&mut self, on: bool) {
        self.io_binding = on || self.gpu.is_some();
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The intra-op threads ONNX Runtime was given for this model (`--threads`).
    pub fn threads(&self) -> usize {
        self.threads
    }

    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    /// Hold texts to at most `tokens` positions, fewer than the model's own context (to
    /// bound a plan's cost, or to test what happens when a plan fills the context).
    pub fn limit_context(&mut self, tokens: usize) {
        self.spec.max_positions = Some(self.spec.max_positions.map_or(tokens, |m| m.min(tokens)));
    }

    pub fn stats(&self) -> TokenStats {
        self.stats
    }

    /// Wall time spent inside `forward` since the model was loaded (for benchmarks).
    pub fn forward_time(&self) -> std::time::Duration {
        self.forward_time
    }

    /// Whether the model learned the character `c` ([`Alphabet`]).
    pub fn learned(&self, c: char) -> bool {
        self.alphabet.learned(c)
    }

    /// Tokens of a text (no special tokens added).
    pub fn encode(&self, text: &str) -> Result<Vec<TokenId>, LmError> {
        let enc = self.tokenizer.encode_fast(text, false).map_err(|e| LmError::Tokenizer { path: self.dir.join("tokenizer.json"), message: e.to_string() })?;
        Ok(enc.get_ids().iter().map(|&i| TokenId(i)).collect())
    }

    /// Whether the vocabulary holds `word` whole: after a word, it is one token (" ABC" in
    /// the shipped model's; " RED" is three, R, E and D). Asked of words written in a case
    /// the model may not have learned them in ([`crate::prompt::in_vocabulary`]).
    pub fn holds_whole(&self, word: &str) -> bool {
        match (self.encode("the"), self.encode(&format!("the {word}"))) {
            (Ok(before), Ok(after)) => !word.is_empty() && after.len() == before.len() + 1 && after.starts_with(&before),
            _ => false,
        }
    }

    /// [`encode`](Self::encode), remembered: the decoder tokenizes the same skill texts again
    /// and again (jump-forward's drafts), and the tokenizer costs more than a small model's
    /// pass. At most a few thousand texts are kept; then it starts afresh.
    pub fn encode_remembered(&mut self, text: &str) -> Result<Vec<TokenId>, LmError> {
        if let Some(tokens) = self.remembered.get(text) {
            return Ok(tokens.clone());
        }
        let tokens = self.encode(text)?;
        if self.remembered.len() >= REMEMBERED_TEXTS {
            self.remembered.clear();
        }
        self.remembered.insert(text.to_string(), tokens.clone());
        Ok(tokens)
    }

    /// The text one token adds when appended to a sequence ("" for special tokens).
    pub fn token_text(&self, id: TokenId) -> &str {
        self.tokens.text(id.0)
    }

    /// [`token_text`](Self::token_text), shared: explanations keep it without a copy.
    pub fn token_shared(&self, id: TokenId) -> TokenText {
        TokenTable::shared(&self.tokens, id.0)
    }

    /// The vocabulary as the decoder reads it every step: texts, where each holds a skill
    /// terminator (`.` or a line break), which tokens it may choose.
    pub fn tokens(&self) -> &TokenTable {
        &self.tokens
    }

    /// The text each token of the model in `dir` writes, from its tokenizer alone (without
    /// loading the network): what [`Spelling`] and [`Alphabet`] are made from.
    pub fn token_texts_of(dir: &Path) -> Result<Vec<String>, LmError> {
        let path = dir.join("tokenizer.json");
        if !path.is_file() {
            return Err(LmError::MissingFile { dir: dir.to_path_buf(), file: "tokenizer.json" });
        }
        let tokenizer = Tokenizer::from_file(&path).map_err(|e| LmError::Tokenizer { path: path.clone(), message: e.to_string() })?;
        Ok(token_texts(&tokenizer, tokenizer.get_vocab_size(true)))
    }

    /// The characters the model in `dir` learned, from its tokenizer and training.json alone.
    pub fn alphabet_of(dir: &Path) -> Result<Alphabet, LmError> {
        let texts = Self::token_texts_of(dir)?;
        Ok(Alphabet::of_model(texts.iter().map(String::as_str), dir))
    }

    /// The vocabulary size the decoder may choose from (tokens the tokenizer knows).
    pub fn vocab(&self) -> usize {
        self.tokens.len()
    }

    /// Ids of the tokens a decoder may emit: known to the tokenizer, not special, not empty.
    pub fn candidate_ids(&self) -> &[u32] {
        &self.candidate_ids
    }

    /// Keep the keys and values of prompts read, up to `mib` MiB, and start each prompt from
    /// the longest start it shares with one of them (0: keep none). Emptied either way.
    pub fn set_prefix_cache_mib(&mut self, mib: usize) {
        self.prefix_cache = (mib > 0).then(|| PrefixCache::new(mib << 20));
    }

    /// Forget every prompt the prefix cache holds (its budget stays).
    pub fn clear_prefix_cache(&mut self) {
        if let Some(c) = &mut self.prefix_cache {
            *c = PrefixCache::new(c.budget_bytes());
        }
    }

    /// What the prefix cache did (`None`: it is off).
    pub fn prefix_cache_stats(&self) -> Option<PrefixCacheStats> {
        self.prefix_cache.as_ref().map(PrefixCache::stats)
    }

    /// Read a prompt from the start: the logits after its last token and a one-row cache of
    /// all of it. The prompt runs in segments, one pass each, ending at each of `ends` (a
    /// few-shot prefix's end, say) and at its last token, with the prefix cache on or off,
    /// so that the keys and values are the same either way. Where the cache is on, a prompt
    /// read before costs no pass, and one whose first segments were read before runs only
    /// the rest.
    pub fn prefill(&mut self, tokens: &[TokenId], ends: &[usize]) -> Result<(Vec<f32>, KvCache), LmError> {
        if tokens.is_empty() {
            return Err(LmError::Internal("prefill of no tokens".into()));
        }
        let mut cuts: Vec<usize> = ends.iter().copied().filter(|&e| e > 0 && e < tokens.len()).collect();
        cuts.sort_unstable();
        cuts.dedup();
        cuts.push(tokens.len());
        let start = match &mut self.prefix_cache {
            Some(c) => c.start(tokens, &cuts)?,
            None => None,
        };
        let (mut done, mut cache) = match start {
            Some(CachedStart::Whole { cache, logits }) => {
                self.stats.cached_prompt_tokens += tokens.len();
                return Ok((logits, cache));
            }
            Some(CachedStart::Part { cache, len }) => (len, cache),
            None => (0, self.empty_cache(1)?),
        };
        self.stats.cached_prompt_tokens += done;
        let mut logits = Vec::new();
        for cut in cuts {
            if cut <= done {
                continue;
            }
            let (out, next) = self.forward_after(&cache, &tokens[done..cut], Purpose::Prompt)?;
            (cache, logits, done) = (next, out.last(0)?.to_vec(), cut);
            if let Some(c) = &mut self.prefix_cache {
                c.insert(&tokens[..cut], &cache, &logits)?;
            }
        }
        Ok((logits, cache))
    }

    /// An empty cache for `rows` sequences.
    pub fn empty_cache(&self, rows: usize) -> Result<KvCache, LmError> {
        KvCache::empty(&self.spec, rows)
    }

    /// Run the model on `tokens` (`rows` sequences of equal length, row-major) after the
    /// sequences already in `cache`; returns the logits at every new position and the cache
    /// extended by the new tokens.
    pub fn forward(&mut self, cache: KvCache, tokens: &[TokenId], purpose: Purpose) -> Result<(Logits, KvCache), LmError> {
        self.forward_after(&cache, tokens, purpose)
    }

    /// [`forward`](Self::forward) on a cache that stays as it is, for continuing the same text in
    /// more than one way (best-first search). Costs no copy: ONNX Runtime reads the cache in place.
    pub fn forward_after(&mut self, cache: &KvCache, tokens: &[TokenId], purpose: Purpose) -> Result<(Logits, KvCache), LmError> {
        // A cut cache is copied out here, before the pass's clock starts: cutting is the
        // decoder's bookkeeping, not the model's time.
        let past_layers = cache.inputs()?;
        let started = std::time::Instant::now();
        let rows = cache.rows();
        if rows == 0 || tokens.is_empty() || !tokens.len().is_multiple_of(rows) {
            return Err(LmError::Internal(format!("forward: {} tokens for {rows} rows", tokens.len())));
        }
        let n = tokens.len() / rows;
        let past = cache.len();
        if let Some(limit) = self.spec.max_positions {
            if past + n > limit {
                return Err(LmError::ContextFull { needed: past + n, limit });
            }
        }
        let ids: Vec<i64> = tokens.iter().map(|t| i64::from(t.0)).collect();
        let mut inputs: Vec<(String, SessionInputValue<'_>)> = Vec::with_capacity(3 + 2 * self.spec.layers);
        inputs.push(("input_ids".into(), Tensor::from_array(([rows, n], ids))?.into()));
        inputs.push(("attention_mask".into(), Tensor::from_array(([rows, past + n], vec![1i64; rows * (past + n)]))?.into()));
        if self.spec.position_ids {
            let pos: Vec<i64> = (0..rows).flat_map(|_| (past..past + n).map(|p| p as i64)).collect();
            inputs.push(("position_ids".into(), Tensor::from_array(([rows, n], pos))?.into()));
        }
        if self.spec.use_cache_branch {
            inputs.push(("use_cache_branch".into(), Tensor::from_array(([1usize], vec![past > 0]))?.into()));
        }
        for (i, [k, v]) in past_layers.into_iter().enumerate() {
            inputs.push((format!("past_key_values.{i}.key"), k));
            inputs.push((format!("past_key_values.{i}.value"), v));
        }
        let (logits_value, layers) = if self.io_binding {
            self.run_bound(&inputs)?
        } else {
            let layers = self.spec.layers;
            take_outputs(self.session.run(inputs)?, layers)?
        };
        let logits = self.logits_of(logits_value, rows, n, purpose)?;
        let count = rows * n;
        match purpose {
            Purpose::Prompt => self.stats.prompt_tokens += count,
            Purpose::Decode => self.stats.decode_tokens += count,
            Purpose::Scoring => self.stats.scoring_tokens += count,
        }
        self.stats.forward_passes += 1;
        self.forward_time += started.elapsed();
        Ok((logits, KvCache::from_layers(rows, past + n, layers, self.gpu.clone())))
    }
}

impl LanguageModel {
    /// One pass through ONNX Runtime's I/O binding: inputs taken where they are (copied only
    /// when on the other side), the logits, keys and values left on the GPU when there is one.
    fn run_bound(&mut self, inputs: &[(String, SessionInputValue<'_>)]) -> Result<(DynValue, Vec<[DynValue; 2]>), LmError> {
        // Logits, keys and values all stay where the model ran them: on a GPU, its memory.
        let memory = match self.device {
            Device::Cuda { ordinal } => MemoryInfo::new(AllocationDevice::CUDA, ordinal as i32, AllocatorType::Device, MemoryType::Default)?,
            Device::Cpu => MemoryInfo::new(AllocationDevice::CPU, 0, AllocatorType::Device, MemoryType::Default)?,
        };
        let mut binding = self.session.create_binding()?;
        for (name, value) in inputs {
            match value {
                SessionInputValue::Owned(v) => binding.bind_input(name.as_str(), v)?,
                SessionInputValue::View(v) => binding.bind_input(name.as_str(), &**v)?,
                SessionInputValue::ViewMut(v) => binding.bind_input(name.as_str(), &**v)?,
            }
        }
        binding.bind_output_to_device("logits", &memory)?;
        for i in 0..self.spec.layers {
            binding.bind_output_to_device(format!("present.{i}.key"), &memory)?;
            binding.bind_output_to_device(format!("present.{i}.value"), &memory)?;
        }
        let layers = self.spec.layers;
        // Taken into a local first: the outputs borrow `binding`, which must outlive them.
        let taken = take_outputs(self.session.run_binding(&binding)?, layers);
        taken
    }

    /// The logits output as [`Logits`]: left on the GPU where it was written there; on the
    /// host, copied out of a decoding pass and read in place from the others.
    fn logits_of(&self, value: DynValue, rows: usize, n: usize, purpose: Purpose) -> Result<Logits, LmError> {
        let tensor = value.downcast::<DynTensorValueType>()?;
        let shape = match tensor.dtype() {
            ort::value::ValueType::Tensor { shape, .. } => shape.to_vec(),
            other => return Err(LmError::Internal(format!("logits are {other:?}, not a tensor"))),
        };
        if shape.len() != 3 || shape[0] as usize != rows || shape[1] as usize != n || shape[2] <= 0 {
            return Err(LmError::Internal(format!("logits have shape {shape:?}, expected [{rows}, {n}, vocab]")));
        }
        let vocab = shape[2] as usize;
        match &self.gpu {
            Some(gpu) if !tensor.memory_info().is_cpu_accessible() => Ok(Logits::device(rows, n, vocab, tensor, gpu.clone())),
            _ => Logits::host(rows, n, vocab, tensor, purpose == Purpose::Decode),
        }
    }
}

/// A pass's logits and each layer's keys and values, taken out of its outputs.
fn take_outputs(mut outputs: SessionOutputs<'_>, layers: usize) -> Result<(DynValue, Vec<[DynValue; 2]>), LmError> {
    let logits = outputs.remove("logits").ok_or_else(|| LmError::Internal("the model returned no logits".into()))?;
    let mut present = Vec::with_capacity(layers);
    for i in 0..layers {
        let k = outputs.remove(format!("present.{i}.key").as_str());
        let v = outputs.remove(format!("present.{i}.value").as_str());
        match (k, v) {
            (Some(k), Some(v)) => present.push([k, v]),
            _ => return Err(LmError::Internal(format!("the model returned no present.{i}.key/value"))),
        }
    }
    Ok((logits, present))
}

/// The text each token adds after another token; a SentencePiece-style tokenizer drops a
/// leading space when a token is decoded alone, so decode it after an anchor token instead.
fn token_texts(tokenizer: &Tokenizer, vocab: usize) -> Vec<String> {
    let anchor = tokenizer.encode("a", false).ok().and_then(|e| e.get_ids().first().copied());
    let anchor_text = anchor.and_then(|a| tokenizer.decode(&[a], true).ok());
    (0..vocab as u32)
        .map(|id| {
            let special = tokenizer.get_added_vocabulary().is_special_token(&tokenizer.id_to_token(id).unwrap_or_default());
            if special {
                return String::new();
            }
            if let (Some(a), Some(at)) = (anchor, anchor_text.as_deref()) {
                if let Ok(both) = tokenizer.decode(&[a, id], true) {
                    if let Some(rest) = both.strip_prefix(at) {
                        return rest.to_string();
                    }
                }
            }
            tokenizer.decode(&[id], true).unwrap_or_default()
        })
        .collect()
}
