//! A robot of one's own in `grounded eval` and `grounded demo` (`--skills FILE --robot R`):
//! the Python warehouse robot (examples/warehouse/robot.py, eclipse-zenoh only) runs in its
//! own process; grounded resets it to each [[task]]'s goal on its `episode` key, plans with
//! the skill file's skills and the robot's affordance, and the robot judges. The shipped
//! model has never seen the robot's words, so this checks the path, not plan quality
//! (tests/warehouse.rs trains a model that knows them).
//!
//! Needs a Python with eclipse-zenoh (`bash tools/setup-robot-python.sh` makes one and
//! prints it), named by GROUNDED_ROBOT_PYTHON; without it the test says so and skips, unless
//! GROUNDED_REQUIRE_ROBOT_PYTHON is set (as in CI).

mod common;

use common::{free_port, grounded, repo, start_warehouse_robot, text};
use protocol::{ObjectKind, Observation, RobotState, SceneObject};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn python() -> Option<PathBuf> {
    common::python(
        &["GROUNDED_ROBOT_PYTHON", "GROUNDED_TRAIN_PYTHON"],
        "GROUNDED_REQUIRE_ROBOT_PYTHON",
        "zenoh",
        "a Python with eclipse-zenoh (bash tools/setup-robot-python.sh prints one)",
    )
}

const SKILLS: &str = "examples/warehouse/skills.toml";

/// Every skill text the file allows in any state the warehouse robot can be in (each parcel
/// colour, held or not).
fn every_admissible_skill(library: &grounded::skills::SkillLibrary) -> BTreeSet<String> {
    let colours = ["red", "blue", "green", "yellow", "white", "orange", "purple", "pink"];
    let tagged = |name: &str, kind: ObjectKind, tag: &str| {
        let mut o = SceneObject::new(name.replace(' ', "-"), name, kind, [0.0; 3]);
        o.tags = vec![tag.to_string()];
        o
    };
    let mut objects: Vec<SceneObject> = colours.iter().map(|c| tagged(&format!("{c} parcel"), ObjectKind::Box, "parcel")).collect();
    objects.extend(["top shelf", "bottom shelf"].map(|s| tagged(s, ObjectKind::Box, "shelf")));
    objects.push(tagged("cart", ObjectKind::Box, "cart"));
    objects.push(tagged("packer", ObjectKind::Item, "person"));
    let mut all = BTreeSet::new();
    for held in std::iter::once(None).chain(colours.iter().map(|c| Some(format!("{c} parcel")))) {
        let mut obs = Observation::new(library.domain, objects.clone());
        obs.robot = Some(RobotState { time_s: 0.0, gripper: [0.0; 3], holding: held });
        all.extend(library.admissible(&obs).expect("the scene's skills").into_iter().map(|s| s.text));
    }
    all
}

#[test]
fn eval_and_demo_run_a_skill_files_tasks_on_its_own_robot() {
    let Some(py) = python() else { return };
    let library = grounded::skills::load(&repo().join(SKILLS)).expect("the warehouse skill file");
    assert!(library.tasks.len() >= 3, "the example declares its tasks");
    let admissible = every_admissible_skill(&library);
    let endpoint = format!("tcp/127.0.0.1:{}", free_port());
    let _robot = start_warehouse_robot(&py, "w-tasks", &endpoint);

    // eval: every task of the file, reset on the robot with its goal, judged by the robot.
    let out = grounded(&["eval", "--skills", SKILLS, "--robot", "w-tasks", "--connect", &endpoint, "--episodes", "1", "--methods", "gd-beam,saycan", "--json"]);
    assert!(out.status.success(), "eval failed: {}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("eval --json prints JSON");
    assert_eq!(report["domain"], "warehouse");
    let records = report["records"].as_array().expect("records");
    assert_eq!(records.len(), library.tasks.len() * 2, "one episode per task and method");
    let mut judged_goals = 0;
    for (r, task) in records.iter().zip(library.tasks.iter().flat_map(|t| [t, t])) {
        assert_eq!(r["task"], task.id.as_str());
        assert_eq!(r["instruction"], task.instruction.as_str(), "the planner is given the file's instruction");
        for step in r["steps"].as_array().expect("steps") {
            let skill = step["skill"].as_str().expect("a skill");
            assert!(admissible.contains(skill), "{skill:?} ({}) is not a skill the file allows", r["method"]);
        }
        // The robot judged the task's own goal: a failure names where a goal's parcel should be.
        if r["end"] == "done" && r["success"] == false {
            let reason = r["reason"].as_str().unwrap_or_default();
            let places: Vec<&str> = task.goal.split(';').filter_map(|g| g.split_once('=').map(|(_, place)| place.trim())).collect();
            assert!(
                places.iter().any(|p| reason.contains(&format!("not the {p}"))),
                "{}: the robot's verdict {reason:?} is not about {:?}",
                task.id,
                task.goal
            );
            judged_goals += 1;
        }
        if r["success"] == true {
            judged_goals += 1;
        }
    }
    assert!(judged_goals > 0, "no episode ended with the robot's verdict: {records:?}");

    // demo: one task, its events as JSON lines; the exit status follows the robot's verdict.
    let task = &library.tasks[2];
    let out = grounded(&["demo", "--skills", SKILLS, "--robot", "w-tasks", "--connect", &endpoint, "--task", &task.id, "--json"]);
    let events: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    let scene = events.iter().find(|e| e["event"] == "scene").unwrap_or_else(|| panic!("no scene event: {}", text(&out.stderr)));
    assert_eq!(scene["domain"], "warehouse");
    assert_eq!(scene["instruction"], task.instruction.as_str());
    let parcel = task.goal.split('=').next().unwrap_or_default();
    assert!(scene["objects"].as_array().expect("objects").iter().any(|o| o["name"] == parcel), "the robot laid out the goal's {parcel}: {scene}");
    let verdict = events.iter().find(|e| e["event"] == "verdict").expect("a verdict");
    assert_eq!(verdict["judge"], "robot");
    let success = verdict["success"].as_bool().expect("success");
    assert_eq!(out.status.code(), Some(if success { 0 } else { 3 }), "{}", text(&out.stderr));
}
