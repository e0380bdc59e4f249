//! `grounded secure init`: a certificate authority, a certificate and key per component, and
//! a zenoh configuration per component with mutual TLS and default-deny access control.

use super::common::robot_keys;
use anyhow::Result;
use clap::{Args, Subcommand};
use grounded::secure::{config_path, InitOptions, Role};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct SecureArgs {
    #[command(subcommand)]
    pub command: SecureCommand,
}

#[derive(Subcommand, Debug)]
pub enum SecureCommand {
    /// Make keys and configurations for one robot's components (never overwrites).
    Init(InitArgs),
}

#[derive(Args, Debug)]
pub struct InitArgs {
    #[arg(long)]
    pub robot: String,
    /// A new folder for the files: ca.pem and ca.key (keep the key offline), then one folder
    /// per component (router, sim, policy, daemon, operator) with its certificate, key and
    /// zenoh.json5. Each configuration names its files by absolute path: copy a component's
    /// folder to the same path on the machine that runs it.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// A name or address the components reach the router at (repeatable; the router's
    /// certificate is valid for each; the first goes into the components' configurations).
    #[arg(long = "router-host", value_name = "HOST", default_values_t = ["localhost".to_string(), "127.0.0.1".to_string()])]
    pub router_hosts: Vec<String>,
    /// The router's port (UDP: QUIC with mutual TLS).
    #[arg(long, default_value_t = 7447)]
    pub router_port: u16,
}

pub fn run(args: SecureArgs) -> Result<ExitCode> {
    match args.command {
        SecureCommand::Init(args) => init(args),
    }
}

fn init(args: InitArgs) -> Result<ExitCode> {
    let keys = robot_keys(&args.robot)?;
    let options = InitOptions { keys, out: args.out.clone(), router_hosts: args.router_hosts.clone(), router_port: args.router_port };
    let written = grounded::secure::init(&options)?;
    let out = args.out.canonicalize().unwrap_or(args.out.clone());
    eprintln!("secure: wrote {} files under {}", written.len(), out.display());
    let config = |role: Role| config_path(&out, role).display().to_string();
    println!(
        "Start each component with its configuration (the router first; keep {}/ca.key offline):\n  grounded router --zenoh-config {}\n  grounded sim    --robot {r} --zenoh-config {}\n  grounded policy --robot {r} --zenoh-config {}\n  grounded daemon --robot {r} --zenoh-config {}\n  grounded send   --robot {r} --zenoh-config {} \"put the red block in the blue bowl\"\n  grounded estop  --robot {r} --zenoh-config {}",
        out.display(),
        config(Role::Router),
        config(Role::Sim),
        config(Role::Policy),
        config(Role::Daemon),
        config(Role::Operator),
        config(Role::Operator),
        r = args.robot,
    );
    Ok(ExitCode::SUCCESS)
}
