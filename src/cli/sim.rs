//! `grounded sim`: the simulator as a zenoh node.

use super::common::{parse_cell, robot_keys, runtime, wait_for_ctrl_c, NodeArgs};
use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct SimArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    /// Task template of the first episode (episodes can be reset over zenoh).
    #[arg(long, default_value = "matching-bowls")]
    pub task: String,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Standard deviation of observation noise (m).
    #[arg(long, default_value_t = 0.0)]
    pub noise: f64,
    /// Grid: a cell the agent must never enter, as X,Y; repeatable.
    #[arg(long, value_name = "X,Y", value_parser = parse_cell)]
    pub forbid_cell: Vec<(u32, u32)>,
    /// Start with the emergency stop engaged: nothing moves until `grounded estop --release`.
    /// (A sim holds its stop in memory: a restarted sim starts released unless told this;
    /// policies and daemons that heard an engage stay stopped until they read a release.)
    #[arg(long)]
    pub start_stopped: bool,
    /// Tabletop motions take as long on the wall clock as in simulated time, as on a real
    /// arm (default: as fast as the machine runs them).
    #[arg(long)]
    pub real_time: bool,
}

pub fn run(args: SimArgs) -> Result<ExitCode> {
    let keys = robot_keys(&args.node.robot)?;
    let mut state = grounded::nodes::sim::SimState::new(&args.task, args.seed, args.noise).map_err(anyhow::Error::msg)?;
    if args.real_time {
        state = state.real_time().map_err(anyhow::Error::msg)?;
    }
    state.forbid_cells(&args.forbid_cell).map_err(anyhow::Error::msg)?;
    if args.start_stopped {
        state = state.start_stopped();
    }
    runtime()?.block_on(async {
        let session = args.node.zenoh.open().await?;
        eprintln!("sim: robot {} serving {} (task {}, seed {})", keys.robot(), keys.primitives(), args.task, args.seed);
        tokio::select! {
            r = grounded::nodes::sim::run(session, keys, state) => r?,
            _ = wait_for_ctrl_c() => {}
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
