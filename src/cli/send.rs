//! `grounded send`: an instruction to a robot's daemon, following its progress to the end.

use super::common::{robot_keys, runtime};
use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

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

pub fn run(args: SendArgs) -> Result<ExitCode> {
    use grounded::nodes::client;
    use protocol::messages::PlanStatus;
    let keys = robot_keys(&args.robot)?;
    if args.instruction.trim().is_empty() {
        anyhow::bail!("the instruction is empty: say what the robot should do");
    }
    let within = match std::time::Duration::try_from_secs_f64(args.timeout) {
        Ok(d) if !d.is_zero() => d,
        _ => anyhow::bail!("--timeout {} is not a positive number of seconds", args.timeout),
    };
    let code = runtime()?.block_on(async {
        let session = args.zenoh.open().await?;
        let id = format!("send-{}", std::process::id());
        // It waits for the daemon's token itself, a new session needing a moment to meet it.
        let follower = match client::send_instruction(&session, &keys, &id, &args.instruction).await {
            Ok(f) => f,
            Err(e @ client::ClientError::NotUp { .. }) => {
                anyhow::bail!("{e}; start `grounded daemon --robot {}` and connect to it (same --mode, --connect)", args.robot)
            }
            Err(e) => return Err(e.into()),
        };
        let mut printed = Ok(());
        let last = follower
            .follow(within, |p| {
                if args.json {
                    match serde_json::to_string(p) {
                        Ok(line) => println!("{line}"),
                        Err(e) => printed = Err(e),
                    }
                } else {
                    println!(
                        "{:>2} {:?} {}{}",
                        p.step,
                        p.status,
                        p.skill.clone().unwrap_or_default(),
                        p.reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default()
                    );
                }
            })
            .await?;
        printed?;
        Ok::<_, anyhow::Error>(if last.status == PlanStatus::Done { 0u8 } else { 3u8 })
    })?;
    Ok(ExitCode::from(code))
}
