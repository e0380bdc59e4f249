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
    /// Measure the emergency stop instead: from its put to the arm halted (wall clock and
    /// simulated motion after the stop), over real zenoh sessions on loopback, quiet and
    /// under an instruction flood at the daemon. --repeats is then the number of stops per
    /// condition (100 for the BENCHMARKS.md figures).
    #[arg(long)]
    pub estop: bool,
    /// With --estop: the instruction floods to measure under, in instructions per second
    /// (0: as fast as one thread puts them; none: no flood, and no model loaded for the
    /// daemon). A flood that fills the CPUs measures the machine as much as the stop.
    #[arg(long, value_delimiter = ',', default_values_t = [1000u64, 0], requires = "estop", value_name = "RATES")]
    pub flood: Vec<u64>,
    /// With --estop: no flood at all.
    #[arg(long, requires = "estop", conflicts_with = "flood")]
    pub no_flood: bool,
    /// With --estop: seeds the delays before each stop.
    #[arg(long, default_value_t = 0, requires = "estop")]
    pub seed: u64,
    #[command(flatten)]
    pub planner: PlannerArgs,
}

fn run_estop(args: &BenchArgs, file: &ConfigFile) -> Result<ExitCode> {
    let options = args.planner.options(file);
    options.config.validate()?;
    let bench = grounded::bench::estop::EStopBench {
        tries: args.repeats.max(1),
        seed: args.seed,
        flood_rates: if args.no_flood { Vec::new() } else { args.flood.clone() },
    };
    let spinner = spinner(format!("stopping the arm {} times per condition", bench.tries));
    let rows = grounded::bench::estop::run(&options, &bench).context("running the emergency stop benchmark");
    spinner.finish_and_clear();
    let rows = rows?;
    let markdown = grounded::bench::estop::markdown(&rows);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print!("{markdown}");
    }
    if let Some(path) = &args.out {
        std::fs::write(path, &markdown).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run(args: BenchArgs, file: &ConfigFile) -> Result<ExitCode> {
    if args.estop {
        return run_estop(&args, file);
    }
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
