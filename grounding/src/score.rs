//! Log-probabilities.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A natural-log probability: at most 0, or minus infinity for "never".
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LogProb(f32);

impl LogProb {
    /// Probability one.
    pub const CERTAIN: LogProb = LogProb(0.0);
    /// Probability zero: a candidate with this score is never chosen.
    pub const NEVER: LogProb = LogProb(f32::NEG_INFINITY);

    /// `ln p` for a probability `p` in `[0, 1]`; values outside are clamped, NaN is "never".
    pub fn from_prob(p: f64) -> Self {
        if p.is_nan() || p <= 0.0 {
            Self::NEVER
        } else {
            Self(p.min(1.0).ln() as f32)
        }
    }

    /// A log-probability from a raw value; positive values clamp to 0, NaN is "never".
    pub fn new(value: f32) -> Self {
        if value.is_nan() {
            Self::NEVER
        } else {
            Self(value.min(0.0))
        }
    }

    pub fn value(self) -> f32 {
        self.0
    }

    pub fn prob(self) -> f64 {
        f64::from(self.0).exp()
    }

    pub fn is_never(self) -> bool {
        self.0 == f32::NEG_INFINITY
    }

    /// The larger of this and a floor (never lifts "never": that is a hard constraint).
    pub fn at_least(self, floor: LogProb) -> Self {
        if self.is_never() {
            self
        } else {
            Self(self.0.max(floor.0))
        }
    }
}

impl fmt::Display for LogProb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_never() {
            f.write_str("-inf")
        } else {
            write!(f, "{:.3}", self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(LogProb::from_prob(1.0), LogProb::CERTAIN);
        assert!(LogProb::from_prob(0.0).is_never());
        assert!(LogProb::from_prob(f64::NAN).is_never());
        assert!((LogProb::from_prob(0.5).value() - 0.5f32.ln()).abs() < 1e-6);
        assert_eq!(LogProb::new(3.0), LogProb::CERTAIN);
        let floor = LogProb::from_prob(1e-4);
        assert_eq!(LogProb::new(-50.0).at_least(floor), floor);
        assert!(LogProb::NEVER.at_least(floor).is_never());
    }
}
