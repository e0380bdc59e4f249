//! The zenoh nodes of the tabletop domain: the simulator, the policy and the controller
//! daemon, each a loop over its queryables and subscribers, plus the zenoh clients the
//! daemon uses to reach the others. `main` only wires them; `run` does the work.

pub mod common;
pub mod daemon;
pub mod policy;
pub mod remote;
pub mod sim;
