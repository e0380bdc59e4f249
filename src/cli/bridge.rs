//! `grounded bridge ros2`: a ROS 2 robot (over rmw_zenoh) served on grounded's keys, so that
//! the daemon plans for it as for the simulator (docs/hardware.md).

use super::common::{robot_keys, runtime, wait_for_ctrl_c, NodeArgs};
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct BridgeArgs {
    #[command(subcommand)]
    pub command: BridgeCommand,
}

#[derive(Subcommand, Debug)]
pub enum BridgeCommand {
    /// A ROS 2 robot over rmw_zenoh: its Scene topic, Affordance service and ExecuteSkill
    /// action (hardware/ros2/grounded_interfaces), no ROS installation needed here.
    #[command(
        after_help = "Example (the robot's nodes run with RMW_IMPLEMENTATION=rmw_zenoh_cpp, its router at robot-pc:7447):\n  grounded bridge ros2 --robot r1 --ros-domain 0 --namespace /r1 --connect tcp/robot-pc:7447 --mode client\n  grounded daemon --robot r1 --connect tcp/robot-pc:7447 --mode client\n  grounded estop --robot r1 --connect tcp/robot-pc:7447 --release   (the bridge starts stopped)\n  grounded send --robot r1 --connect tcp/robot-pc:7447 \"put the blocks in the bowls with matching colours\""
    )]
    Ros2(Ros2Args),
}

#[derive(Args, Debug)]
pub struct Ros2Args {
    #[command(flatten)]
    pub node: NodeArgs,
    /// The robot's ROS_DOMAIN_ID.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=232))]
    pub ros_domain: u32,
    /// The namespace of the robot's Scene, Affordance and ExecuteSkill (e.g. /r1).
    #[arg(long, default_value = "/", value_parser = parse_namespace)]
    pub namespace: String,
    /// The node name the bridge shows under in `ros2 node list`.
    #[arg(long, default_value = "grounded_bridge", value_parser = parse_node_name)]
    pub node_name: String,
    /// The robot base's pose in grounded's table frame, X,Y,Z,YAW (metres, radians about
    /// the vertical): the robot's poses are turned into the table frame and back with it.
    #[arg(long, value_name = "X,Y,Z,YAW", default_value = "0,0,0,0", value_parser = hardware::BaseInTable::parse)]
    pub base_in_table: hardware::BaseInTable,
    /// The robot's skill file (docs/skills.md): each skill goes out with its template and
    /// slot words, and its domain's scenes are understood.
    #[arg(long, value_name = "FILE.toml")]
    pub skills: Option<std::path::PathBuf>,
    /// Longest one skill may take on the robot, seconds.
    #[arg(long, default_value_t = 600.0)]
    pub skill_timeout: f64,
    /// Longest a service call to the robot (affordance, send goal, cancel) may take, seconds.
    #[arg(long, default_value_t = 5.0)]
    pub call_timeout: f64,
    /// A Scene older than this many seconds is not what the robot observes now: the daemon
    /// then stops rather than plan on it.
    #[arg(long, default_value_t = 2.0)]
    pub scene_max_age: f64,
    /// Start with the emergency stop released (default: engaged, until `grounded estop
    /// --release`).
    #[arg(long)]
    pub start_released: bool,
}

/// A ROS namespace: `/`, or `/`-separated names of letters, digits and `_`.
fn parse_namespace(s: &str) -> Result<String, String> {
    let ok = s.starts_with('/')
        && (s == "/"
            || s[1..]
                .trim_end_matches('/')
                .split('/')
                .all(|p| !p.is_empty() && !p.starts_with(|c: char| c.is_ascii_digit()) && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')));
    if ok {
        let trimmed = s.trim_end_matches('/');
        Ok(if trimmed.is_empty() { "/".into() } else { trimmed.to_string() })
    } else {
        Err(format!("{s:?} is not a ROS namespace: write / or /name (letters, digits, '_'; not starting with a digit)"))
    }
}

fn parse_node_name(s: &str) -> Result<String, String> {
    if !s.is_empty() && !s.starts_with(|c: char| c.is_ascii_digit()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(s.to_string())
    } else {
        Err(format!("{s:?} is not a ROS node name: letters, digits and '_', not starting with a digit"))
    }
}

pub fn run(args: BridgeArgs) -> Result<ExitCode> {
    let BridgeCommand::Ros2(args) = args.command;
    let keys = robot_keys(&args.node.robot)?;
    if !(args.skill_timeout > 0.0 && args.skill_timeout <= 86_400.0) {
        anyhow::bail!("--skill-timeout {} s: use a number of seconds between 0 and 86400", args.skill_timeout);
    }
    for (flag, value, most) in [("--call-timeout", args.call_timeout, 600.0), ("--scene-max-age", args.scene_max_age, 60.0)] {
        if !(value > 0.0 && value <= most) {
            anyhow::bail!("{flag} {value} s: use a number of seconds between 0 and {most}");
        }
    }
    let skills = match &args.skills {
        Some(path) => {
            let domain = grounded::domains::skill_file::register(grounded::skills::load(path)?).map_err(anyhow::Error::msg)?;
            Some(domain.library())
        }
        None => None,
    };
    let config = hardware::ros2::Ros2Config {
        domain: args.ros_domain,
        namespace: args.namespace.clone(),
        node_name: args.node_name.clone(),
        base: args.base_in_table,
        skill_timeout: std::time::Duration::from_secs_f64(args.skill_timeout),
        call_timeout: std::time::Duration::from_secs_f64(args.call_timeout),
        scene_max_age: std::time::Duration::from_secs_f64(args.scene_max_age),
    };
    runtime()?.block_on(async {
        let session = args.node.zenoh.open().await?;
        let robot = hardware::ros2::Ros2Bridge::start(session.clone(), config).context("joining the ROS graph")?;
        let node = grounded::nodes::bridge::BridgeNode::new(&session, keys.clone(), std::sync::Arc::new(robot), skills, args.start_released);
        eprintln!(
            "bridge: robot {} <-> ROS 2 node {} on domain {} ({})",
            keys.robot(),
            hardware::ros2::names::qualify(&args.namespace, &args.node_name),
            args.ros_domain,
            if args.start_released { "emergency stop released" } else { "emergency stop engaged: release with grounded estop --release" }
        );
        tokio::select! {
            r = grounded::nodes::bridge::run(session, node) => r?,
            _ = wait_for_ctrl_c() => {}
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
