//! A ROS 2 robot through `grounded bridge ros2`, with no ROS installed: the robot
//! (tests/ros2_robot.py) speaks rmw_zenoh through zenoh-ros2-sdk, an implementation
//! independent of grounded's, and carries its skills out on the tabletop simulation
//! (`grounded sim` and `grounded policy` under another robot id). Every process meets at one
//! zenoh router, as on a real robot. The daemon plans for the bridged robot as for the sim,
//! the task succeeds on the simulation's ground truth, the bridge shows in the ROS graph, and
//! an emergency stop cancels the goal under way.
//!
//! Needs a Python with eclipse-zenoh, rosbags and zenoh-ros2-sdk (`bash
//! tools/setup-robot-python.sh` makes one and prints it), named by GROUNDED_ROBOT_PYTHON;
//! without it the test says so and skips, unless GROUNDED_REQUIRE_ROBOT_PYTHON is set.

mod common;

use common::{free_port, grounded, repo, Kill};
use grounded::nodes::common::{query_one, CommonArgs};
use grounded::nodes::remote::observe;
use protocol::keys::{RobotId, RobotKeys};
use protocol::messages::{EpisodeReply, EpisodeRequest, EpisodeRequestBody};
use protocol::SCHEMA_VERSION;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn python() -> Option<PathBuf> {
    common::python(
        &["GROUNDED_ROBOT_PYTHON"],
        "GROUNDED_REQUIRE_ROBOT_PYTHON",
        "zenoh, rosbags, zenoh_ros2_sdk",
        "a Python with eclipse-zenoh, rosbags and zenoh-ros2-sdk (bash tools/setup-robot-python.sh prints one)",
    )
}

/// Where the processes' logs go (kept when the test fails).
fn logs() -> PathBuf {
    std::env::temp_dir().join(format!("grounded-ros2-bridge-{}", std::process::id()))
}

/// Start `grounded` with `args`, its error output in `logs()/<name>.log`.
fn start(name: &str, args: &[&str]) -> Kill {
    std::fs::create_dir_all(logs()).expect("a log folder");
    let log = std::fs::File::create(logs().join(format!("{name}.log"))).expect("a log file");
    Kill(Command::new(env!("CARGO_BIN_EXE_grounded")).args(args).current_dir(repo()).stdout(Stdio::null()).stderr(log).spawn().expect("start grounded"))
}

/// The robot's lines, as it prints them.
struct RobotLog(Arc<Mutex<Vec<String>>>);

impl RobotLog {
    fn clear(&self) {
        self.0.lock().unwrap().clear();
    }

    fn wait_for(&self, needle: &str, within: Duration) -> String {
        let started = Instant::now();
        loop {
            if let Some(line) = self.0.lock().unwrap().iter().find(|l| l.contains(needle)) {
                return line.clone();
            }
            assert!(started.elapsed() < within, "the robot never said {needle:?}; it said: {:#?} (logs in {})", self.0.lock().unwrap(), logs().display());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn start_robot(py: &Path, port: u16) -> (Kill, RobotLog) {
    let mut child = Command::new(py)
        .args([repo().join("tests/ros2_robot.py").to_str().unwrap(), "--router", &format!("127.0.0.1:{port}"), "--namespace", "/r1", "--inner", "inner"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the ROS 2 robot");
    let lines = Arc::new(Mutex::new(Vec::new()));
    let (out, sink) = (child.stdout.take().unwrap(), lines.clone());
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    (Kill(child), RobotLog(lines))
}

/// Ask the simulation (a session just opened may not know its queryable yet: ask again).
fn episode(session: &zenoh::Session, body: EpisodeRequestBody) -> EpisodeReply {
    let keys = RobotKeys::new(RobotId::new("inner").unwrap());
    let req = EpisodeRequest { schema: SCHEMA_VERSION, body };
    let started = Instant::now();
    loop {
        match query_one::<EpisodeRequest, EpisodeReply>(session, &keys.episode(), &req, Duration::from_secs(10)) {
            Ok(reply) => return reply.expect("the simulation accepts"),
            Err(e) if started.elapsed() > Duration::from_secs(10) => panic!("the simulation does not answer: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

#[test]
fn the_daemon_plans_for_a_ros_2_robot_through_the_bridge_and_the_estop_cancels_its_goal() {
    let Some(py) = python() else { return };
    let port = free_port();
    let router = format!("tcp/127.0.0.1:{port}");
    let _router = start("router", &["router", "--listen", &router]);
    std::thread::sleep(Duration::from_millis(500));
    let _sim = start("sim", &["sim", "--robot", "inner", "--connect", &router, "--real-time", "--task", "matching-bowls", "--seed", "2"]);
    let _policy = start("policy", &["policy", "--robot", "inner", "--connect", &router]);
    let (_robot, log) = start_robot(&py, port);
    log.wait_for("serving", Duration::from_secs(30));
    let _bridge = start("bridge", &["bridge", "ros2", "--robot", "r1", "--namespace", "/r1", "--connect", &router]);
    let _daemon = start("daemon", &["daemon", "--robot", "r1", "--connect", &router, "--no-journal"]);

    // The bridge starts with its stop engaged, and the robot hears it on the latched topic.
    log.wait_for("estop: true", Duration::from_secs(20));
    let released = grounded(&["estop", "--robot", "r1", "--connect", &router, "--release"]);
    assert!(released.status.success(), "{}", String::from_utf8_lossy(&released.stderr));
    log.wait_for("estop: false", Duration::from_secs(10));

    // The bridge is a node of the ROS graph, as zenoh-ros2-sdk's discovery (ros2 topic info) sees it.
    let script = format!(
        "from zenoh_ros2_sdk import discovery\ninfo = discovery.get_topic_info('/r1/estop', router_ip='127.0.0.1', router_port={port}, verbose=True)\nprint([(p.node_name, p.node_namespace, p.topic_type) for p in info.publishers])\n"
    );
    let started = Instant::now();
    let graph = loop {
        let out = Command::new(&py).args(["-c", &script]).output().expect("python runs");
        let graph = String::from_utf8_lossy(&out.stdout).into_owned();
        if graph.contains("grounded_bridge") || started.elapsed() > Duration::from_secs(15) {
            break graph;
        }
    };
    assert!(graph.contains("grounded_bridge") && graph.contains("std_msgs/msg/Bool"), "the ROS graph: {graph}");

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let session =
        rt.block_on(CommonArgs { mode: Some("peer".into()), connect: vec![router.clone()], ..CommonArgs::default() }.open()).expect("a zenoh session");
    let (inner, bridged) = (RobotKeys::new(RobotId::new("inner").unwrap()), RobotKeys::new(RobotId::new("r1").unwrap()));
    let started = Instant::now();
    while let Err(e) = observe(&session, &bridged, Duration::from_secs(5)) {
        assert!(started.elapsed() < Duration::from_secs(20), "the bridge never said what the robot observes: {e}");
        std::thread::sleep(Duration::from_millis(100));
    }

    // A plan through the bridge: every skill an action goal, the task judged on the simulation.
    let sent = grounded(&["send", "--robot", "r1", "--connect", &router, "--json", "put the blocks in the bowls with matching colours"]);
    let last = String::from_utf8_lossy(&sent.stdout).lines().last().unwrap_or_default().to_string();
    assert!(sent.status.success(), "the plan did not end in done: {last}; {}", String::from_utf8_lossy(&sent.stderr));
    log.wait_for("goal accepted: 'pick up the", Duration::from_secs(1));
    let verdict = episode(&session, EpisodeRequestBody::Judge);
    assert_eq!(verdict.success, Some(true), "the simulation's verdict: {verdict:?}");

    // An emergency stop during a skill: the bridge cancels the robot's goal.
    episode(&session, EpisodeRequestBody::Reset { task: "stack-all-blocks".into(), seed: 1, skill_failures: None });
    log.clear();
    // Until the robot's Scene, through the bridge, shows the new episode.
    let started = Instant::now();
    loop {
        let truth = observe(&session, &inner, Duration::from_secs(5)).expect("the simulation's state");
        let seen = observe(&session, &bridged, Duration::from_secs(5));
        let same = seen.as_ref().is_ok_and(|s| {
            s.objects.len() == truth.objects.len()
                && s.objects.iter().zip(&truth.objects).all(|(a, b)| a.name == b.name && a.position.iter().zip(b.position).all(|(x, y)| (x - y).abs() < 1e-6))
        });
        if same {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "the bridge never showed the new episode: {seen:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let send = Command::new(env!("CARGO_BIN_EXE_grounded"))
        .args(["send", "--robot", "r1", "--connect", &router, "--json", "stack all the blocks"])
        .current_dir(repo())
        .stdout(std::fs::File::create(logs().join("send.out")).expect("a log file"))
        .stderr(std::fs::File::create(logs().join("send.log")).expect("a log file"))
        .spawn()
        .unwrap();
    log.wait_for("goal accepted: ", Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(300));
    let stopped = grounded(&["estop", "--robot", "r1", "--connect", &router, "--reason", "test"]);
    assert!(stopped.status.success(), "{}", String::from_utf8_lossy(&stopped.stderr));
    let ended = log.wait_for("goal ended: ", Duration::from_secs(10));
    assert!(ended.ends_with("status 5"), "the goal was not cancelled: {ended}");
    let mut send = send;
    let status = send.wait().unwrap();
    let progress = std::fs::read_to_string(logs().join("send.out")).unwrap_or_default();
    assert!(progress.contains("cancelled"), "the daemon heard: {progress}");
    assert!(!status.success(), "a stopped plan does not end in done");
    let _ = rt.block_on(async { session.close().await });
    let _ = std::fs::remove_dir_all(logs());
}
