//! The dashboard's recording, read back: a real demo saves it with `--save`, and the file
//! holds the scene (every object, the gripper, the targets), the decode tables on the
//! `decode_step` timeline, the plan and the verdict, as docs/dashboard.md says.

use rerun::external::re_log_encoding::DecoderApp;
use rerun::external::re_log_types::LogMsg;
use rerun::log::Chunk;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Entity path -> the timelines its chunks were logged on, for the recording (not the layout).
fn entities(path: &std::path::Path) -> BTreeMap<String, BTreeSet<String>> {
    let file = std::fs::File::open(path).expect("the recording");
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for msg in DecoderApp::decode_lazy(std::io::BufReader::new(file)) {
        let msg = msg.expect("a well-formed recording");
        if let LogMsg::ArrowMsg(store, arrow) = msg {
            if store.is_blueprint() {
                continue;
            }
            let chunk = Chunk::from_arrow_msg(&arrow).expect("a chunk");
            let timelines = out.entry(chunk.entity_path().to_string().trim_start_matches('/').to_string()).or_default();
            timelines.extend(chunk.timelines().keys().map(|t| t.to_string()));
        }
    }
    out
}

#[test]
fn a_saved_demo_holds_scene_decoding_plan_and_verdict() {
    let dir = std::env::temp_dir().join(format!("grounded-dashboard-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rrd = dir.join("demo.rrd");
    let out = Command::new(env!("CARGO_BIN_EXE_grounded"))
        .args(["demo", "--json", "--task", "pack-brown-box", "--seed", "1", "--save"])
        .arg(&rrd)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run the demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.code() == Some(0) || out.status.code() == Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let scene: serde_json::Value =
        stdout.lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()).find(|e| e["event"] == "scene").expect("a scene event");
    let got = entities(&rrd);
    let names: Vec<&String> = got.keys().collect();
    for o in scene["objects"].as_array().expect("objects") {
        let path = format!("world/objects/{}", o["id"].as_str().expect("an id"));
        assert!(got.get(&path).is_some_and(|t| t.contains("sim_time")), "{path} on sim_time; got {names:?}");
    }
    for path in ["world/table", "world/gripper", "plan/instruction", "plan/steps", "plan/outcomes", "episode/result", "episode/success"] {
        assert!(got.contains_key(path), "{path} missing; got {names:?}");
    }
    for path in ["decode/candidates", "decode/combined", "decode/lm"] {
        assert!(
            got.get(path).is_some_and(|t| t.contains("decode_step") && t.contains("sim_time")),
            "{path} on decode_step and sim_time; got {:?}",
            got.get(path)
        );
    }
    assert!(got.contains_key("world/targets/pick") && got.contains_key("world/targets/place"), "targets; got {names:?}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_saved_grid_demo_holds_the_maze_in_2d() {
    let dir = std::env::temp_dir().join(format!("grounded-dashboard-grid-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rrd = dir.join("grid.rrd");
    let out = Command::new(env!("CARGO_BIN_EXE_grounded"))
        .args(["demo", "--domain", "grid", "--task", "open-doors", "--save"])
        .arg(&rrd)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run the demo");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got = entities(&rrd);
    let names: Vec<&String> = got.keys().collect();
    for path in ["grid/cells", "grid/doors", "grid/agent", "grid/path", "grid/target", "decode/candidates", "plan/steps", "episode/success"] {
        assert!(got.contains_key(path), "{path} missing; got {names:?}");
    }
    assert!(got["grid/agent"].contains("sim_time"), "the agent moves on sim_time");
    assert!(!got.keys().any(|p| p.starts_with("world/objects")), "no tabletop objects in a maze: {names:?}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_saved_kitchen_demo_holds_the_floor_plan_in_2d() {
    let dir = std::env::temp_dir().join(format!("grounded-dashboard-kitchen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rrd = dir.join("kitchen.rrd");
    let out = Command::new(env!("CARGO_BIN_EXE_grounded"))
        .args(["demo", "--domain", "kitchen", "--task", "healthy", "--seed", "2", "--save"])
        .arg(&rrd)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run the demo");
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let got = entities(&rrd);
    let names: Vec<&String> = got.keys().collect();
    for path in [
        "kitchen/locations",
        "kitchen/objects",
        "kitchen/robot",
        "kitchen/held",
        "kitchen/path",
        "kitchen/target",
        "decode/candidates",
        "plan/steps",
        "episode/success",
    ] {
        assert!(got.contains_key(path), "{path} missing; got {names:?}");
    }
    assert!(got["kitchen/robot"].contains("sim_time"), "the robot moves on sim_time");
    assert!(!got.keys().any(|p| p.starts_with("world/objects") || p.starts_with("grid/")), "no tabletop or maze in a kitchen: {names:?}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Answers every question with its first option.
struct FirstOption(usize);

impl grounded::controller::Operator for FirstOption {
    fn ask(&mut self, _: &grounded::controller::Asked) -> grounded::controller::OperatorAnswer {
        self.0 += 1;
        grounded::controller::OperatorAnswer::Choose(0)
    }
}

#[test]
fn a_question_to_the_operator_and_its_answer_are_on_the_dashboard() {
    use grounded::controller::{run_closed_loop_asking, AskForHelp, InProcessRobot};
    let dir = std::env::temp_dir().join(format!("grounded-dashboard-ask-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rrd = dir.join("ask.rrd");
    let args = grounded::dashboard::DashboardArgs {
        save: Some(rrd.clone()),
        serve: false,
        spawn: false,
        web_port: 0,
        grpc_port: 0,
        bind: "127.0.0.1".into(),
        connect: None,
    };
    let dashboard = args.open(true).expect("a recording to a file");
    let options = grounded::setup::PlannerOptions::new(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/planner-gpt2"));
    let mut planner = options.build(None, true).expect("the shipped model loads");
    let kitchen = grounded::domains::domain(protocol::Domain::KITCHEN).unwrap();
    let world = kitchen.world("my-drink", 3, &grounded::domains::WorldOptions::default()).unwrap();
    let mut robot = InProcessRobot::new(kitchen, world);
    let mut operator = FirstOption(0);
    let mut help = AskForHelp {
        domain: Some(protocol::Domain::KITCHEN),
        rule: grounded::ask::SetRule { measure: grounded::ask::conformal::Measure::Confidence, temperature: 1.0, threshold: 0.999, max_departure: None },
        options: 6,
        operator: &mut operator,
    };
    dashboard.instruction("bring me my drink");
    let mut watched = grounded::dashboard::Watched { robot: &mut robot, dashboard: &dashboard };
    run_closed_loop_asking(&mut planner, &mut watched, "bring me my drink", grounded::planner::Method::GdBeam, Some(&mut help), &mut |e| dashboard.event(&e))
        .expect("the plan runs");
    assert!(operator.0 >= 1, "the robot asked");
    dashboard.flush();
    drop(dashboard);
    let got = entities(&rrd);
    assert!(
        got.get("plan/question").is_some_and(|t| t.contains("decode_step")),
        "the question is on the decode_step timeline: {:?}",
        got.keys().collect::<Vec<_>>()
    );
    std::fs::remove_dir_all(&dir).ok();
}
