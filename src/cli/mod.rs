//! Subcommands of the `grounded` program: one module per command, its arguments beside its
//! body; what several share is in [`common`].

mod bench;
mod bridge;
mod calibrate;
mod common;
mod config;
mod daemon;
mod demo;
mod estop;
mod eval;
mod plan;
mod policy;
mod replay;
mod router;
mod scene;
mod secure;
mod send;
mod sim;
mod train;

use anyhow::Result;
use clap::{Parser, Subcommand};
use common::NODE_EXAMPLES;
use grounded::config::ConfigFile;
use std::path::PathBuf;
use std::process::ExitCode;

const ABOUT: &str = "Grounded Decoding: a language model plans robot skills, and grounded models of the \
robot's world (affordance, safety, preference) weigh every token it writes.";

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
    #[command(after_help = demo::demo_examples())]
    Demo(demo::DemoArgs),
    /// Plan the skills for an instruction in a scene (open-loop: each skill's effect is
    /// applied to the scene before the next is decoded).
    #[command(after_help = plan::PLAN_EXAMPLES)]
    Plan(plan::PlanArgs),
    /// Evaluate methods on every task of a domain (tabletop templates, grid levels with
    /// --domain grid, kitchen instructions with --domain kitchen), closed-loop in simulation,
    /// and print tables of success rates shaped like the paper's (docs/method.md).
    #[command(after_help = eval::EVAL_EXAMPLES)]
    Eval(eval::EvalArgs),
    /// Calibrate when the robot asks for help: the threshold of its prediction sets, by
    /// split conformal prediction on episodes where an oracle knows the right skills
    /// (docs/method.md, "Asking for help").
    #[command(after_help = calibrate::CALIBRATE_EXAMPLES)]
    Calibrate(calibrate::CalibrateArgs),
    /// Measure decoder overhead, plan latency and LM tokens per plan for every method, and
    /// write BENCHMARKS.md.
    #[command(
        after_help = "Examples:\n  grounded bench --top-k 10 --out BENCHMARKS.md\n  grounded bench --objects 5,10,20,40          # plan cost as the scene grows\n  grounded bench --scene-only --methods gd-greedy,gd-beam --model DIR   # a large model\n  grounded bench --prefix-cache --model DIR --prompt bench/prefix-cache/few-shot.txt\n  grounded bench --estop --repeats 100\n  grounded bench --device cuda --scene-only --methods gd-greedy,gd-beam   # the LM on a GPU\n  grounded bench --top-k-kernel --device cuda   # the GPU top-k kernel's bandwidth"
    )]
    Bench(bench::BenchArgs),
    /// Run the simulator as a zenoh node (serves the arm, the state and episodes; a tabletop
    /// task, a grid level or a kitchen instruction).
    #[command(after_help = NODE_EXAMPLES)]
    Sim(sim::SimArgs),
    /// Run the skill policies as a zenoh node (executes skills in whatever domain the sim runs,
    /// answers affordances).
    #[command(after_help = NODE_EXAMPLES)]
    Policy(policy::PolicyArgs),
    /// Run the controller daemon: takes instructions over zenoh, plans closed-loop.
    #[command(after_help = NODE_EXAMPLES)]
    Daemon(daemon::DaemonArgs),
    /// Send an instruction to a robot's daemon and follow its progress until the plan ends
    /// (exit status 0 when the plan said done, 3 when it hit the step limit or was aborted).
    #[command(
        after_help = "Examples:\n  grounded send --robot r1 --connect tcp/127.0.0.1:7501 \"stack all the blocks\"\n  grounded send --robot r1 --connect tcp/127.0.0.1:7501 --json \"pack the brown box\" | jq .status"
    )]
    Send(send::SendArgs),
    /// Show a daemon's journal in the dashboard: its instructions, the states planned on,
    /// each decoded skill with its explanation, outcomes and emergency stops.
    #[command(
        after_help = "Examples:\n  grounded replay ~/.local/state/grounded/journal/r1-1764720000000-4242.jsonl --save r1.rrd\n  grounded replay JOURNAL.jsonl --instruction send-4242 --serve"
    )]
    Replay(replay::ReplayArgs),
    /// Engage a robot's emergency stop (the sim halts a motion within one physics step, the
    /// policy and the daemon stop); release it only with --release.
    #[command(
        name = "estop",
        after_help = "Examples:\n  grounded estop --robot r1 --connect tcp/127.0.0.1:7501 --reason \"person in the cell\"\n  grounded estop --robot r1 --connect tcp/127.0.0.1:7501 --release"
    )]
    EStop(estop::EStopArgs),
    /// Secure a robot's network: `secure init` makes a certificate authority, a certificate
    /// per component and zenoh configurations with mutual TLS and default-deny access
    /// control (docs/security.md).
    #[command(
        after_help = "Example:\n  grounded secure init --robot r1 --out /etc/grounded/r1 --router-host robot-pc.local\n  grounded router --zenoh-config /etc/grounded/r1/router/zenoh.json5"
    )]
    Secure(secure::SecureArgs),
    /// Train a planner model for your robot's own skills (a skill file and example plans;
    /// needs Python with torch: tools/train/requirements.txt; docs/skills.md).
    #[command(
        after_help = "Example:\n  grounded train --skills examples/warehouse/skills.toml --examples examples/warehouse/examples.txt --out target/warehouse-model --python .venv-train/bin/python"
    )]
    Train(train::TrainArgs),
    /// Bridge a real robot onto grounded's keys (`bridge ros2`: a ROS 2 robot over rmw_zenoh,
    /// docs/hardware.md); the daemon then plans for it as for the simulator.
    Bridge(bridge::BridgeArgs),
    /// Run a zenoh router (for components on several machines).
    #[command(
        after_help = "Example:\n  grounded router --listen tcp/0.0.0.0:7447\n  (then every component with --mode client --connect tcp/ROUTER_HOST:7447)"
    )]
    Router(router::RouterArgs),
    /// Print the starting scene of a task, grid level or kitchen instruction as JSON (what
    /// `plan --scene` reads).
    #[command(
        after_help = "Examples:\n  grounded scene --task pack-brown-box --seed 3 > scene.json\n  grounded scene --task locked-room > maze.json && grounded plan --scene maze.json \"$(grounded scene --task locked-room --instruction)\"\n  grounded scene --task healthy --seed 2 > kitchen.json   (the kitchen as the robot has seen it)"
    )]
    Scene(scene::SceneArgs),
    /// Print a configuration file with every setting at its default, each explained
    /// (or, with --config, check that file and print the settings it gives).
    #[command(after_help = "Examples:\n  grounded config > grounded.toml\n  grounded --config grounded.toml config --json")]
    Config(config::ConfigArgs),
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

impl Command {
    /// A command that prints and ends, and neither talks over a network nor drives a robot.
    fn only_prints(&self) -> bool {
        matches!(self, Command::Plan(_) | Command::Scene(_) | Command::Config(_) | Command::Calibrate(_))
    }
}

/// A command that only prints ends quietly when its output's reader goes away (`grounded
/// scene ... | head`), as other command-line tools do, instead of panicking in `println!`:
/// SIGPIPE gets its default action back (Rust ignores it). Commands that talk over a network
/// or drive a robot keep ignoring it: no write of theirs may end them.
pub fn end_quietly_when_output_closes(cli: &Cli) {
    if cli.command.only_prints() {
        // SAFETY: called once at start-up, before any thread exists; SIG_DFL is a valid
        // disposition for SIGPIPE.
        #[cfg(unix)]
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    let file = match &cli.config {
        Some(path) => ConfigFile::load(path)?,
        None => ConfigFile::default(),
    };
    match cli.command {
        Command::Plan(args) => plan::run(args, &file),
        Command::Bench(args) => bench::run(args, &file),
        Command::Eval(args) => eval::run(args, &file),
        Command::Calibrate(args) => calibrate::run(args, &file),
        Command::Demo(args) => demo::run(args, &file),
        Command::Sim(args) => sim::run(args),
        Command::Policy(args) => policy::run(args),
        Command::Daemon(args) => daemon::run(args, &file),
        Command::Send(args) => send::run(args),
        Command::Router(args) => router::run(args),
        Command::Bridge(args) => bridge::run(args),
        Command::Secure(args) => secure::run(args),
        Command::Train(args) => train::run(args),
        Command::Replay(args) => replay::run(args),
        Command::EStop(args) => estop::run(args),
        Command::Config(args) => config::run(args, &cli.config, &file),
        Command::Scene(args) => scene::run(args),
    }
}
