//! What every robot bridge does, whatever the robot speaks: say what the robot observes,
//! score skills, carry one out with progress and a way to cancel it, and stop.

use protocol::Observation;
use std::sync::atomic::AtomicBool;

/// A skill for the robot: its text, and its parts where its template is known.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SkillGoal {
    pub skill: String,
    /// The template it fills (`put the {parcel} on the {shelf}`), where known.
    pub template: Option<String>,
    /// Each slot's name and the words filling it, in order.
    pub slots: Vec<(String, String)>,
}

/// How far a skill has come.
#[derive(Clone, Debug, PartialEq)]
pub struct SkillProgress {
    pub phase: String,
    /// 0 to 1.
    pub fraction: f32,
}

/// How a skill ended on the robot.
#[derive(Clone, Debug, PartialEq)]
pub struct SkillEnd {
    pub success: bool,
    pub reason: Option<String>,
}

/// Why the robot could not be asked, or did not answer.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BridgeError {
    #[error("the robot has not said what it observes{0}")]
    NoObservation(String),
    #[error("the robot did not answer {what} within {seconds:.1} s: is its server running, on the same ROS domain and namespace?")]
    Timeout { what: String, seconds: f64 },
    #[error("the robot refused {what}: {reason}")]
    Refused { what: String, reason: String },
    #[error("{what}: {reason}")]
    Protocol { what: String, reason: String },
    #[error("zenoh: {0}")]
    Zenoh(String),
}

/// A robot reached through a bridge.
pub trait RobotBridge: Send + Sync {
    /// What the robot observes now, in grounded's table frame.
    fn observe(&self) -> Result<Observation, BridgeError>;
    /// One score per skill text, in order, 0 (cannot be done here) to 1.
    fn affordance(&self, skills: &[String], scene: &Observation) -> Result<Vec<f32>, BridgeError>;
    /// Carry a skill out; `progress` hears each report; when `cancel` is set, the robot is told
    /// to stop the skill, and the call returns once it has ended.
    fn execute(&self, goal: &SkillGoal, progress: &mut dyn FnMut(SkillProgress), cancel: &AtomicBool) -> Result<SkillEnd, BridgeError>;
    /// Tell the robot the emergency stop is engaged (stopping any skill under way) or released.
    fn estop(&self, engaged: bool, reason: Option<&str>) -> Result<(), BridgeError>;
}
