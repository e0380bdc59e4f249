//! Subcommands of the `grounded` program.

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use grounded::decoder::DecodeConfig;
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

#[derive(Parser, Debug)]
#[command(name = "grounded", version, about = ABOUT)]
pub struct Cli {
    /// More log output (-v: debug, -vv: trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Plan the skills for an instruction in a scene (open-loop: each skill's effect is
    /// applied to the scene before the next is decoded).
    #[command(after_help = PLAN_EXAMPLES)]
    Plan(PlanArgs),
    /// Evaluate methods on every tabletop task template, closed-loop in the physics
    /// simulation, and print PAPER.md-shaped tables of success rates.
    #[command(after_help = EVAL_EXAMPLES)]
    Eval(EvalArgs),
    /// Measure decoder overhead, plan latency and LM tokens per plan for every method, and
    /// write BENCHMARKS.md.
    #[command(after_help = "Example:\n  grounded bench --out BENCHMARKS.md")]
    Bench(BenchArgs),
}

/// Model and grounded-model options shared by every command that plans.
#[derive(Args, Debug, Clone)]
pub struct PlannerArgs {
    /// Model directory in the standard ONNX export layout (model.onnx, tokenizer.json,
    /// config.json) [default: the shipped models/planner-gpt2]
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// Candidate tokens per beam and step, by LM probability.
    #[arg(long, default_value_t = DecodeConfig::default().top_k)]
    pub top_k: usize,
    /// Beams kept per step (gd-beam).
    #[arg(long, default_value_t = DecodeConfig::default().beam_width)]
    pub beam_width: usize,
    /// Probability the affordance gives text that no admissible skill starts with.
    #[arg(long, default_value_t = DecodeConfig::default().floor)]
    pub floor: f64,
    /// Most tokens in one skill.
    #[arg(long, default_value_t = DecodeConfig::default().max_skill_tokens)]
    pub max_skill_tokens: usize,
    /// Most steps in one plan.
    #[arg(long, default_value_t = DecodeConfig::default().max_steps)]
    pub max_steps: usize,
    /// Beam pruning: drop candidates this many nats behind the step's best ("inf": never).
    #[arg(long, default_value_t = DecodeConfig::default().beam_margin)]
    pub beam_margin: f32,
    /// Smallest per-step normaliser of grounded decoding (1 turns renormalisation off).
    #[arg(long, default_value_t = DecodeConfig::default().renorm_floor)]
    pub renorm_floor: f64,
    /// Safety rules (JSON: {"forbidden": ["red", "knife"], "mode": "hard"|"soft", "epsilon": 0.001}).
    #[arg(long, value_name = "FILE")]
    pub safety: Option<PathBuf>,
    /// Preferred objects (JSON: {"preferred": ["apple"], "alpha": 0.5, "beta": 0.1}).
    #[arg(long, value_name = "FILE")]
    pub preference: Option<PathBuf>,
    /// A learned ONNX grounded model (directory with scorer.onnx and scorer.json); repeatable.
    #[arg(long, value_name = "DIR")]
    pub scorer: Vec<PathBuf>,
    /// Weight of a grounded model in the decoding rule, e.g. --weight safety=2 (default 1); repeatable.
    #[arg(long, value_name = "NAME=W", value_parser = parse_weight)]
    pub weight: Vec<(String, f32)>,
    /// ONNX Runtime threads for the language model.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
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
    pub fn options(&self) -> PlannerOptions {
        PlannerOptions {
            model: self.model.clone().unwrap_or_else(grounded::default_model_dir),
            threads: self.threads,
            config: DecodeConfig {
                top_k: self.top_k,
                beam_width: self.beam_width,
                floor: self.floor,
                max_skill_tokens: self.max_skill_tokens,
                max_steps: self.max_steps,
                renorm_floor: self.renorm_floor,
                beam_margin: self.beam_margin,
            },
            safety: self.safety.clone(),
            preference: self.preference.clone(),
            scorers: self.scorer.clone(),
            weights: self.weight.clone(),
        }
    }
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// The scene (JSON observation) to plan in.
    #[arg(long, value_name = "FILE")]
    pub scene: PathBuf,
    /// How skills are chosen.
    #[arg(long, value_enum, default_value_t = Method::GdBeam)]
    pub method: Method,
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

const EVAL_EXAMPLES: &str = "Examples:
  grounded eval --episodes 5 --seed 0
  grounded eval --methods llm,gd-beam --tasks matching-bowls,stack-all-blocks --episodes 20 --json episodes.json

Episode i of a task uses scene seed (seed * 1000 + i) for every method; the same seed gives the same table.";

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Domain to evaluate (only tabletop in this version).
    #[arg(long, default_value = "tabletop")]
    pub domain: String,
    /// Methods to compare, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = Method::ALL.to_vec())]
    pub methods: Vec<Method>,
    /// Task templates, comma-separated [default: all 20].
    #[arg(long, value_delimiter = ',')]
    pub tasks: Vec<String>,
    /// Episodes per task template and method.
    #[arg(long, default_value_t = 5)]
    pub episodes: usize,
    /// Base seed of the scenes.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Episodes run in parallel [default: the number of cores].
    #[arg(long)]
    pub workers: Option<usize>,
    /// Standard deviation of observation noise (m).
    #[arg(long, default_value_t = 0.0)]
    pub noise: f64,
    /// Also write every episode's record (seed, task, plan, outcomes, tokens, timings) here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
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
    match cli.command {
        Command::Plan(args) => plan(args),
        Command::Bench(args) => bench(args),
        Command::Eval(args) => eval(args),
    }
}

fn plan(args: PlanArgs) -> Result<ExitCode> {
    let scene = load_scene(&args.scene)?;
    let options = args.planner.options();
    options.config.validate()?;
    let mut planner = build_planner(&options).with_context(|| format!("loading the planner (model {})", options.model.display()))?;
    let result = planner.plan(&args.instruction, &scene, args.method).context("planning")?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print!("{}", render_plan(&result, &scene, args.explain));
    }
    Ok(ExitCode::SUCCESS)
}

fn score(v: f32) -> String {
    if v == f32::NEG_INFINITY {
        "-inf".into()
    } else {
        format!("{v:.2}")
    }
}

/// The plan as a person reads it.
pub fn render_plan(result: &PlanResult, scene: &protocol::Observation, explain: bool) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let names: Vec<&str> = scene.objects.iter().map(|o| o.name.as_str()).collect();
    let _ = writeln!(out, "scene: {} objects: {}", names.len(), names.join(", "));
    let _ = writeln!(out, "instruction: {}", result.instruction);
    let _ = writeln!(out, "method: {}   grounded models: {}", result.method, if result.method == Method::Llm { "none".to_string() } else { result.models.join(", ") });
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

fn bench(args: BenchArgs) -> Result<ExitCode> {
    let scene = load_scene(&args.scene)?;
    let options = args.planner.options();
    options.config.validate()?;
    let report = grounded::bench::run(&options, &scene, &args.scene, &args.instruction, args.repeats.max(1)).context("running the benchmark")?;
    print!("{report}");
    if let Some(path) = &args.out {
        std::fs::write(path, &report).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn eval(args: EvalArgs) -> Result<ExitCode> {
    use grounded::eval::{per_task, run, tables, EvalConfig};
    if args.domain != "tabletop" {
        anyhow::bail!("--domain {}: only the tabletop domain can be evaluated in this version", args.domain);
    }
    let tasks = if args.tasks.is_empty() {
        sim::TASKS.to_vec()
    } else {
        args.tasks
            .iter()
            .map(|t| sim::task_named(t).copied().ok_or_else(|| anyhow::anyhow!("unknown task {t:?}; tasks: {}", sim::tasks::task_ids())))
            .collect::<Result<Vec<_>>>()?
    };
    if !(0.0..=0.05).contains(&args.noise) {
        anyhow::bail!("--noise {} m: use a standard deviation between 0 and 0.05", args.noise);
    }
    let options = args.planner.options();
    let config = EvalConfig {
        model: options.model.clone(),
        decode: options.config.clone(),
        methods: args.methods.clone(),
        tasks,
        episodes: args.episodes,
        seed: args.seed,
        workers: args.workers.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)),
        observation_noise: args.noise,
    };
    let total = config.tasks.len() * config.methods.len() * config.episodes;
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} episodes ({eta} left)")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let records = run(&config, &|done, _| bar.set_position(done as u64)).context("running the evaluation")?;
    bar.finish_and_clear();
    println!("## grounded eval: tabletop, {} episodes per task and method, seed {}\n", config.episodes, config.seed);
    println!("{}", tables(&records, &config.methods));
    println!("Per task template (successes / episodes):\n");
    println!("{}", per_task(&records, &config.methods));
    println!("{} episodes in {:.0} s on {} worker(s).", records.len(), started.elapsed().as_secs_f64(), config.workers);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&records)?).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}
