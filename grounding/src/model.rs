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

/// The one way a model lets a skill text go on: every text it admits after the prefix
/// starts with `text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Continuation {
    pub text: String,
    /// `text` finishes the skill: after it comes only the terminator.
    pub ends_skill: bool,
}

/// A grounded model bound to one observation.
pub trait BoundModel {
    /// One score per prefix, in order.
    fn score(&mut self, prefixes: &[SkillPrefix<'_>]) -> Result<Vec<LogProb>, GroundingError>;

    /// The text every skill this model admits after `prefix` goes on with, where it admits
    /// one way on (after "pick up the gray block", " and place it in the"): the decoder runs
    /// such text through the language model in one pass instead of one pass per token, and
    /// still scores every token as usual. `None` (the default): no text is forced, or the
    /// model cannot tell. A hint only: a wrong one costs time, never a different skill.
    fn continuation(&mut self, _prefix: &str) -> Option<Continuation> {
        None
    }
}
