//! What several commands share: the domain and planner flags, a node's robot id and zenoh
//! flags, and the runtime, spinner and Ctrl-C helpers.

use anyhow::{Context, Result};
use clap::Args;
use grounded::config::ConfigFile;
use grounded::dashboard::DashboardArgs;
use grounded::decoder::{DecodeConfig, Search};
use grounded::domains::Domain;
use grounded::planner::Method;
use grounded::setup::{build_planner, PlannerOptions};
use std::path::PathBuf;

pub const NODE_EXAMPLES: &str = "Separate processes find each other through zenoh endpoints, e.g. on one machine:
  grounded sim    --robot r1 --listen tcp/127.0.0.1:7501 --task matching-bowls --seed 0
  grounded policy --robot r1 --connect tcp/127.0.0.1:7501
  grounded daemon --robot r1 --connect tcp/127.0.0.1:7501
  grounded send   --robot r1 --connect tcp/127.0.0.1:7501 \"put the blocks in the bowls with matching colours\"
or all through a router:
  grounded router --listen tcp/127.0.0.1:7447
  grounded sim --robot r1 --mode client --connect tcp/127.0.0.1:7447   (and so on)";

/// A domain of the registry (docs/architecture.md), as `--domain` names it.
#[derive(Clone, Copy)]
pub struct DomainArg(pub &'static dyn Domain);

impl std::fmt::Debug for DomainArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.id().name())
    }
}

impl DomainArg {
    pub fn domain(self) -> protocol::Domain {
        self.0.id()
    }
}

/// `--domain`'s values and their help, from the registry.
#[derive(Clone, Copy, Debug)]
pub struct DomainParser;

impl clap::builder::TypedValueParser for DomainParser {
    type Value = DomainArg;

    fn parse_ref(&self, cmd: &clap::Command, arg: Option<&clap::Arg>, value: &std::ffi::OsStr) -> Result<DomainArg, clap::Error> {
        use clap::error::{ContextKind, ContextValue, ErrorKind};
        let text = value.to_string_lossy();
        if let Some(d) = grounded::domains::registry().into_iter().find(|d| d.id().name() == text) {
            return Ok(DomainArg(d));
        }
        let mut e = clap::Error::new(ErrorKind::InvalidValue).with_cmd(cmd);
        e.insert(ContextKind::InvalidArg, ContextValue::String(arg.map(|a| a.to_string()).unwrap_or_else(|| "--domain".into())));
        e.insert(ContextKind::InvalidValue, ContextValue::String(text.into_owned()));
        e.insert(ContextKind::ValidValue, ContextValue::Strings(grounded::domains::registry().iter().map(|d| d.id().name().to_string()).collect()));
        Err(e)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(grounded::domains::registry().into_iter().map(|d| clap::builder::PossibleValue::new(d.id().name()).help(d.about()))))
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
    /// Probability the affordance gives text that no admissible skill starts with (0: such
    /// text is never chosen) [default: 1e-6]
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
    /// Jump-forward: where the world leaves a skill one way on (after "pick up the gray
    /// block", " and place it in the"), run those tokens in one pass of the language model
    /// instead of one each; the chosen skills are the same [default: true]
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set, help_heading = "Planner")]
    pub jump_forward: Option<bool>,
    /// Where none of the language model's top-k tokens keeps a skill admissible (a sure
    /// model wants "green" and there is no green bowl), also score the k likeliest tokens
    /// that do, e.g. a skill file's words the model rarely writes; false: such a beam has
    /// only its top-k, and greedy decoding may end with no skill [default: true]
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set, help_heading = "Planner")]
    pub beyond_top_k: Option<bool>,
    /// Stop the plan before a skill that departs from what the language model wanted by more
    /// than NATS: the model was sure of something no admissible skill allows (the
    /// instruction named a red block and there is none) and the skill took tokens it thought
    /// e^NATS times less likely, its gaps summed (another block and another bowl both
    /// count). The plan ends "departed", naming the token it departs at most and the sum
    /// (with --ask-for-help the operator is asked instead); --json and --explain show every
    /// step's departure. A wish the world allows only later does not count where the domain
    /// says so (the grid: opening a locked door before its key is held). "inf": never stop
    /// [default: 5, about 150 times]
    #[arg(long, value_name = "NATS", help_heading = "Planner")]
    pub max_departure: Option<f32>,
    /// Safety rules (JSON: {"forbidden": ["red", "knife"], "mode": "hard"|"soft", "epsilon": 0.001}).
    #[arg(long, value_name = "FILE", help_heading = "Planner")]
    pub safety: Option<PathBuf>,
    /// A few-shot prompt prefix: worked examples in the plan format ("Instruction: ...",
    /// then "1. ...", "2. done."), read by the model before every plan (docs/skills.md).
    #[arg(long, value_name = "FILE", help_heading = "Planner")]
    pub prompt: Option<PathBuf>,
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
    /// Keep the keys and values of prompts read, up to this many MiB, and start each new
    /// prompt from the longest start it shares with one of them: a few-shot prefix, the same
    /// instruction again or a replan cost no second read (0 turns it off) [default: 64]
    #[arg(long, value_name = "MIB", help_heading = "Planner")]
    pub prefix_cache_mib: Option<usize>,
    /// Where the language model runs: cpu, or cuda / cuda:N for a GPU through ONNX
    /// Runtime's CUDA provider (its logits stay on the GPU and the decoder's top-k runs
    /// there). cuda needs an NVIDIA GPU with a CUDA 13 driver and `bash
    /// tools/setup-onnxruntime.sh --gpu` [default: cpu]
    #[arg(long, value_name = "DEVICE", value_parser = parse_device, help_heading = "Planner")]
    pub device: Option<grounding::Device>,
}

pub fn parse_device(s: &str) -> Result<grounding::Device, String> {
    s.parse().map_err(|e: grounding::device::BadDevice| e.to_string())
}

pub fn parse_cell(s: &str) -> Result<(u32, u32), String> {
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
                jump_forward: self.jump_forward.unwrap_or(base.jump_forward),
                beyond_top_k: self.beyond_top_k.unwrap_or(base.beyond_top_k),
                max_departure: self.max_departure.unwrap_or(base.max_departure),
            },
            safety: self.safety.clone().or_else(|| file.grounding.safety.clone()),
            preference: self.preference.clone().or_else(|| file.grounding.preference.clone()),
            scorers: if self.scorer.is_empty() { file.grounding.scorers.clone() } else { self.scorer.clone() },
            weights,
            prompt: self.prompt.clone(),
            prefix_cache_mib: self.prefix_cache_mib.or(file.model.prefix_cache_mib).unwrap_or(grounded::lm::DEFAULT_PREFIX_CACHE_MIB),
            device: self.device.or(file.model.device).unwrap_or_default(),
        }
    }
}

/// The method: the flag, else the configuration file, else gd-beam.
pub fn method_of(flag: Option<Method>, file: &ConfigFile) -> Method {
    flag.or_else(|| file.method()).unwrap_or(Method::GdBeam)
}

#[derive(Args, Debug)]
pub struct NodeArgs {
    /// Robot id (the zenoh key prefix grounded/<robot>/...).
    #[arg(long)]
    pub robot: String,
    #[command(flatten)]
    pub zenoh: grounded::nodes::common::CommonArgs,
}

/// With --serve, the dashboard stays up after the run until Ctrl-C.
pub fn serve_until_ctrl_c(dashboard: &DashboardArgs) -> Result<()> {
    if dashboard.serve {
        eprintln!("dashboard: serving {} until Ctrl-C", grounded::dashboard::sink::viewer_url(dashboard.web_port, dashboard.grpc_port));
        runtime()?.block_on(wait_for_ctrl_c());
    }
    Ok(())
}

/// Load the planner, with a spinner while the model loads.
pub fn load_planner(options: &PlannerOptions) -> Result<grounded::planner::Planner> {
    let spinner = spinner(format!("loading the language model from {}", options.model.display()));
    let planner = build_planner(options).with_context(|| format!("loading the planner (model {})", options.model.display()));
    spinner.finish_and_clear();
    planner
}

/// A spinner on stderr (drawn only when stderr is a terminal).
pub fn spinner(message: String) -> indicatif::ProgressBar {
    let s = indicatif::ProgressBar::new_spinner();
    s.set_message(message);
    s.enable_steady_tick(std::time::Duration::from_millis(120));
    s
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")
}

/// Register the domain of a skill file (`--skills`), if one is given, before any
/// observation of that domain is read, checked against the model that will plan with it:
/// every template must be one its tokenizer can write and end, every task's instruction
/// one it can read.
pub fn register_skills(path: Option<&std::path::Path>, model: &std::path::Path) -> Result<Option<&'static grounded::domains::skill_file::SkillFileDomain>> {
    let Some(path) = path else { return Ok(None) };
    let library = grounded::skills::load(path)?;
    let texts = grounded::lm::LanguageModel::token_texts_of(model).with_context(|| format!("reading the tokenizer of {}", model.display()))?;
    library.check_spelling(&grounded::lm::Spelling::new(texts.iter().map(String::as_str)), model)?;
    library.check_instructions(&grounded::lm::Alphabet::of_model(texts.iter().map(String::as_str), model), model)?;
    Ok(Some(grounded::domains::skill_file::register(library).map_err(anyhow::Error::msg)?))
}

pub fn robot_keys(robot: &str) -> Result<protocol::keys::RobotKeys> {
    Ok(protocol::keys::RobotKeys::new(protocol::keys::RobotId::new(robot)?))
}

pub async fn wait_for_ctrl_c() {
    let _ = tokio::signal::ctrl_c().await;
}

/// An output file checked before a long run, so that the run's result is not lost at its
/// end for want of a folder or a permission. An existing file is left as it is until the
/// result replaces it; one the check created is removed again if no result comes.
pub struct Output {
    path: std::path::PathBuf,
    created: bool,
    written: bool,
}

impl Output {
    pub fn check(path: &std::path::Path) -> Result<Self> {
        let existed = path.exists();
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .with_context(|| format!("cannot write {} (checked before the run)", path.display()))?;
        Ok(Self { path: path.to_path_buf(), created: !existed, written: false })
    }

    /// Replace the file's content with `text`.
    pub fn write(mut self, text: &str) -> Result<()> {
        std::fs::write(&self.path, text).with_context(|| format!("writing {}", self.path.display()))?;
        self.written = true;
        Ok(())
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        if self.created && !self.written {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
