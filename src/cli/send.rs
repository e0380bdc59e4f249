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
