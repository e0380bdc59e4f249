//! `grounded demo`: one episode closed-loop, simulator, policy and daemon in one process over zenoh.

use super::common::{method_of, parse_cell, runtime, serve_until_ctrl_c, spinner, DomainArg, PlannerArgs};
use anyhow::{Context, Result};
use clap::Args;
use grounded::config::ConfigFile;
use grounded::dashboard::DashboardArgs;
use grounded::planner::Method;
use std::process::ExitCode;

pub const DEMO_EXAMPLES: &str = "Examples:
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

pub fn run(args: DemoArgs, file: &ConfigFile) -> Result<ExitCode> {
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
