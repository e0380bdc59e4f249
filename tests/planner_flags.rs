//! Every planner flag takes effect in `demo` and `eval` as it does in `plan`: the user's
//! safety rules, preferences, learned scorers, weights and ONNX Runtime threads reach the
//! planner that runs the episode (these two commands once accepted them and planned without).

mod common;

use common::{grounded, text};
use std::path::PathBuf;

/// A JSON file for one test.
fn file(name: &str, json: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("grounded-flags-{name}-{}.json", std::process::id()));
    std::fs::write(&path, json).expect("write");
    path
}

const SCORER: &str = "grounding/tests/fixtures/z-scorer";

/// The demo's events (JSON lines) for the matching-bowls scene of seed 0 (gray, red and
/// purple blocks), with `flags`; the exit status is 0 (success) or 3 (the task failed).
fn demo(flags: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec!["demo", "--task", "matching-bowls", "--seed", "0", "--method", "gd-greedy", "--json"];
    args.extend(flags);
    let out = grounded(&args);
    assert!(matches!(out.status.code(), Some(0 | 3)), "{args:?}: {}{}", text(&out.stdout), text(&out.stderr));
    text(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect()
}

fn models_event(events: &[serde_json::Value]) -> &serde_json::Value {
    events.iter().find(|e| e["event"] == "models").expect("a models event")
}

fn weight_of(in_use: &serde_json::Value, name: &str) -> Option<f64> {
    in_use.as_array()?.iter().find(|m| m["name"] == name)?["weight"].as_f64()
}

fn executed(events: &[serde_json::Value]) -> Vec<String> {
    events.iter().filter(|e| e["event"] == "executed").filter_map(|e| e["skill"].as_str().map(str::to_string)).collect()
}

/// One evaluation episode of a task (local transport), as JSON records.
fn eval(task: &str, flags: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec!["eval", "--tasks", task, "--episodes", "1", "--methods", "gd-greedy", "--transport", "local", "--json"];
    args.extend(flags);
    let out = grounded(&args);
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    v["records"].as_array().expect("records").clone()
}

#[test]
fn demo_safety_forbids_a_skill_the_language_model_wants() {
    let plain = executed(&demo(&[]));
    assert!(plain.iter().any(|s| s.contains("gray")), "without rules the plan moves the gray block: {plain:?}");
    let rules = file("no-gray", r#"{"forbidden": ["gray"], "mode": "hard"}"#);
    let events = demo(&["--safety", rules.to_str().unwrap()]);
    assert!(weight_of(&models_event(&events)["in_use"], "safety").is_some(), "{}", models_event(&events));
    let ruled = executed(&events);
    assert!(!ruled.is_empty() && ruled.iter().all(|s| !s.contains("gray")), "{ruled:?}");
}

#[test]
fn demo_preference_scorer_weight_and_threads_reach_the_planner() {
    let events = demo(&[
        "--preference",
        "examples/grounding/preference-fruit.json",
        "--scorer",
        SCORER,
        "--weight",
        "affordance=0.5",
        "--weight",
        "z-scorer=0.25",
        "--threads",
        "2",
    ]);
    let models = models_event(&events);
    assert_eq!(weight_of(&models["in_use"], "affordance"), Some(0.5), "{models}");
    assert_eq!(weight_of(&models["in_use"], "preference"), Some(1.0), "{models}");
    assert_eq!(weight_of(&models["in_use"], "z-scorer"), Some(0.25), "{models}");
    assert_eq!(models["lm_threads"], 2, "{models}");
    assert_eq!(models_event(&demo(&[]))["lm_threads"], 1);
}

#[test]
fn demo_text_names_weights_that_are_not_one() {
    let out = grounded(&["demo", "--task", "matching-bowls", "--method", "gd-greedy", "--weight", "affordance=2"]);
    assert!(text(&out.stdout).contains("grounded models: affordance (weight 2)"), "{}", text(&out.stdout));
}

#[test]
fn eval_safety_forbids_a_skill_and_every_record_says_which_models_planned_it() {
    let plain = eval("matching-bowls", &[]);
    let skills = |r: &serde_json::Value| r["steps"].as_array().unwrap().iter().map(|s| s["skill"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    let colour = skills(&plain[0])[0].split_whitespace().nth(3).expect("a colour").to_string();
    let rules = file("no-first", &format!(r#"{{"forbidden": ["{colour}"], "mode": "hard"}}"#));
    let ruled = eval("matching-bowls", &["--safety", rules.to_str().unwrap()]);
    assert!(weight_of(&ruled[0]["grounded_models"], "safety").is_some(), "{}", ruled[0]);
    assert!(skills(&ruled[0]).iter().all(|s| !s.contains(&colour)), "{colour} is forbidden: {:?}", skills(&ruled[0]));
    assert!(weight_of(&plain[0]["grounded_models"], "safety").is_none(), "{}", plain[0]);
}

#[test]
fn eval_preference_scorer_weight_and_threads_reach_every_worker() {
    let records = eval(
        "matching-bowls",
        &["--preference", "examples/grounding/preference-fruit.json", "--scorer", SCORER, "--weight", "z-scorer=0.5", "--threads", "2", "--workers", "2"],
    );
    for r in &records {
        assert_eq!(weight_of(&r["grounded_models"], "preference"), Some(1.0), "{r}");
        assert_eq!(weight_of(&r["grounded_models"], "z-scorer"), Some(0.5), "{r}");
        assert_eq!(r["lm_threads"], 2, "{r}");
    }
}

#[test]
fn a_weight_may_name_the_model_a_task_brings() {
    // pack-brown-box brings hard safety of its own: --weight safety=3 weighs it.
    let records = eval("pack-brown-box", &["--weight", "safety=3"]);
    assert_eq!(weight_of(&records[0]["grounded_models"], "safety"), Some(3.0), "{}", records[0]);
    // plan has no task: a weight for a model not in use is refused with the models in use.
    let out = grounded(&["plan", "--scene", "examples/scenes/blocks-and-bowls.json", "--weight", "safety=3", "stack the blocks"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("no grounded model of that name is in use (in use: affordance)"), "{}", text(&out.stderr));
    let out = grounded(&["eval", "--tasks", "matching-bowls", "--episodes", "1", "--transport", "local", "--weight", "nonesuch=1"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--weight nonesuch"), "{}", text(&out.stderr));
}

#[test]
fn the_configuration_file_reaches_eval_too() {
    let rules = file("cfg-safety", r#"{"forbidden": ["gray"], "mode": "hard"}"#);
    let cfg = std::env::temp_dir().join(format!("grounded-flags-{}.toml", std::process::id()));
    std::fs::write(&cfg, format!("[model]\nthreads = 2\n\n[grounding]\nsafety = {:?}\n", rules.to_str().unwrap())).unwrap();
    let mut args = vec!["--config", cfg.to_str().unwrap()];
    args.extend(["eval", "--tasks", "matching-bowls", "--episodes", "1", "--methods", "gd-greedy", "--transport", "local", "--json"]);
    let out = grounded(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let r = &v["records"][0];
    assert!(weight_of(&r["grounded_models"], "safety").is_some(), "{r}");
    assert_eq!(r["lm_threads"], 2, "{r}");
}
