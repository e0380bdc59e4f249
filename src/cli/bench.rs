//! `grounded bench`: decoder overhead, plan latency and LM tokens of every method.

use super::common::{spinner, PlannerArgs};
use anyhow::{Context, Result};
use clap::Args;
use grounded::config::ConfigFile;
use grounded::setup::load_scene;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// The scene to plan in.
    #[arg(long, value_name = "FILE", default_value = "examples/scenes/ten-objects.json")]
    pub scene: PathBuf,
    /// Instruction to plan.
    #[arg(long, default_value = "put the blocks in the bowls with matching colours")]
    pub instruction: String,
    /// Plans per method (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub repeats: usize,
    /// Write the report (Markdown) here as well as to stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print the numbers as JSON instead of the Markdown report.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub planner: PlannerArgs,
}

pub fn run(args: BenchArgs, file: &ConfigFile) -> Result<ExitCode> {
    let scene = load_scene(&args.scene)?;
    let options = args.planner.options(file);
    options.config.validate()?;
    let spinner = spinner(format!("benchmarking every method, {} plans each", args.repeats.max(1)));
    let report = grounded::bench::run(&options, &scene, &args.scene, &args.instruction, args.repeats.max(1)).context("running the benchmark");
    spinner.finish_and_clear();
    let report = report?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report.json)?);
    } else {
        print!("{}", report.markdown);
    }
    if let Some(path) = &args.out {
        std::fs::write(path, &report.markdown).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}
