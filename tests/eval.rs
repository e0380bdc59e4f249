//! The evaluation runner: reproducible for a seed, and grounded decoding beats the language
//! model alone in the physics simulation.

use grounded::eval::{run, tables, EvalConfig};
use grounded::planner::Method;

fn config(tasks: &[&str], episodes: usize, methods: Vec<Method>) -> EvalConfig {
    EvalConfig {
        planner: grounded::setup::PlannerOptions::new(grounded::default_model_dir()),
        methods,
        tasks: tasks.iter().map(|t| grounded::eval::EvalTask::named(protocol::Domain::TABLETOP, t).unwrap()).collect(),
        episodes,
        seed: 7,
        workers: 2,
        observation_noise: 0.0,
        transport: grounded::eval::Transport::Zenoh,
        dashboard: grounded::dashboard::Dashboard::disabled(),
        wordings: Vec::new(),
    }
}

#[test]
fn the_same_seed_gives_the_same_table_and_records() {
    let c = config(&["matching-bowls", "pack-brown-box", "alphabetical-order"], 2, vec![Method::Llm, Method::GdBeam]);
    let a = run(&c, &|_, _, _| {}).unwrap();
    let b = run(&c, &|_, _, _| {}).unwrap();
    assert_eq!(a.len(), 12);
    assert_eq!(tables(&a, &c.methods).lines().take(6).collect::<Vec<_>>(), tables(&b, &c.methods).lines().take(6).collect::<Vec<_>>());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!((&x.task, x.method, x.seed, x.success, x.lm_tokens), (&y.task, y.method, y.seed, y.success, y.lm_tokens));
        assert_eq!(x.steps.iter().map(|s| &s.skill).collect::<Vec<_>>(), y.steps.iter().map(|s| &s.skill).collect::<Vec<_>>());
        assert_eq!(x.sim_seconds, y.sim_seconds);
    }
}

#[test]
fn grounded_beam_search_beats_the_language_model_alone() {
    let c = config(&["matching-bowls", "stack-cool-colours"], 4, vec![Method::Llm, Method::GdBeam]);
    let records = run(&c, &|_, _, _| {}).unwrap();
    let wins = |m: Method| records.iter().filter(|r| r.method == m && r.success).count();
    assert!(wins(Method::GdBeam) >= 6, "gd-beam solved {} of 8\n{}", wins(Method::GdBeam), tables(&records, &c.methods));
    assert!(wins(Method::GdBeam) >= wins(Method::Llm) + 3, "{}", tables(&records, &c.methods));
    // Every gd-beam step names only objects in the scene: nothing fails to parse or find.
    for r in records.iter().filter(|r| r.method == Method::GdBeam) {
        for s in &r.steps {
            assert!(!s.reason.as_deref().unwrap_or("").contains("no "), "{}: {:?}", r.task, s);
        }
    }
}

#[test]
fn zenoh_and_direct_calls_give_the_same_episodes() {
    let mut c = config(&["stack-all-blocks", "snacks-right"], 1, vec![Method::GdGreedy, Method::GdBeam]);
    let over_zenoh = run(&c, &|_, _, _| {}).unwrap();
    c.transport = grounded::eval::Transport::Local;
    let direct = run(&c, &|_, _, _| {}).unwrap();
    for (z, d) in over_zenoh.iter().zip(&direct) {
        assert_eq!((&z.task, z.method, z.success), (&d.task, d.method, d.success));
        assert_eq!(z.steps.iter().map(|s| &s.skill).collect::<Vec<_>>(), d.steps.iter().map(|s| &s.skill).collect::<Vec<_>>());
    }
}

#[test]
fn bad_evaluations_are_refused() {
    let empty = config(&["matching-bowls"], 0, vec![Method::Llm]);
    assert!(run(&empty, &|_, _, _| {}).unwrap_err().to_string().contains("at least one"));
}
