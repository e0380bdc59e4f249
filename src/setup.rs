//! Building a planner and reading scenes from files, with errors that name the file.

use crate::decoder::DecodeConfig;
use crate::lm::{LanguageModel, LmError};
use crate::planner::{Planner, Weighted};
use grounding::{Affordance, GroundingError, OnnxScorer, Preference, PreferenceConfig, Safety, SafetyConfig};
use protocol::{Observation, ObservationError};
use std::path::{Path, PathBuf};

/// The largest scene or configuration file read, in bytes.
pub const MAX_FILE_BYTES: u64 = 4 << 20;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("cannot read {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("cannot read the {what} file {path}: {message}")]
    ReadConfig { path: PathBuf, what: &'static str, message: String },
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
    /// A few-shot prompt prefix file (`--prompt`).
    pub prompt: Option<PathBuf>,
    /// The prefix cache's budget in MiB (0: off; `--prefix-cache-mib`).
    pub prefix_cache_mib: usize,
    /// Where the language model runs (`--device`).
    pub device: grounding::Device,
}

impl PlannerOptions {
    pub fn new(model: PathBuf) -> Self {
        Self {
            model,
            threads: 1,
            config: DecodeConfig::default(),
            safety: None,
            preference: None,
            scorers: Vec::new(),
            weights: Vec::new(),
            prompt: None,
            prefix_cache_mib: crate::lm::DEFAULT_PREFIX_CACHE_MIB,
            device: grounding::Device::Cpu,
        }
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

/// Safety rules from a file (the planner's `--safety`, the policy's too).
pub fn load_safety(path: &Path) -> Result<SafetyConfig, SetupError> {
    load_json(path, "safety")
}

fn load_json<T: serde::de::DeserializeOwned>(path: &Path, what: &'static str) -> Result<T, SetupError> {
    let text = read_text(path).map_err(|e| match e {
        SetupError::Read { path, message } => SetupError::ReadConfig { path, what, message },
        other => other,
    })?;
    serde_json::from_str(&text).map_err(|e| SetupError::Config { path: path.to_path_buf(), what, message: e.to_string() })
}

/// The grounded models a task itself may bring in an evaluation or a demo (see
/// `eval::task_models`): `--weight` may name them there even when the user names none.
pub const TASK_MODEL_NAMES: [&str; 2] = ["safety", "preference"];

impl PlannerOptions {
    /// The language model, on the options' device and ONNX Runtime threads.
    pub fn load_lm(&self) -> Result<LanguageModel, SetupError> {
        let mut lm = LanguageModel::load_on(&self.model, self.threads, self.device)?;
        lm.set_prefix_cache_mib(self.prefix_cache_mib);
        Ok(lm)
    }

    /// The grounded models the user names (safety and preference files, learned scorers),
    /// each at weight 1.
    pub fn user_models(&self) -> Result<Vec<Weighted>, SetupError> {
        let mut models = Vec::new();
        if let Some(path) = &self.safety {
            let cfg: SafetyConfig = load_json(path, "safety")?;
            models.push(Weighted { model: Box::new(Safety::new(&cfg)?), weight: 1.0 });
        }
        if let Some(path) = &self.preference {
            let cfg: PreferenceConfig = load_json(path, "preference")?;
            models.push(Weighted { model: Box::new(Preference::new(&cfg)?), weight: 1.0 });
        }
        for dir in &self.scorers {
            models.push(Weighted { model: Box::new(OnnxScorer::load(dir)?), weight: 1.0 });
        }
        Ok(models)
    }

    /// The one way every command builds its planner: the language model, `affordance`
    /// (`None`: every domain's own, read from each observation), the user's grounded models
    /// and weights. `tasks_bring_models`: the command sets each task's own models per
    /// episode ([`Planner::set_task_models`]), so `--weight` may also name those.
    pub fn build(&self, affordance: Option<Affordance>, tasks_bring_models: bool) -> Result<Planner, SetupError> {
        let lm = self.load_lm()?;
        let mut planner = match affordance {
            Some(a) => Planner::with_affordance(lm, self.config.clone(), a),
            None => Planner::any_domain(lm, self.config.clone()),
        };
        planner.weights = self.weights.clone();
        if let Some(path) = &self.prompt {
            let prefix = crate::prompt::PromptPrefix::new(&read_text(path)?).map_err(|e| SetupError::Config {
                path: path.clone(),
                what: "prompt",
                message: e.to_string(),
            })?;
            planner.prompt_prefix = Some(prefix);
        }
        if let Some(w) = planner.weight_of("affordance") {
            planner.affordance_weight = w;
        }
        let mut others = self.user_models()?;
        planner.weigh(&mut others);
        planner.others = others;
        // Every weight names a model in use, or one a task may bring.
        for (name, _) in &self.weights {
            let in_use = name == "affordance" || planner.others.iter().any(|w| w.model.name() == name);
            if !(in_use || (tasks_bring_models && TASK_MODEL_NAMES.contains(&name.as_str()))) {
                let mut names = planner.model_names();
                if tasks_bring_models {
                    names.extend(TASK_MODEL_NAMES.iter().map(|n| format!("{n} (when a task calls for it)")));
                }
                return Err(SetupError::UnknownWeight(name.clone(), names.join(", ")));
            }
        }
        Ok(planner)
    }
}

/// Load the model and the grounded models the options name (the planner of `plan`, `bench`
/// and the daemon before its affordance is set).
pub fn build_planner(options: &PlannerOptions) -> Result<Planner, SetupError> {
    options.build(None, false)
}
