//! The zenoh nodes: the simulator, the policy and the controller daemon, each declared the
//! same way ([`node`]), the clients of a robot ([`client`], [`remote`]), and every timeout
//! they use, named once ([`timeouts`]). `main` only wires them; `run` does the work.

pub mod bridge;
pub mod client;
pub mod common;
pub mod daemon;
pub mod latch;
pub mod node;
pub mod operator;
pub mod policy;
pub mod remote;
pub mod sim;
pub mod timeouts;
