//! `grounded sim`, `grounded policy` and `grounded daemon` as separate processes that find
//! each other through zenoh on loopback, directly and through a router; `grounded send`
//! runs an episode to success.
mod common;

use common::free_port;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Child processes, killed when the test ends however it ends.
struct Fleet(Vec<Child>);

impl Drop for Fleet {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Where spawned daemons keep their journals (by default under $XDG_STATE_HOME): a
/// folder of this test run's own, not the user's.
fn state_home() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("grounded-processes-state-{}", std::process::id()))
}

impl Fleet {
    /// A matching-bowls robot (seed 0): its sim listening on `listen`, then its policy and
    /// its daemon (with `daemon_args`) connecting to it; the daemon is `self.0[2]`.
    fn start_robot(&mut self, robot: &str, listen: &str, daemon_args: &[&str]) {
        self.0.push(spawn(&["sim", "--robot", robot, "--listen", listen, "--task", "matching-bowls", "--seed", "0"]));
        std::thread::sleep(Duration::from_millis(300));
        self.0.push(spawn(&["policy", "--robot", robot, "--connect", listen]));
        let daemon: Vec<&str> = ["daemon", "--robot", robot, "--connect", listen].into_iter().chain(daemon_args.iter().copied()).collect();
        self.0.push(spawn(&daemon));
    }
}

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_grounded"))
        .args(args)
        .env("XDG_STATE_HOME", state_home())
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start grounded")
}

fn send(robot: &str, zenoh: &[&str], instruction: &str) -> (i32, String) {
    let mut args = vec!["send", "--robot", robot, "--timeout", "120"];
    args.extend_from_slice(zenoh);
    args.push(instruction);
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_grounded")).args(&args).current_dir(Path::new(env!("CARGO_MANIFEST_DIR"))).output().expect("run grounded send");
    assert!(started.elapsed() < Duration::from_secs(150));
    (out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn separate_processes_run_an_episode_to_success() {
    let port = free_port();
    let listen = format!("tcp/127.0.0.1:{port}");
    let robot = format!("proc{port}");
    let mut fleet = Fleet(Vec::new());
    fleet.start_robot(&robot, &listen, &[]);
    let (code, out) = send(&robot, &["--connect", &listen], "put the blocks in the bowls with matching colours");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Succeeded pick up the"), "{out}");
    assert!(out.contains("Done"), "{out}");

    // An unknown robot: nobody answers, and the error says so.
    let (code, out) = send("nobody-here", &["--connect", &listen], "stack all the blocks");
    assert_ne!(code, 0);
    assert!(out.contains("no daemon is running for robot \"nobody-here\""), "{out}");
}

#[test]
fn components_meet_through_a_router() {
    let port = free_port();
    let router = format!("tcp/127.0.0.1:{port}");
    let robot = format!("routed{port}");
    let mut fleet = Fleet(Vec::new());
    fleet.0.push(spawn(&["router", "--listen", &router]));
    std::thread::sleep(Duration::from_millis(300));
    let client = ["--mode", "client", "--connect", router.as_str()];
    for cmd in
        [vec!["sim", "--robot", &robot, "--task", "stack-all-blocks", "--seed", "1"], vec!["policy", "--robot", &robot], vec!["daemon", "--robot", &robot]]
    {
        let args: Vec<&str> = cmd.into_iter().chain(client.iter().copied()).collect();
        fleet.0.push(spawn(&args));
    }
    let (code, out) = send(&robot, &client, "stack all the blocks");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Done"), "{out}");
}

/// Run `grounded ARGS` to its exit (killed after `within`), with its exit code and stderr.
fn run_to_exit(args: &[&str], within: Duration) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_grounded"))
        .args(args)
        .env("XDG_STATE_HOME", state_home())
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start grounded");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("query the child") {
            break Some(status);
        }
        if started.elapsed() > within {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
    }
    (status.and_then(|s| s.code()), stderr)
}

/// One daemon per robot: a second one refuses to start and says which is running; `send`
/// follows the daemon it sent to, and reports `aborted` when that daemon goes away mid-plan.
#[test]
fn one_daemon_per_robot_and_send_notices_when_it_goes_away() {
    use std::io::BufRead;
    let port = free_port();
    let listen = format!("tcp/127.0.0.1:{port}");
    let robot = format!("single{port}");
    let mut fleet = Fleet(Vec::new());
    fleet.start_robot(&robot, &listen, &[]);
    // The first daemon is up once it answers an instruction, whatever its plan does (0:
    // done; 3: it ended otherwise, as when it stops before a skill; 1 would be no answer).
    let (code, out) = send(&robot, &["--connect", &listen], "done");
    assert!(code == 0 || code == 3, "exit {code}: {out}");

    let (code, stderr) = run_to_exit(&["daemon", "--robot", &robot, "--connect", &listen], Duration::from_secs(60));
    assert!(code.is_some_and(|c| c != 0), "a second daemon kept running (exit {code:?}): {stderr}");
    assert!(stderr.contains(&format!("a daemon is already running for robot \"{robot}\" (zenoh id ")), "{stderr}");

    // The daemon goes away while a plan runs: send says so, and fails.
    let mut send = Command::new(env!("CARGO_BIN_EXE_grounded"))
        .args(["send", "--robot", &robot, "--timeout", "120", "--connect", &listen, "put the blocks in the bowls with matching colours"])
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run grounded send");
    let lines = std::io::BufReader::new(send.stdout.take().expect("send's output"));
    let mut seen = Vec::new();
    for line in lines.lines() {
        let line = line.expect("a line");
        if line.contains("Decoded") && !seen.iter().any(|l: &String| l.contains("Decoded")) {
            let mut daemon = fleet.0.remove(2);
            let _ = daemon.kill();
            let _ = daemon.wait();
        }
        seen.push(line);
    }
    let code = send.wait().expect("send ends").code();
    let out = seen.join("\n");
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("Aborted") && out.contains("went away before the plan ended"), "{out}");
}

/// The daemon's journal is complete up to a kill in the middle of a plan: every line it
/// holds reads back (but for a last one cut short), and it holds the instruction, the states
/// planned on and each skill decoded and carried out before the kill; `grounded replay`
/// turns it into a recording.
#[test]
fn the_journal_survives_a_killed_daemon_and_replays() {
    use grounded::journal::Event;
    use std::io::BufRead;
    let port = free_port();
    let listen = format!("tcp/127.0.0.1:{port}");
    let robot = format!("journal{port}");
    let dir = std::env::temp_dir().join(format!("grounded-journal-{}-{port}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut fleet = Fleet(Vec::new());
    fleet.start_robot(&robot, &listen, &["--journal", dir.to_str().unwrap()]);
    let instruction = "put the blocks in the bowls with matching colours";
    let mut send = Command::new(env!("CARGO_BIN_EXE_grounded"))
        .args(["send", "--robot", &robot, "--timeout", "120", "--connect", &listen, instruction])
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run grounded send");
    let mut carried_out = None;
    for line in std::io::BufReader::new(send.stdout.take().expect("send's output")).lines() {
        let line = line.expect("a line");
        if carried_out.is_none() {
            if let Some((_, skill)) = line.split_once(" Succeeded ") {
                carried_out = Some(skill.trim().to_string());
                let mut daemon = fleet.0.remove(2);
                let _ = daemon.kill();
                let _ = daemon.wait();
            }
        }
    }
    let _ = send.wait();
    let skill = carried_out.expect("a skill was carried out before the kill");

    let files: Vec<_> = std::fs::read_dir(&dir).expect("the journal folder").map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let back = grounded::journal::read(&files[0]).unwrap();
    let lines = std::fs::read_to_string(&files[0]).unwrap().lines().count();
    assert!(back.unreadable.iter().all(|(n, _)| *n == lines), "only a last line may be cut: {:?}", back.unreadable);
    let events: Vec<&Event> = back.entries.iter().map(|e| &e.event).collect();
    assert!(matches!(events.first(), Some(Event::Started { .. })), "{events:?}");
    assert!(events.iter().any(|e| matches!(e, Event::Instruction { text, .. } if text == instruction)));
    assert!(events.iter().any(|e| matches!(e, Event::Observation { .. })));
    assert!(events.iter().any(|e| matches!(e, Event::Decoded { proposal, .. } if proposal.skill == skill)), "{skill:?} not decoded in {events:?}");
    assert!(events.iter().any(|e| matches!(e, Event::Executed { skill: s, .. } if *s == skill)), "{skill:?} not carried out in {events:?}");

    let rrd = dir.join("replay.rrd");
    let (code, stderr) = run_to_exit(&["replay", files[0].to_str().unwrap(), "--save", rrd.to_str().unwrap()], Duration::from_secs(60));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(std::fs::metadata(&rrd).map(|m| m.len() > 1000).unwrap_or(false), "no recording: {stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
