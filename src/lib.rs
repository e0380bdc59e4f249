//! `grounded`: a robot planner whose language model is steered, token by token, by grounded
//! models of the robot's world (Grounded Decoding, Huang et al. 2023).
//!
//! * [`lm`]: the ONNX language-model backend with its key/value cache.
//! * [`decoder`]: grounded decoding of one skill (beam search; greedy).
//! * [`saycan`]: the SayCan-style baseline that scores whole skills.
//! * [`planner`]: plans of several skills, open-loop with symbolic effects.
//! * [`prompt`]: the plan text the model reads.
//! * [`dashboard`]: the rerun dashboard.

pub mod ask;
pub mod bench;
pub mod config;
pub mod controller;
pub mod dashboard;
pub mod decoder;
pub mod demo;
pub mod domains;
pub mod eval;
pub mod journal;
pub mod lm;
pub mod nodes;
pub mod planner;
pub mod prompt;
pub mod saycan;
pub mod secure;
pub mod setup;
pub mod skills;
pub mod wordings;
use std::path::PathBuf;

/// The name of the model that ships under `models/`.
pub const SHIPPED_MODEL: &str = "planner-gpt2";

/// Where the shipped model is: `$GROUNDED_MODEL` if set, else `models/planner-gpt2` next
/// to the executable, else in the source tree this binary was built from.
pub fn default_model_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("GROUNDED_MODEL") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(|p| p.join("models").join(SHIPPED_MODEL))) {
        if dir.is_dir() {
            return dir;
        }
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models").join(SHIPPED_MODEL)
}
