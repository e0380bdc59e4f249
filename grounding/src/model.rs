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

/// The words a model admits next after a prefix (see [`BoundModel::next_words`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NextWords {
    /// Each word, with its leading space where it has one, and whether a skill may end right
    /// after it.
    pub words: Vec<(String, bool)>,
    /// The prefix is itself a whole skill: the terminator may come next.
    pub ends_here: bool,
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

    /// The words this model admits right after `prefix` (each up to the next space or a
    /// skill's end; at most `limit`), where it can list them: when none of the language
    /// model's likeliest tokens keeps a skill admissible, the decoder also offers the tokens
    /// that start these. `Some` with no words and `ends_here` false: nothing admissible
    /// starts with `prefix`. `None` (the default): the model cannot list them.
    fn next_words(&mut self, _prefix: &str, _limit: usize) -> Option<NextWords> {
        None
    }
}
