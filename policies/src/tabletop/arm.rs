//! What a policy needs of a robot arm.

use protocol::Observation;
use sim::tabletop::{ArmState, World};

/// A robot arm with a suction cup, and the robot's view of the world.
pub trait Arm {
    /// The current observation of the scene.
    fn observe(&mut self) -> Result<Observation, String>;
    /// Move the cup's tip in a straight line to `position` at `speed` (m/s).
    fn move_to(&mut self, position: [f64; 3], speed: f64) -> Result<ArmState, String>;
    /// Suction on (grip what the cup touches) or off (release).
    fn suction(&mut self, on: bool) -> Result<ArmState, String>;
    /// Let time pass.
    fn wait(&mut self, seconds: f64) -> Result<ArmState, String>;
}

impl Arm for World {
    fn observe(&mut self) -> Result<Observation, String> {
        Ok(World::observe(self))
    }
    fn move_to(&mut self, position: [f64; 3], speed: f64) -> Result<ArmState, String> {
        World::move_to(self, position, speed).map_err(|e| e.to_string())
    }
    fn suction(&mut self, on: bool) -> Result<ArmState, String> {
        World::suction(self, on).map_err(|e| e.to_string())
    }
    fn wait(&mut self, seconds: f64) -> Result<ArmState, String> {
        World::wait(self, seconds).map_err(|e| e.to_string())
    }
}
