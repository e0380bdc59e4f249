//! `grounded bench`: decoder overhead, plan latency, LM tokens per plan, load time, memory.
use crate::setup::{PlannerOptions, SetupError};
use protocol::Observation;
use std::path::Path;

pub fn run(_o: &PlannerOptions, _s: &Observation, _p: &Path, _i: &str, _r: usize) -> Result<String, SetupError> {
    Ok(String::new())
}
