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
                let Some(best) = best_right(confidences, right) else { return 1.0 };
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

    /// A step's nonconformity where the step departs or not: at a step whose most confident
    /// option departs from what the language model wanted (beyond the calibration's
    /// `max_departure`), the set holds every option ([`Measure::step_set`]), so the step
    /// covers exactly when any option is right (0, else 1); elsewhere,
    /// [`nonconformity`](Self::nonconformity).
    pub fn step_nonconformity(self, confidences: &[f64], right: &[bool], departs: bool) -> f64 {
        match departs {
            true if right.contains(&true) => 0.0,
            true => 1.0,
            false => self.nonconformity(confidences, right),
        }
    }

    /// The set at threshold `q` of a step that departs or not: every option, most confident
    /// first, where it departs (the model's confidences there are in a skill the world does
    /// not allow, so they do not say which of the others is meant); elsewhere,
    /// [`set`](Self::set).
    pub fn step_set(self, confidences: &[f64], q: f64, departs: bool) -> Vec<usize> {
        if departs {
            prediction_set(confidences, 1.0)
        } else {
            self.set(confidences, q)
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
    (1.0 - best_right(confidences, right).unwrap_or(0.0)).clamp(0.0, 1.0)
}

/// The confidence of the most confident right option (none: no option is right).
fn best_right(confidences: &[f64], right: &[bool]) -> Option<f64> {
    confidences.iter().zip(right).filter(|(_, r)| **r).map(|(p, _)| *p).reduce(f64::max)
}

/// The conformal threshold for `epsilon` from calibration scores: the [`rank`]-th smallest,
/// or `1` (every option) when there are too few scores for that rank.
pub fn threshold(scores: &[f64], epsilon: f64, delta: Option<f64>) -> f64 {
    let n = scores.len();
    let rank = rank(n, epsilon, delta);
    if n == 0 || rank > n {
        return 1.0;
    }
    let mut sorted = scores.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[rank.max(1) - 1]
}

/// Which of `n` sorted calibration scores is the threshold for `epsilon` (from 1; above `n`:
/// none is high enough).
///
/// - Without `delta`: `ceil((n + 1)(1 - epsilon))`. A test episode's set then covers with
///   probability at least `1 - epsilon`, on average over the calibration drawn (split
///   conformal prediction's marginal guarantee); for one calibration, the share of test
///   episodes covered scatters around that (about `Beta(k, n + 1 - k)`).
/// - With `delta`: the smallest `k` with `P(Binomial(n, 1 - epsilon) >= k) <= delta`. The
///   share of test episodes covered is then at least `1 - epsilon` with probability at least
///   `1 - delta` over the calibration drawn (a calibration-conditional guarantee), at the
///   cost of a higher threshold.
pub fn rank(n: usize, epsilon: f64, delta: Option<f64>) -> usize {
    let Some(delta) = delta else { return ((n as f64 + 1.0) * (1.0 - epsilon)).ceil() as usize };
    // The binomial's upper tails from the top down, its terms in logs (no underflow).
    let p = 1.0 - epsilon;
    let mut log_terms = Vec::with_capacity(n + 1);
    let log_odds = (p / (1.0 - p)).ln();
    let mut log_term = n as f64 * (1.0 - p).ln();
    for i in 0..=n {
        log_terms.push(log_term);
        log_term += ((n - i) as f64 / (i + 1) as f64).ln() + log_odds;
    }
    let mut tail = 0.0;
    let mut k = n + 1;
    for i in (0..=n).rev() {
        tail += log_terms[i].exp();
        if tail > delta {
            break;
        }
        k = i;
    }
    k
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
        SkillOption::new(skill, score, score)
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
        assert!((threshold(&scores, 0.1, None) - 0.90).abs() < 1e-12);
        // epsilon 0.05: rank 19 -> the largest.
        assert!((threshold(&scores, 0.05, None) - 0.95).abs() < 1e-12);
        // Too few scores for the rank: every option.
        assert_eq!(threshold(&scores[..5], 0.05, None), 1.0);
        assert_eq!(threshold(&[], 0.2, None), 1.0);
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
    fn a_departing_step_holds_every_option_and_covers_when_any_is_right() {
        let p = [0.9, 0.06, 0.04];
        for m in Measure::ALL {
            assert_eq!(m.step_set(&p, 0.05, true), vec![0, 1, 2]);
            assert_eq!(m.step_set(&p, 0.05, false), m.set(&p, 0.05));
            assert_eq!(m.step_nonconformity(&p, &[false, false, true], true), 0.0);
            assert_eq!(m.step_nonconformity(&p, &[false; 3], true), 1.0);
            assert_eq!(m.step_nonconformity(&p, &[false, false, true], false), m.nonconformity(&p, &[false, false, true]));
            // Covered exactly when the nonconformity is within the threshold, departing or not.
            for (right, departs) in [([false, false, true], true), ([false, true, false], false), ([true, false, false], false)] {
                let covered = m.step_set(&p, 0.15, departs).iter().any(|&i| right[i]);
                assert_eq!(covered, m.step_nonconformity(&p, &right, departs) <= 0.15, "{m:?} {right:?} {departs}");
            }
        }
    }

    #[test]
    fn with_delta_the_rank_is_the_binomial_bound() {
        // n = 400, epsilon 0.05: the marginal rank is 381; Binomial(400, 0.95) has mean 380
        // and standard deviation 4.36, so its upper 5% tail starts near 388.
        assert_eq!(rank(400, 0.05, None), 381);
        let k = rank(400, 0.05, Some(0.05));
        assert!((386..=390).contains(&k), "{k}");
        // The tail at k is at most delta, and at k - 1 it is not (an exact sum here).
        let tail = |k: usize| -> f64 {
            (k..=400)
                .map(|i| {
                    let log_choose: f64 = (1..=i).map(|j| ((400 - i + j) as f64 / j as f64).ln()).sum();
                    (log_choose + i as f64 * 0.95f64.ln() + (400 - i) as f64 * 0.05f64.ln()).exp()
                })
                .sum()
        };
        assert!(tail(k) <= 0.05 && tail(k - 1) > 0.05, "{} {}", tail(k), tail(k - 1));
        // A smaller delta asks a higher rank; too few scores, none.
        assert!(rank(400, 0.05, Some(0.01)) > k);
        assert_eq!(rank(10, 0.05, Some(0.05)), 11);
        assert_eq!(threshold(&[0.1; 10], 0.05, Some(0.05)), 1.0);
    }

    #[test]
    fn with_delta_coverage_holds_in_all_but_delta_of_calibrations() {
        // Many calibrations of 200 scores from one distribution: the share covered, computed
        // exactly from the distribution (uniform: F(q) = q), is below 1 - epsilon in about
        // half of them without delta and in at most about delta of them with it.
        let mut rng = sim::rng::Rng::new(11);
        let (epsilon, delta, runs) = (0.1, 0.1, 400);
        let (mut under_marginal, mut under_conditional) = (0, 0);
        for _ in 0..runs {
            let calibration: Vec<f64> = (0..200).map(|_| rng.unit()).collect();
            under_marginal += usize::from(threshold(&calibration, epsilon, None) < 1.0 - epsilon);
            under_conditional += usize::from(threshold(&calibration, epsilon, Some(delta)) < 1.0 - epsilon);
        }
        assert!(under_marginal > runs / 4, "{under_marginal}");
        assert!(under_conditional <= (runs as f64 * (delta + 0.05)) as usize, "{under_conditional}");
    }

    #[test]
    fn coverage_holds_on_exchangeable_scores() {
        // Scores from one distribution: the share of test scores at most q is >= 1 - epsilon.
        let mut rng = sim::rng::Rng::new(7);
        let draw = |rng: &mut sim::rng::Rng| rng.unit().powi(3);
        let calibration: Vec<f64> = (0..400).map(|_| draw(&mut rng)).collect();
        for epsilon in [0.05, 0.15, 0.25] {
            let q = threshold(&calibration, epsilon, None);
            let covered = (0..4000).filter(|_| draw(&mut rng) <= q).count() as f64 / 4000.0;
            assert!(covered >= 1.0 - epsilon - 0.02, "epsilon {epsilon}: coverage {covered}");
            assert!(covered <= 1.0 - epsilon + 0.05, "epsilon {epsilon}: coverage {covered} is needlessly high");
        }
    }
}
