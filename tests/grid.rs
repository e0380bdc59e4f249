//! The grid maze end to end: the demo over zenoh, the evaluation's tables, open-loop plans
//! on a saved maze, and what grounding changes on the hard levels.

mod common;

use common::{grounded, text};

#[test]
fn the_grid_demo_unblocks_the_door_and_picks_up_the_box_over_zenoh() {
    let out = grounded(&["demo", "--domain", "grid", "--task", "blocked-unlock-pickup", "--seed", "1", "--json"]);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    let events: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect();
    assert_eq!(events[0]["domain"], "grid");
    assert!(events[0]["map"].as_str().is_some_and(|m| m.contains("##")), "the maze is shown");
    let skills: Vec<&str> = events.iter().filter(|e| e["event"] == "executed" && e["success"] == true).filter_map(|e| e["skill"].as_str()).collect();
    assert!(skills.iter().any(|s| s.starts_with("drop the ")), "the ball is moved out of the way: {skills:?}");
    assert!(skills.iter().any(|s| s.starts_with("open the ")), "{skills:?}");
    let verdict = events.last().expect("events");
    assert_eq!(verdict["event"], "verdict");
    assert_eq!(verdict["success"], true, "{verdict}");
}

#[test]
fn grounding_solves_the_hard_levels_that_the_language_model_alone_fails() {
    let out = grounded(&[
        "eval",
        "--domain",
        "grid",
        "--tasks",
        "multi-room,blocked-unlock-pickup",
        "--episodes",
        "3",
        "--methods",
        "llm,gd-beam",
        "--transport",
        "local",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let rate = |method: &str| {
        let r = v["success"].as_array().expect("rates").iter().find(|r| r["method"] == method).cloned().expect("a row");
        assert_eq!(r["row"], "hard (MultiRoom, BlockedUnlockPickup)");
        (r["successes"].as_u64().unwrap(), r["episodes"].as_u64().unwrap())
    };
    let (beam, n) = rate("gd-beam");
    let (llm, _) = rate("llm");
    assert_eq!(n, 6);
    assert_eq!(beam, 6, "gd-beam solves every hard episode: {v}");
    assert!(llm + 2 <= beam, "the language model alone does worse (llm {llm}/6)");
}

#[test]
fn the_eval_runs_grid_episodes_over_zenoh_too() {
    let out = grounded(&["eval", "--domain", "grid", "--tasks", "open-doors,locked-room", "--episodes", "1", "--methods", "gd-greedy"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("| easy (OpenDoors, PutNext) | 100% (1/1) |"), "{stdout}");
    assert!(stdout.contains("| medium (LockedRoom) | 100% (1/1) |"), "{stdout}");
}

#[test]
fn a_saved_maze_is_planned_open_loop() {
    let scene = "examples/scenes/grid-blocked-unlock-pickup.json";
    let out = grounded(&["plan", "--scene", scene, "--json", "pick up the red box"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps: Vec<&str> = v["steps"].as_array().unwrap().iter().filter_map(|s| s["skill"].as_str()).collect();
    assert_eq!(steps.last(), Some(&"done"), "{steps:?}");
    assert!(steps.contains(&"pick up the red box"), "{steps:?}");
    assert!(v["steps"].as_array().unwrap().iter().all(|s| s["outcome"]["kind"] != "infeasible"), "{v}");
    // A bad grid is refused with the reason.
    let dir = std::env::temp_dir().join(format!("grounded-grid-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"domain": "grid", "grid": {"width": 3, "height": 3, "cells": [], "agent": [1, 1], "dir": "up"}}"#).unwrap();
    let out = grounded(&["plan", "--scene", bad.to_str().unwrap(), "pick up the red box"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("the grid has 0 cells; 3 x 3 needs 9"), "{}", text(&out.stderr));
}

#[test]
fn a_forbidden_cell_is_never_entered_even_when_the_task_needs_it() {
    // Seed 1's locked door is at (5, 2): forbidding it walls the box off.
    let out = grounded(&["demo", "--domain", "grid", "--task", "blocked-unlock-pickup", "--seed", "1", "--forbid-cell", "5,2", "--json"]);
    assert_eq!(out.status.code(), Some(3), "the task fails: {}", text(&out.stderr));
    let events: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect();
    assert!(events[0]["map"].as_str().is_some_and(|m| m.contains("xx") || m.contains("Ly")), "{}", events[0]);
    for e in &events {
        if e["event"] == "executed" {
            assert!(!e["skill"].as_str().unwrap_or_default().contains("red box"), "a skill that needs the forbidden cell was carried out: {e}");
        }
    }
    let bad = grounded(&["demo", "--domain", "grid", "--forbid-cell", "99,99"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).contains("outside"), "{}", text(&bad.stderr));
    let tabletop = grounded(&["demo", "--forbid-cell", "1,1"]);
    assert!(text(&tabletop.stderr).contains("apply to grid mazes"), "{}", text(&tabletop.stderr));
}

/// The grid's skills as a domain that does not say what could become admissible later.
struct AdmissibleNowOnly;

impl grounding::SkillSpace for AdmissibleNowOnly {
    fn admissible(&self, obs: &protocol::Observation) -> Result<Vec<grounding::ScoredSkill>, grounding::GroundingError> {
        grounding::SkillSpace::admissible(&policies::grid::GridSkills, obs)
    }
}

#[test]
fn a_locked_door_the_model_wants_opened_first_is_not_a_departure_but_a_wish_for_later() {
    use grounded::decoder::DecodeConfig;
    use grounded::planner::{Method, PlanEnd, Planner};
    use grounding::Affordance;
    let e = sim::grid::episode(sim::grid::Level::LockedRoom, 0);
    let obs = sim::grid::GridWorld::new(&e).observe();
    let (colour, room) = (e.slots.get("colour").expect("a colour"), e.slots.get("room").expect("a room"));
    let instruction = format!("unlock the {colour} door with the key that lies in the {room} room, then go to the goal");
    let planner = |space: Box<dyn grounding::SkillSpace>, config: DecodeConfig| {
        let lm = grounded::lm::LanguageModel::load(&grounded::default_model_dir(), 1).expect("the shipped model");
        let floor = config.floor;
        Planner::with_affordance(lm, config, Affordance::new(space, floor))
    };
    // Where the domain does not say what could become admissible, the model's wish to open
    // the locked door counts as one no skill allows, and the plan stops before substituting.
    let strict = planner(Box::new(AdmissibleNowOnly), DecodeConfig::default()).plan(&instruction, &obs, Method::GdBeam).expect("a plan");
    let PlanEnd::Departed(departed) = &strict.end else { panic!("ended {}, not Departed: {:?}", strict.end, strict.skills()) };
    let d = &departed.departure;
    assert!(d.before.trim() == "open the" && d.wanted.trim() == colour, "the locked door's colour was wanted: {departed:?}");
    // The grid says it: the locked door is there, only not open-able yet; grounding turns
    // the step to something feasible and the plan does not stop. (Whether the model then
    // fetches the key, opens the door and walks to the goal in one open-loop plan is the
    // model's quality, not grounding's: README's LockedRoom figures measure it closed-loop.
    // Told the key lies in a room of another colour, the model wants a key of the room's
    // colour, which the maze does not hold, and where grounding then turns it depends on
    // the model: the shipped model takes the locked door's key, a third stage trained on
    // another sample of much the same corpus opened another door.) With the default limit,
    // this wording's plan is not stopped at the door, though it is later, at that key
    // (about 6 nats).
    let by_default = planner(Box::new(policies::grid::GridSkills), DecodeConfig::default()).plan(&instruction, &obs, Method::GdBeam).expect("a plan");
    assert!(!by_default.steps.is_empty() && by_default.steps[0].departure.is_none(), "{:?} ended {}", by_default.skills(), by_default.end);
    assert!(by_default.end.departed().is_none_or(|d| d.departure.before.trim() != "open the"), "stopped at the locked door: {}", by_default.end);
    // Going on past that later wish (told never to stop), the plan never opens the locked
    // door before it holds its key.
    let config = DecodeConfig { max_departure: f32::INFINITY, ..DecodeConfig::default() };
    let plan = planner(Box::new(policies::grid::GridSkills), config.clone()).plan(&instruction, &obs, Method::GdBeam).expect("a plan");
    let skills = plan.skills();
    assert_eq!(plan.end, PlanEnd::Done, "{skills:?}");
    let at = |s: &str| skills.iter().position(|x| *x == s);
    let (key, door) = (at(&format!("pick up the {colour} key")), at(&format!("open the {colour} door")));
    assert!(door.is_none_or(|d| key.is_some_and(|k| k < d)), "the locked door is never opened before its key is held: {skills:?}");
    // The step grounding turned says what the model wanted, as allowed only later.
    let turned = plan.steps.iter().find_map(|s| s.deferred.as_ref()).expect("a wish allowed only later");
    assert!(turned.before.trim() == "open the" && turned.wanted.trim() == colour, "{turned:?}");
    let at_the_door = |d: &grounded::decoder::Departure| d.before.trim() == "open the" && d.wanted.trim() == colour;
    assert!(plan.steps.iter().all(|s| s.departure.as_ref().is_none_or(|d| !at_the_door(d))), "the wish to open the locked door never departs");
    assert!(strict.steps.iter().all(|s| s.deferred.is_none()), "without the domain's word nothing is only for later");
}
