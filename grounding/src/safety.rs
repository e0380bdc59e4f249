//! Safety: skills that mention a forbidden thing.
//!
//! The paper's rule: text that mentions a forbidden term gets probability epsilon/Z, any
//! other text 1/Z ([`SafetyMode::Soft`]). [`SafetyMode::Hard`] gives it probability zero: a
//! hard-mode forbidden skill is never chosen, whatever the language model says.

use crate::model::{BoundModel, GroundedModel, GroundingError, SkillPrefix};
use crate::score::LogProb;
use crate::text::{mentions, words};
use protocol::Observation;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SafetyMode {
    /// Never chosen.
    Hard,
    /// Probability `epsilon` (the paper's rule).
    Soft,
}

/// Safety settings, e.g. the shipped `examples/grounding/safety-red-knife.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SafetyConfig {
    /// Words or phrases a skill must not mention, e.g. `["red", "knife"]`.
    pub forbidden: Vec<String>,
    #[serde(default = "default_mode")]
    pub mode: SafetyMode,
    /// The probability a forbidden text gets in soft mode.
    #[serde(default = "default_epsilon")]
    pub epsilon: f64,
}

fn default_mode() -> SafetyMode {
    SafetyMode::Hard
}

fn default_epsilon() -> f64 {
    1e-3
}

pub struct Safety {
    forbidden: Vec<Vec<String>>,
    penalty: LogProb,
}

impl Safety {
    pub fn new(config: &SafetyConfig) -> Result<Self, GroundingError> {
        if config.forbidden.is_empty() {
            return Err(GroundingError::Config("safety: `forbidden` lists no term; name at least one, e.g. [\"knife\"]".into()));
        }
        let mut forbidden = Vec::new();
        for term in &config.forbidden {
            let w = words(term);
            if w.is_empty() {
                return Err(GroundingError::Config(format!("safety: forbidden term {term:?} has no word in it")));
            }
            forbidden.push(w);
        }
        let penalty = match config.mode {
            SafetyMode::Hard => LogProb::NEVER,
            SafetyMode::Soft => {
                if !(config.epsilon > 0.0 && config.epsilon < 1.0) {
                    return Err(GroundingError::Config(format!("safety: epsilon must be in (0, 1) in soft mode, got {}", config.epsilon)));
                }
                LogProb::from_prob(config.epsilon)
            }
        };
        Ok(Self { forbidden, penalty })
    }

    /// The score of one text: the penalty if it mentions a forbidden term.
    pub fn score_text(&self, text: &str) -> LogProb {
        let w = words(text);
        if self.forbidden.iter().any(|f| mentions(&w, f)) {
            self.penalty
        } else {
            LogProb::CERTAIN
        }
    }
}

impl GroundedModel for Safety {
    fn name(&self) -> &str {
        "safety"
    }

    fn bind<'a>(&'a self, _observation: &Observation) -> Result<Box<dyn BoundModel + 'a>, GroundingError> {
        Ok(Box::new(BoundSafety(self)))
    }
}

struct BoundSafety<'a>(&'a Safety);

impl BoundModel for BoundSafety<'_> {
    fn score(&mut self, prefixes: &[SkillPrefix<'_>]) -> Result<Vec<LogProb>, GroundingError> {
        Ok(prefixes.iter().map(|p| self.0.score_text(p.text)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(mode: SafetyMode) -> SafetyConfig {
        SafetyConfig { forbidden: vec!["red".into(), "knife".into()], mode, epsilon: 0.01 }
    }

    #[test]
    fn hard_and_soft() {
        let hard = Safety::new(&cfg(SafetyMode::Hard)).unwrap();
        assert!(hard.score_text("pick up the red block").is_never());
        assert!(hard.score_text("pick up the knife and").is_never());
        assert_eq!(hard.score_text("pick up the re"), LogProb::CERTAIN);
        assert_eq!(hard.score_text("pick up the blue block"), LogProb::CERTAIN);
        let soft = Safety::new(&cfg(SafetyMode::Soft)).unwrap();
        assert!((soft.score_text("pick up the red block").prob() - 0.01).abs() < 1e-6);
    }

    #[test]
    fn bad_configs_say_what_is_wrong() {
        let empty = SafetyConfig { forbidden: vec![], mode: SafetyMode::Hard, epsilon: 0.1 };
        assert!(Safety::new(&empty).err().unwrap().to_string().contains("forbidden"));
        let eps = SafetyConfig { epsilon: 2.0, ..cfg(SafetyMode::Soft) };
        assert!(Safety::new(&eps).err().unwrap().to_string().contains("epsilon"));
        assert!(serde_json::from_str::<SafetyConfig>(r#"{"forbidden":["x"],"mode":"medium"}"#).is_err());
    }
}
