//! Affordance: can this skill be carried out in the observed state?

use crate::model::{BoundModel, Continuation, GroundedModel, GroundingError, NextWords, SkillPrefix};
use crate::score::LogProb;
use crate::trie::SkillTrie;
use protocol::Observation;
use rustc_hash::FxHashMap;

/// A skill text that is admissible in a state, with its feasibility in `(0, 1]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoredSkill {
    pub text: String,
    pub feasibility: f64,
}

/// The skills a robot could carry out in a state: a domain's knowledge (or its policy's).
pub trait SkillSpace: Send + Sync {
    /// Every admissible skill text in this state (including `done`), with its feasibility.
    /// Fails when the knowledge is remote and cannot be reached.
    fn admissible(&self, observation: &Observation) -> Result<Vec<ScoredSkill>, GroundingError>;

    /// Every skill text that could become admissible once other skills have been carried
    /// out (a locked door's `open` before its key is held), naming only what this world
    /// holds and leaving out what is ruled out for good (a target beyond lava the robot
    /// never crosses). It tells a skill the world rules out for now from one it rules out
    /// for good (the instruction named something that is not there): the decoder does not
    /// stop a plan for the first, and grounding turns the step to something feasible.
    /// `None` (the default): the domain does not say, and what is not admissible now counts
    /// as never admissible, so the plan stops. Leave it `None` where doing something else
    /// first would undo progress: the tabletop does, since a wish to pick a covered block
    /// mostly comes after the plan stacked it, and moving the top block away instead would
    /// undo the stack.
    fn conceivable(&self, _observation: &Observation) -> Result<Option<Vec<String>>, GroundingError> {
        Ok(None)
    }

    /// A domain whose skills name things in open vocabulary scores prefixes with its own
    /// model (e.g. text similarity to what was observed, times a detector's box score)
    /// instead of the trie of admissible texts. `None` (the default): the trie.
    fn prefix_model<'a>(&'a self, _observation: &Observation) -> Result<Option<Box<dyn BoundModel + 'a>>, GroundingError> {
        Ok(None)
    }
}

/// A boxed skill space is one (a domain's choice made at run time).
impl<T: SkillSpace + ?Sized> SkillSpace for Box<T> {
    fn admissible(&self, observation: &Observation) -> Result<Vec<ScoredSkill>, GroundingError> {
        (**self).admissible(observation)
    }

    fn conceivable(&self, observation: &Observation) -> Result<Option<Vec<String>>, GroundingError> {
        (**self).conceivable(observation)
    }

    fn prefix_model<'a>(&'a self, observation: &Observation) -> Result<Option<Box<dyn BoundModel + 'a>>, GroundingError> {
        (**self).prefix_model(observation)
    }
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
        if let Some(model) = self.space.prefix_model(observation)? {
            return Ok(model);
        }
        let skills = self.space.admissible(observation)?;
        let trie = SkillTrie::build(skills.iter().map(|s| (s.text.as_str(), LogProb::from_prob(s.feasibility))));
        Ok(Box::new(BoundAffordance { trie, floor: self.floor, words: FxHashMap::default() }))
    }
}

struct BoundAffordance {
    trie: SkillTrie,
    floor: LogProb,
    /// Trie node (or none) of each text up to a word boundary seen so far: the decoder asks
    /// for the same beam text plus one token many times, so only the last word is walked.
    words: FxHashMap<Box<str>, Option<usize>>,
}

impl BoundAffordance {
    fn node(&mut self, text: &str) -> Option<usize> {
        let cut = text.rfind(' ').map_or(0, |i| i + 1);
        let (head, tail) = text.split_at(cut);
        let start = match self.words.get(head) {
            Some(&n) => n,
            None => {
                let n = self.trie.walk_from(0, head.as_bytes());
                self.words.insert(head.into(), n);
                n
            }
        };
        self.trie.walk_from(start?, tail.as_bytes())
    }
}

impl BoundModel for BoundAffordance {
    fn score(&mut self, prefixes: &[SkillPrefix<'_>]) -> Result<Vec<LogProb>, GroundingError> {
        Ok(prefixes
            .iter()
            .map(|p| {
                let node = self.node(p.text);
                if p.complete {
                    node.and_then(|n| self.trie.exact_at(n)).map_or(LogProb::NEVER, |s| s.at_least(self.floor))
                } else {
                    node.and_then(|n| self.trie.best_at(n)).unwrap_or(self.floor).at_least(self.floor)
                }
            })
            .collect())
    }

    fn continuation(&mut self, prefix: &str) -> Option<Continuation> {
        let node = self.node(prefix)?;
        let (bytes, mut ends_skill) = self.trie.only_way_on(node);
        // Skill texts are UTF-8; a way on that stops inside a character keeps what precedes it.
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                ends_skill = false;
                let valid = e.utf8_error().valid_up_to();
                let mut bytes = e.into_bytes();
                bytes.truncate(valid);
                String::from_utf8(bytes).ok()?
            }
        };
        (!text.is_empty() || ends_skill).then_some(Continuation { text, ends_skill })
    }

    fn next_words(&mut self, prefix: &str, limit: usize) -> Option<NextWords> {
        let Some(node) = self.node(prefix) else { return Some(NextWords::default()) };
        // Skill texts are UTF-8 and words end at a space, so a word is whole characters, unless
        // the prefix stops inside one: such a word is left out.
        let words = self.trie.next_words(node, limit).into_iter().filter_map(|(bytes, ends)| String::from_utf8(bytes).ok().map(|w| (w, ends))).collect();
        Some(NextWords { words, ends_here: self.trie.ends_at(node) })
    }
}
