//! Subcommands of the `grounded` program.

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use grounded::config::ConfigFile;
use grounded::dashboard::DashboardArgs;
use grounded::decoder::{score_text as score, DecodeConfig, Search};
use grounded::planner::{Method, PlanResult, StepExplanation, StepOutcome};
use grounded::setup::{build_planner, load_scene, PlannerOptions};
use std::path::PathBuf;
use std::process::ExitCode;

const ABOUT: &str = "Grounded Decoding: a language model plans robot skills, and grounded models of the \
robot's world (affordance, safety, preference) weigh every token it writes.";

const PLAN_EXAMPLES: &str = "Examples:
  grounded plan --scene examples/scenes/blocks-and-bowls.json \"put the blocks in the bowls with matching colours\"
  grounded plan --scene examples/scenes/ten-objects.json --method saycan \"stack all the blocks\"
  grounded plan --scene examples/scenes/box-packing.json --safety examples/grounding/safety-red-knife.json \"pack the brown box\"
  grounded plan --scene examples/scenes/blocks-and-bowls.json --explain \"put the blocks in the bowls with matching colours\"
  grounded plan --scene examples/scenes/letters.json --json \"spell the word love\" > plan.json

Methods:
  llm        the language model alone (greedy, no grounding)
  saycan     score every admissible skill whole: LM likelihood x affordance
  gd-greedy  grounded decoding, one token at a time (the paper's Algorithm 1)
  gd-beam    grounded decoding with beam search (default)

A scene is JSON: {\"domain\": \"tabletop\", \"objects\": [{\"id\": \"b1\", \"name\": \"red block\",
\"kind\": \"block\", \"position\": [x, y, z]}, ...]} with kinds block, bowl, letter, item, box.";

const TOP_EXAMPLES: &str = "Start here:
  grounded demo                     one episode, closed-loop, with a printed account
  grounded demo --serve             ... and the dashboard in your browser (open the address it prints)
  grounded plan --scene examples/scenes/blocks-and-bowls.json --explain \"put the blocks in the bowls with matching colours\"
  grounded eval --episodes 5        success rates of every method on all 20 tabletop tasks
  grounded config > grounded.toml   every decoder and grounded-model setting, documented

Exit status (every command):
  0  success
  1  an error: bad input, a missing model or ONNX Runtime, a network failure (the message says which)
  2  a usage error: unknown flag or bad flag value (clap's message)
  3  the robot did not succeed: the episode failed its check (demo) or the plan did not end in done (send)

Logs: RUST_LOG=grounded=debug or -v / -vv; logs go to stderr, results to stdout.";

#[derive(Parser, Debug)]
#[command(name = "grounded", version, about = ABOUT, after_help = TOP_EXAMPLES)]
pub struct Cli {
    /// More log output (-v: debug, -vv: trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Configuration file (TOML) with decoder and grounded-model settings; flags override it.
    /// `grounded config` prints one with every default.
    #[arg(long, value_name = "FILE", global = true, env = "GROUNDED_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run one episode closed-loop (tabletop; the grid maze with --domain grid; the kitchen
    /// with --domain kitchen): simulator, policy and controller in one process, talking over
    /// a real zenoh session. Start here.
    #[command(after_help = DEMO_EXAMPLES)]
    Demo(DemoArgs),
    /// Plan the skills for an instruction in a scene (open-loop: each skill's effect is
    /// applied to the scene before the next is decoded).
    #[command(after_help = PLAN_EXAMPLES)]
    Plan(PlanArgs),
    /// Evaluate methods on every task of a domain (tabletop templates, grid levels with
    /// --domain grid, kitchen instructions with --domain kitchen), closed-loop in simulation,
    /// and print tables of success rates shaped like the paper's (docs/method.md).
    #[command(after_help = EVAL_EXAMPLES)]
    Eval(EvalArgs),
    /// Measure decoder overhead, plan latency and LM tokens per plan for every method, and
    /// write BENCHMARKS.md.
    #[command(after_help = "Example:\n  grounded bench --top-k 10 --out BENCHMARKS.md")]
    Bench(BenchArgs),
    /// Run the simulator as a zenoh node (serves the arm, the state and episodes; a tabletop
    /// task, a grid level or a kitchen instruction).
    #[command(after_help = NODE_EXAMPLES)]
    Sim(SimArgs),
    /// Run the skill policies as a zenoh node (executes skills in whatever domain the sim runs,
    /// answers affordances).
    #[command(after_help = NODE_EXAMPLES)]
    Policy(NodeArgs),
    /// Run the controller daemon: takes instructions over zenoh, plans closed-loop.
    #[command(after_help = NODE_EXAMPLES)]
    Daemon(DaemonArgs),
    /// Send an instruction to a robot's daemon and follow its progress until the plan ends
    /// (exit status 0 when the plan said done, 3 when it hit the step limit or was aborted).
    #[command(
        after_help = "Examples:\n  grounded send --robot r1 --connect tcp/127.0.0.1:7501 \"stack all the blocks\"\n  grounded send --robot r1 --connect tcp/127.0.0.1:7501 --json \"pack the brown box\" | jq .status"
    )]
    Send(SendArgs),
    /// Run a zenoh router (for components on several machines).
    #[command(
        after_help = "Example:\n  grounded router --listen tcp/0.0.0.0:7447\n  (then every component with --mode client --connect tcp/ROUTER_HOST:7447)"
    )]
    Router(RouterArgs),
    /// Print the starting scene of a task, grid level or kitchen instruction as JSON (what
    /// `plan --scene` reads).
    #[command(
        after_help = "Examples:\n  grounded scene --task pack-brown-box --seed 3 > scene.json\n  grounded scene --task locked-room > maze.json && grounded plan --scene maze.json \"$(grounded scene --task locked-room --instruction)\"\n  grounded scene --task healthy --seed 2 > kitchen.json   (the kitchen as the robot has seen it)"
    )]
    Scene(SceneArgs),
    /// Print a configuration file with every setting at its default, each explained
    /// (or, with --config, check that file and print the settings it gives).
    #[command(after_help = "Examples:\n  grounded config > grounded.toml\n  grounded --config grounded.toml config --json")]
    Config(ConfigArgs),
}

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

#[derive(Args, Debug)]
pub struct ConfigArgs {
    /// Print the settings in effect (defaults, then --config) as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The domains (docs/method.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DomainArg {
    /// Tabletop rearrangement in rapier3d physics (20 task templates).
    Tabletop,
    /// The grid maze, MiniGrid's rules (levels open-doors, put-next, locked-room, multi-room,
    /// blocked-unlock-pickup).
    Grid,
    /// Kitchen mobile manipulation after SayCan's kitchen (18 objects, 5 locations; 8
    /// unambiguous and 10 ambiguous instructions, e.g. spill, healthy, bring-apple).
    Kitchen,
}

impl DomainArg {
    fn domain(self) -> protocol::Domain {
        match self {
            DomainArg::Tabletop => protocol::Domain::Tabletop,
            DomainArg::Grid => protocol::Domain::Grid,
            DomainArg::Kitchen => protocol::Domain::Kitchen,
        }
    }
}

/// Model and grounded-model options shared by every command that plans. Each flag beats
/// the configuration file (--config), which beats the built-in default shown here.
#[derive(Args, Debug, Clone, Default)]
pub struct PlannerArgs {
    /// Model directory in the standard ONNX export layout (model.onnx, tokenizer.json,
    /// config.json) [default: the shipped models/planner-gpt2]
    #[arg(long, value_name = "DIR", help_heading = "Planner")]
    pub model: Option<PathBuf>,
    /// Candidate tokens per beam and step, by LM probability [default: 20]
    #[arg(long, help_heading = "Planner")]
    pub top_k: Option<usize>,
    /// Beams kept per step (gd-beam) [default: 2]
    #[arg(long, help_heading = "Planner")]
    pub beam_width: Option<usize>,
    /// Probability the affordance gives text that no admissible skill starts with [default: 1e-6]
    #[arg(long, help_heading = "Planner")]
    pub floor: Option<f64>,
    /// Most tokens in one skill [default: 32]
    #[arg(long, help_heading = "Planner")]
    pub max_skill_tokens: Option<usize>,
    /// Most steps in one plan [default: 16]
    #[arg(long, help_heading = "Planner")]
    pub max_steps: Option<usize>,
    /// Beam pruning: drop candidates this many nats behind the step's best ("inf": never) [default: 10]
    #[arg(long, help_heading = "Planner")]
    pub beam_margin: Option<f32>,
    /// Smallest per-step normaliser of grounded decoding (1 turns renormalisation off) [default: 0.05]
    #[arg(long, help_heading = "Planner")]
    pub renorm_floor: Option<f64>,
    /// How gd-beam walks the candidates; both choose the same skill [default: best-first]
    #[arg(long, value_enum, help_heading = "Planner")]
    pub search: Option<Search>,
    /// Safety rules (JSON: {"forbidden": ["red", "knife"], "mode": "hard"|"soft", "epsilon": 0.001}).
    #[arg(long, value_name = "FILE", help_heading = "Planner")]
    pub safety: Option<PathBuf>,
    /// Preferred objects (JSON: {"preferred": ["apple"], "alpha": 0.5, "beta": 0.1}).
    #[arg(long, value_name = "FILE", help_heading = "Planner")]
    pub preference: Option<PathBuf>,
    /// A learned ONNX grounded model (directory with scorer.onnx and scorer.json); repeatable.
    #[arg(long, value_name = "DIR", help_heading = "Planner")]
    pub scorer: Vec<PathBuf>,
    /// Weight of a grounded model in the decoding rule, e.g. --weight safety=2 (default 1); repeatable.
    #[arg(long, value_name = "NAME=W", value_parser = parse_weight, help_heading = "Planner")]
    pub weight: Vec<(String, f32)>,
    /// ONNX Runtime threads for the language model [default: 1]
    #[arg(long, help_heading = "Planner")]
    pub threads: Option<usize>,
}

fn parse_cell(s: &str) -> Result<(u32, u32), String> {
    let (x, y) = s.split_once(',').ok_or_else(|| format!("{s:?} is not X,Y, e.g. 3,4"))?;
    let n = |v: &str| v.trim().parse::<u32>().map_err(|_| format!("{v:?} in {s:?} is not a cell coordinate (0 or more)"));
    Ok((n(x)?, n(y)?))
}

fn parse_weight(s: &str) -> Result<(String, f32), String> {
    let (name, w) = s.split_once('=').ok_or_else(|| format!("{s:?} is not NAME=WEIGHT, e.g. safety=2"))?;
    let w: f32 = w.trim().parse().map_err(|_| format!("{w:?} is not a number"))?;
    if !w.is_finite() || w < 0.0 {
        return Err(format!("weight {w} must be a finite number >= 0"));
    }
    Ok((name.trim().to_string(), w))
}

impl PlannerArgs {
    /// The planner's options: these flags over the configuration file over the defaults.
    pub fn options(&self, file: &ConfigFile) -> PlannerOptions {
        let base = file.decoder_config(&DecodeConfig::default());
        let mut weights: Vec<(String, f32)> = file.grounding.weights.iter().map(|(k, v)| (k.clone(), *v)).collect();
        for (name, w) in &self.weight {
            weights.retain(|(n, _)| n != name);
            weights.push((name.clone(), *w));
        }
        PlannerOptions {
            model: self.model.clone().or_else(|| file.model.dir.clone()).unwrap_or_else(grounded::default_model_dir),
            threads: self.threads.or(file.model.threads).unwrap_or(1),
            config: DecodeConfig {
                top_k: self.top_k.unwrap_or(base.top_k),
                beam_width: self.beam_width.unwrap_or(base.beam_width),
                floor: self.floor.unwrap_or(base.floor),
                max_skill_tokens: self.max_skill_tokens.unwrap_or(base.max_skill_tokens),
                max_steps: self.max_steps.unwrap_or(base.max_steps),
                renorm_floor: self.renorm_floor.unwrap_or(base.renorm_floor),
                beam_margin: self.beam_margin.unwrap_or(base.beam_margin),
                search: self.search.unwrap_or(base.search),
            },
            safety: self.safety.clone().or_else(|| file.grounding.safety.clone()),
            preference: self.preference.clone().or_else(|| file.grounding.preference.clone()),
            scorers: if self.scorer.is_empty() { file.grounding.scorers.clone() } else { self.scorer.clone() },
            weights,
        }
    }
}

/// The method: the flag, else the configuration file, else gd-beam.
fn method_of(flag: Option<Method>, file: &ConfigFile) -> Method {
    flag.or_else(|| file.method()).unwrap_or(Method::GdBeam)
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// The scene (JSON observation) to plan in.
    #[arg(long, value_name = "FILE")]
    pub scene: PathBuf,
    /// How skills are chosen [default: gd-beam]
    #[arg(long, value_enum)]
    pub method: Option<Method>,
    /// Print, for every token, the candidates with their LM, grounded and combined scores.
    #[arg(long)]
    pub explain: bool,
    /// Print the plan (with every explanation) as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub planner: PlannerArgs,
    /// What the robot should do, e.g. "put the blocks in the bowls with matching colours".
    pub instruction: String,
}

const DEMO_EXAMPLES: &str = "Examples:
  grounded demo
  grounded demo --serve                       (then open the address it prints in a browser)
  grounded demo --save demo.rrd               (a recording for the rerun viewer)
  grounded demo --connect rerun+http://127.0.0.1:9876/proxy   (a viewer that is already running)
  grounded demo --json | jq .
  grounded demo --domain grid --task blocked-unlock-pickup --seed 1
  grounded demo --domain grid --forbid-cell 5,2 --task blocked-unlock-pickup --seed 1   (a cell never to enter)
  grounded demo --domain kitchen --task healthy --seed 2
  grounded demo --domain kitchen --task spill --method saycan
  grounded demo --task stack-all-blocks --seed 3 --method gd-greedy
  grounded demo --task pack-brown-box --method llm

Grid levels: open-doors, put-next, locked-room, multi-room, blocked-unlock-pickup.
Kitchen instructions: bring-apple, bring-coke-far-counter, fetch-rice-chips, want-energy-bar,
sponge-to-table, water-to-near-counter, throw-away-pepsi, banana-to-table (unambiguous); spill,
healthy, thirsty, salty, caffeine, fruit, soda, energy, wipe-table, recycle (ambiguous).
Tasks: alphabetical-order, spell-word, separate-vowels, reverse-alphabetical-order, spell-sport,
symmetric-letters, separate-consonants, letters-less-than-d, stack-all-blocks, blocks-on-place,
matching-bowls, mismatched-bowls, different-corners, stack-cool-colours, stack-warm-colours,
primary-colours-left, pack-brown-box, pack-boxes, snacks-right, picnic-box.

Exit status: 0 when the task succeeded, 3 when it did not, 1 on an error.";

const NODE_EXAMPLES: &str = "Separate processes find each other through zenoh endpoints, e.g. on one machine:
  grounded sim    --robot r1 --listen tcp/127.0.0.1:7501 --task matching-bowls --seed 0
  grounded policy --robot r1 --connect tcp/127.0.0.1:7501
  grounded daemon --robot r1 --connect tcp/127.0.0.1:7501
  grounded send   --robot r1 --connect tcp/127.0.0.1:7501 \"put the blocks in the bowls with matching colours\"
or all through a router:
  grounded router --listen tcp/127.0.0.1:7447
  grounded sim --robot r1 --mode client --connect tcp/127.0.0.1:7447   (and so on)";

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// The domain: the tabletop, the grid maze or the kitchen.
    #[arg(long, value_enum, default_value_t = DomainArg::Tabletop)]
    pub domain: DomainArg,
    /// Task template (tabletop), level (grid) or instruction (kitchen) of the episode
    /// [default: matching-bowls; locked-room in the grid; spill in the kitchen]
    #[arg(long)]
    pub task: Option<String>,
    /// Scene seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Say the task in your own words, e.g. --instruction "each block goes into the bowl of
    /// its colour": the robot plans for your wording, and the episode's task still judges
    /// success, so you see whether your wording works. `{place}` and `{word}` (tabletop) and
    /// the grid's `{first}`, `{second}`, `{object}`, `{target}`, `{colour}`, `{room}` are
    /// filled from the episode.
    #[arg(long, value_name = "TEXT")]
    pub instruction: Option<String>,
    /// How skills are chosen [default: gd-beam]
    #[arg(long, value_enum)]
    pub method: Option<Method>,
    /// Robot id (the zenoh key prefix grounded/<robot>/...).
    #[arg(long, default_value = "demo")]
    pub robot: String,
    /// Standard deviation of observation noise (m).
    #[arg(long, default_value_t = 0.0)]
    pub noise: f64,
    /// Print each event (scene, decoded skill, outcome, verdict) as a JSON line instead of text.
    #[arg(long)]
    pub json: bool,
    /// Grid: a cell the agent must never enter, as X,Y (x right, y down from the top-left
    /// corner); repeatable. Policies avoid it as they avoid lava.
    #[arg(long, value_name = "X,Y", value_parser = parse_cell)]
    pub forbid_cell: Vec<(u32, u32)>,
    #[command(flatten)]
    pub zenoh: grounded::nodes::common::CommonArgs,
    #[command(flatten)]
    pub dashboard: DashboardArgs,
    #[command(flatten)]
    pub planner: PlannerArgs,
}

#[derive(Args, Debug)]
pub struct NodeArgs {
    /// Robot id (the zenoh key prefix grounded/<robot>/...).
    #[arg(long)]
    pub robot: String,
    #[command(flatten)]
    pub zenoh: grounded::nodes::common::CommonArgs,
}

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
}

#[derive(Args, Debug)]
pub struct DaemonArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    /// How skills are chosen [default: gd-beam]
    #[arg(long, value_enum)]
    pub method: Option<Method>,
    /// Longest one skill may take, in seconds.
    #[arg(long, default_value_t = 60.0)]
    pub skill_timeout: f64,
    #[command(flatten)]
    pub dashboard: DashboardArgs,
    #[command(flatten)]
    pub planner: PlannerArgs,
}

#[derive(Args, Debug)]
pub struct SendArgs {
    #[arg(long)]
    pub robot: String,
    /// Longest to wait for the plan to end, in seconds.
    #[arg(long, default_value_t = 300.0)]
    pub timeout: f64,
    /// Print every progress message as JSON instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub zenoh: grounded::nodes::common::CommonArgs,
    /// The instruction.
    pub instruction: String,
}

#[derive(Args, Debug)]
pub struct RouterArgs {
    #[command(flatten)]
    pub zenoh: grounded::nodes::common::CommonArgs,
}

const EVAL_EXAMPLES: &str = "Examples:
  grounded eval --episodes 5 --seed 0
  grounded eval --domain grid --episodes 100 --transport local
  grounded eval --domain kitchen --episodes 10 --transport local   (planning and execution success)
  grounded eval --methods llm,gd-beam --tasks matching-bowls,stack-all-blocks --episodes 20 --out episodes.json
  grounded eval --tasks matching-bowls --episodes 2 --save eval.rrd     (every episode in the dashboard)

Episode i of a task uses scene seed (seed * 1000 + i) for every method; the same seed gives the same table.";

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Domain to evaluate.
    #[arg(long, value_enum, default_value_t = DomainArg::Tabletop)]
    pub domain: DomainArg,
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
    /// `{colour}` and `{room}` (grid) are filled from each episode. Without --tasks, the
    /// tasks the file names are evaluated. Examples: bench/paraphrases/*.tsv.
    #[arg(long, value_name = "FILE")]
    pub instructions: Option<PathBuf>,
    /// Base seed of the scenes.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Episodes run in parallel [default: the number of cores].
    #[arg(long)]
    pub workers: Option<usize>,
    /// Standard deviation of observation noise (m).
    #[arg(long, default_value_t = 0.0)]
    pub noise: f64,
    /// Also write every episode's record (seed, task, plan, outcomes, tokens, timings) here, as JSON.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print the success rates and every episode's record as JSON instead of tables.
    #[arg(long)]
    pub json: bool,
    /// How the controller reaches simulator and policy: over zenoh, or by direct calls.
    #[arg(long, value_enum, default_value_t = grounded::eval::Transport::Zenoh)]
    pub transport: grounded::eval::Transport,
    #[command(flatten)]
    pub dashboard: DashboardArgs,
    /// Send the dashboard to a running rerun viewer, e.g. rerun+http://127.0.0.1:9876/proxy.
    #[arg(long, value_name = "URL", help_heading = "Dashboard (rerun)")]
    pub connect: Option<String>,
    #[command(flatten)]
    pub planner: PlannerArgs,
}

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

pub fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    let file = match &cli.config {
        Some(path) => ConfigFile::load(path)?,
        None => ConfigFile::default(),
    };
    match cli.command {
        Command::Plan(args) => plan(args, &file),
        Command::Bench(args) => bench(args, &file),
        Command::Eval(args) => eval(args, &file),
        Command::Demo(args) => demo(args, &file),
        Command::Sim(args) => sim_node(args),
        Command::Policy(args) => policy_node(args),
        Command::Daemon(args) => daemon_node(args, &file),
        Command::Send(args) => send(args),
        Command::Router(args) => router(args),
        Command::Config(args) => config(args, &cli.config, &file),
        Command::Scene(args) => scene(args),
    }
}

fn scene(args: SceneArgs) -> Result<ExitCode> {
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

fn config(args: ConfigArgs, path: &Option<PathBuf>, file: &ConfigFile) -> Result<ExitCode> {
    if !args.json && path.is_none() {
        print!("{}", grounded::config::DEFAULTS_TOML);
        return Ok(ExitCode::SUCCESS);
    }
    let options = PlannerArgs::default().options(file);
    let settings = serde_json::json!({
        "file": path,
        "model": {"dir": options.model, "threads": options.threads},
        "decoder": {"method": method_of(None, file), "config": options.config},
        "grounding": {"safety": options.safety, "preference": options.preference, "scorers": options.scorers,
                      "weights": options.weights.iter().map(|(k, v)| (k.clone(), serde_json::json!(v))).collect::<serde_json::Map<_, _>>()},
    });
    println!("{}", serde_json::to_string_pretty(&settings)?);
    Ok(ExitCode::SUCCESS)
}

fn plan(args: PlanArgs, file: &ConfigFile) -> Result<ExitCode> {
    let scene = load_scene(&args.scene)?;
    let options = args.planner.options(file);
    options.config.validate()?;
    let mut planner = load_planner(&options)?;
    let result = planner.plan(&args.instruction, &scene, method_of(args.method, file)).context("planning")?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print!("{}", render_plan(&result, &scene, args.explain));
    }
    Ok(ExitCode::SUCCESS)
}

/// The plan as a person reads it.
pub fn render_plan(result: &PlanResult, scene: &protocol::Observation, explain: bool) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    match (&scene.grid, &scene.kitchen) {
        (Some(g), _) => {
            let _ = writeln!(out, "scene: a {} x {} grid maze", g.width, g.height);
            for line in g.render().lines() {
                let _ = writeln!(out, "  {line}");
            }
        }
        (None, Some(k)) => {
            let _ = writeln!(out, "scene: a kitchen, as the robot has seen it (box scores in brackets)");
            for line in k.render().lines() {
                let _ = writeln!(out, "  {line}");
            }
        }
        (None, None) => {
            let names: Vec<&str> = scene.objects.iter().map(|o| o.name.as_str()).collect();
            let _ = writeln!(out, "scene: {} objects: {}", names.len(), names.join(", "));
        }
    }
    let _ = writeln!(out, "instruction: {}", result.instruction);
    let _ = writeln!(
        out,
        "method: {}   grounded models: {}",
        result.method,
        if result.method == Method::Llm { "none".to_string() } else { result.models.join(", ") }
    );
    for step in &result.steps {
        let note = match &step.outcome {
            StepOutcome::Applied | StepOutcome::Succeeded | StepOutcome::Done => String::new(),
            StepOutcome::Infeasible(why) => format!("   <- infeasible: {why}"),
            StepOutcome::Failed(why) => format!("   <- failed: {why}"),
        };
        let _ = writeln!(out, "{:>2}. {}.{note}", step.index, step.skill);
        if explain {
            explain_step(&mut out, result, &step.explanation);
        }
    }
    let t = &result.tokens;
    let _ = writeln!(
        out,
        "plan ended: {:?}; LM tokens: {} (prompt {}, decode {}, scoring {}) in {} forward passes; {:.0} ms",
        result.end,
        t.total(),
        t.prompt_tokens,
        t.decode_tokens,
        t.scoring_tokens,
        t.forward_passes,
        result.elapsed.as_secs_f64() * 1000.0
    );
    out
}

fn explain_step(out: &mut String, result: &PlanResult, explanation: &StepExplanation) {
    use std::fmt::Write;
    let models: Vec<&str> = if result.method == Method::Llm { Vec::new() } else { result.models.iter().map(String::as_str).collect() };
    match explanation {
        StepExplanation::Tokens(choices) => {
            for (i, c) in choices.iter().enumerate() {
                let _ = writeln!(out, "      token {}: chose {:?} (beam normaliser {})", i + 1, c.chosen, score(c.normaliser));
                let mut header = format!("        {:<16} {:>8}", "candidate", "LM");
                for m in &models {
                    let _ = write!(header, " {:>11}", m);
                }
                let _ = writeln!(out, "{header} {:>9}", "total");
                for cand in c.candidates.iter().take(5) {
                    let mark = if cand.token == c.chosen { ">" } else { " " };
                    let mut line = format!("      {mark} {:<16} {:>8}", format!("{:?}", cand.token), score(cand.lm));
                    for g in &cand.grounded {
                        let _ = write!(line, " {:>11}", score(*g));
                    }
                    let _ = writeln!(out, "{line} {:>9}", score(cand.total));
                }
            }
        }
        StepExplanation::Skills(skills) => {
            let _ = writeln!(out, "        {:<64} {:>8} {:>11} {:>9}", "skill", "LM", "grounded", "total");
            for s in skills.iter().take(5) {
                let g: Vec<String> = s.grounded.iter().map(|v| score(*v)).collect();
                let _ = writeln!(out, "        {:<64} {:>8} {:>11} {:>9}", s.skill, score(s.lm), g.join("/"), score(s.total));
            }
        }
    }
}

fn bench(args: BenchArgs, file: &ConfigFile) -> Result<ExitCode> {
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

fn eval(args: EvalArgs, file: &ConfigFile) -> Result<ExitCode> {
    use grounded::eval::{per_task, per_wording, run, tables, EvalConfig, EvalTask};
    let domain = args.domain.domain();
    let wordings = match &args.instructions {
        Some(path) => grounded::wordings::load(path, &grounded::eval::DomainTasks(domain))?,
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
        workers: args.workers.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)),
        observation_noise: args.noise,
        transport: args.transport,
        dashboard: {
            let mut d = args.dashboard.clone();
            d.connect = args.connect.clone();
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
    let records = run(&config, &|done, _| bar.set_position(done as u64)).context("running the evaluation")?;
    bar.finish_and_clear();
    config.dashboard.flush();
    if let Some(path) = &args.out {
        std::fs::write(path, serde_json::to_string_pretty(&records)?).with_context(|| format!("writing {}", path.display()))?;
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
        println!("## grounded eval: {domain}, {} episodes per task and method, seed {}, over {:?}\n", config.episodes, config.seed, config.transport);
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

/// With --serve, the dashboard stays up after the run until Ctrl-C.
fn serve_until_ctrl_c(dashboard: &DashboardArgs) -> Result<()> {
    if dashboard.serve {
        eprintln!("dashboard: serving {} until Ctrl-C", grounded::dashboard::sink::viewer_url(dashboard.web_port, dashboard.grpc_port));
        runtime()?.block_on(wait_for_ctrl_c());
    }
    Ok(())
}

/// Load the planner, with a spinner while the model loads.
fn load_planner(options: &PlannerOptions) -> Result<grounded::planner::Planner> {
    let spinner = spinner(format!("loading the language model from {}", options.model.display()));
    let planner = build_planner(options).with_context(|| format!("loading the planner (model {})", options.model.display()));
    spinner.finish_and_clear();
    planner
}

/// A spinner on stderr (drawn only when stderr is a terminal).
fn spinner(message: String) -> indicatif::ProgressBar {
    let s = indicatif::ProgressBar::new_spinner();
    s.set_message(message);
    s.enable_steady_tick(std::time::Duration::from_millis(120));
    s
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")
}

fn robot_keys(robot: &str) -> Result<protocol::keys::RobotKeys> {
    Ok(protocol::keys::RobotKeys::new(protocol::keys::RobotId::new(robot)?))
}

fn demo(args: DemoArgs, file: &ConfigFile) -> Result<ExitCode> {
    let robot = protocol::keys::RobotId::new(&args.robot)?;
    use protocol::Domain;
    let domain = args.domain.domain();
    let task = match (domain, args.task.as_deref()) {
        (Domain::Tabletop, None) => "matching-bowls".to_string(),
        (Domain::Grid, None) => "locked-room".to_string(),
        (Domain::Kitchen, None) => "spill".to_string(),
        (Domain::Tabletop, Some(t)) if sim::task_named(t).is_some() => t.to_string(),
        (Domain::Grid, Some(t)) if sim::grid::Level::named(t).is_some() => t.to_string(),
        (Domain::Kitchen, Some(t)) if sim::kitchen::task_named(t).is_some() => t.to_string(),
        (Domain::Tabletop, Some(t)) => anyhow::bail!("unknown task {t:?}; tasks: {}", sim::tasks::task_ids()),
        (Domain::Grid, Some(t)) => anyhow::bail!("unknown grid level {t:?}; levels: {}", sim::grid::level_ids()),
        (Domain::Kitchen, Some(t)) => anyhow::bail!("unknown kitchen instruction {t:?}; instructions: {}", sim::kitchen::task_ids()),
    };
    let options = args.planner.options(file);
    options.config.validate()?;
    let demo = grounded::demo::DemoOptions {
        task,
        seed: args.seed,
        instruction: args.instruction.clone(),
        method: method_of(args.method, file),
        robot,
        planner: options,
        noise: args.noise,
        forbidden: args.forbid_cell.clone(),
        timeout: std::time::Duration::from_secs(300),
    };
    let mut dashboard_args = args.dashboard.clone();
    dashboard_args.connect = args.zenoh.viewer_url()?;
    let dashboard = dashboard_args.open(true)?;
    let json = args.json;
    let spinner = spinner("starting the simulator, the policy and the daemon; loading the language model".into());
    let mut print = |event: grounded::demo::DemoEvent| {
        spinner.finish_and_clear();
        if json {
            println!("{}", serde_json::to_string(&event).unwrap_or_default());
        } else {
            println!("{event}");
        }
    };
    let outcome = runtime()?.block_on(grounded::demo::run(&args.zenoh, &demo, &dashboard, &mut print)).context("running the demo")?;
    dashboard.flush();
    serve_until_ctrl_c(&args.dashboard)?;
    Ok(if outcome.success { ExitCode::SUCCESS } else { ExitCode::from(3) })
}

async fn wait_for_ctrl_c() {
    let _ = tokio::signal::ctrl_c().await;
}

fn sim_node(args: SimArgs) -> Result<ExitCode> {
    let keys = robot_keys(&args.node.robot)?;
    let mut state = grounded::nodes::sim::SimState::new(&args.task, args.seed, args.noise).map_err(anyhow::Error::msg)?;
    state.forbid_cells(&args.forbid_cell).map_err(anyhow::Error::msg)?;
    runtime()?.block_on(async {
        let session = args.node.zenoh.open().await?;
        eprintln!("sim: robot {} serving {} (task {}, seed {})", keys.robot(), keys.arm(), args.task, args.seed);
        tokio::select! {
            r = grounded::nodes::sim::run(session, keys, state) => r?,
            _ = wait_for_ctrl_c() => {}
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

fn policy_node(args: NodeArgs) -> Result<ExitCode> {
    let keys = robot_keys(&args.robot)?;
    runtime()?.block_on(async {
        let session = args.zenoh.open().await?;
        eprintln!("policy: robot {} serving {}", keys.robot(), keys.skill());
        tokio::select! {
            r = grounded::nodes::policy::run(session, keys, std::time::Duration::from_secs(10)) => r?,
            _ = wait_for_ctrl_c() => {}
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

fn daemon_node(args: DaemonArgs, file: &ConfigFile) -> Result<ExitCode> {
    use grounded::nodes::remote::RemoteSkillSpace;
    let keys = robot_keys(&args.node.robot)?;
    if !(args.skill_timeout > 0.0 && args.skill_timeout <= 3600.0) {
        anyhow::bail!("--skill-timeout {} s: use a number of seconds between 0 and 3600", args.skill_timeout);
    }
    let options = args.planner.options(file);
    options.config.validate()?;
    let mut dashboard_args = args.dashboard.clone();
    dashboard_args.connect = args.node.zenoh.viewer_url()?;
    let dashboard = dashboard_args.open(true)?;
    let rt = runtime()?;
    rt.block_on(async {
        let session = args.node.zenoh.open().await?;
        let space = RemoteSkillSpace { session: session.clone(), keys: keys.clone(), timeout: std::time::Duration::from_secs(5) };
        let planner = options
            .build(Some(grounding::Affordance::new(space, options.config.floor)), false)
            .with_context(|| format!("loading the planner (model {})", options.model.display()))?;
        let config = grounded::nodes::daemon::DaemonConfig {
            method: method_of(args.method, file),
            skill_timeout: std::time::Duration::from_secs_f64(args.skill_timeout),
            observe_timeout: std::time::Duration::from_secs(5),
        };
        eprintln!("daemon: robot {} listening on {} ({})", keys.robot(), keys.instruction(), config.method);
        tokio::select! {
            r = grounded::nodes::daemon::run(session, keys, planner, config, dashboard) => r?,
            _ = wait_for_ctrl_c() => {}
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

fn send(args: SendArgs) -> Result<ExitCode> {
    use grounded::nodes::common::{alive, put};
    use protocol::messages::{decode, InstructionMsg, PlanProgress, PlanStatus};
    let keys = robot_keys(&args.robot)?;
    if args.instruction.trim().is_empty() {
        anyhow::bail!("the instruction is empty: say what the robot should do");
    }
    let code = runtime()?.block_on(async {
        let session = args.zenoh.open().await?;
        // Give the session a moment to meet its peers before asking who is alive.
        let daemon_key = keys.alive(protocol::keys::Component::Daemon);
        let mut up = false;
        for _ in 0..40 {
            let (s, k) = (session.clone(), daemon_key.clone());
            if tokio::task::spawn_blocking(move || alive(&s, &k)).await.unwrap_or(false) {
                up = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        if !up {
            anyhow::bail!(
                "no daemon is running for robot {:?} (no liveliness token on {daemon_key}); start `grounded daemon --robot {}` and connect to it",
                args.robot,
                args.robot
            );
        }
        let progress = session.declare_subscriber(keys.plan()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let id = format!("send-{}", std::process::id());
        let msg = InstructionMsg { schema: protocol::SCHEMA_VERSION, id: id.clone(), text: args.instruction.clone() };
        let (s, k) = (session.clone(), keys.instruction());
        tokio::task::spawn_blocking(move || put(&s, &k, &msg)).await??;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs_f64(args.timeout);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let sample = tokio::time::timeout(left, progress.recv_async())
                .await
                .map_err(|_| anyhow::anyhow!("the plan did not end within {} s", args.timeout))?
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let Ok(p) = decode::<PlanProgress>(&sample.payload().to_bytes()) else { continue };
            if p.instruction_id != id {
                continue;
            }
            if args.json {
                println!("{}", serde_json::to_string(&p)?);
            } else {
                println!(
                    "{:>2} {:?} {}{}",
                    p.step,
                    p.status,
                    p.skill.clone().unwrap_or_default(),
                    p.reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default()
                );
            }
            match p.status {
                PlanStatus::Done => return Ok::<_, anyhow::Error>(0u8),
                PlanStatus::StepLimit | PlanStatus::Aborted => return Ok(3u8),
                _ => {}
            }
        }
    })?;
    Ok(ExitCode::from(code))
}

fn router(args: RouterArgs) -> Result<ExitCode> {
    let mut zenoh = args.zenoh.clone();
    zenoh.mode = "router".into();
    runtime()?.block_on(async {
        let _session = zenoh.open().await?;
        eprintln!("router: listening on {:?}", if zenoh.listen.is_empty() { vec!["tcp/127.0.0.1:0".to_string()] } else { zenoh.listen.clone() });
        wait_for_ctrl_c().await;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
