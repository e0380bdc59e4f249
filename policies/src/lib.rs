//! Skill policies, one module per domain: the tabletop's pick-and-place ([`tabletop`]), the
//! grid maze's navigation and object handling ([`grid`]), the kitchen's mobile manipulation
//! ([`kitchen`]); each carries a skill out on the robot's primitives and says how it ended
//! ([`SkillOutcome`]).

pub mod grid;
pub mod kitchen;
pub mod outcome;
pub mod tabletop;

pub use outcome::SkillOutcome;
pub use tabletop::{Arm, Phase, PickPlace};
