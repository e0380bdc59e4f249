//! `grounded demo`: one episode closed-loop, simulator, policy and daemon in one process over zenoh.

use super::common::{method_of, parse_cell, runtime, serve_until_ctrl_c, spinner, DomainArg, DomainParser, PlannerArgs};
use anyhow::{Context, Result};
use clap::Args;
use grounded::config::ConfigFile;
use grounded::dashboard::DashboardArgs;
use grounded::planner::Method;
use std::process::ExitCode;

/// The examples, then every domain's tasks from the registry.
pub fn demo_examples() -> String {
    let mut text = String::from(DEMO_EXAMPLES);
    for d in grounded::domains::registry() {
        text.push_str(&format!("\n{} tasks (--domain {}; default {}): {}.", d.id(), d.id(), d.default_task(), grounded::domains::task_ids(d)));
    }
    text.push_str("\n\nExit status: 0 when the task succeeded, 3 when it did not, 1 on an error.");
    text
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
  grounded demo --skills examples/warehouse/skills.toml --model target/warehouse-model \
      --robot w1 --connect tcp/127.0.0.1:7601 --task shelve-red   (your own robot, running already)
";

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// The domain: the tabletop, the grid maze or the kitchen.
    #[arg(long, default_value = "tabletop", value_parser = DomainParser, conflicts_with = "skills")]
    pub domain: DomainArg,
    /// A robot of your own (docs/skills.md): plan with the skill file's skills for one of its
    /// [[task]]s, on the robot named by --robot, reached with --connect. The robot is reset
    /// to the task's goal on its `episode` key, carries the skills out itself, and judges.
    #[arg(long, value_name = "FILE.toml")]
    pub skills: Option<std::path::PathBuf>,
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
    /// filled from the episode (`{WORD}` in capitals, `{Word}` with each word capitalised).
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

pub fn run(args: DemoArgs, file: &ConfigFile) -> Result<ExitCode> {
    let robot = protocol::keys::RobotId::new(&args.robot)?;
    let domain: &'static dyn grounded::domains::Domain = match super::common::register_skills(args.skills.as_deref(), &args.planner.options(file).model)? {
        Some(d) => d,
        None => args.domain.0,
    };
    if let (Some(path), true) = (&args.skills, domain.tasks().is_empty()) {
        anyhow::bail!(
            "{} declares no [[task]] for the demo: add one with an id, an instruction and the goal your robot checks (docs/skills.md)",
            path.display()
        );
    }
    let task = args.task.clone().unwrap_or_else(|| domain.default_task().to_string());
    if !domain.tasks().iter().any(|t| t.id == task) {
        // The domain's own message names its tasks; say where the task is, if elsewhere.
        let unknown = domain.summary(&task, args.seed).err().unwrap_or_else(|| format!("unknown {} task {task:?}", domain.id()));
        let elsewhere =
            grounded::domains::domain_of_task(&task).map(|d| format!(" ({task} is a {} task: add --domain {})", d.id(), d.id())).unwrap_or_default();
        anyhow::bail!("{unknown}{elsewhere}");
    }
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
        timeout: grounded::nodes::timeouts::DEMO_PLAN,
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
