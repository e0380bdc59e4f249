//! `grounded eval`: success rates of methods on a domain's tasks, closed-loop in simulation.

use super::common::{serve_until_ctrl_c, DomainArg, DomainParser, PlannerArgs};
use anyhow::{Context, Result};
use clap::Args;
use grounded::config::ConfigFile;
use grounded::dashboard::DashboardArgs;
use grounded::planner::Method;
use std::path::PathBuf;
use std::process::ExitCode;

pub const EVAL_EXAMPLES: &str = "Examples:
  grounded eval --episodes 5 --seed 0
  grounded eval --domain grid --episodes 100 --transport local
  grounded eval --domain kitchen --episodes 10 --transport local   (planning and execution success)
  grounded eval --methods llm,gd-beam --tasks matching-bowls,stack-all-blocks --episodes 20 --out episodes.jsonl
  grounded eval --tasks matching-bowls --episodes 2 --save eval.rrd     (every episode in the dashboard)
  grounded eval --skills examples/warehouse/skills.toml --model target/warehouse-model \
      --robot w1 --connect tcp/127.0.0.1:7601 --episodes 3    (your robot's [[task]]s, on your robot)

Episode i of a task uses scene seed (seed * 1000 + i) for every method; the same seed gives the same table.";

/// `--transport`: the simulators this command starts itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TransportArg {
    /// Over zenoh, as in the demo and the daemon: each worker has a sim and a policy node of
    /// its own robot id on one in-process session.
    Zenoh,
    /// Direct calls in each worker (same code paths for decoding, policy and physics).
    Local,
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Domain to evaluate.
    #[arg(long, default_value = "tabletop", value_parser = DomainParser, conflicts_with = "skills")]
    pub domain: DomainArg,
    /// Evaluate a robot of your own: the skill file's [[task]]s (docs/skills.md), each reset
    /// on the robot's `episode` key with its goal and judged by the robot. Needs --robot.
    #[arg(long, value_name = "FILE.toml", requires = "robot")]
    pub skills: Option<PathBuf>,
    /// Run the episodes on robots that are already running, reached over zenoh (--connect):
    /// your own (with --skills), or `grounded sim` and `grounded policy`. One episode at a
    /// time on each robot; comma-separated or repeated for several.
    #[arg(long, value_name = "ROBOT", value_delimiter = ',')]
    pub robot: Vec<String>,
    /// Methods to compare, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = Method::ALL.to_vec())]
    pub methods: Vec<Method>,
    /// Task templates (tabletop), levels (grid) or instructions (kitchen), comma-separated
    /// [default: all of the domain].
    #[arg(long, value_delimiter = ',')]
    pub tasks: Vec<String>,
    /// Episodes per task template and method.
    #[arg(long, default_value_t = 5)]
    pub episodes: usize,
    /// Your own wordings of the tasks, each evaluated on the same episodes as its task's own
    /// wording: a tab-separated file, one `task id<TAB>instruction` per line, `#` comments.
    /// `{place}` and `{word}` (tabletop), `{first}`, `{second}`, `{object}`, `{target}`,
    /// `{colour}` and `{room}` (grid) are filled from each episode (`{WORD}` in capitals,
    /// `{Word}` with each word capitalised). Without --tasks, the
    /// tasks the file names are evaluated. Examples: bench/paraphrases/*.tsv.
    #[arg(long, value_name = "FILE")]
    pub instructions: Option<PathBuf>,
    /// Base seed of the scenes.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Episodes run in parallel [default: the number of cores; with --robot, one per robot].
    #[arg(long, conflicts_with = "robot")]
    pub workers: Option<usize>,
    /// Standard deviation of observation noise (m).
    #[arg(long, default_value_t = 0.0)]
    pub noise: f64,
    /// Also write every episode's record (seed, task, plan, outcomes, tokens, timings) here,
    /// one JSON line each, as the episode finishes: a run cut short (Ctrl-C, SIGTERM, a
    /// crash) keeps every episode that finished. The file is replaced.
    #[arg(long, value_name = "FILE.jsonl")]
    pub out: Option<PathBuf>,
    /// Print the success rates and every episode's record as JSON instead of tables.
    #[arg(long)]
    pub json: bool,
    /// How the controller reaches simulator and policy: over zenoh, or by direct calls
    /// [default: zenoh; with --robot, the robots over zenoh].
    #[arg(long, value_enum, conflicts_with = "robot")]
    pub transport: Option<TransportArg>,
    /// Evaluate asking for help with this calibration (`grounded calibrate`): never asking,
    /// asking when the two best options are within --margin, and the calibrated sets for
    /// each --epsilon, on these seeds (not the calibration's), gd-beam's options, a
    /// simulated operator who answers correctly, skills that never fail.
    #[arg(long, value_name = "CALIBRATION.json", conflicts_with_all = ["robot", "skills", "instructions", "methods", "transport"])]
    pub ask_for_help: Option<PathBuf>,
    /// With --ask-for-help: the epsilons to evaluate, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = grounded::ask::EPSILONS.to_vec(), requires = "ask_for_help")]
    pub epsilon: Vec<f64>,
    /// With --ask-for-help: the baseline asks when the two most confident options'
    /// confidences are within the margin; one row per margin, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = grounded::ask::DEFAULT_MARGINS.to_vec(), requires = "ask_for_help")]
    pub margin: Vec<f64>,
    #[command(flatten)]
    pub zenoh: grounded::nodes::common::CommonArgs,
    #[command(flatten)]
    pub dashboard: DashboardArgs,
    #[command(flatten)]
    pub planner: PlannerArgs,
}

pub fn run(args: EvalArgs, file: &ConfigFile) -> Result<ExitCode> {
    use grounded::eval::{per_task, per_wording, run, tables, EvalConfig, EvalTask, Transport};
    if let Some(calibration) = &args.ask_for_help {
        let ask = super::calibrate::AskEvalArgs {
            calibration,
            epsilons: &args.epsilon,
            margins: &args.margin,
            domain: args.domain.domain(),
            tasks: &args.tasks,
            episodes: args.episodes,
            seed: args.seed,
            workers: args.workers,
            json: args.json,
            out: args.out.as_deref(),
        };
        return super::calibrate::eval_asking(ask, &args.planner, file);
    }
    let domain = match super::common::register_skills(args.skills.as_deref(), &args.planner.options(file).model)? {
        Some(d) => grounded::domains::Domain::id(d),
        None => args.domain.domain(),
    };
    let transport = match args.transport {
        _ if !args.robot.is_empty() => {
            let robots = args.robot.iter().map(|r| protocol::keys::RobotId::new(r)).collect::<Result<Vec<_>, _>>()?;
            Transport::Robots(grounded::eval::Robots { zenoh: args.zenoh.clone(), robots })
        }
        Some(TransportArg::Local) => Transport::Local,
        Some(TransportArg::Zenoh) | None => Transport::Zenoh,
    };
    if args.robot.is_empty() && !args.zenoh.zenoh_endpoints().is_empty() {
        anyhow::bail!(
            "--connect {}: the evaluation starts its own simulators; to run it on robots that are already running there, name them with --robot",
            args.zenoh.zenoh_endpoints().join(",")
        );
    }
    let wordings = match &args.instructions {
        Some(path) => {
            let model = args.planner.options(file).model;
            let alphabet = grounded::lm::LanguageModel::alphabet_of(&model).with_context(|| format!("reading the tokenizer of {}", model.display()))?;
            grounded::wordings::load(path, &grounded::eval::DomainTasks(domain), &alphabet)?
        }
        None => Vec::new(),
    };
    let tasks = if args.tasks.is_empty() && !wordings.is_empty() {
        EvalTask::all(domain).into_iter().filter(|t| wordings.iter().any(|w| w.task == t.id())).collect()
    } else if args.tasks.is_empty() {
        EvalTask::all(domain)
    } else {
        let ids = || EvalTask::all(domain).iter().map(|t| t.id()).collect::<Vec<_>>().join(", ");
        args.tasks
            .iter()
            .map(|t| EvalTask::named(domain, t).ok_or_else(|| anyhow::anyhow!("unknown {domain} task {t:?}; tasks: {}", ids())))
            .collect::<Result<Vec<_>>>()?
    };
    if tasks.is_empty() {
        match &args.skills {
            Some(path) => anyhow::bail!(
                "{} declares no [[task]] to evaluate: add tasks with an id, an instruction and the goal your robot checks (docs/skills.md)",
                path.display()
            ),
            None => anyhow::bail!("domain {domain} has no tasks to evaluate"),
        }
    }
    if !args.robot.is_empty() && args.noise != 0.0 {
        anyhow::bail!("--noise applies to the simulators eval starts itself; a running robot observes with its own noise");
    }
    if !(0.0..=0.05).contains(&args.noise) {
        anyhow::bail!("--noise {} m: use a standard deviation between 0 and 0.05", args.noise);
    }
    let options = args.planner.options(file);
    let config = EvalConfig {
        planner: options,
        methods: args.methods.clone(),
        tasks,
        episodes: args.episodes,
        seed: args.seed,
        // One worker per robot that is already running; else as many as asked or cores.
        workers: match (&transport, args.workers) {
            (Transport::Robots(r), _) => r.robots.len(),
            (_, Some(n)) => n,
            (_, None) => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        },
        observation_noise: args.noise,
        transport,
        dashboard: {
            let mut d = args.dashboard.clone();
            d.connect = args.zenoh.viewer_url()?;
            d.open(false)?
        },
        wordings: wordings.iter().filter(|w| tasks_named(&args.tasks, &w.task)).cloned().collect(),
    };
    let total = grounded::eval::episode_count(&config);
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} episodes ({eta} left)")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let out = match &args.out {
        Some(path) => Some(grounded::journal::JsonLines::new(std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?)),
        None => None,
    };
    // The first error writing --out, reported once the run ends.
    let write_error: std::sync::Mutex<Option<std::io::Error>> = std::sync::Mutex::new(None);
    let records = run(&config, &|done, _, record| {
        if let Some(Err(e)) = out.as_ref().map(|o| o.append(record, false)) {
            write_error.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get_or_insert(e);
        }
        bar.set_position(done as u64)
    })
    .context("running the evaluation")?;
    bar.finish_and_clear();
    config.dashboard.flush();
    if let (Some(path), Some(e)) = (&args.out, write_error.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner)) {
        anyhow::bail!("writing {}: {e}", path.display());
    }
    if args.json {
        let report = serde_json::json!({
            "domain": domain,
            "episodes_per_task": config.episodes,
            "seed": config.seed,
            "success": grounded::eval::success_rates(&records, &config.methods),
            "wall_seconds": started.elapsed().as_secs_f64(),
            "records": records,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("## grounded eval: {domain}, {} episodes per task and method, seed {}, over {}\n", config.episodes, config.seed, config.transport);
        println!("{}", tables(&records, &config.methods));
        println!("Per task template (successes / episodes):\n");
        println!("{}", per_task(&records, &config.methods));
        if !config.wordings.is_empty() {
            println!(
                "Per line of {} (successes / episodes; the task's own wording on the same episodes):\n",
                args.instructions.as_deref().unwrap_or(std::path::Path::new("")).display()
            );
            println!("{}", per_wording(&records, &config.methods, &config.wordings));
        }
        println!("{} episodes in {:.0} s on {} worker(s).", records.len(), started.elapsed().as_secs_f64(), config.workers);
    }
    serve_until_ctrl_c(&args.dashboard)?;
    Ok(ExitCode::SUCCESS)
}

/// Whether `--tasks` (empty: every task) takes in the task `id`.
fn tasks_named(tasks: &[String], id: &str) -> bool {
    tasks.is_empty() || tasks.iter().any(|t| t == id)
}
