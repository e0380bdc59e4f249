//! Simulated worlds, one module per domain: the tabletop in rigid-body physics
//! ([`tabletop`]), the grid maze by MiniGrid's rules ([`grid`]) and the kitchen ([`kitchen`]);
//! with the seeded random numbers ([`rng`]) and instruction slots ([`wording`]) they share.

pub mod grid;
pub mod kitchen;
pub mod rng;
pub mod stop;
pub mod tabletop;
pub mod wording;
