//! Bridges from `grounded` to real robots. The first speaks ROS 2 over rmw_zenoh ([`ros2`]):
//! a ROS 2 robot whose nodes use `rmw_zenoh_cpp` is a zenoh participant, so grounded reaches
//! it through the same zenoh router, with no ROS installation on the controller side.

pub mod ros2;
