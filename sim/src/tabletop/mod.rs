//! The tabletop: rigid-body physics (rapier3d) with a suction arm ([`world`]), the paper's
//! 20 task templates with seeded scenes and success checks on ground truth ([`tasks`]), and
//! the objects they draw from ([`catalog`]).

pub mod catalog;
pub mod tasks;
pub mod world;

pub use tasks::{generate, judge, task_named, Episode, Family, Row, Split, Task, ASKING_TASKS, TASKS};
pub use world::{ArmError, ArmState, World, WorldConfig};
