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
    zenoh.mode = Some("router".into());
    runtime()?.block_on(async {
        let _session = zenoh.open().await?;
        match (&zenoh.zenoh_config, zenoh.listen.is_empty()) {
            (Some(file), true) => eprintln!("router: listening as {} says", file.display()),
            (None, true) => eprintln!("router: listening on [\"tcp/127.0.0.1:0\"]"),
            (_, false) => eprintln!("router: listening on {:?}", zenoh.listen),
        }
        wait_for_ctrl_c().await;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
