//! Where a decoded skill departs from what the language model wanted.
//!
//! The model never sees the scene, so at an object word its probability is usually spread
//! over objects it has met, and grounding choosing one that is there is the method working.
//! But where the model was sure of a token that no admissible skill allows (the instruction
//! named "the red block" and there is none) and the skill took a token the model thought
//! far less likely, the robot would do something other than what it was evidently asked.
//! That is read from the candidates a step's tokens were chosen from, never from the
//! instruction: at each token, the model's likeliest candidate, if no admissible skill
//! allows it, against the token chosen; the step's departure is the largest gap in nats.

use super::fallback::admitted;
use super::TokenChoice;
use serde::{Deserialize, Serialize};

/// The largest departure of a step's skill from the language model's wishes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Departure {
    /// The skill's text before the token where it departs.
    pub before: String,
    /// The token the model thought likeliest there, which no admissible skill allows.
    pub wanted: String,
    /// The token chosen instead.
    pub chosen: String,
    /// log p_LM(wanted) - log p_LM(chosen), in nats (5 nats: the model thought the chosen
    /// token about 150 times less likely).
    pub nats: f32,
}

impl std::fmt::Display for Departure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "after {:?} the model wanted {:?}, which no admissible skill allows, and {:?} was chosen, {:.1} nats (x{:.0}) less likely",
            self.before.trim_start(),
            self.wanted,
            self.chosen,
            self.nats,
            f64::from(self.nats).exp()
        )
    }
}

/// The largest departure among a skill's token `choices` (grounded scores in the order of
/// `weights`; `log_floor`: the affordance's score for text no admissible skill starts
/// with), or `None` where at every token the model's likeliest candidate was chosen or is
/// admissible.
pub fn departure(choices: &[TokenChoice], weights: &[f32], log_floor: f32) -> Option<Departure> {
    let mut largest: Option<Departure> = None;
    let mut before = String::new();
    for choice in choices {
        let chosen = choice.candidates.iter().find(|c| c.token == choice.chosen);
        let wanted = choice.candidates.iter().max_by(|a, b| a.lm.total_cmp(&b.lm));
        if let (Some(chosen), Some(wanted)) = (chosen, wanted) {
            let nats = wanted.lm - chosen.lm;
            if wanted.token != chosen.token && nats > 0.0 && !admitted(&wanted.grounded, weights, log_floor) && largest.as_ref().is_none_or(|d| nats > d.nats) {
                largest = Some(Departure { before: before.clone(), wanted: wanted.token.to_string(), chosen: chosen.token.to_string(), nats });
            }
        }
        before.push_str(&choice.chosen);
    }
    largest
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decoder::CandidateScore;

    fn cand(token: &str, lm: f32, affordance: f32) -> CandidateScore {
        CandidateScore { token: token.into(), lm, grounded: vec![affordance], total: 0.0, beyond_top_k: false }
    }

    fn choice(chosen: &str, candidates: Vec<CandidateScore>) -> TokenChoice {
        TokenChoice { chosen: chosen.into(), normaliser: 0.0, candidates }
    }

    const FLOOR: f32 = -13.815511;

    #[test]
    fn a_sure_wish_no_skill_allows_and_a_far_less_likely_choice_is_a_departure() {
        let choices = vec![
            choice(" pick", vec![cand(" pick", -0.01, 0.0)]),
            choice(" up the", vec![cand(" up the", 0.0, 0.0)]),
            choice(" blue", vec![cand(" red", -0.02, FLOOR), cand(" blue", -9.0, 0.0), cand(" green", -9.5, 0.0)]),
        ];
        let d = departure(&choices, &[1.0], FLOOR).expect("a departure");
        assert_eq!((d.before.as_str(), d.wanted.as_str(), d.chosen.as_str()), (" pick up the", " red", " blue"));
        assert!((d.nats - 8.98).abs() < 1e-4, "{}", d.nats);
        assert!(d.to_string().contains("\"red\"") || d.to_string().contains("\" red\""), "{d}");
    }

    #[test]
    fn a_wish_that_is_allowed_or_chosen_is_no_departure() {
        // The likeliest is admissible (a choice among objects there), or it was chosen.
        let allowed = vec![choice(" blue", vec![cand(" red", -0.5, -0.2), cand(" blue", -3.0, 0.0)])];
        assert_eq!(departure(&allowed, &[1.0], FLOOR), None);
        let taken = vec![choice(" red", vec![cand(" red", -0.5, 0.0), cand(" blue", -3.0, FLOOR)])];
        assert_eq!(departure(&taken, &[1.0], FLOOR), None);
        // A model of weight 0 does not count.
        let unweighted = vec![choice(" blue", vec![cand(" red", -0.5, FLOOR), cand(" blue", -3.0, 0.0)])];
        assert_eq!(departure(&unweighted, &[0.0], FLOOR), None);
        assert!(departure(&unweighted, &[1.0], FLOOR).is_some());
        // With no grounded models (the LM alone) nothing departs.
        let alone = vec![choice(" blue", vec![CandidateScore { token: " red".into(), lm: -0.5, grounded: vec![], total: 0.0, beyond_top_k: false }])];
        assert_eq!(departure(&alone, &[], FLOOR), None);
    }

    #[test]
    fn the_largest_gap_of_a_skill_is_its_departure() {
        let choices = vec![
            choice(" blue", vec![cand(" red", -0.1, FLOOR), cand(" blue", -2.0, 0.0)]),
            choice(" block", vec![cand(" block", 0.0, 0.0)]),
            choice(" yellow", vec![cand(" green", -0.1, f32::NEG_INFINITY), cand(" yellow", -7.1, 0.0)]),
        ];
        let d = departure(&choices, &[1.0], FLOOR).expect("a departure");
        assert_eq!((d.before.as_str(), d.wanted.as_str()), (" blue block", " green"));
        assert!((d.nats - 7.0).abs() < 1e-4);
    }
}
