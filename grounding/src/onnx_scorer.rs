//! A learned grounded model in ONNX format.
//!
//! # Contract
//!
//! A scorer is a directory with two files:
//!
//! * `scorer.json`: `{"name": "learned", "state_features": F, "max_text_bytes": T}`
//!   (`name` is what explanations show; `F` >= 0; `T` >= 1).
//! * `scorer.onnx`, a graph with these inputs and output (B is the batch, dynamic):
//!
//! | name         | type    | shape  | meaning |
//! |--------------|---------|--------|---------|
//! | `text_bytes` | int64   | [B, T] | UTF-8 bytes of the skill prefix, each plus 1; 0 pads on the right |
//! | `text_mask`  | float32 | [B, T] | 1 where `text_bytes` holds a byte, 0 on padding |
//! | `state`      | float32 | [B, F] | [`crate::features::state_features`] of the observation |
//! | `log_prob`   | float32 | [B] or [B, 1] | natural-log probability that the skill (prefix) is good here |
//!
//! A finished skill is sent with its terminating `.` appended, so a scorer can tell
//! "pick up the red block" (a prefix) from "pick up the red block." (a whole skill). Texts
//! longer than T bytes keep their last T bytes. Outputs above 0 count as 0; NaN is an error.
//! Bytes, not a tokenizer's ids, so that a scorer works with any language model.

use crate::features::state_features;
use crate::model::{BoundModel, GroundedModel, GroundingError, SkillPrefix};
use crate::runtime::open_session;
use crate::score::LogProb;
use ort::session::Session;
use ort::value::Tensor;
use protocol::Observation;
use serde::Deserialize;
use std::path::Path;
use std::sync::Mutex;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScorerSpec {
    pub name: String,
    pub state_features: usize,
    pub max_text_bytes: usize,
}

pub struct OnnxScorer {
    spec: ScorerSpec,
    session: Mutex<Session>,
}

impl OnnxScorer {
    pub fn load(dir: &Path) -> Result<Self, GroundingError> {
        let cfg = |m: String| GroundingError::Config(format!("ONNX scorer {}: {m}", dir.display()));
        let spec_path = dir.join("scorer.json");
        let text = std::fs::read_to_string(&spec_path).map_err(|e| cfg(format!("cannot read scorer.json: {e}")))?;
        let spec: ScorerSpec = serde_json::from_str(&text).map_err(|e| cfg(format!("scorer.json is not valid: {e}")))?;
        if spec.max_text_bytes == 0 || spec.max_text_bytes > 4096 {
            return Err(cfg(format!("max_text_bytes must be 1..=4096, got {}", spec.max_text_bytes)));
        }
        if spec.name.trim().is_empty() {
            return Err(cfg("name is empty".into()));
        }
        let session = open_session(&dir.join("scorer.onnx"), 1)?;
        for input in ["text_bytes", "text_mask", "state"] {
            if !session.inputs().iter().any(|i| i.name() == input) {
                return Err(cfg(format!("scorer.onnx has no input {input:?} (see the contract in grounding/src/onnx_scorer.rs)")));
            }
        }
        if !session.outputs().iter().any(|o| o.name() == "log_prob") {
            return Err(cfg("scorer.onnx has no output \"log_prob\"".into()));
        }
        Ok(Self { spec, session: Mutex::new(session) })
    }

    pub fn spec(&self) -> &ScorerSpec {
        &self.spec
    }
}

impl GroundedModel for OnnxScorer {
    fn name(&self) -> &str {
        &self.spec.name
    }

    fn bind<'a>(&'a self, observation: &Observation) -> Result<Box<dyn BoundModel + 'a>, GroundingError> {
        Ok(Box::new(BoundScorer { scorer: self, state: state_features(observation, self.spec.state_features) }))
    }
}

struct BoundScorer<'a> {
    scorer: &'a OnnxScorer,
    state: Vec<f32>,
}

impl BoundModel for BoundScorer<'_> {
    fn score(&mut self, prefixes: &[SkillPrefix<'_>]) -> Result<Vec<LogProb>, GroundingError> {
        if prefixes.is_empty() {
            return Ok(Vec::new());
        }
        let name = self.scorer.spec.name.clone();
        let onnx = |source| GroundingError::Onnx { model: name.clone(), source };
        let b = prefixes.len();
        let t = self.scorer.spec.max_text_bytes;
        let f = self.scorer.spec.state_features;
        let mut bytes = vec![0i64; b * t];
        let mut mask = vec![0f32; b * t];
        for (row, p) in prefixes.iter().enumerate() {
            let mut text = p.text.as_bytes().to_vec();
            if p.complete {
                text.push(b'.');
            }
            let start = text.len().saturating_sub(t);
            for (col, &byte) in text[start..].iter().enumerate() {
                bytes[row * t + col] = i64::from(byte) + 1;
                mask[row * t + col] = 1.0;
            }
        }
        let state: Vec<f32> = (0..b).flat_map(|_| self.state.iter().copied()).collect();
        let inputs = vec![
            ("text_bytes", Tensor::from_array(([b, t], bytes)).map_err(onnx)?.into_dyn()),
            ("text_mask", Tensor::from_array(([b, t], mask)).map_err(onnx)?.into_dyn()),
            ("state", Tensor::from_array(([b, f], state)).map_err(onnx)?.into_dyn()),
        ];
        let mut session = self
            .scorer
            .session
            .lock()
            .map_err(|_| GroundingError::Model { model: name.clone(), message: "the scorer's session was poisoned by an earlier panic".into() })?;
        let outputs = session.run(inputs).map_err(onnx)?;
        let (_, values) = outputs["log_prob"].try_extract_tensor::<f32>().map_err(onnx)?;
        if values.len() != b {
            return Err(GroundingError::Model { model: name, message: format!("log_prob has {} values for a batch of {b}", values.len()) });
        }
        if values.iter().any(|v| v.is_nan()) {
            return Err(GroundingError::Model { model: name, message: "log_prob holds NaN".into() });
        }
        Ok(values.iter().map(|&v| LogProb::new(v)).collect())
    }
}
