//! `grounded policy`: the skill policies as a zenoh node.

use super::common::{robot_keys, runtime, wait_for_ctrl_c, NodeArgs};
use anyhow::Result;
use std::process::ExitCode;

pub fn run(args: NodeArgs) -> Result<ExitCode> {
    let keys = robot_keys(&args.robot)?;
    runtime()?.block_on(async {
        let session = args.zenoh.open().await?;
        eprintln!("policy: robot {} serving {}", keys.robot(), keys.skill());
        tokio::select! {
            r = grounded::nodes::policy::run(session, keys, grounded::nodes::timeouts::PRIMITIVE) => r?,
            _ = wait_for_ctrl_c() => {}
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
