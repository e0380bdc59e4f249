//! Jump-forward: where the grounded models leave a skill one way on, its tokens run in one
//! pass of the language model. The skills chosen are those of decoding token by token (the
//! scores up to the rounding of a pass over several positions), in fewer passes.

mod common;

use common::tabletop_scene;
use grounded::decoder::{DecodeConfig, Search};
use grounded::default_model_dir;
use grounded::eval::{run, EpisodeRecord, EvalConfig, EvalTask, Transport};
use grounded::lm::LanguageModel;
use grounded::planner::{Method, PlanResult, PlanStep, Planner};
use proptest::prelude::*;
use protocol::{Domain, ObjectKind, Observation};

const OBJECTS: [(&str, ObjectKind); 14] = [
    ("red block", ObjectKind::Block),
    ("blue block", ObjectKind::Block),
    ("yellow block", ObjectKind::Block),
    ("green block", ObjectKind::Block),
    ("red bowl", ObjectKind::Bowl),
    ("blue bowl", ObjectKind::Bowl),
    ("yellow bowl", ObjectKind::Bowl),
    ("purple bowl", ObjectKind::Bowl),
    ("apple", ObjectKind::Item),
    ("chips bag", ObjectKind::Item),
    ("brown box", ObjectKind::Box),
    ("letter A", ObjectKind::Letter),
    ("letter C", ObjectKind::Letter),
    ("letter B", ObjectKind::Letter),
];

const INSTRUCTIONS: [&str; 5] = [
    "put the blocks in the bowls with matching colours",
    "pack the brown box",
    "stack all the blocks",
    "put the letters in alphabetical order",
    "put the blocks in the bowls that do not match",
];

/// A plan with or without jump-forward; the prefix cache is emptied first, so that both
/// plans read their prompt and their passes compare.
fn plan(p: &mut Planner, jump_forward: bool, instruction: &str, obs: &Observation, method: Method) -> PlanResult {
    p.config.jump_forward = jump_forward;
    p.lm.clear_prefix_cache();
    p.plan(instruction, obs, method).expect("plan")
}

/// Two scores equal to the rounding of a pass over several positions against one per token.
fn close(a: f32, b: f32) -> bool {
    a == b || (a - b).abs() <= 1e-3 * (1.0 + a.abs())
}

/// One token's choice from an explanation in JSON: the token chosen and its candidates as
/// (token, LM log-probability, total), in the order the explanation keeps them (best first).
type Choice = (String, Vec<(String, f32, f32)>);

fn choices(step: &PlanStep) -> Vec<Choice> {
    let value = serde_json::to_value(&step.explanation).expect("explanation as JSON");
    let number = |v: &serde_json::Value| v.as_f64().map_or(f32::NEG_INFINITY, |x| x as f32);
    value["detail"]
        .as_array()
        .map(|detail| {
            detail
                .iter()
                .map(|c| {
                    let candidates = c["candidates"].as_array().map_or_else(Vec::new, |l| {
                        l.iter().map(|x| (x["token"].as_str().unwrap_or_default().to_string(), number(&x["lm"]), number(&x["total"]))).collect()
                    });
                    (c["chosen"].as_str().unwrap_or_default().to_string(), candidates)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The same choice, up to rounding: the same token chosen among candidates whose totals,
/// best first, are equal to rounding. Two candidates may change places only where their
/// totals tie to rounding, and a candidate may be kept by one and not the other only where
/// its LM log-probability ties to rounding with the last one the other kept.
fn assert_same_choice(j: &Choice, s: &Choice, what: &str) {
    assert_eq!(j.0, s.0, "{what}: the token chosen");
    assert_eq!(j.1.len(), s.1.len(), "{what}: candidates {:?} jumping, {:?} stepping", j.1, s.1);
    for (a, b) in j.1.iter().zip(&s.1) {
        assert!(close(a.2, b.2), "{what}: totals best first differ: {:?} jumping, {:?} stepping", j.1, s.1);
    }
    for (mine, theirs) in [(&j.1, &s.1), (&s.1, &j.1)] {
        let last_lm = theirs.iter().map(|c| c.1).fold(f32::INFINITY, f32::min);
        for (token, lm, total) in mine {
            match theirs.iter().find(|c| &c.0 == token) {
                Some(other) => assert!(close(*lm, other.1) && close(*total, other.2), "{what}: {token:?} scored ({lm}, {total}) and {other:?}"),
                None => assert!(close(*lm, last_lm), "{what}: {token:?} (LM {lm}) kept by one only, though it does not tie with the last kept (LM {last_lm})"),
            }
        }
    }
}

/// The same skills, each token chosen among the same candidates, scores equal to rounding.
fn assert_same(jumped: &PlanResult, stepped: &PlanResult, what: &str) {
    assert_eq!(jumped.skills(), stepped.skills(), "{what}");
    assert_eq!(jumped.end.key(), stepped.end.key(), "{what}");
    if let (Some(j), Some(s)) = (jumped.end.departed(), stepped.end.departed()) {
        assert_eq!(j.skill, s.skill, "{what}: the skill stopped before");
        assert!(close(j.departure.nats, s.departure.nats), "{what}: departed {} jumping, {} stepping", j.departure, s.departure);
    }
    for (j, s) in jumped.steps.iter().zip(&stepped.steps) {
        assert!(close(j.score, s.score), "{what}: {:?} scored {} jumping, {} stepping", j.skill, j.score, s.score);
        let (jc, sc) = (choices(j), choices(s));
        assert_eq!(jc.len(), sc.len(), "{what}: {:?} has {} choices jumping, {} stepping", j.skill, jc.len(), sc.len());
        for (n, (a, b)) in jc.iter().zip(&sc).enumerate() {
            assert_same_choice(a, b, &format!("{what}: {:?}, token {n}", j.skill));
        }
    }
    assert!(jumped.tokens.forward_passes <= stepped.tokens.forward_passes, "{what}: {:?} jumping, {:?} stepping", jumped.tokens, stepped.tokens);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn jumping_forward_chooses_the_skills_of_decoding_token_by_token(
        picks in proptest::sample::subsequence(OBJECTS.to_vec(), 3..=10),
        instruction in proptest::sample::select(INSTRUCTIONS.to_vec()),
        method in proptest::sample::select(vec![Method::GdGreedy, Method::GdBeam]),
        search in proptest::sample::select(vec![Search::BestFirst, Search::LockStep]),
        beam_width in 1usize..=4,
        beam_margin in proptest::sample::select(vec![2.0f32, 10.0, f32::INFINITY]),
    ) {
        let config = DecodeConfig { beam_width, beam_margin, search, max_steps: 8, ..DecodeConfig::default() };
        let lm = LanguageModel::load(&default_model_dir(), 1).expect("load the shipped model");
        let mut p = Planner::tabletop(lm, config);
        let obs = tabletop_scene(&picks);
        let jumped = plan(&mut p, true, instruction, &obs, method);
        let stepped = plan(&mut p, false, instruction, &obs, method);
        assert_same(&jumped, &stepped, &format!("{method} ({search}) {instruction:?} with B = {beam_width}, margin {beam_margin}"));
    }
}

#[test]
fn where_the_world_leaves_one_way_on_a_plan_takes_far_fewer_passes() {
    let obs = tabletop_scene(&[
        ("red block", ObjectKind::Block),
        ("blue block", ObjectKind::Block),
        ("yellow block", ObjectKind::Block),
        ("red bowl", ObjectKind::Bowl),
        ("blue bowl", ObjectKind::Bowl),
        ("yellow bowl", ObjectKind::Bowl),
    ]);
    let lm = LanguageModel::load(&default_model_dir(), 1).expect("load the shipped model");
    let mut p = Planner::tabletop(lm, DecodeConfig::default());
    for method in [Method::GdGreedy, Method::GdBeam] {
        let jumped = plan(&mut p, true, INSTRUCTIONS[0], &obs, method);
        let stepped = plan(&mut p, false, INSTRUCTIONS[0], &obs, method);
        assert_same(&jumped, &stepped, &format!("{method}"));
        // After "pick up the red block", " and place it in the" is the only way on; after
        // "... in the red", " bowl". Most of each skill runs in one pass.
        assert!(
            10 * jumped.tokens.forward_passes <= 6 * stepped.tokens.forward_passes,
            "{method}: {} passes jumping, {} stepping",
            jumped.tokens.forward_passes,
            stepped.tokens.forward_passes
        );
    }
}

#[test]
fn at_the_end_of_the_models_context_a_plan_ends_where_it_ends_token_by_token() {
    // Five block-bowl pairs, about 14 tokens per skill: contexts that end inside the fourth,
    // fifth or sixth step, token by token. A draft must not end a plan sooner.
    let obs = grounded::setup::load_scene(&std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/scenes/ten-objects.json")).expect("the scene");
    let mut full = 0;
    for context in 72..=100 {
        let mut lm = LanguageModel::load(&default_model_dir(), 1).expect("load the shipped model");
        lm.limit_context(context);
        let mut p = Planner::tabletop(lm, DecodeConfig { max_skill_tokens: 14, ..DecodeConfig::default() });
        let jumped = plan(&mut p, true, INSTRUCTIONS[0], &obs, Method::GdBeam);
        let stepped = plan(&mut p, false, INSTRUCTIONS[0], &obs, Method::GdBeam);
        assert_same(&jumped, &stepped, &format!("context {context}"));
        full += usize::from(jumped.end == grounded::planner::PlanEnd::ContextFull);
    }
    assert!(full >= 10, "only {full} of the contexts ran out: the test no longer reaches the context's end");
}

/// Closed-loop episodes of every grid level and kitchen instruction and a few tabletop
/// templates: the same records either way.
#[test]
fn jumping_forward_gives_the_same_episodes_in_every_domain() {
    let mut tasks: Vec<EvalTask> = EvalTask::all(Domain::KITCHEN);
    tasks.extend(EvalTask::all(Domain::GRID));
    tasks.extend(["matching-bowls", "spell-word", "stack-all-blocks"].iter().map(|t| EvalTask::named(Domain::TABLETOP, t).expect("a template")));
    let config = |jump_forward| EvalConfig {
        planner: grounded::setup::PlannerOptions {
            config: DecodeConfig { jump_forward, ..DecodeConfig::default() },
            ..grounded::setup::PlannerOptions::new(default_model_dir())
        },
        methods: vec![Method::GdBeam, Method::GdGreedy],
        tasks: tasks.clone(),
        episodes: 2,
        seed: 5,
        workers: 2,
        observation_noise: 0.0,
        transport: Transport::Local,
        dashboard: grounded::dashboard::Dashboard::disabled(),
        wordings: Vec::new(),
    };
    let jumped = run(&config(true), &|_, _, _| {}).expect("eval");
    let stepped = run(&config(false), &|_, _, _| {}).expect("eval");
    assert_eq!(jumped.len(), stepped.len());
    for (j, s) in jumped.iter().zip(&stepped) {
        let what = format!("{} {} seed {}", j.method, j.task, j.seed);
        assert_eq!((&j.task, j.seed, j.success, j.planning_success), (&s.task, s.seed, s.success, s.planning_success), "{what}");
        let skills = |r: &EpisodeRecord| r.steps.iter().map(|s| (s.skill.clone(), s.success)).collect::<Vec<_>>();
        assert_eq!(skills(j), skills(s), "{what}");
    }
}
