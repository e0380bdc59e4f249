//! `grounded sim`, `grounded policy` and `grounded daemon` as separate processes that find
//! each other through zenoh on loopback, directly and through a router; `grounded send`
//! runs an episode to success.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

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

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_grounded"))
        .args(args)
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
    fleet.0.push(spawn(&["sim", "--robot", &robot, "--listen", &listen, "--task", "matching-bowls", "--seed", "0"]));
    std::thread::sleep(Duration::from_millis(300));
    fleet.0.push(spawn(&["policy", "--robot", &robot, "--connect", &listen]));
    fleet.0.push(spawn(&["daemon", "--robot", &robot, "--connect", &listen]));
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
