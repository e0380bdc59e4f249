//! The bounds every message from the network is held to, named once. A value outside them
//! is refused when the message is decoded ([`crate::messages::decode`]), before any
//! component acts on it: a peer cannot hang a simulator with a crawling arm, make its clock
//! infinite with a long wait, or grow a node's memory with a long text.

/// The slowest arm motion accepted, in m/s: a metre takes at most 100 s of simulated motion.
pub const MIN_ARM_SPEED: f64 = 0.01;

/// The fastest arm motion accepted, in m/s.
pub const MAX_ARM_SPEED: f64 = 2.0;

/// The longest a single `wait` primitive may let the world run, in simulated seconds.
pub const MAX_WAIT_SECONDS: f64 = 30.0;

/// The longest instruction accepted, in bytes (a spoken instruction is a sentence or two).
pub const MAX_INSTRUCTION_LEN: usize = 2048;

/// The longest words an operator's answer carries ("none of these: ..."), in bytes.
pub const MAX_ANSWER_LEN: usize = 512;

/// The longest id, in bytes: a client-chosen instruction id, a question's, an observed object's.
pub const MAX_ID_LEN: usize = 128;

/// The most texts one affordance query may ask to score.
pub const MAX_AFFORDANCE_TEXTS: usize = 1024;

/// The largest simulated clock reading accepted, in seconds (about 31 years): anything above
/// is a broken or hostile clock.
pub const MAX_SIM_SECONDS: f64 = 1e9;

/// Whether `x` is a finite number of seconds on a simulated clock.
pub fn valid_sim_seconds(x: f64) -> bool {
    x.is_finite() && (0.0..=MAX_SIM_SECONDS).contains(&x)
}
