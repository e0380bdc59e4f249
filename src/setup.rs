//! Building a planner and reading scenes from files, with errors that name the file.

use crate::decoder::DecodeConfig;
use crate::lm::{LanguageModel, LmError};
use crate::planner::{Planner, Weighted};
use grounding::{GroundingError, OnnxScorer, Preference, PreferenceConfig, Safety, SafetyConfig};
use protocol::{Observation, ObservationError};
use std::path::{Path, PathBuf};

/// The largest scene or configuration file read, in bytes.
pub const MAX_FILE_BYTES: u64 = 4 << 20;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("cannot read {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("scene {path}: {reason}")]
    Scene {
        path: PathBuf,
        // Not a source: the message holds it already, and error chains would say it twice.
        reason: ObservationError,
    },
    #[error("{path} is not a valid {what} file: {message}")]
    Config { path: PathBuf, what: &'static str, message: String },
    #[error(transparent)]
    Lm(#[from] LmError),
    #[error(transparent)]
    Grounding(#[from] GroundingError),
    #[error("--weight {0}: no grounded model of that name is in use (in use: {1})")]
    UnknownWeight(String, String),
}

/// Everything that decides how plans are made.
#[derive(Clone, Debug)]
pub struct PlannerOptions {
    pub model: PathBuf,
    pub threads: usize,
    pub config: DecodeConfig,
    pub safety: Option<PathBuf>,
    pub preference: Option<PathBuf>,
    pub scorers: Vec<PathBuf>,
    /// Weights by grounded-model name (default 1).
    pub weights: Vec<(String, f32)>,
}

impl PlannerOptions {
    pub fn new(model: PathBuf) -> Self {
        Self { model, threads: 1, config: DecodeConfig::default(), safety: None, preference: None, scorers: Vec::new(), weights: Vec::new() }
    }
}

pub fn read_text(path: &Path) -> Result<String, SetupError> {
    let read = |message: String| SetupError::Read { path: path.to_path_buf(), message };
    let meta = std::fs::metadata(path).map_err(|e| read(e.to_string()))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(read(format!("it is {} bytes; at most {MAX_FILE_BYTES} are read", meta.len())));
    }
    std::fs::read_to_string(path).map_err(|e| read(e.to_string()))
}

/// Read and validate a scene (an observation in JSON).
pub fn load_scene(path: &Path) -> Result<Observation, SetupError> {
    Observation::from_json(&read_text(path)?).map_err(|reason| SetupError::Scene { path: path.to_path_buf(), reason })
}

fn load_json<T: serde::de::DeserializeOwned>(path: &Path, what: &'static str) -> Result<T, SetupError> {
    serde_json::from_str(&read_text(path)?).map_err(|e| SetupError::Config { path: path.to_path_buf(), what, message: e.to_string() })
}

/// Load the model and the grounded models the options name.
pub fn build_planner(options: &PlannerOptions) -> Result<Planner, SetupError> {
    let lm = LanguageModel::load(&options.model, options.threads)?;
    let mut planner = Planner::any_domain(lm, options.config.clone());
    if let Some(path) = &options.safety {
        let cfg: SafetyConfig = load_json(path, "safety")?;
        planner.others.push(Weighted { model: Box::new(Safety::new(&cfg)?), weight: 1.0 });
    }
    if let Some(path) = &options.preference {
        let cfg: PreferenceConfig = load_json(path, "preference")?;
        planner.others.push(Weighted { model: Box::new(Preference::new(&cfg)?), weight: 1.0 });
    }
    for dir in &options.scorers {
        planner.others.push(Weighted { model: Box::new(OnnxScorer::load(dir)?), weight: 1.0 });
    }
    for (name, weight) in &options.weights {
        if name == "affordance" {
            planner.affordance_weight = *weight;
        } else if let Some(w) = planner.others.iter_mut().find(|w| w.model.name() == name) {
            w.weight = *weight;
        } else {
            return Err(SetupError::UnknownWeight(name.clone(), planner.model_names().join(", ")));
        }
    }
    Ok(planner)
}
