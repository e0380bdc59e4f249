//! `grounded scene`: the starting scene (or instruction) of a task, as `plan --scene` reads it.

use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct SceneArgs {
    /// A tabletop task template, a grid level or a kitchen instruction.
    #[arg(long)]
    pub task: String,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print the episode's instruction instead of its scene.
    #[arg(long)]
    pub instruction: bool,
}

pub fn run(args: SceneArgs) -> Result<ExitCode> {
    let state = grounded::nodes::sim::SimState::new(&args.task, args.seed, 0.0).map_err(anyhow::Error::msg)?;
    let summary = state.summary();
    if args.instruction {
        println!("{}", summary.instruction);
    } else {
        let mut start = summary.start;
        start.robot = None;
        println!("{}", serde_json::to_string_pretty(&start)?);
    }
    Ok(ExitCode::SUCCESS)
}
