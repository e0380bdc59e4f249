//! The corpus generator and the Rust skill grammars must agree in every corpus version (the
//! shipped model's and the others): every tabletop step the generator writes parses with
//! `protocol::tabletop`, every grid step with `protocol::grid`, every kitchen step with
//! `protocol::kitchen`, and every kitchen object it names is in the catalogue.

use protocol::grid::GridSkill;
use protocol::kitchen::KitchenSkill;
use protocol::tabletop::TabletopSkill;
use std::process::Command;

/// Every corpus version tools/train/corpus.py makes (its `VERSIONS`, the keys of
/// phrasing.py's `STYLES`).
const CORPUS_VERSIONS: [u32; 7] = [1, 2, 3, 4, 5, 6, 7];

/// A sample of every corpus version (seed 0), one after the other; `None` when WordNet, which
/// the generator reads, is not installed and the run does not require it (CI does:
/// tools/setup-wordnet.sh).
fn sample(plans: usize) -> Option<String> {
    let mut text = String::new();
    for version in CORPUS_VERSIONS {
        text += &sample_of(plans, version)?;
    }
    Some(text)
}

fn sample_of(plans: usize, version: u32) -> Option<String> {
    corpus_py(&[&plans.to_string(), "--version", &version.to_string()])
}

/// What tools/train/corpus.py prints for `args`; `None` when WordNet is missing and the run
/// does not require it.
fn corpus_py(args: &[&str]) -> Option<String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/train/corpus.py");
    let out = match Command::new("python3").arg(script).args(args).output() {
        Ok(out) => out,
        Err(e) => panic!("python3 is needed to run {script}: {e}"),
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && stderr.contains("WordNet's database is not in") && std::env::var_os("GROUNDED_REQUIRE_WORDNET").is_none() {
        eprintln!("SKIPPED: the corpus generator reads WordNet: install Debian's wordnet-base (bash tools/setup-wordnet.sh)");
        return None;
    }
    assert!(out.status.success(), "{stderr}");
    Some(String::from_utf8(out.stdout).expect("utf-8"))
}

#[test]
fn corpus_sample_parses() {
    let Some(text) = sample(600) else { return };
    let (mut tabletop, mut grid, mut kitchen) = (0, 0, 0);
    let mut domain = "";
    for line in text.lines() {
        if line.starts_with("Instruction: ") {
            domain = "";
            continue;
        }
        // "N. <skill>." or "N. <skill>. (failed)"
        let Some((number, rest)) = line.split_once(". ") else { continue };
        if number.parse::<u32>().is_err() {
            continue;
        }
        let skill = rest.trim_end_matches(" (failed)").trim_end_matches('.');
        // A plan's first step tells its domain; every later step must parse in that domain.
        if domain.is_empty() {
            domain = if skill.contains(" and place it ") {
                "tabletop"
            } else if skill.starts_with("find the ") || (skill.starts_with("go to the ") && KitchenSkill::parse(skill).is_ok()) {
                "kitchen"
            } else {
                "grid"
            };
        }
        match domain {
            "tabletop" => {
                TabletopSkill::parse(skill).unwrap_or_else(|e| panic!("corpus line {line:?}: {e}"));
                tabletop += 1;
            }
            "kitchen" => {
                let k = KitchenSkill::parse(skill).unwrap_or_else(|e| panic!("corpus line {line:?}: {e}"));
                if let KitchenSkill::Find(o) | KitchenSkill::PickUp(o) | KitchenSkill::PutDown(o) = &k {
                    assert!(protocol::kitchen::entry(o).is_some(), "corpus line {line:?}: {o:?} is not in the kitchen's catalogue");
                }
                kitchen += 1;
            }
            _ => {
                GridSkill::parse(skill).unwrap_or_else(|e| panic!("corpus line {line:?}: {e}"));
                grid += 1;
            }
        }
    }
    assert!(tabletop > 500, "only {tabletop} tabletop steps in the sample");
    assert!(grid > 100, "only {grid} grid steps in the sample");
    assert!(kitchen > 300, "only {kitchen} kitchen steps in the sample");
}

#[test]
fn kitchen_plans_look_for_another_of_the_kind_after_a_failed_find() {
    let Some(text) = sample(3000) else { return };
    let mut after_failed_find = 0;
    for plan in text.split("\n\n") {
        let steps: Vec<&str> = plan.lines().skip(1).filter_map(|l| l.split_once(". ").map(|(_, s)| s)).collect();
        for pair in steps.windows(2) {
            if let (Some(failed), Some(next)) = (pair[0].strip_suffix(". (failed)"), pair[1].strip_suffix('.')) {
                if let Some(object) = failed.strip_prefix("find the ") {
                    assert!(next.starts_with("find the ") && next != failed, "after {failed:?} the plan goes on with {next:?}:\n{plan}");
                    assert_ne!(next.trim_start_matches("find the "), object);
                    after_failed_find += 1;
                }
            }
        }
    }
    assert!(after_failed_find > 30, "only {after_failed_find} failed finds in the sample");
}

/// Plans of one task of a corpus version (seed 0).
fn task_sample(plans: usize, version: u32, task: &str) -> Option<String> {
    corpus_py(&[&plans.to_string(), "--version", &version.to_string(), "--task", task])
}

/// Requests for nothing (version 5 on) plan `done` at once, in every domain, and none of them
/// is held out (bench/negation/'s requests are: tests/paraphrases.rs).
#[test]
fn requests_for_nothing_plan_done_at_once() {
    for domain in ["tabletop", "grid", "kitchen"] {
        for kind in ["forbidden", "nothing"] {
            let task = format!("{domain}-{kind}");
            let Some(text) = task_sample(200, 5, &task) else { return };
            let plans: Vec<&str> = text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).collect();
            assert_eq!(plans.len(), 200, "{task}");
            let mut instructions = std::collections::BTreeSet::new();
            for plan in plans {
                let lines: Vec<&str> = plan.lines().collect();
                assert!(lines[0].starts_with("Instruction: "), "{task}: {plan}");
                assert_eq!(&lines[1..], ["1. done."], "{task}: a request for nothing plans only done:\n{plan}");
                instructions.insert(lines[0]);
            }
            assert!(instructions.len() > 150, "{task}: only {} different requests in 200", instructions.len());
        }
    }
    // Before version 5 there are none.
    let out = Command::new("python3")
        .args([concat!(env!("CARGO_MANIFEST_DIR"), "/tools/train/corpus.py"), "1", "--version", "4", "--task", "tabletop-nothing"])
        .output()
        .expect("python3 runs corpus.py");
    assert!(!out.status.success());
}

/// What names a tabletop object in an instruction: a block's colour, a letter, an item.
fn naming_word(object: &str) -> String {
    object.strip_suffix(" block").or_else(|| object.strip_prefix("letter ")).unwrap_or(object).to_string()
}

#[test]
fn explicit_requests_name_every_object_their_plans_move_in_the_order_moved() {
    for task in ["named-object", "named-steps", "named-group"] {
        let Some(text) = task_sample(300, 3, task) else { return };
        let mut plans = 0;
        for plan in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
            let mut lines = plan.lines();
            let instruction = lines.next().and_then(|l| l.strip_prefix("Instruction: ")).expect("an instruction line");
            let mut from = 0;
            let mut seen = std::collections::HashSet::new();
            for line in lines {
                let Some((_, step)) = line.split_once(". ") else { continue };
                let step = step.trim_end_matches(" (failed)").trim_end_matches('.');
                if step == "done" || !seen.insert(step.to_string()) {
                    continue; // a retried step names the same object again
                }
                TabletopSkill::parse(step).unwrap_or_else(|e| panic!("{task}: {step:?}: {e}"));
                let object = step.trim_start_matches("pick up the ").split(" and place it ").next().expect("an object");
                let word = naming_word(object);
                // A single letter must stand as a word ("K", "the K tile"); colours and items
                // may be followed by a noun ("red, blue and green blocks").
                // Letters are capitals in every wording; anything else may start the sentence.
                let haystack = if word.len() == 1 { instruction.to_string() } else { instruction.to_lowercase() };
                let at = haystack[from..].match_indices(word.as_str()).map(|(i, _)| from + i).find(|&i| {
                    let before = instruction[..i].chars().last().is_none_or(|c| !c.is_alphanumeric());
                    let after = instruction[i + word.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric());
                    before && (after || word.len() > 1)
                });
                let at = at.unwrap_or_else(|| panic!("{task}: {instruction:?} does not name {word:?} (for {step:?}) after byte {from}"));
                from = at + word.len();
            }
            plans += 1;
        }
        assert!(plans >= 250, "{task}: only {plans} plans in the sample");
    }
}

/// The letters an ordering plan places, in the order placed (a failed step, retried after,
/// places nothing).
fn placed_letters(plan: &str) -> Vec<char> {
    plan.lines()
        .filter(|l| !l.ends_with("(failed)"))
        .filter_map(|l| l.split_once(". pick up the letter ").map(|(_, rest)| rest))
        .filter_map(|rest| rest.chars().next())
        .collect()
}

/// How often two letters placed one after the other are neighbours in the alphabet, over the
/// plans of `task` drawn with `orders`, checking on the way that each plan is in the task's
/// order and places 2 to 7 letters.
fn neighbour_share(task: &str, orders: &str, reverse: bool) -> Option<f64> {
    let text = corpus_py(&["400", "--version", "2", "--task", task, "--orders", orders])?;
    let (mut pairs, mut neighbours) = (0usize, 0usize);
    for plan in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
        let letters = placed_letters(plan);
        assert!((2..=7).contains(&letters.len()), "{task} ({orders}) places {} letters:\n{plan}", letters.len());
        for w in letters.windows(2) {
            let (a, b) = if reverse { (w[1], w[0]) } else { (w[0], w[1]) };
            assert!(a < b, "{task} ({orders}) is out of order:\n{plan}");
            pairs += 1;
            neighbours += usize::from(b as u32 - a as u32 == 1);
        }
    }
    Some(neighbours as f64 / pairs as f64)
}

/// `--orders walk-D` draws half of the letter orders as walks through the alphabet, whose
/// short steps are likelier than long: still in order, but neighbours follow each other far
/// more often than in uniform draws (walk-0.5: 0.34 of the pairs against 0.20).
#[test]
fn letter_orders_drawn_as_walks_are_in_order_with_short_steps_likelier() {
    for (task, reverse) in [("alphabetical-order", false), ("reverse-alphabetical-order", true)] {
        let Some(uniform) = neighbour_share(task, "uniform", reverse) else { return };
        let Some(walk) = neighbour_share(task, "walk-0.5", reverse) else { return };
        assert!(walk > uniform + 0.1, "{task}: neighbours {walk:.2} of the pairs with walks, {uniform:.2} uniform");
    }
}

#[test]
fn an_unknown_way_of_drawing_letter_orders_is_refused_saying_what_is_accepted() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/train/corpus.py");
    for bad in ["walk", "walk-0", "walk-1.5", "walk-x", "sideways"] {
        let out = Command::new("python3").args([script, "1", "--orders", bad]).output().expect("python3 runs corpus.py");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "corpus.py accepted --orders {bad}: {stderr}");
        assert!(stderr.contains(bad) && stderr.contains("walk-D") && stderr.contains("uniform"), "{stderr}");
    }
}

#[test]
fn an_unknown_corpus_version_is_refused_with_the_versions_there_are() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/train/corpus.py");
    let out = Command::new("python3").args([script, "1", "--version", "9"]).output().expect("python3 runs corpus.py");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "corpus.py accepted version 9");
    let versions = CORPUS_VERSIONS.map(|v| v.to_string()).join(", ");
    assert!(stderr.contains("--version") && stderr.contains("9") && stderr.contains(&format!("choose from {versions}")), "{stderr}");
}

#[test]
fn an_unknown_task_is_refused_naming_the_tasks_there_are() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/train/corpus.py");
    let out = Command::new("python3").args([script, "1", "--version", "3", "--task", "named-nothing"]).output().expect("python3 runs corpus.py");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("WordNet's database is not in") && std::env::var_os("GROUNDED_REQUIRE_WORDNET").is_none() {
        eprintln!("SKIPPED: the corpus generator reads WordNet: install Debian's wordnet-base (bash tools/setup-wordnet.sh)");
        return;
    }
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for needle in ["has no task 'named-nothing'", "named-object", "named-group", "matching-bowls"] {
        assert!(stderr.contains(needle), "{needle:?} missing: {stderr}");
    }
}
