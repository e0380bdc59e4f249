//! Simulated worlds. The tabletop: rigid-body physics (rapier3d) with a suction arm, the 20
//! task templates of the paper (docs/method.md) with seeded scenes and success checks on ground truth.

pub mod catalog;
pub mod grid;
pub mod kitchen;
pub mod rng;
pub mod tasks;
pub mod wording;
pub mod world;

pub use tasks::{generate, judge, task_named, Episode, Family, Row, Split, Task, TASKS};
pub use world::{ArmError, ArmState, World, WorldConfig};
