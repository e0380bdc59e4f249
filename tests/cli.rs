//! The `grounded` program as a user runs it: plans, explanations, JSON, and bad input.

mod common;

use common::{grounded, repo, text};
use std::path::PathBuf;
use std::process::{Command, Output};

/// A scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("grounded-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const SCENE: &str = "examples/scenes/blocks-and-bowls.json";
const MATCHING: &str = "put the blocks in the bowls with matching colours";

#[test]
fn plan_prints_a_numbered_plan() {
    let out = grounded(&["plan", "--scene", SCENE, MATCHING]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Both blocks that have a bowl of their colour go there (in either order); the green
    // block has none.
    for pair in ["yellow block and place it in the yellow bowl.", "blue block and place it in the blue bowl."] {
        assert!([" 1. pick up the ", " 2. pick up the "].iter().any(|n| stdout.contains(&format!("{n}{pair}"))), "{pair}: {stdout}");
    }
    assert!(stdout.contains(" 3. done."), "{stdout}");
    assert!(stdout.contains("plan ended: Done"), "{stdout}");
}

#[test]
fn explain_shows_every_models_score_per_token() {
    let out = grounded(&["plan", "--scene", SCENE, "--method", "gd-greedy", "--explain", MATCHING]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("candidate") && stdout.contains("affordance") && stdout.contains("total"), "{stdout}");
    // At the bowl of the green block, "green" was the LM's choice and the affordance's floor.
    assert!(stdout.contains("\" green\""), "{stdout}");
    assert!(stdout.contains("-13.82"), "the floor of 1e-6 shows as ln(1e-6): {stdout}");
}

#[test]
fn json_holds_steps_scores_and_token_accounting() {
    let out = grounded(&["plan", "--scene", SCENE, "--json", "--safety", "examples/grounding/safety-red-knife.json", MATCHING]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(v["method"], "gd-beam");
    assert_eq!(v["models"], serde_json::json!(["affordance", "safety"]));
    assert_eq!(v["end"], "done");
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps.last().unwrap()["skill"], "done");
    let first = &steps[0]["explanation"];
    assert_eq!(first["kind"], "tokens");
    let cand = &first["detail"][0]["candidates"][0];
    assert_eq!(cand["grounded"].as_array().unwrap().len(), 2);
    assert!(v["tokens"]["decode_tokens"].as_u64().unwrap() > 0);
    assert!(v["tokens"]["forward_passes"].as_u64().unwrap() > 0);
}

#[test]
fn saycan_explains_whole_skills() {
    let out = grounded(&["plan", "--scene", SCENE, "--method", "saycan", "--json", MATCHING]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["steps"][0]["explanation"]["kind"], "skills");
    assert!(v["tokens"]["scoring_tokens"].as_u64().unwrap() > 500);
}

/// A failing command: exit status, and exactly one clear error message.
fn fails_with(args: &[&str], needle: &str) {
    let out = grounded(args);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded: {}", text(&out.stdout));
    assert!(stderr.contains(needle), "{args:?}: expected {needle:?} in: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?} printed a result: {}", text(&out.stdout));
}

/// `grounded plan --json` of the matching-bowls instruction on SCENE with `extra` flags; it
/// must succeed.
fn plan_matching(extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["plan", "--scene", SCENE, "--json"];
    args.extend_from_slice(extra);
    args.push(MATCHING);
    let out = grounded(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
}

#[test]
fn bad_instructions_methods_and_scenes_are_refused_clearly() {
    fails_with(&["plan", "--scene", SCENE, ""], "the instruction is empty");
    fails_with(&["plan", "--scene", SCENE, "   "], "the instruction is empty");
    let long = "put the blocks in the bowls ".repeat(400);
    assert!(long.len() > 10_000);
    fails_with(&["plan", "--scene", SCENE, &long], "at most 1000 are accepted");
    fails_with(&["plan", "--scene", SCENE, "--method", "magic", MATCHING], "invalid value 'magic'");
    fails_with(&["plan", "--scene", SCENE, "--search", "sideways", MATCHING], "[possible values: best-first, lock-step]");
    fails_with(&["plan", "--scene", "examples/scenes/missing.json", MATCHING], "cannot read examples/scenes/missing.json");
    fails_with(&["plan", "--safety", "no/such/safety.json", "--scene", SCENE, MATCHING], "cannot read the safety file no/such/safety.json");
    fails_with(&["plan", "--preference", "no/such/prefs.json", "--scene", SCENE, MATCHING], "cannot read the preference file no/such/prefs.json");
    fails_with(&["plan", "--scene", SCENE, "--beam-width", "0", MATCHING], "beam_width");
    fails_with(&["plan", "--scene", SCENE, "--weight", "safety", MATCHING], "is not NAME=WEIGHT");
    fails_with(&["plan", "--scene", SCENE, "--weight", "safety=2", MATCHING], "no grounded model of that name");

    let dir = scratch("scenes");
    for (name, body, needle) in [
        ("truncated.json", "{\"domain\": \"tabletop\", \"objects\": [", "not a valid observation"),
        ("grid.json", "{\"domain\": \"grid\", \"objects\": []}", "a grid observation needs a \"grid\""),
        ("kitchen.json", "{\"domain\": \"kitchen\", \"objects\": []}", "a kitchen observation needs a \"kitchen\""),
        (
            "kitchen-bad.json",
            r#"{"domain":"kitchen","kitchen":{"robot_at":"user","detections":[{"name":"hammer","location":"table","score":0.9}]}}"#,
            "\"hammer\" is not one of the kitchen's objects",
        ),
        (
            "dup.json",
            r#"{"domain":"tabletop","objects":[{"id":"a","name":"red block","kind":"block","position":[0,0,0]},{"id":"b","name":"red block","kind":"block","position":[0.2,0,0]}]}"#,
            "appears twice",
        ),
        ("safety.json", "{\"forbidden\": []}", "forbidden"),
    ] {
        std::fs::write(dir.join(name), body).unwrap();
        let path = dir.join(name);
        let path = path.to_str().unwrap();
        if name == "safety.json" {
            fails_with(&["plan", "--scene", SCENE, "--safety", path, MATCHING], needle);
        } else {
            fails_with(&["plan", "--scene", path, MATCHING], needle);
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_model_directories_are_refused_clearly() {
    fails_with(&["plan", "--scene", SCENE, "--model", "/nonexistent/model", MATCHING], "does not exist");
    let shipped = repo().join("models/planner-gpt2");

    let missing = scratch("missing-onnx");
    std::fs::copy(shipped.join("config.json"), missing.join("config.json")).unwrap();
    std::fs::copy(shipped.join("tokenizer.json"), missing.join("tokenizer.json")).unwrap();
    fails_with(&["plan", "--scene", SCENE, "--model", missing.to_str().unwrap(), MATCHING], "has no model.onnx");

    let corrupt = scratch("corrupt");
    std::fs::copy(shipped.join("config.json"), corrupt.join("config.json")).unwrap();
    std::fs::copy(shipped.join("tokenizer.json"), corrupt.join("tokenizer.json")).unwrap();
    std::fs::write(corrupt.join("model.onnx"), b"\x08\x07not really a protobuf").unwrap();
    fails_with(&["plan", "--scene", SCENE, "--model", corrupt.to_str().unwrap(), MATCHING], "could not load the ONNX model");

    // A tokenizer from another model: here, one with 2000 more tokens than the model knows.
    let mismatch = scratch("mismatch");
    std::fs::copy(shipped.join("config.json"), mismatch.join("config.json")).unwrap();
    std::fs::copy(shipped.join("model.onnx"), mismatch.join("model.onnx")).unwrap();
    let mut tok: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(shipped.join("tokenizer.json")).unwrap()).unwrap();
    let vocab = tok["model"]["vocab"].as_object_mut().unwrap();
    let base = vocab.len();
    for i in 0..2000 {
        vocab.insert(format!("extra{i}"), serde_json::json!(base + i));
    }
    std::fs::write(mismatch.join("tokenizer.json"), serde_json::to_string(&tok).unwrap()).unwrap();
    fails_with(&["plan", "--scene", SCENE, "--model", mismatch.to_str().unwrap(), MATCHING], "the tokenizer does not match the model");

    let garbled = scratch("garbled-tokenizer");
    std::fs::copy(shipped.join("config.json"), garbled.join("config.json")).unwrap();
    std::fs::copy(shipped.join("model.onnx"), garbled.join("model.onnx")).unwrap();
    std::fs::write(garbled.join("tokenizer.json"), "{\"not\": \"a tokenizer\"}").unwrap();
    fails_with(&["plan", "--scene", SCENE, "--model", garbled.to_str().unwrap(), MATCHING], "is not a usable tokenizer");

    for d in [missing, corrupt, mismatch, garbled] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn help_teaches_the_methods_and_an_example() {
    let out = grounded(&["plan", "--help"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success());
    for needle in ["gd-beam", "saycan", "Examples:", "--explain", "--safety", "--model"] {
        assert!(stdout.contains(needle), "missing {needle}: {stdout}");
    }
}

#[test]
fn a_wrong_ort_dylib_path_is_an_error_that_says_how_to_install() {
    let out = Command::new(env!("CARGO_BIN_EXE_grounded"))
        .args(["plan", "--scene", SCENE, MATCHING])
        .env("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so.1.32.0")
        .current_dir(repo())
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("ORT_DYLIB_PATH=/nonexistent/libonnxruntime.so.1.32.0"), "{stderr}");
    assert!(stderr.contains("bash tools/setup-onnxruntime.sh"), "{stderr}");
}

#[test]
fn bad_arguments_of_the_closed_loop_commands_are_refused_clearly() {
    fails_with(&["demo", "--task", "juggle"], "unknown task \"juggle\"");
    fails_with(&["demo", "--robot", "Robot/1"], "robot id \"Robot/1\" is not valid");
    fails_with(&["sim", "--robot", "bad id"], "robot id \"bad id\" is not valid");
    fails_with(&["sim", "--robot", "r1", "--task", "juggle"], "unknown task");
    fails_with(&["eval", "--tasks", "juggle"], "unknown tabletop task \"juggle\"");
    fails_with(&["eval", "--domain", "grid", "--tasks", "matching-bowls"], "unknown grid task \"matching-bowls\"; tasks: open-doors");
    fails_with(&["demo", "--domain", "grid", "--task", "matching-bowls"], "unknown grid level");
    fails_with(&["eval", "--domain", "kitchen", "--tasks", "matching-bowls"], "unknown kitchen task \"matching-bowls\"; tasks: bring-apple");
    fails_with(&["sim", "--robot", "r1", "--task", "juggle"], "kitchen tasks: bring-apple");
    fails_with(&["eval", "--noise", "2"], "--noise 2 m");
    fails_with(&["daemon", "--robot", "r1", "--skill-timeout", "0"], "--skill-timeout 0 s");
    fails_with(&["send", "--robot", "r1", " "], "the instruction is empty");
    fails_with(&["send", "--robot", "r1", "put \u{1b}[2J the blocks away"], "control character (U+001B at character 5)");
    fails_with(&["demo", "--instruction", "stack\u{7}"], "control character (U+0007 at character 6)");
    fails_with(&["plan", "--scene", SCENE, "--renorm-floor", "0", MATCHING], "renorm_floor");
}

#[test]
fn an_error_says_its_cause_once() {
    // The CLI prints an error with its chain of causes: a cause that is also in the
    // message would be said twice.
    let missing = "no/such/file";
    let cases: [&[&str]; 4] = [
        &["eval", "--instructions", missing],
        &["replay", missing],
        &["secure", "init", "--robot", "r1", "--out", "/proc/no/such/folder"],
        &["daemon", "--robot", "r1", "--no-journal", "--ask-for-help", missing],
    ];
    for args in cases {
        let out = grounded(args);
        let said = text(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert_eq!(said.matches("No such file or directory").count(), 1, "{args:?}: the cause is said once: {said}");
    }
}

#[test]
fn long_runs_check_their_output_before_they_start_and_keep_an_old_file_when_refused() {
    let cal = ["calibrate", "--domain", "tabletop", "--seed", "1", "--episodes", "2"];
    fails_with(&[&cal[..], &["--out", "/proc/no/such/folder/c.json"]].concat(), "cannot write /proc/no/such/folder/c.json (checked before the run)");
    fails_with(&["bench", "--out", "/proc/no/such/folder/B.md"], "cannot write /proc/no/such/folder/B.md (checked before the run)");
    let dir = std::env::temp_dir().join(format!("grounded-cli-calibrate-out-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Refused (epsilon 0): an existing file keeps its content, and no new file is left behind.
    let old = dir.join("old.json");
    std::fs::write(&old, "the calibration of yesterday\n").unwrap();
    fails_with(&[&cal[..], &["--epsilon", "0", "--out", old.to_str().unwrap()]].concat(), "epsilon 0 is not in (0, 1)");
    assert_eq!(std::fs::read_to_string(&old).unwrap(), "the calibration of yesterday\n");
    let new = dir.join("new.json");
    fails_with(&[&cal[..], &["--epsilon", "0", "--out", new.to_str().unwrap()]].concat(), "epsilon 0 is not in (0, 1)");
    assert!(!new.exists(), "a refused calibration left {}", new.display());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_daemon_refused_at_start_leaves_no_journal_behind() {
    let dir = std::env::temp_dir().join(format!("grounded-cli-refused-journal-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let calibration = dir.join("not-a-calibration.json");
    std::fs::write(&calibration, "{\"domain\": \"grid\"}").unwrap();
    let journals = dir.join("journal");
    let args = ["daemon", "--robot", "r1", "--journal", journals.to_str().unwrap(), "--ask-for-help", calibration.to_str().unwrap()];
    fails_with(&args, "not a calibration file");
    let left: Vec<_> = std::fs::read_dir(&journals).map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect()).unwrap_or_default();
    assert!(left.is_empty(), "a refused daemon left journals: {left:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_demo_runs_an_episode_to_success() {
    let out = grounded(&["demo", "--task", "matching-bowls", "--seed", "0"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("instruction: \"put the blocks in the bowls with matching colours\""), "{stdout}");
    assert!(stdout.contains("-> carried out by the policy"), "{stdout}");
    assert!(stdout.contains("success (judged on the simulator's ground truth): yes"), "{stdout}");
    // README's excerpt of this run (its first text block; " ..." stands for lines left out)
    // is what the demo prints, line for line and in order, so that it stays true when the
    // model or the decoder changes.
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let excerpt = readme.split("```text\n").nth(1).and_then(|b| b.split("```").next()).expect("README.md has a text block");
    let printed: Vec<&str> = stdout.lines().collect();
    let mut from = 0;
    for line in excerpt.lines().filter(|l| l.trim() != "...") {
        let Some(at) = printed[from..].iter().position(|p| *p == line) else {
            panic!("README.md's demo excerpt says {line:?}, which the demo does not print (after the lines before it): update the excerpt from `cargo run -- demo`\n{stdout}");
        };
        from += at + 1;
    }
}

#[test]
fn the_configuration_file_sits_between_flags_and_defaults() {
    let defaults = grounded(&["config"]);
    assert!(defaults.status.success());
    let toml = text(&defaults.stdout);
    assert!(toml.contains("top_k = 20") && toml.contains("method = \"gd-beam\""), "{toml}");
    let dir = scratch("config");
    let file = dir.join("g.toml");
    std::fs::write(&file, "[decoder]\ntop_k = 7\nmethod = \"saycan\"\n[grounding]\nsafety = \"safety.json\"\n").unwrap();
    let file_s = file.to_str().unwrap();
    let shown = grounded(&["--config", file_s, "config", "--json"]);
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    let v: serde_json::Value = serde_json::from_slice(&shown.stdout).expect("JSON");
    assert_eq!((&v["model"]["device"], &v["model"]["prefix_cache_mib"]), (&"cpu".into(), &64.into()), "{v}");
    let gpu_file = dir.join("gpu.toml");
    std::fs::write(&gpu_file, "[model]\ndevice = \"cuda:1\"\n").unwrap();
    let gpu = grounded(&["--config", gpu_file.to_str().unwrap(), "config", "--json"]);
    let g: serde_json::Value = serde_json::from_slice(&gpu.stdout).expect("JSON");
    assert_eq!(g["model"]["device"], "cuda:1", "{g}");
    assert_eq!(v["decoder"]["config"]["top_k"], 7, "{v}");
    assert_eq!(v["decoder"]["config"]["beam_width"], 2, "untouched settings keep their defaults: {v}");
    assert_eq!(v["decoder"]["method"], "saycan");
    assert_eq!(v["grounding"]["safety"], dir.join("safety.json").to_str().unwrap(), "relative to the file");
    // The file's grounded models are used: its (missing) safety file is named.
    fails_with(&["--config", file_s, "plan", "--scene", SCENE, "--top-k", "3", MATCHING], "safety.json");
    std::fs::write(&file, "[decoder]\ntop_k = 7\nmethod = \"saycan\"\n").unwrap();
    let method = |extra: &[&str]| {
        let mut args = vec!["--config", file_s, "plan", "--scene", SCENE, "--json"];
        args.extend_from_slice(extra);
        args.push(MATCHING);
        let out = grounded(&args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["method"].clone()
    };
    assert_eq!(method(&[]), "saycan", "the file beats the default");
    assert_eq!(method(&["--method", "gd-greedy"]), "gd-greedy", "the flag beats the file");
    // Bad files are refused with the file's name and the reason.
    std::fs::write(&file, "[decoder]\nbeam_widht = 3\n").unwrap();
    fails_with(&["--config", file_s, "plan", "--scene", SCENE, MATCHING], "beam_widht");
    fails_with(&["--config", dir.join("missing.toml").to_str().unwrap(), "config"], "missing.toml");
}

#[test]
fn exit_status_tells_usage_errors_from_failures() {
    let usage = grounded(&["plan", "--no-such-flag"]);
    assert_eq!(usage.status.code(), Some(2), "{}", text(&usage.stderr));
    let error = grounded(&["plan", "--scene", "no/such/scene.json", MATCHING]);
    assert_eq!(error.status.code(), Some(1), "{}", text(&error.stderr));
    let help = grounded(&["--help"]);
    assert!(text(&help.stdout).contains("Exit status"), "{}", text(&help.stdout));
}

#[test]
fn dashboard_flags_are_checked_before_anything_runs() {
    fails_with(&["demo", "--save", "x.rrd", "--serve"], "choose one dashboard sink: --save, --serve");
    fails_with(&["demo", "--connect", "rerun+http://127.0.0.1:1/proxy", "--connect", "rerun+http://127.0.0.1:2/proxy"], "rerun viewers");
    fails_with(&["eval", "--connect", "rerun+http://127.0.0.1:1/proxy", "--connect", "rerun+http://127.0.0.1:2/proxy"], "rerun viewers");
}

#[test]
fn eval_and_demo_print_json_on_request() {
    let out = grounded(&["eval", "--tasks", "matching-bowls", "--episodes", "1", "--methods", "llm,gd-greedy", "--transport", "local", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let rates = v["success"].as_array().expect("success rates");
    assert_eq!(rates.len(), 2, "{v}");
    assert_eq!(rates[0]["method"], "llm");
    assert_eq!(v["records"].as_array().map(Vec::len), Some(2));
    let demo = grounded(&["demo", "--json", "--task", "matching-bowls", "--seed", "0"]);
    assert!(demo.status.success(), "{}", text(&demo.stderr));
    let events: Vec<serde_json::Value> = text(&demo.stdout).lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    assert_eq!(events.first().map(|e| e["event"].clone()), Some("scene".into()));
    assert_eq!(events.last().map(|e| e["event"].clone()), Some("verdict".into()));
    assert!(events.iter().any(|e| e["event"] == "decoded" && e["skill"].as_str().is_some_and(|s| s.starts_with("pick up the"))));
}

#[test]
fn grid_flags_and_scene_tasks_are_checked() {
    let bad = grounded(&["demo", "--domain", "grid", "--forbid-cell", "three,4"]);
    assert_eq!(bad.status.code(), Some(2), "a usage error");
    assert!(text(&bad.stderr).contains("\"three\" in \"three,4\" is not a cell coordinate"), "{}", text(&bad.stderr));
    let bad = grounded(&["sim", "--robot", "r1", "--forbid-cell", "34"]);
    assert!(text(&bad.stderr).contains("\"34\" is not X,Y"), "{}", text(&bad.stderr));
    fails_with(&["scene", "--task", "juggle"], "unknown task \"juggle\"");
    let ok = grounded(&["scene", "--task", "locked-room", "--instruction"]);
    assert!(text(&ok.stdout).starts_with("get the "), "{}", text(&ok.stdout));
}

/// A scratch file for one test.
fn file(name: &str, content: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("grounded-cli-{}-{name}", std::process::id()));
    std::fs::write(&path, content).expect("write");
    path
}

/// The JSON lines a command printed.
fn events(out: &Output) -> Vec<serde_json::Value> {
    text(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect()
}

// Users' own words: `demo --instruction TEXT` plans for the user's wording while the task
// judges; `eval --instructions FILE` evaluates each line on the task's own episodes, beside
// the task's own wording, and refuses a bad file by line and reason.

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
    // Shown as the model reads it: a lone word in capitals its vocabulary lacks in small letters.
    let out = grounded(&["demo", "--json", "--task", "matching-bowls", "--seed", "0", "--instruction", "put the blocks in the bowls with matching COLOURS"]);
    let ev = events(&out);
    let read = "put the blocks in the bowls with matching colours";
    assert_eq!(ev[0]["instruction"], read);
    let ended = ev.iter().find(|e| e["event"] == "plan-ended").expect("the plan ends");
    assert!(ended["plan"].as_str().is_some_and(|p| p.starts_with(&format!("Instruction: {read}."))), "{ended}");
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
    fails_with(&["eval", "--instructions", "no/such/file.tsv"], "cannot read no/such/file.tsv: No such file");
    let grid = file("grid.tsv", "open-doors\topen the {first} door, then the {colour} one\n");
    fails_with(&["eval", "--domain", "grid", "--instructions", grid.to_str().unwrap()], "{colour} is not a slot of this task (its slots: {first}, {second})");
}

#[test]
fn each_line_is_evaluated_on_its_tasks_own_episodes_beside_the_tasks_wording() {
    let mine = file("two.tsv", "# two wordings of one task\nblocks-on-place\tmove every block to the {place}\nblocks-on-place\tI'd like all of the blocks on the {place}\nmatching-bowls\tput each block in the bowl of its own colour\n");
    let out = grounded(&[
        "eval",
        "--instructions",
        mine.to_str().unwrap(),
        "--tasks",
        "blocks-on-place",
        "--episodes",
        "2",
        "--methods",
        "gd-beam",
        "--transport",
        "local",
        "--json",
    ]);
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

/// `eval --out` writes each episode as it finishes: a run stopped by SIGTERM keeps every
/// finished episode, each a whole JSON line.
#[test]
fn eval_out_keeps_the_finished_episodes_of_a_stopped_run() {
    let dir = scratch("eval-out");
    let out = dir.join("episodes.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_grounded"))
        .args(["eval", "--domain", "grid", "--episodes", "200", "--workers", "1", "--out", out.to_str().unwrap()])
        .current_dir(repo())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start grounded eval");
    let lines = |p: &PathBuf| std::fs::read_to_string(p).unwrap_or_default().lines().count();
    let started = std::time::Instant::now();
    while lines(&out) < 5 {
        assert!(started.elapsed() < std::time::Duration::from_secs(120), "no episode written");
        assert!(child.try_wait().unwrap().is_none(), "eval ended before it was stopped");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    let _ = child.wait();
    let text = std::fs::read_to_string(&out).unwrap();
    let records: Vec<serde_json::Value> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    // At most the line being written at the kill is cut short.
    assert!(records.len() + 1 >= text.lines().count() && records.len() >= 5, "{text}");
    assert!(records.len() < 5 * 200 * 4, "the run was not stopped");
    assert!(records.iter().all(|r| r["task"].is_string() && r["seed"].is_u64() && r["success"].is_boolean()), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `grounded estop` with no robot to hear it fails and says so: an operator must never
/// believe a stop was heard when it was not.
#[test]
fn an_emergency_stop_nobody_hears_is_an_error() {
    let out = grounded(&["estop", "--robot", "nobody-home"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("emergency stop engaged for robot \"nobody-home\", but no component of it was found"), "{err}");
}

/// `replay` and `send` refuse bad input before touching anything, saying what was wrong.
#[test]
fn replay_and_send_refuse_bad_input_with_the_reason() {
    let out = grounded(&["replay", "no/such/journal.jsonl", "--save", "x.rrd"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot read the journal no/such/journal.jsonl"), "{}", text(&out.stderr));

    let dir = scratch("replay");
    let journal = dir.join("j.jsonl");
    std::fs::write(&journal, "{\"t\": 1.0, \"event\": \"instruction\", \"id\": \"a\", \"text\": \"stack\"}\n").unwrap();
    let out = grounded(&["replay", journal.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("say where the recording goes: --save FILE.rrd"), "{}", text(&out.stderr));
    let out = grounded(&["replay", journal.to_str().unwrap(), "--save", dir.join("r.rrd").to_str().unwrap(), "--instruction", "zzz"]);
    assert!(text(&out.stderr).contains("the journal has no instruction \"zzz\""), "{}", text(&out.stderr));

    for bad in ["0", "-3", "inf"] {
        let out = grounded(&["send", "--robot", "r1", &format!("--timeout={bad}"), "stack the blocks"]);
        assert_eq!(out.status.code(), Some(1), "--timeout {bad}");
        assert!(text(&out.stderr).contains(&format!("--timeout {bad} is not a positive number of seconds")), "{}", text(&out.stderr));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn secure_init_writes_each_components_files_and_never_overwrites() {
    let dir = scratch("secure-init");
    let out = dir.join("r1");
    let out_s = out.to_str().unwrap();
    let o = grounded(&["secure", "init", "--robot", "r1", "--out", out_s, "--router-host", "robot-pc"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let guide = text(&o.stdout);
    for role in ["router", "sim", "policy", "daemon", "operator"] {
        let config = out.join(role).join("zenoh.json5");
        assert!(config.exists(), "{}", config.display());
        assert!(guide.contains(&config.canonicalize().unwrap().display().to_string()), "{guide}");
    }
    let operator = std::fs::read_to_string(out.join("operator").join("zenoh.json5")).unwrap();
    assert!(operator.contains("quic/robot-pc:7447") && operator.contains("\"client\""), "{operator}");
    fails_with(&["secure", "init", "--robot", "r1", "--out", out_s], "exists already");
    fails_with(&["secure", "init", "--robot", "R 1", "--out", dir.join("other").to_str().unwrap()], "robot id");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn plan_takes_a_robots_own_skill_file_and_refuses_a_bad_one_by_line_and_key() {
    let (skills, scene_file, instruction) = ("examples/warehouse/skills.toml", "examples/warehouse/scene.json", "put the red parcel on the top shelf");
    let o = grounded(&["plan", "--skills", skills, "--scene", scene_file, "--json", instruction]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let library = grounded::skills::load(std::path::Path::new(&repo().join(skills))).unwrap();
    let scene: protocol::Observation = serde_json::from_str(&std::fs::read_to_string(repo().join(scene_file)).unwrap()).unwrap();
    let admissible: Vec<String> = library.admissible(&scene).unwrap().into_iter().map(|s| s.text).collect();
    assert!(!admissible.contains(&"put the red parcel on the top shelf".to_string()), "holding nothing: nothing to put down yet");
    assert!(admissible.contains(&"pick up the red parcel".to_string()), "{admissible:?}");
    // The shipped model does not know the warehouse's words (docs/skills.md): a grounded plan
    // proposes a skill the file allows here, or ends having found none; never another.
    match plan["steps"].as_array().unwrap().first() {
        Some(first) => assert_eq!(first["skill"].as_str().map(|s| admissible.iter().any(|a| a == s)), Some(true), "{first}"),
        None => assert_eq!(plan["end"], "no-skill", "{plan}"),
    }
    // The language model alone names what the warehouse does not have, and the file refuses it.
    let o = grounded(&["plan", "--method", "llm", "--skills", skills, "--scene", scene_file, "--json", instruction]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let llm: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let refused = llm["steps"].as_array().unwrap().iter().find(|s| s["outcome"]["kind"] == "infeasible").unwrap_or_else(|| panic!("{llm}"));
    assert!(refused["outcome"]["reason"].as_str().unwrap().contains(&format!("is not one of the skills {skills} allows")), "{refused}");
    // A scene of another domain, and a file with a slot the template never declared.
    fails_with(&["plan", "--skills", skills, "--scene", SCENE, MATCHING], "plans for domain warehouse");
    let dir = scratch("skills");
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "domain = \"depot\"\n\n[[skill]]\ntemplate = \"open the {drawer}\"\n").unwrap();
    fails_with(&["plan", "--skills", bad.to_str().unwrap(), "--scene", SCENE, MATCHING], "bad.toml:3: skill[1].slots.drawer: unknown slot");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn eval_and_demo_on_a_robot_of_ones_own_check_the_file_the_tasks_and_the_robot() {
    let skills = "examples/warehouse/skills.toml";
    fails_with(&["eval", "--skills", skills], "--robot");
    fails_with(&["eval", "--skills", skills, "--domain", "grid", "--robot", "w1"], "cannot be used with");
    fails_with(&["eval", "--connect", "tcp/127.0.0.1:9", "--episodes", "1"], "name them with --robot");
    fails_with(&["demo", "--skills", skills, "--task", "juggle"], "unknown warehouse task \"juggle\"; tasks: shelve-red");
    let dir = scratch("robot-tasks");
    let no_tasks = dir.join("no-tasks.toml");
    std::fs::write(&no_tasks, "domain = \"depot\"\n[[skill]]\ntemplate = \"go home\"\n").unwrap();
    fails_with(&["eval", "--skills", no_tasks.to_str().unwrap(), "--robot", "d1"], "declares no [[task]] to evaluate");
    fails_with(&["demo", "--skills", no_tasks.to_str().unwrap()], "declares no [[task]] for the demo");
    // A robot that is not there: said so, after waiting for it a while.
    let endpoint = format!("tcp/127.0.0.1:{}", common::free_port());
    fails_with(&["demo", "--skills", skills, "--robot", "nobody", "--connect", &endpoint], "robot nobody");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_ros_2_bridge_checks_its_namespace_frame_and_node_name() {
    fails_with(&["bridge", "ros2", "--robot", "r1", "--namespace", "r1"], "not a ROS namespace");
    fails_with(&["bridge", "ros2", "--robot", "r1", "--base-in-table", "1,2"], "four numbers X,Y,Z,YAW");
    fails_with(&["bridge", "ros2", "--robot", "r1", "--base-in-table", "0,0,0,up"], "\"up\" is not a number");
    fails_with(&["bridge", "ros2", "--robot", "r1", "--node-name", "9lives"], "not a ROS node name");
    fails_with(&["bridge", "ros2", "--robot", "r1", "--ros-domain", "300"], "300");
    fails_with(&["bridge", "ros2", "--robot", "r1", "--scene-max-age", "0"], "--scene-max-age 0 s");
}

#[test]
fn a_prompt_prefix_is_read_by_the_model_and_left_out_of_the_plan() {
    let dir = scratch("prompt");
    let prompt = dir.join("prompt.txt");
    std::fs::write(&prompt, "Instruction: put the blue block in the blue bowl.\n1. pick up the blue block and place it in the blue bowl.\n2. done.\n").unwrap();
    let plain = plan_matching(&[]);
    let prompted = plan_matching(&["--prompt", prompt.to_str().unwrap()]);
    let tokens = |p: &serde_json::Value| p["tokens"]["prompt_tokens"].as_u64().unwrap();
    assert!(tokens(&prompted) > tokens(&plain) + 20, "the model reads the prefix: {} vs {}", tokens(&prompted), tokens(&plain));
    let text = prompted["text"].as_str().unwrap();
    assert!(text.starts_with(&format!("Instruction: {MATCHING}.")), "{text}");
    assert!(!text.contains("blue block in the blue bowl."), "the prefix is not part of the plan: {text}");
    assert!(prompted["steps"].as_array().is_some_and(|s| !s.is_empty()));
    std::fs::write(&prompt, "just some words\n").unwrap();
    fails_with(&["plan", "--scene", SCENE, "--prompt", prompt.to_str().unwrap(), MATCHING], "no example in the plan format");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn train_checks_its_inputs_and_its_python_before_training() {
    let skills = "examples/warehouse/skills.toml";
    let examples = "examples/warehouse/examples.txt";
    let dir = scratch("train");
    let out = dir.join("model");
    let out = out.to_str().unwrap();
    fails_with(&["train", "--skills", "no/such.toml", "--examples", examples, "--out", out], "no/such.toml");
    fails_with(&["train", "--skills", skills, "--examples", "no/such.txt", "--out", out], "no such file");
    fails_with(&["train", "--skills", skills, "--examples", examples, "--out", out, "--steps", "0"], "at least 1");
    fails_with(&["train", "--skills", skills, "--examples", examples, "--out", out, "--python", "/no/such/python"], "cannot run /no/such/python");
    assert!(!std::path::Path::new(out).exists(), "nothing was written");
    // Past the Python check (`true` passes any), an --out that cannot be the model's folder
    // is refused before training.
    fails_with(&["train", "--skills", skills, "--examples", examples, "--out", "README.md", "--python", "true"], "--out README.md is a file");
    fails_with(&["train", "--skills", skills, "--examples", examples, "--out", "/proc/no/such/model", "--python", "true"], "cannot make the model folder");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_scene_size_sweep_shows_saycan_growing_with_the_skills_and_grounded_decoding_not() {
    let out = grounded(&["bench", "--objects", "4,16", "--repeats", "1", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let rows = rows.as_array().expect("a row per size");
    assert_eq!(rows.len(), 2);
    let admissible = |r: &serde_json::Value| r["admissible"].as_u64().unwrap();
    assert!(admissible(&rows[1]) > 4 * admissible(&rows[0]), "{rows:?}");
    let per_step = |r: &serde_json::Value, method: &str| {
        let m = r["methods"].as_array().unwrap().iter().find(|m| m["method"] == method).expect("the method");
        m["lm_tokens"].as_f64().unwrap() / m["steps"].as_f64().unwrap().max(1.0)
    };
    // SayCan reads every admissible skill; grounded decoding reads the chosen one.
    assert!(per_step(&rows[1], "saycan") > 2.0 * per_step(&rows[0], "saycan"), "{rows:?}");
    assert!(per_step(&rows[1], "gd-greedy") < 2.0 * per_step(&rows[0], "gd-greedy").max(14.0), "{rows:?}");
    assert!(per_step(&rows[1], "saycan") > 10.0 * per_step(&rows[1], "gd-beam"), "{rows:?}");
    fails_with(&["bench", "--objects", "0"], "1 to 42 objects");
    fails_with(&["bench", "--objects", "5", "--estop"], "cannot be used with");
}

#[test]
fn the_prefix_cache_benchmark_says_when_the_prefix_does_not_fit_the_model() {
    fails_with(&["bench", "--prefix-cache"], "use a model with a longer context");
}

#[test]
fn bad_jump_forward_and_prefix_cache_settings_are_refused_with_their_names() {
    fails_with(&["plan", "--scene", SCENE, "--jump-forward", "maybe", MATCHING], "--jump-forward");
    fails_with(&["plan", "--scene", SCENE, "--prefix-cache-mib", "lots", MATCHING], "--prefix-cache-mib");
    fails_with(&["bench", "--methods", "gd-sideways"], "gd-sideways");
    let dir = scratch("fast-settings");
    let file = dir.join("g.toml");
    let file_s = file.to_str().unwrap();
    std::fs::write(&file, "[decoder]\njump_forward = \"yes\"\n").unwrap();
    fails_with(&["--config", file_s, "plan", "--scene", SCENE, MATCHING], "jump_forward");
    std::fs::write(&file, "[model]\nprefix_cache_mib = -1\n").unwrap();
    fails_with(&["--config", file_s, "plan", "--scene", SCENE, MATCHING], "prefix_cache_mib");
    // Good values reach the planner: the same plan either way.
    let (stepped, jumped) = (plan_matching(&["--jump-forward", "false", "--prefix-cache-mib", "0"]), plan_matching(&[]));
    assert_eq!(stepped["steps"].as_array().map(|s| s.len()), jumped["steps"].as_array().map(|s| s.len()));
    assert!(jumped["tokens"]["forward_passes"].as_u64() < stepped["tokens"]["forward_passes"].as_u64(), "{} vs {}", jumped["tokens"], stepped["tokens"]);
}

#[test]
fn a_printing_command_whose_reader_goes_away_ends_quietly() {
    // `grounded scene ... | head -1`: the reader is gone before the scene is written.
    for args in [&["scene", "--task", "alphabetical-order"][..], &["config"][..]] {
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_grounded")).args(args).stdout(writer).output().expect("grounded runs");
        let stderr = text(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_ne!(out.status.code(), Some(101), "{args:?} panicked: {stderr}");
    }
}

#[test]
fn a_plan_that_finds_no_admissible_skill_says_why_and_what_to_try() {
    let hint = "no admissible skill could be decoded at the next step";
    // gd-beam finishes this plan (see plan_prints_a_numbered_plan): no hint.
    let beam = text(&grounded(&["plan", "--scene", SCENE, MATCHING]).stdout);
    assert!(beam.contains("plan ended: Done") && !beam.contains(hint), "{beam}");
    // Greedy decoding places the blocks whose bowls are there, then commits to the green
    // block, whose bowl is missing, and finds no admissible colour among the model's 5
    // likeliest tokens (tests/decoding.rs): offered only those, it ends with no skill, and
    // the output says so and what to try.
    let out = grounded(&["plan", "--scene", SCENE, "--method", "gd-greedy", "--top-k", "5", "--beyond-top-k", "false", MATCHING]);
    let greedy = text(&out.stdout);
    assert!(greedy.contains("plan ended: NoSkill"), "{greedy}");
    for needle in [hint, "--method gd-beam", "--floor 0", "--top-k", "--explain", "docs/skills.md"] {
        assert!(greedy.contains(needle), "{needle:?} missing: {greedy}");
    }
    // Offered the likeliest admissible tokens beyond them too (the default), it finishes
    // when told to go on however far a skill departs from what the model wanted (the green
    // block goes into another bowl; by default the plan stops before that skill).
    let greedy = text(&grounded(&["plan", "--scene", SCENE, "--method", "gd-greedy", "--top-k", "5", "--max-departure", "inf", "--explain", MATCHING]).stdout);
    assert!(greedy.contains("plan ended: Done") && !greedy.contains(hint), "{greedy}");
    // --explain marks the tokens offered from beyond the top-k.
    assert!(greedy.contains("\"+ ") && greedy.contains("(+: beyond the LM's top-k"), "{greedy}");
}

#[test]
fn a_plan_that_departs_from_what_was_named_stops_and_says_why() {
    // The example scene has no red block.
    let request = "pick up the red block and place it in the blue bowl";
    let explained = text(&grounded(&["plan", "--scene", SCENE, "--explain", "--max-departure", "inf", request]).stdout);
    assert!(explained.contains("plan ended: Done") && explained.contains("departure: after \"pick up the\" the model wanted \" red\""), "{explained}");
    let stopped = text(&grounded(&["plan", "--scene", SCENE, request]).stdout);
    assert!(stopped.contains("plan ended: Departed") && stopped.contains("stopped before \"pick up the"), "{stopped}");
    assert!(stopped.contains("--max-departure"), "{stopped}");
    let json: serde_json::Value = serde_json::from_slice(&grounded(&["plan", "--scene", SCENE, "--json", request]).stdout).expect("JSON");
    assert_eq!(json["end"], "departed", "{json}");
    assert!(json["departed"]["departure"]["nats"].as_f64().is_some_and(|n| n > 5.0), "{json}");
    for bad in ["--max-departure=0", "--max-departure=-1", "--max-departure=nan"] {
        fails_with(&["plan", "--scene", SCENE, bad, request], "max_departure");
    }
    // Where `done` beats every skill the scene allows, the plan says what it was said in
    // place of (the shipped model answers some such requests so: tests/decoding.rs).
    // Every absent block into each of the scene's bowls, until one is answered so.
    let requests = ["yellow", "blue", "red"].iter().flat_map(|bowl| {
        ["purple", "brown", "gray", "red", "orange", "pink", "cyan", "white"].iter().map(move |c| (*c, format!("put the {c} block in the {bowl} bowl")))
    });
    let said_done = requests
        .map(|(c, request)| (c, text(&grounded(&["plan", "--scene", SCENE, &request]).stdout), request))
        .find(|(_, out, _)| out.contains(" 1. done.\n"));
    let Some((colour, out, request)) = said_done else { panic!("no request for an absent block was answered `done`") };
    assert!(out.contains("plan ended: Done") && out.contains("(said \"done\" in place of \"pick up the"), "{out}");
    assert!(out.contains(&format!("the model wanted \" {colour}\"")) && out.contains("--max-departure"), "{out}");
    assert!(out.contains("The instruction may name something the scene does not have"), "{out}");
    let json: serde_json::Value = serde_json::from_slice(&grounded(&["plan", "--scene", SCENE, "--json", &request]).stdout).expect("JSON");
    assert_eq!(json["steps"][0]["done_instead"]["departure"]["wanted"], format!(" {colour}"), "{json}");
}

/// A plan over a kind of objects ends `done` said in place of one more object the scene
/// lacks (the model does not see the scene): after a skill or more, the plan says that this
/// is how such a plan ends, not that the instruction names something missing.
#[test]
fn a_done_in_place_of_one_more_object_after_some_skills_is_told_as_the_end_of_a_kind() {
    let scene = scratch("kind").join("scene.json");
    let mut found = None;
    'search: for task in ["stack-cool-colours", "stack-warm-colours", "primary-colours-left", "separate-vowels"] {
        for seed in 0..5 {
            let seed = seed.to_string();
            std::fs::write(&scene, grounded(&["scene", "--task", task, "--seed", &seed]).stdout).expect("write the scene");
            let instruction = text(&grounded(&["scene", "--task", task, "--seed", &seed, "--instruction"]).stdout).trim().to_string();
            let out = text(&grounded(&["plan", "--scene", scene.to_str().expect("utf-8 path"), &instruction]).stdout);
            if out.contains(" 1. pick up the ") && out.contains("(said \"done\" in place of") {
                found = Some(out);
                break 'search;
            }
        }
    }
    let out = found.expect("some plan over a kind of objects ends with a done said in place of one more object");
    assert!(out.contains("how a plan over a kind of objects ends") && out.contains("--max-departure"), "{out}");
    assert!(!out.contains("The instruction may name something the scene does not have"), "{out}");
}

/// A set-up or benchmark script run with `env` and `args`: its output. Bad arguments are
/// refused before any download or build.
fn script(path: &str, env: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new("bash").arg(repo().join(path)).args(args).envs(env.iter().copied()).output().expect("run bash")
}

#[test]
fn the_scripts_refuse_bad_arguments_naming_them() {
    for (path, env, args, needle) in [
        ("tools/setup-onnxruntime.sh", &[][..], &["--no-cuda-libraries"][..], "--no-cuda-libraries goes with --gpu"),
        ("tools/setup-onnxruntime.sh", &[], &["--gpu", "--cuda"], "unknown argument '--cuda'"),
        ("bench/gpu/pack.sh", &[], &["--everything"], "unknown argument '--everything'"),
        ("bench/gpu/pack.sh", &[("PART_MIB", "99")], &[], "PART_MIB=99: a part must be 1 to 60 MiB"),
        ("bench/gpu/pack.sh", &[("PART_MIB", "3O")], &[], "PART_MIB='3O' is not a whole number"),
        ("bench/paraphrases/run.sh", &[("CASE", "upper")], &[], "CASE=upper: say capitals, capitalised, headline or small"),
        ("bench/paraphrases/run.sh", &[("SIGNS", "stars")], &[], "SIGNS=stars: say quotes, typographic, emoji, unspaced, space-before, markdown or aside"),
        ("bench/gpu/run.sh", &[("STEP_TIMEOUT", "2m")], &[], "STEP_TIMEOUT='2m' is not a whole number of seconds"),
    ] {
        let out = script(path, env, args);
        assert_eq!(out.status.code(), Some(2), "{path} {args:?}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(needle), "{path} {args:?}: {}", text(&out.stderr));
    }
}
