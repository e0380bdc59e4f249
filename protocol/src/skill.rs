//! A skill text: one step of a plan, as a policy receives it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Characters that end a skill in plan text.
pub const TERMINATORS: [char; 2] = ['.', '\n'];

/// The longest skill text accepted, in bytes.
pub const MAX_SKILL_LEN: usize = 256;

/// One skill, e.g. `pick up the red block and place it in the blue bowl`, or `done`.
///
/// Always non-empty, trimmed, at most [`MAX_SKILL_LEN`] bytes, and free of terminators, so
/// that it can be written into a plan line and read back unchanged.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SkillText(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SkillTextError {
    #[error("a skill text is empty")]
    Empty,
    #[error("a skill text is {0} bytes long; at most {MAX_SKILL_LEN} are accepted")]
    TooLong(usize),
    #[error("a skill text may not contain '.' or a line break (they end a skill): {0:?}")]
    Terminator(String),
}

impl SkillText {
    /// The skill that ends a plan.
    pub const DONE: &'static str = "done";

    pub fn new(text: impl AsRef<str>) -> Result<Self, SkillTextError> {
        let text = text.as_ref().trim();
        if text.is_empty() {
            return Err(SkillTextError::Empty);
        }
        if text.len() > MAX_SKILL_LEN {
            return Err(SkillTextError::TooLong(text.len()));
        }
        if text.contains(TERMINATORS) {
            return Err(SkillTextError::Terminator(text.to_string()));
        }
        Ok(Self(text.to_string()))
    }

    pub fn done() -> Self {
        Self(Self::DONE.to_string())
    }

    pub fn is_done(&self) -> bool {
        self.0 == Self::DONE
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SkillText {
    type Error = SkillTextError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<SkillText> for String {
    fn from(value: SkillText) -> Self {
        value.0
    }
}

impl fmt::Display for SkillText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_rejects_bad_texts() {
        assert_eq!(SkillText::new("  done ").unwrap().as_str(), "done");
        assert!(SkillText::new("done").unwrap().is_done());
        assert_eq!(SkillText::new("   "), Err(SkillTextError::Empty));
        assert!(matches!(SkillText::new("go. now"), Err(SkillTextError::Terminator(_))));
        assert!(matches!(SkillText::new("a\nb"), Err(SkillTextError::Terminator(_))));
        assert!(matches!(SkillText::new("x".repeat(300)), Err(SkillTextError::TooLong(300))));
    }

    #[test]
    fn serde_validates() {
        let ok: SkillText = serde_json::from_str("\"done\"").unwrap();
        assert!(ok.is_done());
        assert!(serde_json::from_str::<SkillText>("\"\"").is_err());
    }
}
