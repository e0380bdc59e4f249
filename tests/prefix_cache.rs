//! The prefix cache: a prompt read before costs no pass, one that shares a few-shot prefix
//! runs only the rest, and the plans are the same as without the cache, to the bit.

mod common;

use common::{assert_identical, tabletop_scene};
use grounded::decoder::DecodeConfig;
use grounded::default_model_dir;
use grounded::lm::LanguageModel;
use grounded::planner::{Method, Planner};
use grounded::prompt::PromptPrefix;
use protocol::{ObjectKind, Observation};

const PREFIX: &str = "Instruction: put the blocks in the bowls with matching colours.
1. pick up the red block and place it in the red bowl.
2. pick up the blue block and place it in the blue bowl.
3. done.

Instruction: stack all the blocks.
1. pick up the yellow block and place it on the purple block.
2. done.
";

const MATCHING: &str = "put the blocks in the bowls with matching colours";
const STACK: &str = "stack all the blocks";

fn scene() -> Observation {
    tabletop_scene(&[
        ("red block", ObjectKind::Block),
        ("blue block", ObjectKind::Block),
        ("yellow block", ObjectKind::Block),
        ("red bowl", ObjectKind::Bowl),
        ("blue bowl", ObjectKind::Bowl),
        ("yellow bowl", ObjectKind::Bowl),
    ])
}

fn planner(cache_mib: usize) -> Planner {
    let mut lm = LanguageModel::load(&default_model_dir(), 1).expect("load the shipped model");
    lm.set_prefix_cache_mib(cache_mib);
    let mut p = Planner::tabletop(lm, DecodeConfig::default());
    p.prompt_prefix = Some(PromptPrefix::new(PREFIX).expect("a prompt"));
    p
}

#[test]
fn prompts_read_before_are_not_read_again_and_plans_stay_the_same() {
    let obs = scene();
    let mut cached = planner(64);
    let mut plain = planner(0);
    let prefix_tokens = cached.lm.encode(&format!("{}\n", PREFIX.trim_end())).unwrap().len() + 1;
    let instruction_tokens = |p: &Planner, i: &str| p.lm.encode(&format!("Instruction: {i}.\n1.")).unwrap().len();

    // The first plan reads everything, and nothing is cached yet.
    let first = cached.plan(MATCHING, &obs, Method::GdBeam).unwrap();
    assert_eq!(first.tokens.cached_prompt_tokens, 0, "{:?}", first.tokens);
    assert_identical(&first, &plain.plan(MATCHING, &obs, Method::GdBeam).unwrap(), "first plan");

    // Another instruction: the few-shot prefix comes from the cache.
    let other = cached.plan(STACK, &obs, Method::GdBeam).unwrap();
    let other_plain = plain.plan(STACK, &obs, Method::GdBeam).unwrap();
    assert_identical(&other, &other_plain, "another instruction");
    assert!(other.tokens.cached_prompt_tokens >= prefix_tokens - 1, "{:?}", other.tokens);
    assert_eq!(other.tokens.prompt_tokens + other.tokens.cached_prompt_tokens, other_plain.tokens.prompt_tokens);
    assert!(other.tokens.prompt_tokens < other_plain.tokens.prompt_tokens - 40, "{:?} vs {:?}", other.tokens, other_plain.tokens);

    // The same instruction again (a repeat, or a replan from a new state): no prompt pass.
    let moved = {
        let mut s = obs.clone();
        s.objects[0].position[0] += 0.05;
        s
    };
    for (what, state) in [("the same instruction again", &obs), ("a replan on another state", &moved)] {
        let again = cached.plan(MATCHING, state, Method::GdBeam).unwrap();
        let again_plain = plain.plan(MATCHING, state, Method::GdBeam).unwrap();
        assert_identical(&again, &again_plain, what);
        assert_eq!(again.tokens.cached_prompt_tokens, again_plain.tokens.prompt_tokens - (again.tokens.prompt_tokens), "{what}: {:?}", again.tokens);
        assert!(again.tokens.cached_prompt_tokens >= prefix_tokens + instruction_tokens(&cached, MATCHING) - 2, "{what}: {:?}", again.tokens);
        assert!(again.tokens.forward_passes < again_plain.tokens.forward_passes, "{what}: {:?} vs {:?}", again.tokens, again_plain.tokens);
    }
    let stats = cached.lm.prefix_cache_stats().expect("the cache is on");
    assert!(stats.whole_hits >= 2 && stats.partial_hits >= 1, "{stats:?}");
    assert!(plain.lm.prefix_cache_stats().is_none());
    assert_eq!(plain.lm.stats().cached_prompt_tokens, 0);
}

#[test]
fn a_clarification_rereads_only_what_follows_the_few_shot_prefix() {
    let obs = scene();
    let mut out = Vec::new();
    for mib in [64, 0] {
        let mut p = planner(mib);
        p.plan(STACK, &obs, Method::GdBeam).unwrap();
        let mut session = p.start(MATCHING, Method::GdBeam).unwrap();
        let before = session.tokens();
        session.clarify("the blue one first").unwrap();
        let read = session.tokens().since(&before);
        let proposal = session.propose(&obs).unwrap().expect("a skill");
        out.push((read, proposal.skill, proposal.score));
    }
    let (cached, plain) = (&out[0], &out[1]);
    assert_eq!((&cached.1, cached.2), (&plain.1, plain.2), "the same skill either way");
    assert!(cached.0.cached_prompt_tokens > 40, "{:?}", cached.0);
    assert_eq!(cached.0.prompt_tokens + cached.0.cached_prompt_tokens, plain.0.prompt_tokens, "{:?} vs {:?}", cached.0, plain.0);
}

#[test]
fn the_cache_stays_within_its_budget() {
    let obs = scene();
    let mut p = planner(1);
    let instructions = [
        "stack all the blocks",
        "put the blocks in the bowls with matching colours",
        "put all the blocks in the red bowl",
        "stack the blue block on the red block",
    ];
    for _ in 0..3 {
        for i in instructions {
            p.plan(i, &obs, Method::GdGreedy).unwrap();
            let stats = p.lm.prefix_cache_stats().expect("on");
            assert!(stats.held_bytes <= 1 << 20, "{stats:?}");
        }
    }
    let stats = p.lm.prefix_cache_stats().expect("on");
    // Each prompt's keys and values take a few hundred kilobytes: the budget holds a few,
    // and the oldest went.
    assert!(stats.entries >= 1 && stats.entries < 2 * instructions.len(), "{stats:?}");
    assert!(stats.misses >= 1, "{stats:?}");
}
