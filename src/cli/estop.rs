//! `grounded estop`: engage (or, explicitly, release) a robot's emergency stop.

use super::common::{robot_keys, runtime};
use anyhow::{bail, Result};
use clap::Args;
use protocol::keys::Component;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct EStopArgs {
    #[arg(long)]
    pub robot: String,
    /// Release the stop instead of engaging it (only ever on this explicit flag). The robot
    /// side (sim or bridge) holds the stop latched; policies and daemons move again only
    /// once they read the release from it.
    #[arg(long)]
    pub release: bool,
    /// Why: kept in the daemon's journal.
    #[arg(long, default_value = "operator")]
    pub reason: String,
    #[command(flatten)]
    pub zenoh: grounded::nodes::common::CommonArgs,
}

/// The robot's stop state once it reads `engaged` (None: not within the time allowed).
async fn confirm(session: &zenoh::Session, keys: &protocol::keys::RobotKeys, engaged: bool) -> Option<protocol::messages::EStopState> {
    let (s, k) = (session.clone(), keys.clone());
    tokio::task::spawn_blocking(move || grounded::nodes::latch::await_robot(&s, &k, engaged, grounded::nodes::timeouts::ESTOP_CONFIRM)).await.ok().flatten()
}

pub fn run(args: EStopArgs) -> Result<ExitCode> {
    use grounded::nodes::{client, timeouts};
    let keys = robot_keys(&args.robot)?;
    let stop = protocol::messages::EStop { schema: protocol::SCHEMA_VERSION, engaged: !args.release, reason: Some(args.reason.clone()) };
    let what = if args.release { "released" } else { "engaged" };
    runtime()?.block_on(async {
        let session = args.zenoh.open().await?;
        // Whoever is there to hear it: the session needs a moment to meet its peers.
        let _ = client::wait_for(&session, &keys, &[Component::Sim], timeouts::DAEMON_FOUND).await;
        let mut heard = Vec::new();
        for c in Component::ALL {
            let (s, k) = (session.clone(), keys.alive(c));
            if tokio::task::spawn_blocking(move || grounded::nodes::common::alive(&s, &k)).await.unwrap_or(false) {
                heard.push(c.name());
            }
        }
        grounded::nodes::common::urgent_put(&session, &keys.estop(), protocol::messages::encode(&stop))
            .await
            .map_err(|e| anyhow::anyhow!("sending the emergency stop: {e}"))?;
        // The robot side holds the stop: ask it until it says so.
        let confirmed = confirm(&session, &keys, stop.engaged).await;
        let _ = session.close().await;
        if heard.is_empty() {
            bail!(
                "emergency stop {what} for robot {:?}, but no component of it was found (no liveliness token within {:.0} s): check --connect and --robot",
                args.robot,
                timeouts::DAEMON_FOUND.as_secs_f64()
            );
        }
        match confirmed {
            Some(state) => {
                eprintln!("emergency stop {what} for robot {}: the robot confirms (change {}; running: {})", keys.robot(), state.epoch, heard.join(", "))
            }
            None => bail!(
                "emergency stop {what} sent to robot {:?} (running: {}), but the robot side (sim or bridge) did not confirm it within {:.0} s: {}",
                args.robot,
                heard.join(", "),
                timeouts::ESTOP_CONFIRM.as_secs_f64(),
                if args.release { "the stop may still be engaged" } else { "policies and daemons that heard it are stopped; check the robot itself" }
            ),
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
