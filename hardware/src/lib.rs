//! Bridges from `grounded` to real robots, behind one trait ([`RobotBridge`]). The first
//! speaks ROS 2 over rmw_zenoh ([`ros2`]): a ROS 2 robot whose nodes use `rmw_zenoh_cpp` is
//! a zenoh participant, so grounded reaches it through the same zenoh router, with no ROS
//! installation on the controller side.

pub mod bridge;
pub mod frames;
pub mod ros2;

pub use bridge::{BridgeError, RobotBridge, SkillEnd, SkillGoal, SkillProgress};
pub use frames::BaseInTable;
