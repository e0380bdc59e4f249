//! What a model's graph and config say about its shape.

use super::{LmError, TokenId};
use ort::session::Session;
use ort::value::TensorElementType;
use std::path::Path;

/// The facts about a causal-LM export that the backend needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelSpec {
    pub layers: usize,
    pub kv_heads: usize,
    pub head_dim: usize,
    /// Output vocabulary, where the graph or config.json states it.
    pub vocab: Option<usize>,
    /// Longest sequence the model takes, where config.json states it.
    pub max_positions: Option<usize>,
    pub position_ids: bool,
    pub use_cache_branch: bool,
    pub eos: Option<TokenId>,
}

fn config_usize(config: &serde_json::Value, keys: &[&str]) -> Option<usize> {
    keys.iter().find_map(|k| config.get(*k).and_then(serde_json::Value::as_u64)).map(|v| v as usize)
}

/// A size from config.json that must be positive where it is given (a count of heads, a
/// width): 0 is refused with the key's name rather than divided by.
fn config_size(config: &serde_json::Value, keys: &[&str], path: &Path) -> Result<Option<usize>, LmError> {
    match keys.iter().find_map(|k| config.get(*k).and_then(serde_json::Value::as_u64).map(|v| (*k, v))) {
        Some((key, 0)) => Err(LmError::Graph { path: path.to_path_buf(), message: format!("config.json gives {key} = 0; it must be positive") }),
        Some((_, v)) => Ok(Some(v as usize)),
        None => Ok(None),
    }
}

impl ModelSpec {
    pub fn read(session: &Session, config: &serde_json::Value, path: &Path) -> Result<Self, LmError> {
        let graph = |message: String| LmError::Graph { path: path.to_path_buf(), message };
        let names: Vec<&str> = session.inputs().iter().map(|i| i.name()).collect();
        for required in ["input_ids", "attention_mask"] {
            if !names.contains(&required) {
                return Err(graph(format!("the graph has no input {required:?}; inputs are {names:?}")));
            }
        }
        let layers = names.iter().filter(|n| n.starts_with("past_key_values.") && n.ends_with(".key")).count();
        if layers == 0 {
            return Err(graph(
                "the graph takes no past_key_values inputs: export it with past key values (optimum-cli export onnx --task text-generation-with-past)".into(),
            ));
        }
        for i in 0..layers {
            for part in ["key", "value"] {
                let name = format!("past_key_values.{i}.{part}");
                let input = session.inputs().iter().find(|o| o.name() == name).ok_or_else(|| graph(format!("the graph has no input {name}")))?;
                if input.dtype().tensor_type() != Some(TensorElementType::Float32) {
                    return Err(graph(format!("{name} is {:?}; only float32 key/value caches are supported", input.dtype().tensor_type())));
                }
                let out = format!("present.{i}.{part}");
                if !session.outputs().iter().any(|o| o.name() == out) {
                    return Err(graph(format!("the graph has no output {out}")));
                }
            }
        }
        let shape = session
            .inputs()
            .iter()
            .find(|o| o.name() == "past_key_values.0.key")
            .and_then(|o| o.dtype().tensor_shape().map(|s| s.to_vec()))
            .unwrap_or_default();
        if shape.len() != 4 {
            return Err(graph(format!("past_key_values.0.key has rank {}; expected [batch, heads, past, head_dim]", shape.len())));
        }
        let attention_heads = config_size(config, &["num_attention_heads", "n_head"], path)?;
        let hidden = config_size(config, &["hidden_size", "n_embd"], path)?;
        let config_kv_heads = config_size(config, &["num_key_value_heads"], path)?;
        let config_head_dim = config_size(config, &["head_dim"], path)?;
        let kv_heads = (shape[1] > 0)
            .then_some(shape[1] as usize)
            .or(config_kv_heads)
            .or(attention_heads)
            .ok_or_else(|| graph("the number of key/value heads is neither in the graph nor in config.json".into()))?;
        let head_dim = (shape[3] > 0)
            .then_some(shape[3] as usize)
            .or(config_head_dim)
            .or_else(|| Some(hidden? / attention_heads?))
            .ok_or_else(|| graph("the head size is neither in the graph nor in config.json".into()))?;
        if kv_heads == 0 || head_dim == 0 {
            return Err(graph(format!("the model has {kv_heads} key/value heads of size {head_dim}: both must be positive (check config.json)")));
        }
        let logits = session.outputs().iter().find(|o| o.name() == "logits").ok_or_else(|| graph("the graph has no output \"logits\"".into()))?;
        let vocab = logits
            .dtype()
            .tensor_shape()
            .and_then(|s| s.last().copied())
            .filter(|&v| v > 0)
            .map(|v| v as usize)
            .map_or_else(|| config_size(config, &["vocab_size"], path), |v| Ok(Some(v)))?;
        Ok(Self {
            layers,
            kv_heads,
            head_dim,
            vocab,
            max_positions: config_size(config, &["n_positions", "max_position_embeddings"], path)?,
            position_ids: names.contains(&"position_ids"),
            use_cache_branch: names.contains(&"use_cache_branch"),
            eos: config_usize(config, &["eos_token_id"]).map(|v| TokenId(v as u32)),
        })
    }
}
