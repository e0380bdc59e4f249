//! Best-first and lock-step beam search choose the same skills, with the same scores, and
//! best-first never runs the language model on more tokens.
//!
//! Jump-forward is off where scores are compared bit for bit: it runs some tokens in a pass
//! over several positions, whose logits may differ from a one-position pass in the last bits
//! (tests/jump_forward.rs compares it with decoding token by token).

mod common;

use common::{assert_identical, tabletop_scene};
use grounded::decoder::{DecodeConfig, Search};
use grounded::default_model_dir;
use grounded::eval::{run, EvalConfig, EvalTask, Transport};
use grounded::lm::LanguageModel;
use grounded::planner::{Method, PlanResult, Planner};
use proptest::prelude::*;
use protocol::{ObjectKind, Observation};

const OBJECTS: [(&str, ObjectKind); 16] = [
    ("red block", ObjectKind::Block),
    ("blue block", ObjectKind::Block),
    ("yellow block", ObjectKind::Block),
    ("green block", ObjectKind::Block),
    ("red bowl", ObjectKind::Bowl),
    ("blue bowl", ObjectKind::Bowl),
    ("yellow bowl", ObjectKind::Bowl),
    ("purple bowl", ObjectKind::Bowl),
    ("apple", ObjectKind::Item),
    ("knife", ObjectKind::Item),
    ("chips bag", ObjectKind::Item),
    ("brown box", ObjectKind::Box),
    ("letter A", ObjectKind::Letter),
    ("letter C", ObjectKind::Letter),
    ("letter B", ObjectKind::Letter),
    ("banana", ObjectKind::Item),
];

const INSTRUCTIONS: [&str; 6] = [
    "put the blocks in the bowls with matching colours",
    "pack the brown box",
    "stack all the blocks",
    "put the letters in alphabetical order",
    "pack me a picnic box",
    "put the blocks in the bowls that do not match",
];

fn plan(p: &mut Planner, search: Search, instruction: &str, obs: &Observation) -> PlanResult {
    p.config.search = search;
    p.plan(instruction, obs, Method::GdBeam).expect("plan")
}

fn assert_same(best_first: &PlanResult, lock_step: &PlanResult, what: &str) {
    // Skills, scores and the explanation too: every token's candidates and their scores.
    assert_identical(best_first, lock_step, what);
    assert!(
        best_first.tokens.decode_tokens <= lock_step.tokens.decode_tokens,
        "{what}: best-first decoded {:?}, lock-step {:?}",
        best_first.tokens,
        lock_step.tokens
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn both_searches_choose_the_same_tabletop_plans(
        picks in proptest::sample::subsequence(OBJECTS.to_vec(), 3..=10),
        instruction in proptest::sample::select(INSTRUCTIONS.to_vec()),
        beam_width in 2usize..=5,
        top_k in proptest::sample::select(vec![5usize, 10, 20]),
        beam_margin in proptest::sample::select(vec![2.0f32, 10.0, f32::INFINITY]),
    ) {
        let config = DecodeConfig { beam_width, top_k, beam_margin, max_steps: 8, jump_forward: false, ..DecodeConfig::default() };
        let lm = LanguageModel::load(&default_model_dir(), 1).expect("load the shipped model");
        let mut p = Planner::tabletop(lm, config);
        let obs = tabletop_scene(&picks);
        let best_first = plan(&mut p, Search::BestFirst, instruction, &obs);
        let lock_step = plan(&mut p, Search::LockStep, instruction, &obs);
        assert_same(&best_first, &lock_step, &format!("{instruction:?} with B = {beam_width}, k = {top_k}, margin {beam_margin}"));
    }
}

#[test]
fn best_first_runs_only_the_best_beam_while_its_way_is_sure() {
    let obs = tabletop_scene(&OBJECTS[..8]);
    let lm = LanguageModel::load(&default_model_dir(), 1).expect("load the shipped model");
    let mut p = Planner::tabletop(lm, DecodeConfig { beam_width: 4, top_k: 10, jump_forward: false, ..DecodeConfig::default() });
    let best_first = plan(&mut p, Search::BestFirst, INSTRUCTIONS[0], &obs);
    let lock_step = plan(&mut p, Search::LockStep, INSTRUCTIONS[0], &obs);
    assert_same(&best_first, &lock_step, "matching colours");
    // Lock-step carries up to four rows per pass; best-first one, and a third fewer tokens at least.
    assert!(lock_step.tokens.decode_tokens > lock_step.tokens.forward_passes, "{:?}", lock_step.tokens);
    assert!(3 * best_first.tokens.decode_tokens < 2 * lock_step.tokens.decode_tokens, "best-first {:?}, lock-step {:?}", best_first.tokens, lock_step.tokens);
}

/// Closed-loop episodes of every kitchen instruction and grid level, and a few tabletop
/// templates: the records (skills, outcomes) are the same with either search.
#[test]
fn both_searches_give_the_same_episodes_in_every_domain() {
    let mut tasks: Vec<EvalTask> = EvalTask::all(protocol::Domain::KITCHEN);
    tasks.extend(EvalTask::all(protocol::Domain::GRID));
    tasks.extend(["matching-bowls", "separate-vowels", "pack-brown-box"].iter().map(|t| EvalTask::named(protocol::Domain::TABLETOP, t).expect("a template")));
    let config = |search| EvalConfig {
        planner: grounded::setup::PlannerOptions {
            config: DecodeConfig { beam_width: 3, search, ..DecodeConfig::default() },
            ..grounded::setup::PlannerOptions::new(default_model_dir())
        },
        methods: vec![Method::GdBeam],
        tasks: tasks.clone(),
        episodes: 2,
        seed: 11,
        workers: 2,
        observation_noise: 0.0,
        transport: Transport::Local,
        dashboard: grounded::dashboard::Dashboard::disabled(),
        wordings: Vec::new(),
    };
    let best_first = run(&config(Search::BestFirst), &|_, _, _| {}).expect("eval");
    let lock_step = run(&config(Search::LockStep), &|_, _, _| {}).expect("eval");
    assert_eq!(best_first.len(), lock_step.len());
    for (b, l) in best_first.iter().zip(&lock_step) {
        let what = format!("{} seed {}", b.task, b.seed);
        assert_eq!((&b.task, b.seed, b.success, b.planning_success), (&l.task, l.seed, l.success, l.planning_success), "{what}");
        let skills = |r: &grounded::eval::EpisodeRecord| r.steps.iter().map(|s| (s.skill.clone(), s.success)).collect::<Vec<_>>();
        assert_eq!(skills(b), skills(l), "{what}");
        assert!(b.lm_tokens <= l.lm_tokens, "{what}: best-first {} LM tokens, lock-step {}", b.lm_tokens, l.lm_tokens);
    }
}
