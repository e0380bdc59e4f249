//! examples/warehouse end to end: train a model on the example plans (a small budget),
//! start the Python warehouse robot and `grounded daemon --skills ... --model ...`, send
//! instructions written for this test (none of them in examples.txt), and check that every
//! decoded skill was admissible and that the robot's own success check passes on at least
//! 8 of 10.
//!
//! Needs a Python with torch, transformers, tokenizers, optimum-onnx and eclipse-zenoh
//! (tools/train/requirements.txt; `pip install eclipse-zenoh==1.10.2`), named by
//! GROUNDED_TRAIN_PYTHON; without it the test says so and skips, unless
//! GROUNDED_REQUIRE_TRAINING is set.

mod common;

use common::{free_port, repo, start_warehouse_robot, Kill};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn python() -> Option<PathBuf> {
    common::python(
        &["GROUNDED_TRAIN_PYTHON"],
        "GROUNDED_REQUIRE_TRAINING",
        "torch, transformers, zenoh",
        "a Python with torch and eclipse-zenoh (tests/warehouse.rs says which packages)",
    )
}

fn grounded(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_grounded"));
    c.args(args).current_dir(repo());
    c
}

/// Ask the robot over zenoh from Python (reset an episode, or judge it).
fn episode(py: &Path, endpoint: &str, robot: &str, request: &str) -> serde_json::Value {
    let script = format!(
        "import zenoh, json\nc = zenoh.Config()\nc.insert_json5('mode', '\"peer\"')\nc.insert_json5('scouting/multicast/enabled', 'false')\nc.insert_json5('connect/endpoints', json.dumps([{endpoint:?}]))\nwith zenoh.open(c) as s:\n    for r in s.get('grounded/{robot}/episode', payload={request:?}, timeout=10.0):\n        print(r.ok.payload.to_bytes().decode())\n        break\n"
    );
    let out = Command::new(py).args(["-c", &script]).output().expect("python runs");
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("episode reply {text:?} ({e}): {}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn the_warehouse_example_plans_and_succeeds_on_held_out_instructions() {
    let Some(py) = python() else { return };
    let dir = std::env::temp_dir().join(format!("grounded-warehouse-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("model");
    let py_s = py.to_str().unwrap();
    let trained = grounded(&[
        "train",
        "--skills",
        "examples/warehouse/skills.toml",
        "--examples",
        "examples/warehouse/examples.txt",
        "--out",
        model.to_str().unwrap(),
        "--python",
        py_s,
    ])
    .status()
    .unwrap();
    assert!(trained.success(), "grounded train failed");

    let port = free_port();
    let endpoint = format!("tcp/127.0.0.1:{port}");
    let robot = "w-test";
    let _robot = start_warehouse_robot(&py, robot, &endpoint);
    let journal = dir.join("journal");
    let _daemon = Kill(
        grounded(&[
            "daemon",
            "--robot",
            robot,
            "--connect",
            &endpoint,
            "--skills",
            "examples/warehouse/skills.toml",
            "--model",
            model.to_str().unwrap(),
            "--journal",
            journal.to_str().unwrap(),
        ])
        .stderr(Stdio::null())
        .spawn()
        .unwrap(),
    );

    // Written for this test: none is in examples.txt.
    let cases = [
        ("purple parcel=top shelf", "set the purple parcel down on the top shelf"),
        ("orange parcel=cart", "put the orange parcel on the cart"),
        ("pink parcel=bottom shelf", "the pink parcel goes on the bottom shelf"),
        ("red parcel=packer", "give the red parcel to the packer"),
        ("white parcel=cart", "load the white parcel onto the cart please"),
        ("blue parcel=top shelf", "could you put the blue parcel on the top shelf?"),
        ("green parcel=packer", "hand the green parcel to the packer"),
        ("yellow parcel=bottom shelf", "move the yellow parcel to the bottom shelf"),
        ("orange parcel=top shelf", "I'd like the orange parcel on the top shelf"),
        ("purple parcel=cart", "please put the purple parcel on the cart"),
    ];
    let started = Instant::now();
    let mut succeeded = 0;
    for (i, (goal, instruction)) in cases.iter().enumerate() {
        episode(&py, &endpoint, robot, &format!(r#"{{"kind": "reset", "task": "{goal}", "seed": {i}}}"#));
        let out = grounded(&["send", "--robot", robot, "--connect", &endpoint, "--json", instruction]).output().unwrap();
        let verdict = episode(&py, &endpoint, robot, r#"{"kind": "judge"}"#);
        let ok = verdict["success"].as_bool() == Some(true);
        eprintln!("{instruction:?}: {} ({})", if ok { "success" } else { "failure" }, String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or(""));
        succeeded += usize::from(ok);
        assert!(started.elapsed() < Duration::from_secs(600), "the episodes take too long");
    }
    // Every decoded skill, as the daemon's journal recorded it, was one the file allowed.
    let library = grounded::skills::load(&repo().join("examples/warehouse/skills.toml")).unwrap();
    let records = std::fs::read_dir(&journal).unwrap().flatten().map(|e| std::fs::read_to_string(e.path()).unwrap()).collect::<String>();
    let mut decoded = 0;
    let mut state: Option<protocol::Observation> = None;
    for line in records.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        match v["event"].as_str() {
            Some("observation") => state = Some(serde_json::from_value(v["observation"].clone()).unwrap()),
            Some("decoded") => {
                let skill = v["proposal"]["skill"].as_str().unwrap_or_default();
                let obs = state.as_ref().expect("the state a skill was decoded on is recorded before it");
                let admissible = library.admissible(obs).unwrap();
                assert!(admissible.iter().any(|a| a.text == skill), "{skill:?} was not admissible in its state");
                decoded += 1;
            }
            _ => {}
        }
    }
    assert!(decoded >= cases.len(), "the journal holds {decoded} decoded skills");
    assert!(succeeded >= 8, "the robot's check passed on {succeeded} of {}", cases.len());
    let _ = std::fs::remove_dir_all(&dir);
}
