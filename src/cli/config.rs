//! `grounded config`: every setting at its default, or the settings a file gives.

use super::common::{method_of, PlannerArgs};
use anyhow::Result;
use clap::Args;
use grounded::config::ConfigFile;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct ConfigArgs {
    /// Print the settings in effect (defaults, then --config) as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: ConfigArgs, path: &Option<PathBuf>, file: &ConfigFile) -> Result<ExitCode> {
    if !args.json && path.is_none() {
        print!("{}", grounded::config::DEFAULTS_TOML);
        return Ok(ExitCode::SUCCESS);
    }
    let options = PlannerArgs::default().options(file);
    let settings = serde_json::json!({
        "file": path,
        "model": {"dir": options.model, "threads": options.threads, "prefix_cache_mib": options.prefix_cache_mib, "device": options.device},
        "decoder": {"method": method_of(None, file), "config": options.config},
        "grounding": {"safety": options.safety, "preference": options.preference, "scorers": options.scorers,
                      "weights": options.weights.iter().map(|(k, v)| (k.clone(), serde_json::json!(v))).collect::<serde_json::Map<_, _>>()},
    });
    println!("{}", serde_json::to_string_pretty(&settings)?);
    Ok(ExitCode::SUCCESS)
}
