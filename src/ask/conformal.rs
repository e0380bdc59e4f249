//! Split conformal prediction over the options for a skill (KnowNo, Ren et al. 2023).
//!
//! An option's confidence is its share of the options' probability mass under the decoding
//! rule's scores (a softmax over the whole-skill scores). A calibration step's
//! nonconformity is `1 - p(right)`, for the most confident right option (`1` when no option
//! is right). With `n` calibration scores, the threshold `q` is the
//! `ceil((n + 1)(1 - epsilon))`-th smallest (`1` when that rank exceeds `n`), and the
//! prediction set holds every option with `p >= 1 - q`. Where calibration and test are
//! exchangeable, a test score is at most `q` with probability at least `1 - epsilon`: the
//! set holds a right option at least that often.

use crate::decoder::SkillOption;
use serde::{Deserialize, Serialize};

/// How a step's nonconformity is measured from the options' confidences, and so which
/// options the set holds at threshold `q`. Calibration chooses one on the episodes that
/// choose the temperature (the one that asks least), so the guarantee holds for either.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Measure {
    /// `1 - p` of the most confident right option; the set holds every option with
    /// `p >= 1 - q`, or the most confident alone where none is ([`decision_set`]).
    #[default]
    Confidence,
    /// How far the most confident right option's `p` is below the most confident option's;
    /// the set holds every option within `q` of the most confident ([`within_margin`]): the
    /// margin rule, its margin calibrated.
    BelowTop,
}

impl Measure {
    /// Every measure, in the order calibration prefers on a tie.
    pub const ALL: [Measure; 2] = [Measure::Confidence, Measure::BelowTop];

    /// A step's nonconformity: `1` where no option is right.
    pub fn nonconformity(self, confidences: &[f64], right: &[bool]) -> f64 {
        match self {
            Measure::Confidence => nonconformity(confidences, right),
            Measure::BelowTop => {
                let Some(best) = confidences.iter().zip(right).filter(|(_, r)| **r).map(|(p, _)| *p).reduce(f64::max) else { return 1.0 };
                let top = confidences.iter().copied().fold(0.0, f64::max);
                (top - best).clamp(0.0, 1.0)
            }
        }
    }

    /// The options the robot acts on at threshold `q`, most confident first; it asks when
    /// they are more than one.
    pub fn set(self, confidences: &[f64], q: f64) -> Vec<usize> {
        match self {
            Measure::Confidence => decision_set(confidences, q),
            Measure::BelowTop => within_margin(confidences, q),
        }
    }

    /// When the robot asks, at threshold `q`, in words.
    pub fn describe(self, q: f64) -> String {
        match self {
            Measure::Confidence => format!("ask when more than one option has p >= {:.4}", 1.0 - q),
            Measure::BelowTop => format!("ask when another option's p is within {q:.4} of the most confident's"),
        }
    }

    /// A short name for tables.
    pub fn label(self) -> &'static str {
        match self {
            Measure::Confidence => "p >= 1 - q",
            Measure::BelowTop => "within q of the top",
        }
    }
}

/// Each option's confidence: a softmax over the options' scores divided by `temperature`, in
/// their order (options scored minus infinity get 0; all of them, an even share).
pub fn confidences(options: &[SkillOption], temperature: f64) -> Vec<f64> {
    tempered(&options.iter().map(|o| o.score).collect::<Vec<_>>(), temperature)
}

/// A softmax of `scores / temperature` (see [`confidences`]).
pub fn tempered(scores: &[f32], temperature: f64) -> Vec<f64> {
    let max = scores.iter().map(|&s| s as f64).fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return vec![1.0 / scores.len().max(1) as f64; scores.len()];
    }
    let exps: Vec<f64> = scores.iter().map(|&s| ((s as f64 - max) / temperature).exp()).collect();
    let sum: f64 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

/// The nonconformity of a step: `1 - p` of the most confident right option, `1` when none is.
pub fn nonconformity(confidences: &[f64], right: &[bool]) -> f64 {
    let best = confidences.iter().zip(right).filter(|(_, r)| **r).map(|(p, _)| *p).fold(0.0, f64::max);
    (1.0 - best).clamp(0.0, 1.0)
}

/// The conformal threshold for `epsilon` from calibration scores: the
/// `ceil((n + 1)(1 - epsilon))`-th smallest, or `1` (every option) when there are too few
/// scores for that rank.
pub fn threshold(scores: &[f64], epsilon: f64) -> f64 {
    let n = scores.len();
    let rank = ((n as f64 + 1.0) * (1.0 - epsilon)).ceil() as usize;
    if n == 0 || rank > n {
        return 1.0;
    }
    let mut sorted = scores.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[rank.max(1) - 1]
}

/// Slack for rounding when a confidence is compared with `1 - q`.
const TOLERANCE: f64 = 1e-9;

/// The prediction set: the indices of the options with `p >= 1 - q`, most confident first.
pub fn prediction_set(confidences: &[f64], q: f64) -> Vec<usize> {
    let mut set: Vec<usize> = (0..confidences.len()).filter(|&i| confidences[i] + TOLERANCE >= 1.0 - q).collect();
    set.sort_by(|&a, &b| confidences[b].total_cmp(&confidences[a]).then(a.cmp(&b)));
    set
}

/// The set the robot acts on at threshold `q`: the prediction set, or, where that is empty
/// (no option is confident enough), the most confident option alone. It holds the
/// prediction set, so the guarantee holds for it as it is; the robot asks when it holds more
/// than one option.
pub fn decision_set(confidences: &[f64], q: f64) -> Vec<usize> {
    let set = prediction_set(confidences, q);
    if set.is_empty() {
        return prediction_set(confidences, 1.0).into_iter().take(1).collect();
    }
    set
}

/// The simple baseline: the options within `margin` of the most confident one's
/// confidence, most confident first (asking when that holds more than one).
pub fn within_margin(confidences: &[f64], margin: f64) -> Vec<usize> {
    let top = confidences.iter().copied().fold(0.0, f64::max);
    prediction_set(confidences, 1.0 - (top - margin))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn option(skill: &str, score: f32) -> SkillOption {
        SkillOption { skill: skill.into(), score, lm_score: score }
    }

    #[test]
    fn confidences_are_a_softmax_of_the_scores() {
        let p = confidences(&[option("a", 0.0), option("b", -(2f32.ln())), option("c", f32::NEG_INFINITY)], 1.0);
        assert!((p[0] - 2.0 / 3.0).abs() < 1e-6 && (p[1] - 1.0 / 3.0).abs() < 1e-6 && p[2] == 0.0, "{p:?}");
        assert_eq!(confidences(&[option("a", f32::NEG_INFINITY), option("b", f32::NEG_INFINITY)], 1.0), vec![0.5, 0.5]);
        // A temperature below 1 sharpens: 2:1 becomes 4:1 at 0.5.
        let p = confidences(&[option("a", 0.0), option("b", -(2f32.ln()))], 0.5);
        assert!((p[0] - 0.8).abs() < 1e-6, "{p:?}");
    }

    #[test]
    fn nonconformity_takes_the_most_confident_right_option() {
        assert!((nonconformity(&[0.6, 0.3, 0.1], &[false, true, true]) - 0.7).abs() < 1e-12);
        assert_eq!(nonconformity(&[0.6, 0.4], &[false, false]), 1.0);
    }

    #[test]
    fn threshold_is_the_finite_sample_quantile() {
        let scores: Vec<f64> = (1..=19).map(|i| i as f64 / 20.0).collect();
        // n = 19, epsilon 0.1: rank ceil(20 * 0.9) = 18 -> 0.90.
        assert!((threshold(&scores, 0.1) - 0.90).abs() < 1e-12);
        // epsilon 0.05: rank 19 -> the largest.
        assert!((threshold(&scores, 0.05) - 0.95).abs() < 1e-12);
        // Too few scores for the rank: every option.
        assert_eq!(threshold(&scores[..5], 0.05), 1.0);
        assert_eq!(threshold(&[], 0.2), 1.0);
    }

    #[test]
    fn the_set_holds_every_option_above_one_minus_q() {
        let p = [0.5, 0.3, 0.15, 0.05];
        assert_eq!(prediction_set(&p, 0.6), vec![0]);
        assert_eq!(prediction_set(&p, 0.7), vec![0, 1]);
        assert_eq!(prediction_set(&p, 0.9), vec![0, 1, 2]);
        assert_eq!(prediction_set(&p, 1.0), vec![0, 1, 2, 3]);
        // A small q can leave it empty: nothing is confident enough. The robot then acts on
        // the most confident option (without asking), as it does on a set of one.
        assert!(prediction_set(&p, 0.1).is_empty());
        assert_eq!(decision_set(&p, 0.1), vec![0]);
        assert_eq!(decision_set(&[0.2, 0.5, 0.3], 0.1), vec![1]);
        assert_eq!(decision_set(&p, 0.7), vec![0, 1]);
        assert!(decision_set(&[], 0.1).is_empty());
        assert_eq!(within_margin(&p, 0.25), vec![0, 1]);
        assert_eq!(within_margin(&p, 0.1), vec![0]);
    }

    #[test]
    fn below_the_top_measures_the_right_option_from_the_most_confident() {
        let p = [0.5, 0.3, 0.15, 0.05];
        assert!((Measure::BelowTop.nonconformity(&p, &[false, true, true, false]) - 0.2).abs() < 1e-12);
        assert_eq!(Measure::BelowTop.nonconformity(&p, &[true, false, false, false]), 0.0);
        assert_eq!(Measure::BelowTop.nonconformity(&p, &[false; 4]), 1.0);
        assert!((Measure::Confidence.nonconformity(&p, &[false, true, true, false]) - 0.7).abs() < 1e-12);
        // Its set at q covers exactly the steps whose nonconformity is at most q.
        assert_eq!(Measure::BelowTop.set(&p, 0.2), vec![0, 1]);
        assert_eq!(Measure::BelowTop.set(&p, 0.0), vec![0]);
        assert_eq!(Measure::BelowTop.set(&p, 1.0), vec![0, 1, 2, 3]);
        assert_eq!(Measure::Confidence.set(&p, 0.1), vec![0]);
        for (m, q) in [(Measure::BelowTop, 0.2), (Measure::BelowTop, 0.36), (Measure::Confidence, 0.7), (Measure::Confidence, 0.9)] {
            for right in [[false, true, false, false], [false, false, true, false], [true, false, false, false]] {
                let covered = m.set(&p, q).iter().any(|&i| right[i]);
                assert_eq!(covered, m.nonconformity(&p, &right) <= q + 1e-9, "{m:?} q {q} right {right:?}");
            }
        }
    }

    #[test]
    fn coverage_holds_on_exchangeable_scores() {
        // Scores from one distribution: the share of test scores at most q is >= 1 - epsilon.
        let mut rng = sim::rng::Rng::new(7);
        let draw = |rng: &mut sim::rng::Rng| rng.unit().powi(3);
        let calibration: Vec<f64> = (0..400).map(|_| draw(&mut rng)).collect();
        for epsilon in [0.05, 0.15, 0.25] {
            let q = threshold(&calibration, epsilon);
            let covered = (0..4000).filter(|_| draw(&mut rng) <= q).count() as f64 / 4000.0;
            assert!(covered >= 1.0 - epsilon - 0.02, "epsilon {epsilon}: coverage {covered}");
            assert!(covered <= 1.0 - epsilon + 0.05, "epsilon {epsilon}: coverage {covered} is needlessly high");
        }
    }
}
