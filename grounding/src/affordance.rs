//! Affordance: can this skill be carried out in the observed state?

use crate::model::{BoundModel, GroundedModel, GroundingError, SkillPrefix};
use crate::score::LogProb;
use crate::trie::SkillTrie;
use protocol::Observation;

/// A skill text that is admissible in a state, with its feasibility in `(0, 1]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoredSkill {
    pub text: String,
    pub feasibility: f64,
}

/// The skills a robot could carry out in a state: a domain's knowledge (or its policy's).
pub trait SkillSpace: Send + Sync {
    /// Every admissible skill text in this state (including `done`), with its feasibility.
    fn admissible(&self, observation: &Observation) -> Vec<ScoredSkill>;
}

/// Scores a prefix by its best feasible completion among the admissible skills; a prefix no
/// admissible skill starts with gets the floor. A finished skill text that is not admissible
/// gets probability zero: grounded decoding never hands such a skill to a policy.
pub struct Affordance {
    space: Box<dyn SkillSpace>,
    floor: LogProb,
}

impl Affordance {
    /// `floor` is the probability given to text no admissible skill starts with (e.g. 1e-6).
    pub fn new(space: impl SkillSpace + 'static, floor: f64) -> Self {
        Self { space: Box::new(space), floor: LogProb::from_prob(floor) }
    }

    pub fn space(&self) -> &dyn SkillSpace {
        self.space.as_ref()
    }
}

impl GroundedModel for Affordance {
    fn name(&self) -> &str {
        "affordance"
    }

    fn bind<'a>(&'a self, observation: &Observation) -> Result<Box<dyn BoundModel + 'a>, GroundingError> {
        let skills = self.space.admissible(observation);
        let trie = SkillTrie::build(skills.iter().map(|s| (s.text.as_str(), LogProb::from_prob(s.feasibility))));
        Ok(Box::new(BoundAffordance { trie, floor: self.floor }))
    }
}

struct BoundAffordance {
    trie: SkillTrie,
    floor: LogProb,
}

impl BoundModel for BoundAffordance {
    fn score(&mut self, prefixes: &[SkillPrefix<'_>]) -> Result<Vec<LogProb>, GroundingError> {
        Ok(prefixes
            .iter()
            .map(|p| {
                if p.complete {
                    self.trie.exact(p.text).map_or(LogProb::NEVER, |s| s.at_least(self.floor))
                } else {
                    self.trie.best_completion(p.text).unwrap_or(self.floor).at_least(self.floor)
                }
            })
            .collect())
    }
}
