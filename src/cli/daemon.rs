//! `grounded daemon`: the controller daemon, planning closed-loop for instructions over zenoh.

use super::common::{method_of, robot_keys, runtime, wait_for_ctrl_c, NodeArgs, PlannerArgs};
use anyhow::{Context, Result};
use clap::Args;
use grounded::config::ConfigFile;
use grounded::dashboard::DashboardArgs;
use grounded::planner::Method;
use std::process::ExitCode;

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
    /// Folder of the journal: one JSON-lines file per daemon run, recording every
    /// instruction, state planned on, decoded skill with its scores, outcome and emergency
    /// stop as it happens (`grounded replay FILE` shows one in the dashboard)
    /// [default: $XDG_STATE_HOME/grounded/journal, else ~/.local/state/grounded/journal]
    #[arg(long, value_name = "DIR", conflicts_with = "no_journal")]
    pub journal: Option<std::path::PathBuf>,
    /// Keep no journal.
    #[arg(long)]
    pub no_journal: bool,
    /// Plan for a robot of your own with its skills (TOML, docs/skills.md): the robot
    /// publishes its state, answers `skill` and (optionally) `affordance` itself; each plan
    /// step asks it to score every admissible skill in one query (without an answer, the
    /// file's preconditions decide).
    #[arg(long, value_name = "FILE.toml")]
    pub skills: Option<std::path::PathBuf>,
    /// Ask the operator when the plan is uncertain, with this calibration (`grounded
    /// calibrate`): where the prediction set holds more than one skill, the daemon publishes
    /// a question on grounded/<robot>/question and waits for the answer on
    /// grounded/<robot>/answer (`grounded send` asks you on its terminal).
    #[arg(long, value_name = "CALIBRATION.json")]
    pub ask_for_help: Option<std::path::PathBuf>,
    /// With --ask-for-help: seconds to wait for an answer; then the instruction stops.
    #[arg(long, default_value_t = 120.0, requires = "ask_for_help")]
    pub ask_timeout: f64,
    #[command(flatten)]
    pub dashboard: DashboardArgs,
    #[command(flatten)]
    pub planner: PlannerArgs,
}

pub fn run(args: DaemonArgs, file: &ConfigFile) -> Result<ExitCode> {
    use grounded::nodes::remote::RemoteSkillSpace;
    let keys = robot_keys(&args.node.robot)?;
    if !(args.skill_timeout > 0.0 && args.skill_timeout <= 3600.0) {
        anyhow::bail!("--skill-timeout {} s: use a number of seconds between 0 and 3600", args.skill_timeout);
    }
    let options = args.planner.options(file);
    let ask = match &args.ask_for_help {
        Some(path) => {
            let c = grounded::ask::Calibration::read(path)?;
            if !(args.ask_timeout > 0.0 && args.ask_timeout <= 3600.0) {
                anyhow::bail!("--ask-timeout {} s: use a number of seconds between 0 and 3600", args.ask_timeout);
            }
            for difference in c.differences(&options) {
                tracing::warn!("{}: {difference} (recalibrate for a guarantee)", path.display());
            }
            eprintln!(
                "daemon: asking for help: {} calibration (epsilon {}: {}); questions on {}, answers on {}",
                c.domain,
                c.epsilon,
                c.measure.describe(c.threshold),
                keys.question(),
                keys.answer()
            );
            Some(grounded::nodes::daemon::AskSettings::from_calibration(&c, std::time::Duration::from_secs_f64(args.ask_timeout)))
        }
        None => None,
    };
    options.config.validate()?;
    let skills = super::common::register_skills(args.skills.as_deref(), &args.planner.options(file).model)?;
    let mut dashboard_args = args.dashboard.clone();
    dashboard_args.connect = args.node.zenoh.viewer_url()?;
    let dashboard = dashboard_args.open(true)?;
    let rt = runtime()?;
    rt.block_on(async {
        let session = args.node.zenoh.open().await?;
        let space: Box<dyn grounding::SkillSpace> = match skills {
            Some(domain) => grounded::domains::Domain::robot_skills(domain, &session, &keys),
            None => Box::new(RemoteSkillSpace { session: session.clone(), keys: keys.clone(), timeout: grounded::nodes::timeouts::AFFORDANCE }),
        };
        let affordance = grounding::Affordance::new(space, options.config.floor);
        let planner = options.build(Some(affordance), false).with_context(|| format!("loading the planner (model {})", options.model.display()))?;
        // The journal is opened once everything else is checked and loaded, so that a daemon
        // refused at start leaves no empty journal behind.
        let journal = if args.no_journal {
            None
        } else {
            let dir = args.journal.clone().unwrap_or_else(grounded::journal::default_dir);
            let journal = grounded::journal::Journal::create(&dir, &keys.robot().to_string())?;
            eprintln!("daemon: journal {}", journal.path().display());
            Some(std::sync::Arc::new(journal))
        };
        let config = grounded::nodes::daemon::DaemonConfig {
            method: method_of(args.method, file),
            skill_timeout: std::time::Duration::from_secs_f64(args.skill_timeout),
            observe_timeout: grounded::nodes::timeouts::OBSERVE,
            journal,
            ask: ask.clone(),
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
