//! Preference: some objects are preferred (the paper: alpha = 0.5 for preferred objects,
//! beta = 0.1 for the others, both over the same Z).
//!
//! A prefix that mentions a preferred object scores alpha; one that mentions only other
//! objects of the scene scores beta; one that mentions no object yet scores alpha, the best
//! it could still reach (like the affordance, a prefix scores as its best completion).

use crate::model::{BoundModel, GroundedModel, GroundingError, SkillPrefix};
use crate::score::LogProb;
use crate::text::{mentions, words};
use protocol::Observation;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreferenceConfig {
    /// Names (or words) of preferred objects, e.g. `["apple", "banana"]`.
    pub preferred: Vec<String>,
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    #[serde(default = "default_beta")]
    pub beta: f64,
}

fn default_alpha() -> f64 {
    0.5
}

fn default_beta() -> f64 {
    0.1
}

pub struct Preference {
    preferred: Vec<Vec<String>>,
    alpha: LogProb,
    beta: LogProb,
}

impl Preference {
    pub fn new(config: &PreferenceConfig) -> Result<Self, GroundingError> {
        if config.preferred.is_empty() {
            return Err(GroundingError::Config("preference: `preferred` lists no object".into()));
        }
        let ok = |p: f64| p > 0.0 && p <= 1.0;
        if !ok(config.alpha) || !ok(config.beta) || config.beta > config.alpha {
            return Err(GroundingError::Config(format!("preference: need 0 < beta <= alpha <= 1, got alpha {} and beta {}", config.alpha, config.beta)));
        }
        let preferred = config.preferred.iter().map(|p| words(p)).filter(|w| !w.is_empty()).collect();
        Ok(Self { preferred, alpha: LogProb::from_prob(config.alpha), beta: LogProb::from_prob(config.beta) })
    }
}

impl GroundedModel for Preference {
    fn name(&self) -> &str {
        "preference"
    }

    fn bind<'a>(&'a self, observation: &Observation) -> Result<Box<dyn BoundModel + 'a>, GroundingError> {
        let others = observation.objects.iter().filter(|o| o.kind.is_pickable()).map(|o| words(&o.name)).filter(|w| !self.preferred.contains(w)).collect();
        Ok(Box::new(BoundPreference { model: self, others }))
    }
}

struct BoundPreference<'a> {
    model: &'a Preference,
    others: Vec<Vec<String>>,
}

impl BoundModel for BoundPreference<'_> {
    fn score(&mut self, prefixes: &[SkillPrefix<'_>]) -> Result<Vec<LogProb>, GroundingError> {
        Ok(prefixes
            .iter()
            .map(|p| {
                // Only the picked object counts: "pick up the X and place it in the Y".
                let head = p.text.split(" and place it").next().unwrap_or(p.text);
                let w = words(head);
                if self.model.preferred.iter().any(|f| mentions(&w, f)) {
                    self.model.alpha
                } else if self.others.iter().any(|f| mentions(&w, f)) {
                    self.model.beta
                } else {
                    self.model.alpha
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{Domain, ObjectKind, SceneObject};

    fn scene() -> Observation {
        let obj = |name: &str, kind| SceneObject::new(name, name, kind, [0.0; 3]);
        Observation::new(Domain::TABLETOP, vec![obj("apple", ObjectKind::Item), obj("chips bag", ObjectKind::Item), obj("brown box", ObjectKind::Box)])
    }

    #[test]
    fn preferred_objects_score_alpha_others_beta() {
        let pref = Preference::new(&PreferenceConfig { preferred: vec!["apple".into()], alpha: 0.5, beta: 0.1 }).unwrap();
        let mut bound = pref.bind(&scene()).unwrap();
        let texts = [
            SkillPrefix::partial("pick up the"),
            SkillPrefix::partial("pick up the apple"),
            SkillPrefix::partial("pick up the chips bag and place it in the"),
            SkillPrefix::complete("pick up the chips bag and place it in the brown box"),
            // Only the picked object counts, not where it goes.
            SkillPrefix::complete("pick up the apple and place it in the brown box"),
        ];
        let p: Vec<f64> = bound.score(&texts).unwrap().iter().map(|s| s.prob()).collect();
        let expect = [0.5, 0.5, 0.1, 0.1, 0.5];
        for (got, want) in p.iter().zip(expect) {
            assert!((got - want).abs() < 1e-6, "{p:?}");
        }
    }

    #[test]
    fn bad_configs_are_refused() {
        let bad = |alpha, beta| Preference::new(&PreferenceConfig { preferred: vec!["apple".into()], alpha, beta }).is_err();
        assert!(bad(0.1, 0.5), "beta above alpha");
        assert!(bad(1.5, 0.1));
        assert!(bad(0.5, 0.0));
        assert!(Preference::new(&PreferenceConfig { preferred: vec![], alpha: 0.5, beta: 0.1 }).is_err());
    }
}
