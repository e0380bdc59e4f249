//! `grounded replay`: a daemon's journal shown in the dashboard: each instruction, the states
//! planned on, each decoded skill with its token-by-token explanation, outcomes and stops.

use super::common::serve_until_ctrl_c;
use anyhow::{bail, Result};
use clap::Args;
use grounded::dashboard::{Dashboard, DashboardArgs};
use grounded::journal::{self, Event};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// The journal (a .jsonl file the daemon wrote; `grounded daemon --help` says where).
    pub journal: PathBuf,
    /// Replay only this instruction id (default: every instruction in the journal).
    #[arg(long, value_name = "ID")]
    pub instruction: Option<String>,
    #[command(flatten)]
    pub dashboard: DashboardArgs,
    /// Send the recording to a running rerun viewer, e.g. rerun+http://127.0.0.1:9876/proxy.
    #[arg(long, value_name = "URL", help_heading = "Dashboard (rerun)")]
    pub connect: Option<String>,
}

pub fn run(args: ReplayArgs) -> Result<ExitCode> {
    let back = journal::read(&args.journal)?;
    for (line, why) in &back.unreadable {
        eprintln!("replay: skipped line {line} of {}: {why} (a daemon killed while writing leaves its last line cut short)", args.journal.display());
    }
    let mut dashboard_args = args.dashboard.clone();
    dashboard_args.connect = args.connect.clone();
    if dashboard_args.sink()? == grounded::dashboard::sink::Sink::Off {
        bail!("say where the recording goes: --save FILE.rrd, --serve, --connect rerun+http://HOST:PORT/proxy or --spawn");
    }
    let dashboard = dashboard_args.open(true)?;
    let wanted = |id: &str| args.instruction.as_deref().is_none_or(|w| w == id);
    let mut shown = 0;
    for entry in &back.entries {
        show(&dashboard, &entry.event, &wanted, &mut shown);
    }
    if let Some(id) = &args.instruction {
        if shown == 0 {
            bail!("the journal has no instruction {id:?}");
        }
    }
    dashboard.flush();
    eprintln!("replay: {shown} instruction(s), {} entries", back.entries.len());
    serve_until_ctrl_c(&dashboard_args)?;
    Ok(ExitCode::SUCCESS)
}

fn show(dashboard: &Dashboard, event: &Event, wanted: &dyn Fn(&str) -> bool, shown: &mut usize) {
    match event {
        Event::Instruction { id, text } if wanted(id) => {
            *shown += 1;
            dashboard.instruction(text);
        }
        Event::Observation { id, observation } if wanted(id) => dashboard.observation(observation),
        Event::Decoded { id, proposal } if wanted(id) => dashboard.decoded(proposal),
        Event::Executed { id, index, skill, outcome } if wanted(id) => dashboard.outcome(*index, skill, outcome),
        Event::Asked { id, question } if wanted(id) => dashboard.asked(question),
        Event::Answered { id, step, answer } if wanted(id) => dashboard.answered(*step, answer),
        Event::Ended { id, status, reason, .. } if wanted(id) => dashboard.plan_ended(&format!("{status:?}").to_lowercase(), reason.as_deref()),
        Event::EStop { engaged, reason } => {
            let what = if *engaged { "emergency stop engaged" } else { "emergency stop released" };
            let text = format!("{what}{}", reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default());
            dashboard.log(grounded::dashboard::paths::OUTCOMES, &rerun::TextLog::new(text).with_level(rerun::TextLogLevel::WARN));
        }
        _ => {}
    }
}
