//! `grounded bench`: decoder overhead, plan latency and LM tokens of every method.

use super::common::{spinner, PlannerArgs};
use anyhow::{Context, Result};
use clap::Args;
use grounded::config::ConfigFile;
use grounded::setup::{build_planner, load_scene};
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
    /// The methods to plan with (gd-beam runs with both searches).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = grounded::planner::Method::ALL)]
    pub methods: Vec<grounded::planner::Method>,
    /// Plan on the one scene only: no tabletop suite, physics or grid timing (for models
    /// whose every pass is slow: e.g. tools/random-model.py's large vocabularies).
    #[arg(long)]
    pub scene_only: bool,
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
    /// Measure the prefix cache instead: prefill tokens, prefill and plan latency with the
    /// cache and without it, for another instruction after the first (same few-shot
    /// prefix), the same instruction again, a replan after a failed skill (a block knocked
    /// 5 cm) and the operator's clarification. Needs a few-shot prompt (--prompt; default
    /// bench/prefix-cache/few-shot.txt, 539 tokens) and a model whose context holds it
    /// (bash bench/prefix-cache/run.sh makes one).
    #[arg(long, conflicts_with = "estop")]
    pub prefix_cache: bool,
    /// With --prefix-cache: the second instruction.
    #[arg(long, default_value = "stack all the blocks", requires = "prefix_cache")]
    pub other_instruction: String,
    /// With --prefix-cache: the operator's words after "none of these".
    #[arg(long, default_value = "the red one first", requires = "prefix_cache")]
    pub clarification: String,
    /// Sweep the scene's size instead: plan the instruction on tabletop scenes of each of
    /// these numbers of objects (blocks and bowls of matching colours, then items; at most
    /// 42) with gd-greedy, gd-beam and SayCan, and report the admissible skills per step, LM
    /// tokens, passes and plan latency of each.
    #[arg(long, value_delimiter = ',', value_name = "SIZES", conflicts_with_all = ["estop", "prefix_cache"])]
    pub objects: Vec<usize>,
    /// Measure the GPU's top-k kernel instead (with --device cuda): log-softmax and top-k
    /// (--top-k) over rows x vocabulary logits already on the GPU: the kernels alone (CUDA
    /// events) and a whole call (offsets up, results down), each as time and as effective
    /// bandwidth against the device's own (a 1 GiB device-to-device copy).
    #[arg(long, conflicts_with_all = ["estop", "prefix_cache", "objects"])]
    pub top_k_kernel: bool,
    /// With --top-k-kernel: the batch sizes (rows of logits) to sweep.
    #[arg(long, value_delimiter = ',', value_name = "ROWS", default_values_t = [1usize, 4, 16, 64, 256], requires = "top_k_kernel")]
    pub kernel_rows: Vec<usize>,
    /// With --top-k-kernel: the vocabulary sizes to sweep.
    #[arg(long, value_delimiter = ',', value_name = "SIZES", default_values_t = [4096usize, 50257, 151936], requires = "top_k_kernel")]
    pub kernel_vocab: Vec<usize>,
    /// With --estop: seeds the delays before each stop.
    #[arg(long, default_value_t = 0, requires = "estop")]
    pub seed: u64,
    #[command(flatten)]
    pub planner: PlannerArgs,
}

/// A benchmark's report: its JSON with --json, else its Markdown; the Markdown to --out too.
fn emit(args: &BenchArgs, json: &impl serde::Serialize, markdown: &str) -> Result<ExitCode> {
    if args.json {
        println!("{}", serde_json::to_string_pretty(json)?);
    } else {
        print!("{markdown}");
    }
    if let Some(path) = &args.out {
        std::fs::write(path, markdown).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
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
    emit(args, &rows, &markdown)
}

fn run_prefix_cache(args: &BenchArgs, file: &ConfigFile) -> Result<ExitCode> {
    let mut options = args.planner.options(file);
    options.config.validate()?;
    if options.prompt.is_none() {
        options.prompt = Some(PathBuf::from("bench/prefix-cache/few-shot.txt"));
    }
    let scene = load_scene(&args.scene)?;
    // A failed pick-and-place knocked the first block 5 cm aside.
    let mut after_failure = scene.clone();
    if let Some(block) = after_failure.objects.iter_mut().find(|o| o.kind == protocol::ObjectKind::Block) {
        block.position[0] += 0.05;
    }
    let bench = grounded::bench::prefix_cache::PrefixCacheBench {
        scene: &scene,
        after_failure: &after_failure,
        first: &args.instruction,
        second: &args.other_instruction,
        clarification: &args.clarification,
        repeats: args.repeats.max(1),
    };
    let spinner = spinner(format!("planning each case {} times with and without the prefix cache", bench.repeats));
    let results = grounded::bench::prefix_cache::run(&options, &bench).context("running the prefix cache benchmark");
    spinner.finish_and_clear();
    let (prefix_tokens, results) = results?;
    let markdown = grounded::bench::prefix_cache::markdown(&options, prefix_tokens, bench.repeats, &results);
    emit(args, &serde_json::json!({"prefix_tokens": prefix_tokens, "cases": results}), &markdown)
}

fn run_objects(args: &BenchArgs, file: &ConfigFile) -> Result<ExitCode> {
    let options = args.planner.options(file);
    options.config.validate()?;
    let mut planner = build_planner(&options).with_context(|| format!("loading the planner (model {})", options.model.display()))?;
    let repeats = args.repeats.max(1);
    let spinner = spinner(format!("planning on scenes of {:?} objects, {repeats} plans per method", args.objects));
    let rows = grounded::bench::objects::sweep(&mut planner, &args.objects, &args.instruction, repeats).context("running the scene-size sweep");
    spinner.finish_and_clear();
    let rows = rows?;
    let markdown = grounded::bench::objects::markdown(&rows, &args.instruction, repeats);
    emit(args, &rows, &markdown)
}

fn run_top_k_kernel(args: &BenchArgs, file: &ConfigFile) -> Result<ExitCode> {
    let options = args.planner.options(file);
    options.config.validate()?;
    if !options.device.is_cuda() {
        anyhow::bail!("--top-k-kernel measures the GPU kernel: add --device cuda (or cuda:N)");
    }
    if args.kernel_rows.iter().chain(&args.kernel_vocab).any(|&n| n == 0) {
        anyhow::bail!("--kernel-rows and --kernel-vocab take sizes of 1 or more");
    }
    let report = grounded::bench::top_k_kernel::run(options.device, &args.kernel_rows, &args.kernel_vocab, options.config.top_k, args.repeats.max(1))
        .context("running the top-k kernel benchmark")?;
    emit(args, &report, &grounded::bench::top_k_kernel::markdown(&report))
}

pub fn run(args: BenchArgs, file: &ConfigFile) -> Result<ExitCode> {
    // Fail before minutes of measuring, not after (the check leaves an existing file as is).
    if let Some(path) = &args.out {
        drop(super::common::Output::check(path)?);
    }
    if args.top_k_kernel {
        return run_top_k_kernel(&args, file);
    }
    if args.estop {
        return run_estop(&args, file);
    }
    if args.prefix_cache {
        return run_prefix_cache(&args, file);
    }
    if !args.objects.is_empty() {
        return run_objects(&args, file);
    }
    let scene = load_scene(&args.scene)?;
    let options = args.planner.options(file);
    options.config.validate()?;
    let spinner = spinner(format!("benchmarking every method, {} plans each", args.repeats.max(1)));
    let run = grounded::bench::BenchRun {
        scene: &scene,
        scene_path: &args.scene,
        instruction: &args.instruction,
        repeats: args.repeats.max(1),
        methods: args.methods.clone(),
        scene_only: args.scene_only,
    };
    let report = grounded::bench::run(&options, &run).context("running the benchmark");
    spinner.finish_and_clear();
    let report = report?;
    emit(&args, &report.json, &report.markdown)
}
