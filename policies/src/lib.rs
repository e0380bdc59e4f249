//! Skill policies. The tabletop's: a language-conditioned pick-and-place with a suction
//! gripper ([`PickPlace`]), carried out through any [`Arm`] (the simulated one in-process,
//! or one reached over zenoh).

pub mod arm;
pub mod grid;
pub mod kitchen;
pub mod pick_place;

pub use arm::Arm;
pub use pick_place::{Phase, PickPlace, SkillOutcome};
