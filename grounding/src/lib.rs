//! Grounded models: scores of partial skill texts against the observed world.
//!
//! A [`GroundedModel`] is bound to one [`Observation`] (building whatever index it needs,
//! once), and the bound model then scores batches of skill prefixes, token after token, as
//! the decoder extends them. Scores are log-probabilities ([`LogProb`]); the decoder adds
//! them, weighted, to the language model's.
//!
//! Shipped models: [`Affordance`] (which skills the robot can carry out here, from a
//! [`SkillSpace`] such as [`tabletop::TabletopSkills`]), [`Safety`] (forbidden terms, hard or
//! soft), [`Preference`] (preferred objects, the paper's alpha/beta) and [`OnnxScorer`] (a
//! learned scorer in ONNX format).

pub mod affordance;
pub mod device;
pub mod features;
pub mod model;
pub mod onnx_scorer;
pub mod open_vocab;
pub mod preference;
pub mod runtime;
pub mod safety;
pub mod score;
pub mod tabletop;
pub mod text;
pub mod trie;

pub use affordance::{Affordance, ScoredSkill, SkillSpace};
pub use device::Device;
pub use model::{BoundModel, Continuation, GroundedModel, GroundingError, NextWords, SkillPrefix};
pub use onnx_scorer::OnnxScorer;
pub use preference::{Preference, PreferenceConfig};
pub use protocol::Observation;
pub use safety::{Safety, SafetyConfig, SafetyMode};
pub use score::LogProb;
