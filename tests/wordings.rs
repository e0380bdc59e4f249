//! Users' own words: `demo --instruction TEXT` plans for the user's wording while the task
//! judges; `eval --instructions FILE` evaluates each line on the task's own episodes, beside
//! the task's own wording, and refuses a bad file by line and reason.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn grounded(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_grounded")).args(args).current_dir(repo()).output().expect("run grounded")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn file(name: &str, content: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("grounded-wordings-{}-{name}", std::process::id()));
    std::fs::write(&path, content).expect("write");
    path
}

fn fails_with(args: &[&str], needle: &str) {
    let out = grounded(args);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded: {}", text(&out.stdout));
    assert!(stderr.contains(needle), "{args:?}: expected {needle:?} in: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
}

fn events(out: &Output) -> Vec<serde_json::Value> {
    text(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect()
}

#[test]
fn the_demo_plans_for_the_users_words_and_the_task_judges() {
    let mine = "each block goes into the bowl of its colour";
    let out = grounded(&["demo", "--json", "--task", "matching-bowls", "--seed", "0", "--instruction", mine]);
    let ev = events(&out);
    let scene = &ev[0];
    assert_eq!(scene["event"], "scene");
    assert_eq!(scene["instruction"], mine);
    assert_eq!(scene["task_instruction"], "put the blocks in the bowls with matching colours");
    let ended = ev.iter().find(|e| e["event"] == "plan-ended").expect("the plan ends");
    assert!(ended["plan"].as_str().is_some_and(|p| p.starts_with(&format!("Instruction: {mine}."))), "{ended}");
    let verdict = ev.last().expect("events");
    assert_eq!(verdict["event"], "verdict");
    // The exit status follows the task's verdict on the user's wording.
    assert_eq!(out.status.success(), verdict["success"] == true, "{}", text(&out.stderr));
}

#[test]
fn the_demo_fills_the_episodes_slots_into_the_users_words() {
    let out = grounded(&["demo", "--json", "--task", "blocks-on-place", "--seed", "3", "--instruction", "could you move every block over to the {place}?"]);
    let scene = &events(&out)[0];
    let task = scene["task_instruction"].as_str().expect("the task's own wording");
    let place = task.strip_prefix("put all the blocks on the ").expect("a blocks-on-place wording");
    assert_eq!(scene["instruction"], format!("could you move every block over to the {place}?"));
    let text_out = grounded(&["demo", "--task", "blocks-on-place", "--seed", "3", "--instruction", "move every block to the {place}"]);
    assert!(text(&text_out.stdout).contains("(your wording; the task's own is \"put all the blocks on the"), "{}", text(&text_out.stdout));
    fails_with(&["demo", "--task", "matching-bowls", "--instruction", "spell {word}"], "--instruction: {word} is not a slot of this task (it has none)");
    fails_with(&["demo", "--task", "blocks-on-place", "--instruction", "move them to the {place"], "a '{' without its '}'");
    fails_with(&["demo", "--instruction", "  "], "the instruction is empty");
}

#[test]
fn a_bad_instructions_file_is_refused_by_line_and_reason() {
    let unknown = file("unknown.tsv", "# mine\nmatching-bowls\tput each block in its bowl\nstack-everything\tpile them up\n");
    fails_with(&["eval", "--instructions", unknown.to_str().unwrap()], "unknown.tsv:3: unknown tabletop task \"stack-everything\"");
    let other = file("other.tsv", "thirsty\tI could use something to drink\n");
    fails_with(&["eval", "--instructions", other.to_str().unwrap()], "(thirsty is a kitchen task: evaluate it with --domain kitchen)");
    let slot = file("slot.tsv", "matching-bowls\tput the blocks on the {place}\n");
    fails_with(&["eval", "--instructions", slot.to_str().unwrap()], "slot.tsv:1: {place} is not a slot of this task (it has none) (task matching-bowls)");
    let empty = file("empty.tsv", "matching-bowls\t\n");
    fails_with(&["eval", "--instructions", empty.to_str().unwrap()], "empty.tsv:1: the instruction for matching-bowls is empty");
    let no_tab = file("notab.tsv", "matching-bowls put them in bowls\n");
    fails_with(&["eval", "--instructions", no_tab.to_str().unwrap()], "notab.tsv:1: no tab in");
    fails_with(&["eval", "--instructions", "no/such/file.tsv"], "reading no/such/file.tsv");
    let grid = file("grid.tsv", "open-doors\topen the {first} door, then the {colour} one\n");
    fails_with(&["eval", "--domain", "grid", "--instructions", grid.to_str().unwrap()], "{colour} is not a slot of this task (its slots: {first}, {second})");
}

#[test]
fn each_line_is_evaluated_on_its_tasks_own_episodes_beside_the_tasks_wording() {
    let mine = file("two.tsv", "# two wordings of one task\nblocks-on-place\tmove every block to the {place}\nblocks-on-place\tI'd like all of the blocks on the {place}\nmatching-bowls\tput each block in the bowl of its own colour\n");
    let out = grounded(&["eval", "--instructions", mine.to_str().unwrap(), "--tasks", "blocks-on-place", "--episodes", "2", "--methods", "gd-beam", "--transport", "local", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let records = v["records"].as_array().expect("records");
    // --tasks keeps only the blocks-on-place lines: the template and two wordings, two episodes each.
    assert_eq!(records.len(), 6, "{v}");
    for seed in [0, 1] {
        let of_seed: Vec<&serde_json::Value> = records.iter().filter(|r| r["seed"] == seed).collect();
        assert_eq!(of_seed.len(), 3);
        let template = of_seed.iter().find(|r| r["wording"] == "template").expect("the task's own wording");
        let place = template["instruction"].as_str().unwrap().strip_prefix("put all the blocks on the ").expect("the template");
        let line2 = of_seed.iter().find(|r| r["wording_line"] == 2).expect("line 2");
        assert_eq!(line2["wording"], "reworded");
        assert_eq!(line2["instruction"], format!("move every block to the {place}"));
        assert!(of_seed.iter().any(|r| r["wording_line"] == 3 && r["instruction"] == format!("I'd like all of the blocks on the {place}")));
    }
    let rates = v["success"].as_array().expect("success rates");
    assert_eq!(rates.iter().map(|r| r["wording"].as_str().unwrap()).collect::<Vec<_>>(), ["template", "reworded"]);
    assert_eq!(rates[1]["episodes"], 4);

    // The text tables show both wordings side by side, and each line.
    let out = grounded(&["eval", "--instructions", mine.to_str().unwrap(), "--episodes", "1", "--methods", "llm,gd-beam", "--transport", "local"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("| split / family | llm template | llm reworded | gd-beam template | gd-beam reworded |"), "{stdout}");
    assert!(stdout.contains("| 4 | matching-bowls | put each block in the bowl of its own colour |"), "{stdout}");
    // Without --tasks, only the tasks the file names run: 2 tasks, 3 lines, 1 episode, 2 methods.
    assert!(stdout.contains("10 episodes in"), "{stdout}");
}
