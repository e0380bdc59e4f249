//! `grounded policy`: the skill policies as a zenoh node.

use super::common::{robot_keys, runtime, wait_for_ctrl_c, NodeArgs};
use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct PolicyArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    /// The operator's safety rules (the daemon's --safety file), enforced here too: a skill
    /// that mentions a forbidden term is refused whoever sends it, and scores affordance 0.
    /// Every term is enforced as hard here, whatever the file's mode.
    #[arg(long, value_name = "FILE")]
    pub safety: Option<PathBuf>,
}

pub fn run(args: PolicyArgs) -> Result<ExitCode> {
    let keys = robot_keys(&args.node.robot)?;
    let mut node = grounded::nodes::policy::PolicyNode::new(keys.clone(), grounded::nodes::timeouts::PRIMITIVE);
    if let Some(path) = &args.safety {
        let rules = grounded::setup::load_safety(path)?;
        node = node.with_safety(&rules).with_context(|| format!("the safety rules in {}", path.display()))?;
        eprintln!("policy: refusing skills that mention {:?}", rules.forbidden);
    }
    runtime()?.block_on(async {
        let session = args.node.zenoh.open().await?;
        eprintln!("policy: robot {} serving {}", keys.robot(), keys.skill());
        tokio::select! {
            r = grounded::nodes::policy::run_node(session, node) => r?,
            _ = wait_for_ctrl_c() => {}
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
