//! Helpers the command-line tests share: run the `grounded` program as a user would.
// Each test crate uses some of them.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// Whether WordNet, which the corpus generator (tools/train/corpus.py) reads, is installed.
/// Without it a test that regenerates a corpus says it skips, unless the run requires
/// WordNet (GROUNDED_REQUIRE_WORDNET, as CI sets), where that fails.
pub fn wordnet_here(what: &str) -> bool {
    if Path::new("/usr/share/wordnet/index.noun").exists() || std::env::var_os("WORDNET_DIR").is_some() {
        return true;
    }
    assert!(std::env::var_os("GROUNDED_REQUIRE_WORDNET").is_none(), "WordNet is required (GROUNDED_REQUIRE_WORDNET is set): apt-get install wordnet-base");
    eprintln!("SKIPPED: {what}, which reads WordNet: install Debian's wordnet-base (CI does)");
    false
}

/// The repository root (where README.md's commands run).
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Run `grounded` with `args` from the repository root.
pub fn grounded(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_grounded")).args(args).current_dir(repo()).output().expect("run grounded")
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A loopback TCP port free now (for a zenoh endpoint or a server a test starts).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// A child process killed when dropped (a robot, a daemon a test started).
pub struct Kill(pub Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start examples/warehouse/robot.py with `python` as `robot`, listening on `endpoint`; returns
/// once it serves.
pub fn start_warehouse_robot(python: &Path, robot: &str, endpoint: &str) -> Kill {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(python)
        .args([repo().join("examples/warehouse/robot.py").to_str().expect("a UTF-8 path"), "--robot", robot, "--listen", endpoint])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the warehouse robot");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("its stdout");
    let robot_process = Kill(child);
    BufReader::new(stdout).read_line(&mut line).expect("the robot says it serves");
    assert!(line.contains("serving"), "the robot said {line:?}");
    robot_process
}

/// A Python for a test that starts one: the first of `vars` set in the environment, able to
/// import `imports` (comma-separated modules, e.g. "zenoh, rosbags"). Without one the test
/// says so and skips (`None`), unless `require` is set in the environment; `hint` says how to
/// get one.
pub fn python(vars: &[&str], require: &str, imports: &str, hint: &str) -> Option<std::path::PathBuf> {
    let required = std::env::var_os(require).is_some();
    let Some(py) = vars.iter().find_map(std::env::var_os) else {
        assert!(!required, "{require} is set but {} is not", vars[0]);
        eprintln!("skipped: set {} to {hint}", vars[0]);
        return None;
    };
    let ok = Command::new(&py).args(["-c", &format!("import {imports}")]).status().is_ok_and(|s| s.success());
    assert!(ok || !required, "{py:?} cannot import {imports}");
    if !ok {
        eprintln!("skipped: {py:?} cannot import {imports}");
        return None;
    }
    Some(py.into())
}

/// A tabletop scene of `objects` laid out five to a row, 15 cm apart (the scenes the
/// decoding tests plan in).
pub fn tabletop_scene(objects: &[(&str, protocol::ObjectKind)]) -> protocol::Observation {
    let objects = objects
        .iter()
        .enumerate()
        .map(|(i, (name, kind))| protocol::SceneObject::new(format!("o{i}"), *name, *kind, [-0.3 + 0.15 * (i % 5) as f64, -0.12 + 0.12 * (i / 5) as f64, 0.0]))
        .collect();
    protocol::Observation::new(protocol::Domain::TABLETOP, objects)
}

/// A plan step's explanation (every token's candidates and scores) as JSON, to compare.
pub fn explained(step: &grounded::planner::PlanStep) -> serde_json::Value {
    serde_json::to_value(&step.explanation).expect("explanation as JSON")
}

/// The same plan to the bit: skills, scores and every token's candidates.
pub fn assert_identical(a: &grounded::planner::PlanResult, b: &grounded::planner::PlanResult, what: &str) {
    assert_eq!(a.skills(), b.skills(), "{what}");
    for (x, y) in a.steps.iter().zip(&b.steps) {
        assert_eq!((x.score, x.lm_score), (y.score, y.lm_score), "{what}: {:?}", x.skill);
        assert_eq!(explained(x), explained(y), "{what}: {:?}", x.skill);
    }
}

/// Follow a plan to its end within `within`; when it does not end, the panic lists every
/// progress message that did arrive, so that a hang says where the plan stood.
pub async fn follow_to_end(plan: &grounded::nodes::client::PlanFollower, within: std::time::Duration) -> protocol::messages::PlanProgress {
    let mut seen = Vec::new();
    match plan.follow(within, |p| seen.push(format!("step {} {:?} {:?} {:?}", p.step, p.status, p.skill, p.reason))).await {
        Ok(end) => end,
        Err(e) => panic!("the plan did not end: {e}; progress seen: {seen:#?}"),
    }
}

/// Warnings and errors of every thread of this test process (zenoh's transports closing a
/// link, a node halting the robot) written to standard error as they happen, so that a
/// failure in CI shows what the network did meanwhile. Once per process; later calls do
/// nothing. `RUST_LOG` widens it (`RUST_LOG=zenoh=debug`).
pub fn show_warnings() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false).with_writer(std::io::stderr).try_init();
}

/// A loopback UDP port free now (for a QUIC endpoint).
pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr()).map(|a| a.port()).expect("a free UDP port")
}

/// The words two texts are compared by (held-out checks): lower case, curly apostrophes
/// straight, anything but letters, digits and apostrophes a separator (tools/train/phrasing.py
/// does the same).
pub fn words_of(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace('\u{2019}', "'")
        .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// One line of a requests file for nothing (bench/negation/requests.tsv and the development
/// set tools/train/dev/negation/requests.tsv): `task:seed <TAB> forbidden <TAB> request`.
pub struct NothingRequest {
    /// The line's number in its file, from 1.
    pub line: usize,
    /// The request, its last field.
    pub text: String,
}

/// The requests of a requests file for nothing (`path` from the repository root), comments
/// and blank lines left out; a line without its three fields fails the test, naming it.
pub fn nothing_requests(path: &str) -> Vec<NothingRequest> {
    std::fs::read_to_string(repo().join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, l)| match l.split('\t').collect::<Vec<_>>().as_slice() {
            [_scene, _forbidden, text] => NothingRequest { line: i + 1, text: text.trim().to_string() },
            _ => panic!("{path}:{}: {l:?} is not task:seed<TAB>forbidden<TAB>request", i + 1),
        })
        .collect()
}
