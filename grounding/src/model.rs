//! The grounded-model trait.

use crate::score::LogProb;
use protocol::Observation;

/// A partial (or finished) skill text, as the decoder holds it after a candidate token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SkillPrefix<'a> {
    /// The skill's text so far, without leading white space and without the terminator.
    pub text: &'a str,
    /// The candidate token ended the skill: `text` is the whole skill, not a prefix.
    pub complete: bool,
}

impl<'a> SkillPrefix<'a> {
    pub fn partial(text: &'a str) -> Self {
        Self { text, complete: false }
    }

    pub fn complete(text: &'a str) -> Self {
        Self { text, complete: true }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GroundingError {
    #[error("grounded model {model}: {message}")]
    Model { model: String, message: String },
    #[error("grounded model {model}: ONNX Runtime failed: {source}")]
    Onnx {
        model: String,
        #[source]
        source: ort::Error,
    },
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Runtime(#[from] crate::runtime::RuntimeError),
}

/// A model of the world that scores skill texts. Bind it to an observation, then score.
pub trait GroundedModel: Send + Sync {
    /// A short name, shown in explanations (`affordance`, `safety`, ...).
    fn name(&self) -> &str;

    /// Prepare to score skills against this observation (build indexes once).
    fn bind<'a>(&'a self, observation: &Observation) -> Result<Box<dyn BoundModel + 'a>, GroundingError>;
}

/// A grounded model bound to one observation.
pub trait BoundModel {
    /// One score per prefix, in order.
    fn score(&mut self, prefixes: &[SkillPrefix<'_>]) -> Result<Vec<LogProb>, GroundingError>;
}
