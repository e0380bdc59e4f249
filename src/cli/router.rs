//! `grounded router`: a zenoh router, for components on several machines.

use super::common::{runtime, wait_for_ctrl_c};
use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct RouterArgs {
    #[command(flatten)]
    pub zenoh: grounded::nodes::common::CommonArgs,
}

pub fn run(args: RouterArgs) -> Result<ExitCode> {
    let mut zenoh = args.zenoh.clone();
    zenoh.mode = "router".into();
    runtime()?.block_on(async {
        let _session = zenoh.open().await?;
        eprintln!("router: listening on {:?}", if zenoh.listen.is_empty() { vec!["tcp/127.0.0.1:0".to_string()] } else { zenoh.listen.clone() });
        wait_for_ctrl_c().await;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
