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
    /// Release the stop instead of engaging it (only ever on this explicit flag).
    #[arg(long)]
    pub release: bool,
    /// Why: kept in the daemon's journal.
    #[arg(long, default_value = "operator")]
    pub reason: String,
    #[command(flatten)]
    pub zenoh: grounded::nodes::common::CommonArgs,
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
        // Real-time priority, and blocking rather than dropping under congestion.
        session
            .put(keys.estop(), protocol::messages::encode(&stop))
            .priority(zenoh::qos::Priority::RealTime)
            .congestion_control(zenoh::qos::CongestionControl::Block)
            .await
            .map_err(|e| anyhow::anyhow!("sending the emergency stop: {e}"))?;
        let _ = session.close().await;
        if heard.is_empty() {
            bail!(
                "emergency stop {what} for robot {:?}, but no component of it was found (no liveliness token within {:.0} s): check --connect and --robot",
                args.robot,
                timeouts::DAEMON_FOUND.as_secs_f64()
            );
        }
        eprintln!("emergency stop {what} for robot {} (running: {})", keys.robot(), heard.join(", "));
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
