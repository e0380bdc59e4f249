//! Where a decoded skill departs from what the language model wanted.
//!
//! The model never sees the scene, so at an object word its probability is usually spread
//! over objects it has met, and grounding choosing one that is there is the method working.
//! But where the model was sure of a token that no admissible skill allows (the instruction
//! named "the red block" and there is none) and the skill took a token the model thought
//! far less likely, the robot would do something other than what it was evidently asked.
//! That is read from the candidates a step's tokens were chosen from, never from the
//! instruction: at each token, the model's likeliest candidate, if no admissible skill
//! allows it, against the token chosen. The step's departure is the sum of those gaps in
//! nats: a skill that puts another block in another bowl, each in place of one the model
//! was fairly sure of, departs by both (how much less likely the model thought the skill it
//! got than the one it wanted, at the places grounding turned it).
//!
//! A wish the world rules out only for now is no departure: where the model wants to open a
//! locked door whose key is in the maze, grounding turning the step to something feasible
//! (fetching the key) is the method working, not a substitution. Where the domain says what
//! could become admissible ([`SkillSpace::conceivable`](grounding::SkillSpace::conceivable)),
//! a wish that starts such a skill, and that only the affordance rules out, does not count.

use super::fallback::Admission;
use super::{CandidateScore, TokenChoice};
use grounding::trie::SkillTrie;
use grounding::LogProb;
use protocol::skill::TERMINATORS;
use serde::{Deserialize, Serialize};

/// Which rule measures departures, numbered so that a calibration made under another one is
/// known for what it is (its steps' `departs` were read differently):
/// 1. every wanted token that no admissible skill allows departs, by its largest gap;
/// 2. as 1, except a wish the world allows only later ([`Later`]);
/// 3. as 2, a skill departing by the sum of its gaps, not the largest;
/// 4. (today's) as 3, and a first step (no skill taken yet) whose most confident option is
///    `done` said in place of a skill that departs ([`super::DoneInstead`]) departs as that
///    skill does.
pub const DEPARTURE_RULE: u32 = 4;

/// How far a step's skill departs from the language model's wishes, and where most.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Departure {
    /// The skill's text before the token where it departs most.
    pub before: String,
    /// The token the model thought likeliest there, which no admissible skill allows.
    pub wanted: String,
    /// The token chosen instead.
    pub chosen: String,
    /// log p_LM(wanted) - log p_LM(chosen) at that token, in nats (5 nats: the model thought
    /// the chosen token about 150 times less likely). Absent from records written before
    /// departure rule 3, such as a daemon's older journals (read as 0), whose `nats` was this
    /// gap.
    #[serde(default)]
    pub token_nats: f32,
    /// How many of the skill's tokens depart (1: that one alone; 0 in records written
    /// before departure rule 3).
    #[serde(default)]
    pub tokens: u32,
    /// The skill's departure: the gaps of all its departing tokens summed, in nats, which
    /// `--max-departure` limits (`token_nats` where one token departs).
    pub nats: f32,
}

impl Departure {
    /// The departure read as a wish the world allows only later ([`deferred`]): what the
    /// model wanted, what grounding chose instead, and the gap.
    pub fn as_deferred(&self) -> String {
        format!(
            "after {:?} the model wanted {:?}, which the world allows only once other skills are done, and grounding chose {:?}, {:.1} nats less likely (not a departure)",
            self.before.trim_start(),
            self.wanted,
            self.chosen,
            self.named_gap()
        )
    }

    /// Whether the skill departs by more than `limit` nats in all (what `--max-departure` and a
    /// calibration's `max_departure` limit).
    pub fn beyond(&self, limit: f32) -> bool {
        self.nats > limit
    }

    /// The gap at the token named (`nats` in a record written before departure rule 3).
    pub fn named_gap(&self) -> f32 {
        if self.tokens == 0 {
            self.nats
        } else {
            self.token_nats
        }
    }
}

impl std::fmt::Display for Departure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "after {:?} the model wanted {:?}, which no admissible skill allows, and {:?} was chosen, ",
            self.before.trim_start(),
            self.wanted,
            self.chosen
        )?;
        match self.tokens {
            0 | 1 => write!(f, "{:.1} nats (x{:.0}) less likely", self.nats, f64::from(self.nats).exp()),
            n => write!(
                f,
                "{:.1} nats less likely; with {} other such token{}, the skill departs {:.1} nats (x{:.0}) in all",
                self.token_nats,
                n - 1,
                if n == 2 { "" } else { "s" },
                self.nats,
                f64::from(self.nats).exp()
            ),
        }
    }
}

/// What the world rules out only for now: the skills that name only what it holds, as the
/// affordance's domain lists them, for the grounded model at `model` (the affordance's place
/// in the decoding rule's order).
pub struct Later {
    model: usize,
    skills: SkillTrie,
}

impl Later {
    /// The `conceivable` skill texts of the grounded model at index `model`.
    pub fn new<'a>(model: usize, conceivable: impl IntoIterator<Item = &'a str>) -> Self {
        Self { model, skills: SkillTrie::build(conceivable.into_iter().map(|t| (t, LogProb::new(0.0)))) }
    }

    /// Whether the skill text `before` + `token` (a token's text, up to a terminator if it
    /// holds one, which then finishes the skill) starts, or is, a conceivable skill.
    fn starts(&self, before: &str, token: &str) -> bool {
        match token.find(TERMINATORS) {
            Some(at) => {
                let text = [before, &token[..at]].concat();
                self.skills.exact(text.trim()).is_some()
            }
            None => {
                let text = [before, token].concat();
                let text = text.trim_start();
                !text.is_empty() && self.skills.best_completion(text).is_some()
            }
        }
    }

    /// Whether a candidate whose grounded scores are `grounded` is ruled out only for now:
    /// the models that rule it out are this one alone, and the text starts a conceivable
    /// skill.
    fn only_for_now(&self, grounded: &[f32], admission: &Admission, before: &str, token: &str) -> bool {
        admission.others_admit(grounded, self.model) && self.starts(before, token)
    }
}

/// How far a skill's token `choices` depart, or `None` where at every token the model's
/// likeliest candidate was chosen or is admissible (`admission`), or (with `later`) is ruled
/// out only for now.
pub fn departure(choices: &[TokenChoice], admission: &Admission, later: Option<&Later>) -> Option<Departure> {
    wishes(choices, |wanted, before| {
        !admission.admits(&wanted.grounded) && !later.is_some_and(|l| l.only_for_now(&wanted.grounded, admission, before, &wanted.token))
    })
}

/// The gaps among a skill's token `choices` where the model's likeliest candidate is ruled
/// out only for now (see [`Later`]): not a departure, but what an explanation shows of the
/// step grounding turned (the model wanted to open a locked door).
pub fn deferred(choices: &[TokenChoice], admission: &Admission, later: &Later) -> Option<Departure> {
    wishes(choices, |wanted, before| !admission.admits(&wanted.grounded) && later.only_for_now(&wanted.grounded, admission, before, &wanted.token))
}

/// The gaps between the model's likeliest candidate and the chosen token, among the tokens
/// of `choices` whose likeliest candidate `counts` (given the text before it): summed, and
/// the largest named.
fn wishes(choices: &[TokenChoice], mut counts: impl FnMut(&CandidateScore, &str) -> bool) -> Option<Departure> {
    let mut found: Option<Departure> = None;
    let mut before = String::new();
    for choice in choices {
        let chosen = choice.candidates.iter().find(|c| c.token == choice.chosen);
        let wanted = choice.candidates.iter().max_by(|a, b| a.lm.total_cmp(&b.lm));
        if let (Some(chosen), Some(wanted)) = (chosen, wanted) {
            let gap = wanted.lm - chosen.lm;
            if wanted.token != chosen.token && gap > 0.0 && counts(wanted, &before) {
                let here = Departure {
                    before: before.clone(),
                    wanted: wanted.token.to_string(),
                    chosen: chosen.token.to_string(),
                    token_nats: gap,
                    tokens: 1,
                    nats: gap,
                };
                found = Some(match found {
                    None => here,
                    Some(so_far) => {
                        let (tokens, nats) = (so_far.tokens + 1, so_far.nats + gap);
                        let most = if gap > so_far.token_nats { here } else { so_far };
                        Departure { tokens, nats, ..most }
                    }
                });
            }
        }
        before.push_str(&choice.chosen);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(token: &str, lm: f32, affordance: f32) -> CandidateScore {
        CandidateScore { token: token.into(), lm, grounded: vec![affordance], total: 0.0, beyond_top_k: false }
    }

    fn choice(chosen: &str, candidates: Vec<CandidateScore>) -> TokenChoice {
        TokenChoice { chosen: chosen.into(), normaliser: 0.0, candidates }
    }

    const FLOOR: f32 = -13.815511;

    fn admission(weights: &[f32]) -> Admission {
        Admission::with_log_floor(weights.to_vec(), FLOOR)
    }

    #[test]
    fn a_sure_wish_no_skill_allows_and_a_far_less_likely_choice_is_a_departure() {
        let choices = vec![
            choice(" pick", vec![cand(" pick", -0.01, 0.0)]),
            choice(" up the", vec![cand(" up the", 0.0, 0.0)]),
            choice(" blue", vec![cand(" red", -0.02, FLOOR), cand(" blue", -9.0, 0.0), cand(" green", -9.5, 0.0)]),
        ];
        let d = departure(&choices, &admission(&[1.0]), None).expect("a departure");
        assert_eq!((d.before.as_str(), d.wanted.as_str(), d.chosen.as_str()), (" pick up the", " red", " blue"));
        assert!((d.nats - 8.98).abs() < 1e-4, "{}", d.nats);
        assert!(d.to_string().contains("\"red\"") || d.to_string().contains("\" red\""), "{d}");
    }

    #[test]
    fn a_wish_that_is_allowed_or_chosen_is_no_departure() {
        // The likeliest is admissible (a choice among objects there), or it was chosen.
        let allowed = vec![choice(" blue", vec![cand(" red", -0.5, -0.2), cand(" blue", -3.0, 0.0)])];
        assert_eq!(departure(&allowed, &admission(&[1.0]), None), None);
        let taken = vec![choice(" red", vec![cand(" red", -0.5, 0.0), cand(" blue", -3.0, FLOOR)])];
        assert_eq!(departure(&taken, &admission(&[1.0]), None), None);
        // A model of weight 0 does not count.
        let unweighted = vec![choice(" blue", vec![cand(" red", -0.5, FLOOR), cand(" blue", -3.0, 0.0)])];
        assert_eq!(departure(&unweighted, &admission(&[0.0]), None), None);
        assert!(departure(&unweighted, &admission(&[1.0]), None).is_some());
        // With no grounded models (the LM alone) nothing departs.
        let alone = vec![choice(" blue", vec![CandidateScore { token: " red".into(), lm: -0.5, grounded: vec![], total: 0.0, beyond_top_k: false }])];
        assert_eq!(departure(&alone, &admission(&[]), None), None);
    }

    #[test]
    fn a_skill_departs_by_its_gaps_summed_and_names_the_largest() {
        // Another block (1.9 nats) and another bowl (7.0) than the model wanted: 8.9 in all.
        let choices = vec![
            choice(" blue", vec![cand(" red", -0.1, FLOOR), cand(" blue", -2.0, 0.0)]),
            choice(" block", vec![cand(" block", 0.0, 0.0)]),
            choice(" yellow", vec![cand(" green", -0.1, f32::NEG_INFINITY), cand(" yellow", -7.1, 0.0)]),
        ];
        let d = departure(&choices, &admission(&[1.0]), None).expect("a departure");
        assert_eq!((d.before.as_str(), d.wanted.as_str(), d.tokens), (" blue block", " green", 2));
        assert!((d.token_nats - 7.0).abs() < 1e-4, "{}", d.token_nats);
        assert!((d.nats - 8.9).abs() < 1e-4, "{}", d.nats);
        let said = d.to_string();
        assert!(said.contains("7.0 nats less likely; with 1 other such token, the skill departs 8.9 nats"), "{said}");
        // Either gap alone stays under 8 nats; the skill does not.
        let limit = crate::decoder::DecodeConfig { max_departure: 8.0, ..Default::default() };
        assert!(limit.departs_too_far(Some(&d)));
        // A limit is exceeded only past it, and an infinite one never ("inf": never stop).
        assert!(d.beyond(8.8) && !d.beyond(8.9 + 1e-3) && !d.beyond(f32::INFINITY));
        // One departing token: the skill's departure is its gap.
        // A record from before rule 3 (no token count) reads its one gap as the named one.
        let old: Departure = serde_json::from_str(r#"{"before": " pick up the", "wanted": " red", "chosen": " blue", "nats": 6.5}"#).expect("reads");
        assert_eq!((old.tokens, old.named_gap()), (0, 6.5));
        assert!(old.to_string().ends_with("6.5 nats (x665) less likely"), "{old}");
        let one = departure(&choices[..2], &admission(&[1.0]), None).expect("a departure");
        assert_eq!(one.tokens, 1);
        assert!((one.nats - 1.9).abs() < 1e-4 && (one.token_nats - one.nats).abs() < 1e-6);
        assert!(!one.to_string().contains("in all"), "{one}");
    }

    #[test]
    fn a_wish_the_world_rules_out_only_for_now_is_no_departure() {
        // The model wants to open the locked grey door; only fetching its key is admissible.
        let choices =
            vec![choice(" go", vec![cand(" open", -0.1, FLOOR), cand(" go", -6.0, 0.0)]), choice(" to the grey key", vec![cand(" to the grey key", 0.0, 0.0)])];
        let conceivable = ["open the grey door", "go to the grey key", "go to the grey door"];
        let later = Later::new(0, conceivable);
        assert_eq!(departure(&choices, &admission(&[1.0]), Some(&later)), None);
        assert!(departure(&choices, &admission(&[1.0]), None).is_some(), "without the domain's word it departs");
        let d = deferred(&choices, &admission(&[1.0]), &later).expect("the wish grounding turned");
        assert_eq!((d.wanted.as_str(), d.chosen.as_str()), (" open", " go"));
        // A wish that names what the world does not hold still departs.
        let absent = vec![choice(" go to the", vec![cand(" go to the", 0.0, 0.0)]), choice(" grey", vec![cand(" red", -0.1, FLOOR), cand(" grey", -7.0, 0.0)])];
        let d = departure(&absent, &admission(&[1.0]), Some(&later)).expect("no red thing here");
        assert_eq!(d.wanted, " red");
        assert_eq!(deferred(&absent, &admission(&[1.0]), &later), None, "a wish for what is not there is never only for now");
        // A finishing token: the finished text must be a conceivable skill, not only start one.
        let finishing =
            vec![choice(" open the grey", vec![cand(" open the grey", 0.0, 0.0)]), choice(" key", vec![cand(" door.", -0.1, FLOOR), cand(" key", -7.0, 0.0)])];
        assert_eq!(departure(&finishing, &admission(&[1.0]), Some(&later)), None, "\"open the grey door\" is conceivable");
        let cut = vec![
            choice(" go to the", vec![cand(" go to the", 0.0, 0.0)]),
            choice(" grey key", vec![cand(" grey.", -0.1, FLOOR), cand(" grey key", -7.0, 0.0)]),
        ];
        assert!(departure(&cut, &admission(&[1.0]), Some(&later)).is_some(), "\"go to the grey\" is no skill");
    }

    #[test]
    fn a_wish_another_model_rules_out_departs_even_when_conceivable() {
        // Safety (the second model) forbids what the affordance rules out only for now.
        let choices = vec![choice(
            " go",
            vec![
                CandidateScore { token: " open".into(), lm: -0.1, grounded: vec![FLOOR, f32::NEG_INFINITY], total: 0.0, beyond_top_k: false },
                CandidateScore { token: " go".into(), lm: -6.0, grounded: vec![0.0, 0.0], total: 0.0, beyond_top_k: false },
            ],
        )];
        let later = Later::new(0, ["open the grey door"]);
        assert!(departure(&choices, &admission(&[1.0, 1.0]), Some(&later)).is_some());
        // With the second model admitting it, it is only for now.
        let admitted_by_safety = vec![choice(
            " go",
            vec![
                CandidateScore { token: " open".into(), lm: -0.1, grounded: vec![FLOOR, 0.0], total: 0.0, beyond_top_k: false },
                CandidateScore { token: " go".into(), lm: -6.0, grounded: vec![0.0, 0.0], total: 0.0, beyond_top_k: false },
            ],
        )];
        assert_eq!(departure(&admitted_by_safety, &admission(&[1.0, 1.0]), Some(&later)), None);
        // The later skills are the affordance's: they say nothing for another model's place.
        let for_other = Later::new(1, ["open the grey door"]);
        assert!(departure(&admitted_by_safety, &admission(&[1.0, 1.0]), Some(&for_other)).is_some());
    }
}
