//! How a skill ended, in every domain.

use serde::Serialize;

/// How a skill ended.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SkillOutcome {
    pub success: bool,
    pub reason: Option<String>,
}

impl SkillOutcome {
    pub fn ok() -> Self {
        Self { success: true, reason: None }
    }
    pub fn fail(reason: impl Into<String>) -> Self {
        Self { success: false, reason: Some(reason.into()) }
    }
}
