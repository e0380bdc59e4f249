//! Grounded decoding with the shipped model: what the paper's rule must guarantee.

use grounded::decoder::{DecodeConfig, Search};
use grounded::default_model_dir;
use grounded::lm::LanguageModel;
use grounded::planner::{Method, PlanEnd, Planner, StepOutcome, Weighted};
use grounding::tabletop::TabletopSkills;
use grounding::{GroundedModel, Safety, SafetyConfig, SafetyMode, SkillPrefix, SkillSpace};
use proptest::prelude::*;
use protocol::{Domain, ObjectKind, Observation, SceneObject};

fn planner(config: DecodeConfig) -> Planner {
    let lm = LanguageModel::load(&default_model_dir(), 1).expect("load the shipped model");
    Planner::tabletop(lm, config)
}

fn scene(objects: &[(&str, ObjectKind)]) -> Observation {
    let xs = [-0.3, -0.15, 0.0, 0.15, 0.3];
    let ys = [-0.12, 0.04];
    let objects =
        objects.iter().enumerate().map(|(i, (name, kind))| SceneObject::new(format!("o{i}"), *name, *kind, [xs[i % 5], ys[(i / 5) % 2], 0.0])).collect();
    Observation::new(Domain::TABLETOP, objects)
}

fn no_green_bowl() -> Observation {
    use ObjectKind::*;
    scene(&[("green block", Block), ("blue block", Block), ("yellow block", Block), ("blue bowl", Bowl), ("yellow bowl", Bowl), ("red bowl", Bowl)])
}

const MATCHING: &str = "put the blocks in the bowls with matching colours";

/// The tokens a plan chose from beyond the language model's top-k, as "skill: token".
fn beyond_top_k_choices(plan: &grounded::planner::PlanResult) -> Vec<String> {
    use grounded::planner::StepExplanation;
    let mut chosen = Vec::new();
    for step in &plan.steps {
        if let StepExplanation::Tokens(choices) = &step.explanation {
            for c in choices {
                if c.candidates.iter().any(|cand| cand.beyond_top_k && cand.token == c.chosen) {
                    chosen.push(format!("{}: {:?}", step.skill, c.chosen));
                }
            }
        }
    }
    chosen
}

#[test]
fn a_beam_whose_top_k_holds_nothing_admissible_is_offered_the_tokens_that_are() {
    // Greedy decoding puts the blue and yellow blocks in their bowls, then commits to the
    // green block; at the bowl's colour the model is sure of "green", which is not there,
    // and its 5 likeliest tokens hold no colour that is (its 10 likeliest hold "blue").
    const TOP_K: usize = 5;
    let obs = no_green_bowl();
    let only_top_k =
        planner(DecodeConfig { beam_width: 1, top_k: TOP_K, beyond_top_k: false, ..DecodeConfig::default() }).plan(MATCHING, &obs, Method::GdGreedy).unwrap();
    assert_eq!(only_top_k.end, PlanEnd::NoSkill, "{:?}", only_top_k.skills());
    assert!(beyond_top_k_choices(&only_top_k).is_empty());
    // Offered the likeliest admissible tokens as well, it finishes, naming only bowls there
    // are, when told to go on however far a skill departs from what the model wanted...
    let config = DecodeConfig { beam_width: 1, top_k: TOP_K, max_departure: f32::INFINITY, ..DecodeConfig::default() };
    let beyond = planner(config).plan(MATCHING, &obs, Method::GdGreedy).unwrap();
    assert_eq!(beyond.end, PlanEnd::Done, "{:?}", beyond.skills());
    let taken = beyond_top_k_choices(&beyond);
    assert!(!taken.is_empty(), "{:?}", beyond.skills());
    for step in &beyond.steps {
        assert!(!step.skill.contains("green bowl"), "{:?}", beyond.skills());
        assert!(matches!(step.outcome, StepOutcome::Applied | StepOutcome::Done), "{:?} was {:?}", step.skill, step.outcome);
    }
    // ...and by default stops before the skill that puts the green block in another bowl.
    let stopped = planner(DecodeConfig { beam_width: 1, top_k: TOP_K, ..DecodeConfig::default() }).plan(MATCHING, &obs, Method::GdGreedy).unwrap();
    let PlanEnd::Departed(departed) = &stopped.end else { panic!("ended {}, not Departed: {:?}", stopped.end, stopped.skills()) };
    assert!(departed.skill.starts_with("pick up the green block") && departed.departure.wanted.trim() == "green", "{departed:?}");
}

#[test]
fn grounded_methods_never_name_a_green_bowl_that_is_not_there() {
    let mut p = planner(DecodeConfig::default());
    let obs = no_green_bowl();
    let llm = p.plan(MATCHING, &obs, Method::Llm).unwrap();
    // The scene-agnostic model, alone, names things the scene does not have (a bowl of
    // another colour, most often), so the grounded methods' plans below are a real check.
    assert!(llm.steps.iter().any(|s| matches!(s.outcome, StepOutcome::Infeasible(_))), "LM-only plan: {:?}", llm.skills());
    for method in [Method::Saycan, Method::GdGreedy, Method::GdBeam] {
        let plan = p.plan(MATCHING, &obs, method).unwrap();
        if method == Method::GdGreedy {
            // Greedy decoding commits to the green block first and then stops before putting
            // it into a bowl of another colour (tests below); the others finish.
            assert!(matches!(plan.end, PlanEnd::Done | PlanEnd::Departed(_)), "{method}: {:?} ended {}", plan.skills(), plan.end);
        } else {
            assert_eq!(plan.end, PlanEnd::Done, "{method}: {:?}", plan.skills());
        }
        for step in &plan.steps {
            assert!(!step.skill.contains("green bowl"), "{method} said {:?}", step.skill);
            assert!(matches!(step.outcome, StepOutcome::Applied | StepOutcome::Done), "{method}: {:?} was {:?}", step.skill, step.outcome);
        }
    }
    // Beam search sees whole skills: both matching pairs, and nothing mismatched.
    let beam = p.plan(MATCHING, &obs, Method::GdBeam).unwrap();
    let mut skills = beam.skills();
    assert_eq!(skills.pop(), Some("done"), "{:?}", beam.skills());
    skills.sort();
    assert_eq!(skills, vec!["pick up the blue block and place it in the blue bowl", "pick up the yellow block and place it in the yellow bowl"]);
}

#[test]
fn beam_width_one_is_greedy() {
    use ObjectKind::*;
    let scenes = [
        no_green_bowl(),
        scene(&[("letter D", Letter), ("letter A", Letter), ("letter C", Letter), ("letter B", Letter)]),
        scene(&[("apple", Item), ("knife", Item), ("chips bag", Item), ("brown box", Box), ("banana", Item)]),
    ];
    let instructions = [MATCHING, "put the letters in alphabetical order", "pack the brown box", "stack all the blocks"];
    for search in [Search::BestFirst, Search::LockStep] {
        let mut p = planner(DecodeConfig { beam_width: 1, search, ..DecodeConfig::default() });
        for obs in &scenes {
            for instruction in instructions {
                let beam = p.plan(instruction, obs, Method::GdBeam).unwrap();
                let greedy = p.plan(instruction, obs, Method::GdGreedy).unwrap();
                assert_eq!(beam.skills(), greedy.skills(), "{search}: {instruction}");
                for (b, g) in beam.steps.iter().zip(&greedy.steps) {
                    assert!((b.score - g.score).abs() < 1e-4, "{search}: {instruction}: {} vs {}", b.score, g.score);
                }
                assert_eq!(beam.tokens.decode_tokens, greedy.tokens.decode_tokens, "{search}: {instruction}");
            }
        }
    }
}

#[test]
fn lock_step_beam_search_shares_one_batched_pass_per_step() {
    let mut p = planner(DecodeConfig { search: Search::LockStep, ..DecodeConfig::default() });
    let plan = p.plan(MATCHING, &no_green_bowl(), Method::GdBeam).unwrap();
    // Four beams decode in lockstep: more tokens than forward passes, several per pass.
    let t = plan.tokens;
    assert!(t.decode_tokens > t.forward_passes, "{t:?}");
    // The prompt is prefilled once; later steps only add their own few tokens.
    let first_line = p.lm.encode("Instruction: put the blocks in the bowls with matching colours.\n1.").unwrap().len();
    assert!(t.prompt_tokens < first_line + 6 * plan.steps.len(), "{t:?}");
}

#[test]
fn saycan_scores_every_skill_and_costs_far_more_tokens() {
    use ObjectKind::*;
    let obs = scene(&[
        ("red block", Block),
        ("blue block", Block),
        ("yellow block", Block),
        ("purple block", Block),
        ("cyan block", Block),
        ("blue bowl", Bowl),
        ("yellow bowl", Bowl),
        ("red bowl", Bowl),
        ("purple bowl", Bowl),
        ("cyan bowl", Bowl),
    ]);
    let mut p = planner(DecodeConfig::default());
    let saycan = p.plan(MATCHING, &obs, Method::Saycan).unwrap();
    let greedy = p.plan(MATCHING, &obs, Method::GdGreedy).unwrap();
    let per_step = |r: &grounded::planner::PlanResult| r.tokens.total() as f64 / r.steps.len() as f64;
    assert!(per_step(&saycan) > 25.0 * per_step(&greedy), "saycan {:?} vs greedy {:?}", saycan.tokens, greedy.tokens);
    for step in &saycan.steps {
        assert!(matches!(step.outcome, StepOutcome::Applied | StepOutcome::Done), "{:?}", step);
    }
}

#[test]
fn prefixes_score_the_same_wherever_tokens_split_them() {
    let obs = no_green_bowl();
    let affordance = grounding::Affordance::new(TabletopSkills, 1e-6);
    let mut bound = affordance.bind(&obs).unwrap();
    let lm = LanguageModel::load(&default_model_dir(), 1).unwrap();
    for scored in TabletopSkills.admissible(&obs).unwrap() {
        let skill = scored.text.clone();
        let own = (scored.feasibility.ln()) as f32;
        // Every character boundary, which includes every BPE boundary of the model: a
        // prefix scores at least as well as this skill (its best completion may be another).
        let cuts: Vec<&str> = (0..=skill.len()).map(|i| &skill[..i]).collect();
        let partial: Vec<SkillPrefix<'_>> = cuts.iter().map(|c| SkillPrefix::partial(c)).collect();
        assert!(bound.score(&partial).unwrap().iter().all(|s| s.value() >= own - 1e-6 && s.value() <= 0.0), "{skill}");
        assert!((bound.score(&[SkillPrefix::complete(&skill)]).unwrap()[0].value() - own).abs() < 1e-6);
        // Token pieces concatenated give back the same text the trie sees.
        let tokens = lm.encode(&format!(" {skill}")).unwrap();
        let joined: String = tokens.iter().map(|t| lm.token_text(*t)).collect();
        assert_eq!(joined.trim_start(), skill);
    }
    let floor = (1e-6f64).ln() as f32;
    let s = bound.score(&[SkillPrefix::partial("pick up the green block and place it in the green b")]).unwrap();
    assert!((s[0].value() - floor).abs() < 1e-3);
    let s = bound.score(&[SkillPrefix::complete("pick up the green block and place it in the green bowl")]).unwrap();
    assert!(s[0].is_never(), "an inadmissible finished skill is never chosen");
}

#[test]
fn grounding_failures_end_the_plan_cleanly() {
    // Hard safety that forbids "pick" leaves nothing to do but "done".
    let cfg = SafetyConfig { forbidden: vec!["pick".into()], mode: SafetyMode::Hard, epsilon: 0.001 };
    let mut never_stops = planner(DecodeConfig { max_departure: f32::INFINITY, ..DecodeConfig::default() });
    never_stops.others.push(Weighted { model: Box::new(Safety::new(&cfg).unwrap()), weight: 1.0 });
    for method in [Method::GdGreedy, Method::GdBeam, Method::Saycan] {
        let plan = never_stops.plan(MATCHING, &no_green_bowl(), method).unwrap();
        assert_eq!(plan.skills(), vec!["done"], "{method}");
    }
    // By default the token decoders stop instead, saying that the model wanted "pick", which
    // nothing admissible allows: not "done", which would claim the task finished.
    let mut p = planner(DecodeConfig::default());
    p.others.push(Weighted { model: Box::new(Safety::new(&cfg).unwrap()), weight: 1.0 });
    for method in [Method::GdGreedy, Method::GdBeam] {
        let plan = p.plan(MATCHING, &no_green_bowl(), method).unwrap();
        let PlanEnd::Departed(departed) = &plan.end else { panic!("{method}: {:?} ended {}", plan.skills(), plan.end) };
        assert!(plan.skills().is_empty(), "{method}: {:?}", plan.skills());
        assert_eq!((departed.skill.as_str(), departed.departure.wanted.trim()), ("done", "pick"), "{method}");
    }
}

const RED_AND_KNIFE: [(&str, ObjectKind); 14] = [
    ("red block", ObjectKind::Block),
    ("blue block", ObjectKind::Block),
    ("yellow block", ObjectKind::Block),
    ("red bowl", ObjectKind::Bowl),
    ("blue bowl", ObjectKind::Bowl),
    ("knife", ObjectKind::Item),
    ("apple", ObjectKind::Item),
    ("red toy car", ObjectKind::Item),
    ("chips bag", ObjectKind::Item),
    ("red mug", ObjectKind::Item),
    ("brown box", ObjectKind::Box),
    ("letter A", ObjectKind::Letter),
    ("letter B", ObjectKind::Letter),
    ("banana", ObjectKind::Item),
];

const INSTRUCTIONS: [&str; 5] = [MATCHING, "pack the brown box", "stack all the blocks", "put the letters in alphabetical order", "pack me a picnic box"];

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn hard_safety_never_emits_a_forbidden_skill(
        picks in proptest::sample::subsequence(RED_AND_KNIFE.to_vec(), 3..=10),
        instruction in proptest::sample::select(INSTRUCTIONS.to_vec()),
        beam in proptest::bool::ANY,
    ) {
        let mut p = planner(DecodeConfig { max_steps: 6, ..DecodeConfig::default() });
        let cfg = SafetyConfig { forbidden: vec!["red".into(), "knife".into()], mode: SafetyMode::Hard, epsilon: 0.001 };
        p.others.push(Weighted { model: Box::new(Safety::new(&cfg).unwrap()), weight: 1.0 });
        let obs = scene(&picks);
        let method = if beam { Method::GdBeam } else { Method::GdGreedy };
        let plan = p.plan(instruction, &obs, method).unwrap();
        for step in &plan.steps {
            prop_assert!(!step.skill.contains("red") && !step.skill.contains("knife"), "{} chose {:?}", method, step.skill);
            prop_assert!(matches!(step.outcome, StepOutcome::Applied | StepOutcome::Done), "{:?}", step);
        }
    }
}

#[test]
fn a_plan_that_fills_the_models_context_ends_rather_than_failing() {
    // Five block-bowl pairs need five steps of about 14 tokens each; a context of 75 tokens
    // holds the prompt and three or four of them. The plan ends there, with what it has.
    let scene = grounded::setup::load_scene(&std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/scenes/ten-objects.json")).unwrap();
    for method in [Method::Llm, Method::GdGreedy, Method::GdBeam] {
        let mut lm = LanguageModel::load(&default_model_dir(), 1).unwrap();
        lm.limit_context(75);
        let mut planner = Planner::tabletop(lm, DecodeConfig { max_skill_tokens: 14, ..DecodeConfig::default() });
        let plan = planner.plan("put the blocks in the bowls with matching colours", &scene, method).unwrap_or_else(|e| panic!("{method}: {e}"));
        assert_eq!(plan.end, grounded::planner::PlanEnd::ContextFull, "{method}: {:?}", plan.steps.iter().map(|s| &s.skill).collect::<Vec<_>>());
        assert!(plan.steps.len() >= 2, "{method}: {} steps", plan.steps.len());
    }
}

#[test]
fn the_best_next_tokens_are_those_a_full_sort_finds() {
    use grounded::decoder::{log_softmax, NextTokens};
    let lm = LanguageModel::load(&default_model_dir(), 1).expect("load the shipped model");
    let vocab = lm.vocab();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for case in 0..40 {
        // Coarse values make many ties; some rows put the best tokens among special ones.
        let levels = [4u64, 50, 1000][case % 3];
        let mut logits: Vec<f32> = (0..vocab).map(|_| (next() % levels) as f32 / 7.0 - 20.0).collect();
        if case % 5 == 0 {
            logits[0] = 100.0;
        }
        let k = [1usize, 5, 20, 60][case % 4];
        let lp = log_softmax(&logits);
        let mut all: Vec<(u32, f32)> = (0..vocab as u32).filter(|&i| lm.tokens().is_choosable(i)).map(|i| (i, lp[i as usize])).collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let expected: Vec<(u32, f32)> = all.into_iter().take(k).collect();
        let got: Vec<(u32, f32)> = NextTokens::read(&logits, k, &lm).top.iter().map(|(t, v)| (t.0, *v)).collect();
        let ids = |v: &[(u32, f32)]| v.iter().map(|p| p.0).collect::<Vec<_>>();
        assert_eq!(ids(&got), ids(&expected), "case {case}, k = {k}");
        for (g, e) in got.iter().zip(&expected) {
            assert!((g.1 - e.1).abs() < 1e-5, "case {case}: token {} has {} against {}", g.0, g.1, e.1);
        }
    }
}

#[test]
fn a_request_that_names_objects_and_places_is_planned_as_named() {
    use ObjectKind::*;
    // Bowls of every block's colour are there too, so the matching-bowls plan (which the
    // model answered such requests with before corpus version 3) is feasible and wrong.
    let obs = scene(&[
        ("blue block", Block),
        ("yellow block", Block),
        ("cyan block", Block),
        ("blue bowl", Bowl),
        ("yellow bowl", Bowl),
        ("cyan bowl", Bowl),
        ("purple bowl", Bowl),
    ]);
    let mut p = planner(DecodeConfig::default());
    let requests: [(&str, &[&str]); 3] = [
        ("put the yellow block in the purple bowl", &["pick up the yellow block and place it in the purple bowl"]),
        ("stack the blue block on the cyan block", &["pick up the blue block and place it on the cyan block"]),
        (
            "put the cyan block in the blue bowl, then move the yellow block to the top left corner",
            &["pick up the cyan block and place it in the blue bowl", "pick up the yellow block and place it on the top left corner"],
        ),
    ];
    for (instruction, want) in requests {
        for method in [Method::GdGreedy, Method::GdBeam] {
            let plan = p.plan(instruction, &obs, method).unwrap();
            let mut skills = plan.skills();
            assert_eq!(skills.pop(), Some("done"), "{method}, {instruction:?}: {:?}", plan.skills());
            assert_eq!(skills, want, "{method}, {instruction:?}");
        }
    }
}

#[test]
fn a_skill_that_departs_from_a_named_object_that_is_not_there_stops_the_plan() {
    use grounded::planner::PlanResult;
    use ObjectKind::*;
    // No red block and no purple bowl here.
    let obs = scene(&[("blue block", Block), ("yellow block", Block), ("blue bowl", Bowl), ("yellow bowl", Bowl)]);
    let largest = |plan: &PlanResult| plan.steps.iter().filter_map(|s| s.departure.as_ref().map(|d| d.nats)).fold(0f32, f32::max);
    let mut never_stops = planner(DecodeConfig { max_departure: f32::INFINITY, ..DecodeConfig::default() });
    for method in [Method::GdGreedy, Method::GdBeam] {
        // Named objects that are there: the skill is what the model wanted, no departure.
        let present = never_stops.plan("put the yellow block in the blue bowl", &obs, method).unwrap();
        assert_eq!(present.end, PlanEnd::Done, "{method}: {:?}", present.skills());
        assert!(largest(&present) < 1.0, "{method}: {:?}", present.steps.iter().map(|s| &s.departure).collect::<Vec<_>>());
        // Named objects that are not: told never to stop, the plan goes on with what is
        // there, and says how far that departs from what the model wanted: beyond the
        // default limit, which (below) stops it.
        for instruction in ["put the red block in the yellow bowl", "put the yellow block in the purple bowl"] {
            let plan = never_stops.plan(instruction, &obs, method).unwrap();
            let nats = largest(&plan);
            assert!(nats > DecodeConfig::default().max_departure, "{method}, {instruction:?}: {:?} departs by {nats} nats", plan.skills());
            assert!(plan.end.departed().is_none(), "{method}, {instruction:?} ended {}", plan.end);
        }
    }
    // By default the plan ends before the departing skill, naming it.
    let limit = DecodeConfig::default().max_departure;
    let mut p = planner(DecodeConfig::default());
    for method in [Method::GdGreedy, Method::GdBeam] {
        for (instruction, wanted) in [("put the red block in the yellow bowl", "red"), ("put the yellow block in the purple bowl", "purple")] {
            let plan = p.plan(instruction, &obs, method).unwrap();
            let PlanEnd::Departed(departed) = &plan.end else { panic!("{method}: {:?} ended {}", plan.skills(), plan.end) };
            assert!(plan.steps.is_empty(), "{method}: nothing is carried out: {:?}", plan.skills());
            assert_eq!(departed.departure.wanted.trim(), wanted, "{method}: {departed:?}");
            assert!(departed.departure.nats > limit && !departed.skill.contains(wanted), "{method}: {departed:?}");
        }
        let present = p.plan("put the yellow block in the blue bowl", &obs, method).unwrap();
        assert_eq!(present.end, PlanEnd::Done, "{method}: {:?}", present.skills());
    }
}

/// `word` with its first letter a capital.
fn capitalise(word: &str) -> String {
    word[..1].to_uppercase() + &word[1..]
}

/// `said` with one word after the first rewritten by `rewrite`, for each such word in turn.
fn each_word_rewritten(said: &str, rewrite: fn(&str) -> String) -> Vec<String> {
    let words: Vec<&str> = said.split(' ').collect();
    (1..words.len()).map(|i| words.iter().enumerate().map(|(j, w)| if j == i { rewrite(w) } else { w.to_string() }).collect::<Vec<_>>().join(" ")).collect()
}

/// An instruction written in capitals throughout (as some speech recognisers write every
/// transcript), or with every word capitalised, is planned as the same words in small
/// letters, which the model learned from; read as written, the model took them for other
/// words (README.md, "In your own words").
#[test]
fn an_instruction_in_capitals_or_capitalised_is_planned_as_in_small_letters() {
    use ObjectKind::*;
    let bowls = scene(&[("red block", Block), ("blue block", Block), ("green block", Block), ("blue bowl", Bowl), ("green bowl", Bowl), ("red bowl", Bowl)]);
    let capitalised = |s: &str| s.split(' ').map(capitalise).collect::<Vec<_>>().join(" ");
    let mut p = planner(DecodeConfig::default());
    for said in [MATCHING, "stack all the blocks", "could you put every block in the bowl of its own colour"] {
        let small = p.plan(said, &bowls, Method::GdBeam).expect("a plan");
        assert_eq!(small.end, PlanEnd::Done, "{said}: {:?}", small.skills());
        assert!(small.skills().len() >= 3, "{said}: {:?}", small.skills());
        // Typed with caps lock on, the sentence's first letter shifted: "pUT THE BLOCKS ...".
        let caps_locked = said[..1].to_lowercase() + &said[1..].to_uppercase();
        for written in [said.to_uppercase(), capitalised(said), caps_locked] {
            let plan = p.plan(&written, &bowls, Method::GdBeam).expect("a plan");
            assert_eq!(plan.skills(), small.skills(), "{written}");
        }
    }
    // A word capitalised inside a sentence (headline style, emphasis, a name) is read as the
    // model learned it, in small letters: one such word could change which object is moved.
    let headline =
        |s: &str| s.split(' ').enumerate().map(|(i, w)| if i == 0 || w.len() > 3 { capitalise(w) } else { w.to_string() }).collect::<Vec<_>>().join(" ");
    for said in [MATCHING, "put the red block in the green bowl", "put the blue block on the red block", "put the green block in the blue bowl"] {
        let small = p.plan(said, &bowls, Method::GdBeam).expect("a plan");
        assert_eq!(small.end, PlanEnd::Done, "{said}: {:?}", small.skills());
        for written in std::iter::once(headline(said)).chain(each_word_rewritten(said, capitalise)) {
            let plan = p.plan(&written, &bowls, Method::GdBeam).expect("a plan");
            assert_eq!(plan.skills(), small.skills(), "{written}");
        }
    }
}

/// Letters named in small letters, as people type in a chat ("put b and d on the left"),
/// are planned as named in capitals, as the model learned letters; read as typed, the
/// model moved only B.
#[test]
fn letters_named_in_small_letters_are_planned_as_named_in_capitals() {
    use ObjectKind::*;
    let letters = scene(&[("letter D", Letter), ("letter A", Letter), ("letter C", Letter), ("letter E", Letter), ("letter B", Letter), ("letter O", Letter)]);
    let mut p = planner(DecodeConfig::default());
    let put_b_and_d = p.plan("put B and D on the left side", &letters, Method::GdBeam).expect("a plan");
    let moved: Vec<&str> = put_b_and_d.skills().iter().filter_map(|s| s.split(' ').nth(4)).collect();
    assert_eq!(moved, ["B", "D"], "{:?}", put_b_and_d.skills());
    for said in ["put B and D on the left side", "put A, E, O and U on the left side", "line the letters up from A to Z"] {
        let capitals = p.plan(said, &letters, Method::GdBeam).expect("a plan");
        let small = p.plan(&said.to_lowercase(), &letters, Method::GdBeam).expect("a plan");
        assert_eq!(small.instruction, said);
        assert_eq!(small.skills(), capitals.skills(), "{said}");
    }
    // The article stays an article.
    let plan = p.plan("put a letter on the left side", &letters, Method::GdBeam).expect("a plan");
    assert_eq!(plan.instruction, "put a letter on the left side");
}

/// Characters the model never learned, as phones, word processors and speech recognisers
/// write them, are read in their nearest learned form or, if signs without one, left out:
/// quotes around the instruction, typographic quotes and dashes, full-width letters, an
/// emoji. Read as typed, they changed the plans (quotes around the held-out tabletop
/// paraphrases: 91% -> 68%). Letters of a script the model never learned are refused, not
/// dropped: nothing is planned.
#[test]
fn instructions_are_read_in_the_characters_the_model_learned() {
    use grounded::planner::PlanError;
    use grounded::prompt::InstructionError;
    use ObjectKind::*;
    let letters = scene(&[("letter D", Letter), ("letter A", Letter), ("letter C", Letter), ("letter E", Letter), ("letter B", Letter), ("letter O", Letter)]);
    let bowls = scene(&[("red block", Block), ("blue block", Block), ("green block", Block), ("blue bowl", Bowl), ("green bowl", Bowl), ("red bowl", Bowl)]);
    let mut p = planner(DecodeConfig::default());
    let full_width = |s: &str| s.chars().map(|c| if c.is_ascii_graphic() { char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap() } else { c }).collect::<String>();
    for (said, on) in [
        ("put the letters in alphabetical order", &letters),
        ("put the blocks in the bowls with matching colours", &bowls),
        ("stack the blocks on top of each other", &bowls),
    ] {
        let plain = p.plan(said, on, Method::GdBeam).expect("a plan");
        assert!(!plain.skills().is_empty());
        for written in [
            format!("\"{said}\""),
            format!("\u{201C}{said}\u{201D}"),
            format!("'{said}'."),
            format!("{said} \u{1F642}"),
            format!("\u{1F916} {said}!"),
            full_width(said),
            // Markdown's emphasis: ASCII signs its corpora never held (training.json says which).
            format!("**{said}**"),
            format!("_{said}_"),
        ] {
            let plan = p.plan(&written, on, Method::GdBeam).expect("a plan");
            assert_eq!(plan.instruction.trim_end_matches('!'), said, "{written}");
            assert_eq!(plan.skills(), plain.skills(), "{written}");
        }
    }
    let dash = p.plan("put the red block in the green bowl \u{2013} then stop", &bowls, Method::GdBeam).expect("a plan");
    assert_eq!(dash.instruction, "put the red block in the green bowl - then stop");
    for unreadable in
        ["\u{636}\u{639} \u{627}\u{644}\u{643}\u{62A}\u{644}\u{629} \u{627}\u{644}\u{62D}\u{645}\u{631}\u{627}\u{621}", "put the \u{8D64} block in the bowl"]
    {
        let refused = p.plan(unreadable, &bowls, Method::GdBeam);
        assert!(matches!(refused, Err(PlanError::Instruction(InstructionError::Unreadable(_)))), "{unreadable}: {refused:?}");
    }
    let signs = p.plan("\u{1F44D}", &bowls, Method::GdBeam);
    assert!(matches!(signs, Err(PlanError::Instruction(InstructionError::OnlySigns(_)))), "{signs:?}");
}

/// A comma, semicolon, colon, ! or ? typed without the space after it is read with it, and
/// one typed with a space before it without: the corpus always writes them so, and "A,E"
/// and "blocks ," are text the model never saw.
#[test]
fn separators_are_read_spaced_as_the_model_learned_them() {
    use ObjectKind::*;
    let letters = scene(&[("letter D", Letter), ("letter A", Letter), ("letter C", Letter), ("letter E", Letter), ("letter B", Letter), ("letter O", Letter)]);
    let bowls = scene(&[("red block", Block), ("blue block", Block), ("green block", Block), ("blue bowl", Bowl), ("green bowl", Bowl), ("red bowl", Bowl)]);
    let mut p = planner(DecodeConfig::default());
    for (spaced, on) in [
        ("put A, E and O on the left side", &letters),
        ("robot: put the red block in the green bowl, then stop", &bowls),
        ("please; stack the blocks on top of each other", &bowls),
    ] {
        let plain = p.plan(spaced, on, Method::GdBeam).expect("a plan");
        assert!(!plain.skills().is_empty(), "{spaced}");
        let unspaced = spaced.replace(", ", ",").replace(": ", ":").replace("; ", ";");
        let space_before = spaced.replace(',', " ,").replace(':', " :").replace(';', " ;") + " .";
        for (typed, read) in [(unspaced, spaced.to_string()), (space_before, format!("{spaced}."))] {
            let plan = p.plan(&typed, on, Method::GdBeam).expect("a plan");
            assert_eq!(plan.instruction, read, "{typed}");
            assert_eq!(plan.skills(), plain.skills(), "{typed}");
        }
    }
    let numbers = p.plan("put 1,000 blocks in the red bowl at 10:30", &bowls, Method::GdBeam).expect("a plan");
    assert_eq!(numbers.instruction, "put 1,000 blocks in the red bowl at 10:30");
}

/// A lone word in capitals said for emphasis is read in small letters where the model's
/// vocabulary lacks it whole (it would read "RED" as the letters R, E and D), and kept where
/// the model learned it so ("ABC order").
#[test]
fn a_lone_word_in_capitals_is_read_as_the_models_vocabulary_holds_it() {
    use ObjectKind::*;
    let bowls = scene(&[("red block", Block), ("blue block", Block), ("green block", Block), ("blue bowl", Bowl), ("green bowl", Bowl), ("red bowl", Bowl)]);
    let mut p = planner(DecodeConfig::default());
    for said in ["put the red block in the green bowl", "put the blue block on the red block", "put the green block in the blue bowl"] {
        let small = p.plan(said, &bowls, Method::GdBeam).expect("a plan");
        assert_eq!(small.end, PlanEnd::Done, "{said}: {:?}", small.skills());
        for written in each_word_rewritten(said, str::to_uppercase) {
            let plan = p.plan(&written, &bowls, Method::GdBeam).expect("a plan");
            assert_eq!(plan.instruction, said, "{written}");
            assert_eq!(plan.skills(), small.skills(), "{written}");
        }
    }
    let letters = scene(&[("letter C", Letter), ("letter A", Letter), ("letter B", Letter)]);
    let plan = p.plan("put the letters in ABC order", &letters, Method::GdBeam).expect("a plan");
    assert_eq!(plan.instruction, "put the letters in ABC order");
}

/// A request for a block the scene lacks moves nothing and never ends without saying why:
/// the plan stops before the departing skill, or, where `done` beat every skill the scene
/// allows, its `done` says which departing skill it was said in place of (what the model
/// wanted, read from the search's candidates). Both searches, every absent colour.
#[test]
fn a_request_for_an_absent_block_ends_saying_what_the_model_wanted() {
    let mut answered_done = Vec::new();
    for search in [Search::BestFirst, Search::LockStep] {
        let mut p = planner(DecodeConfig { search, ..DecodeConfig::default() });
        let scene = no_green_bowl();
        for colour in ["red", "green", "blue", "yellow", "purple", "orange", "pink", "cyan", "brown", "gray", "white"] {
            if scene.objects.iter().any(|o| o.name == format!("{colour} block")) {
                continue;
            }
            let plan = p.plan(&format!("put the {colour} block in the blue bowl"), &scene, Method::GdBeam).expect("a plan");
            let wanted = format!(" {colour}");
            let what = format!("{search}, {colour}: {:?} ended {}", plan.skills(), plan.end);
            match (&plan.end, plan.done_instead()) {
                (PlanEnd::Departed(d), None) => assert_eq!(d.departure.wanted, wanted, "{what}"),
                (PlanEnd::Done, Some(d)) => {
                    assert_eq!(plan.skills(), ["done"], "{what}");
                    assert_eq!(d.departure.wanted, wanted, "{what}");
                    assert!(d.unfinished.starts_with("pick up the") && !d.unfinished.contains(colour), "{what}: {d}");
                    assert_eq!(plan.end_reason(), Some(d.to_string()));
                    answered_done.push(what);
                }
                _ => panic!("{what}, saying nothing of why: {:?}", plan.end_reason()),
            }
        }
    }
    // The shipped model answers some of these `done` (models/planner-gpt2/README.md): if none
    // is, this test no longer reaches what it is for.
    assert!(!answered_done.is_empty(), "no request for an absent block was answered `done`");
}

/// A plan that ends `done` because it is finished says nothing more.
#[test]
fn a_finished_plan_ends_done_without_a_reason() {
    let mut p = planner(DecodeConfig::default());
    let plan = p.plan(MATCHING, &no_green_bowl(), Method::GdBeam).expect("a plan");
    assert_eq!(plan.end, PlanEnd::Done, "{:?}", plan.skills());
    assert!(plan.skills().len() > 1 && plan.done_instead().is_none() && plan.end_reason().is_none(), "{:?} {:?}", plan.skills(), plan.end_reason());
}
