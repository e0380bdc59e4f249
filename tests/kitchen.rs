//! The kitchen end to end: the demo over zenoh, the evaluation's planning and execution
//! success (over zenoh and in-process alike), open-loop plans on a saved kitchen, and what
//! the detector's box score changes against the thresholded SayCan baseline.

mod common;

use common::{grounded, text};
use std::process::Output;

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn plan_skills(v: &serde_json::Value) -> Vec<String> {
    v["steps"].as_array().expect("steps").iter().map(|s| s["skill"].as_str().unwrap_or_default().to_string()).collect()
}

#[test]
fn the_kitchen_demo_brings_something_healthy_over_zenoh() {
    let out = grounded(&["demo", "--domain", "kitchen", "--task", "healthy", "--seed", "2", "--json"]);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    let events: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect();
    assert_eq!(events[0]["domain"], "kitchen");
    assert!(events[0]["map"].as_str().is_some_and(|m| m.contains("table:        not looked at yet")), "the robot's view is shown: {}", events[0]);
    let skills: Vec<&str> = events.iter().filter(|e| e["event"] == "executed" && e["success"] == true).filter_map(|e| e["skill"].as_str()).collect();
    // Nothing healthy in sight: the robot looks for something of the kind (the table, not
    // looked at yet, has it) and brings that.
    let healthy = ["water bottle", "apple", "orange", "banana", "energy bar"];
    let wanted = skills.first().and_then(|s| s.strip_prefix("find the ")).unwrap_or_default();
    assert!(healthy.contains(&wanted), "looks for something healthy first: {skills:?}");
    assert_eq!(skills, [format!("find the {wanted}"), format!("pick up the {wanted}"), "go to the user".into(), format!("put down the {wanted}")]);
    let verdict = events.last().expect("events");
    assert_eq!(verdict["event"], "verdict");
    assert_eq!(verdict["success"], true, "{verdict}");
}

#[test]
fn the_eval_reports_planning_and_execution_success_per_split_over_zenoh() {
    let out = grounded(&["eval", "--domain", "kitchen", "--tasks", "bring-apple,spill", "--episodes", "1", "--methods", "gd-beam"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for row in ["| unambiguous planning | 100% (1/1) |", "| unambiguous execution |", "| ambiguous planning | 100% (1/1) |", "| ambiguous execution |"] {
        assert!(stdout.contains(row), "{row} missing:\n{stdout}");
    }
}

#[test]
fn an_episode_is_the_same_over_zenoh_and_in_process() {
    let run = |transport: &str| {
        let v = json(&grounded(&[
            "eval",
            "--domain",
            "kitchen",
            "--tasks",
            "thirsty,throw-away-pepsi",
            "--episodes",
            "2",
            "--methods",
            "saycan,gd-beam",
            "--transport",
            transport,
            "--json",
        ]));
        v["records"]
            .as_array()
            .expect("records")
            .iter()
            .map(|r| {
                assert!(r["planning_success"].is_boolean(), "a kitchen record says its planning success: {r}");
                let skills: Vec<String> = r["steps"].as_array().expect("steps").iter().map(|s| format!("{} {}", s["skill"], s["success"])).collect();
                (r["task"].to_string(), r["method"].to_string(), skills, r["success"].clone(), r["planning_success"].clone())
            })
            .collect::<Vec<_>>()
    };
    let (zenoh, local) = (run("zenoh"), run("local"));
    assert_eq!(zenoh.len(), 8);
    assert_eq!(zenoh, local);
}

#[test]
fn a_partly_hidden_object_is_brought_by_grounded_decoding_but_not_by_thresholded_saycan() {
    let scene = "examples/scenes/kitchen-hidden-apple.json";
    let gd = json(&grounded(&["plan", "--scene", scene, "--json", "bring me the apple"]));
    assert_eq!(plan_skills(&gd), ["find the apple", "pick up the apple", "go to the user", "put down the apple", "done"]);
    // SayCan's detector is thresholded: the apple (box score 0.3) is not seen at all.
    let saycan = json(&grounded(&["plan", "--scene", scene, "--json", "--method", "saycan", "bring me the apple"]));
    let skills = plan_skills(&saycan);
    assert!(!skills.iter().any(|s| s == "pick up the apple"), "{skills:?}");
}

#[test]
fn a_kitchen_scene_is_printed_and_planned_open_loop() {
    let out = grounded(&["scene", "--task", "healthy", "--seed", "1"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("scene JSON");
    assert_eq!(v["domain"], "kitchen");
    assert!(v["kitchen"]["detections"].as_array().is_some_and(|d| !d.is_empty()), "{v}");
    let dir = std::env::temp_dir().join(format!("grounded-kitchen-scene-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("kitchen.json");
    std::fs::write(&path, &out.stdout).unwrap();
    let plan = json(&grounded(&["plan", "--scene", path.to_str().unwrap(), "--json", "bring me something healthy"]));
    assert_eq!(plan_skills(&plan), ["find the apple", "pick up the apple", "go to the user", "put down the apple", "done"]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn unknown_kitchen_instructions_are_refused_with_the_list() {
    let out = grounded(&["demo", "--domain", "kitchen", "--task", "juggle"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("unknown kitchen instruction \"juggle\"") && text(&out.stderr).contains("spill"), "{}", text(&out.stderr));
    let out = grounded(&["eval", "--domain", "kitchen", "--tasks", "juggle"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("bring-apple"), "{}", text(&out.stderr));
}
