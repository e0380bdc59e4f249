//! The tabletop's policy: language-conditioned pick-and-place with a suction gripper
//! ([`PickPlace`]), through any [`Arm`] (the simulated one in-process, or one reached over the
//! robot's primitives).

pub mod arm;
pub mod pick_place;

pub use arm::Arm;
pub use pick_place::{Phase, PickPlace};
