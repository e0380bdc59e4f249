//! tools/train/train.py's command line, checked without torch: argument parsing happens
//! before any stage imports it, so a bad value is refused at once, with the reason, and never
//! after a corpus has been written or an hour of training spent.

mod common;

use std::process::{Command, Output};

fn train_py(args: &[&str]) -> Output {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/train/train.py");
    match Command::new("python3").arg(script).args(args).output() {
        Ok(out) => out,
        Err(e) => panic!("python3 is needed to run {script}: {e}"),
    }
}

/// Runs train.py with `args`, which it must refuse as a usage error before any stage starts;
/// its standard error must hold every one of `reasons`.
fn refused_with(args: &[&str], reasons: &[&str]) {
    let out = train_py(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?} should be refused as a usage error: {stderr}");
    for reason in reasons {
        assert!(stderr.contains(reason), "{args:?}: expected {reason:?} in: {stderr}");
    }
    assert!(out.stdout.is_empty(), "{args:?} started a stage: {}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn negative_or_non_numeric_counts_are_refused_with_the_reason() {
    refused_with(&["model", "--threads", "-1"], &["--threads: '-1' is not a whole number of at least 0"]);
    refused_with(&["model", "--threads", "two"], &["--threads: 'two' is not a whole number of at least 0"]);
    refused_with(&["model", "--max-steps", "-5"], &["--max-steps: '-5' is not a whole number of at least 0"]);
    refused_with(&["model", "--max-steps", "1.5"], &["--max-steps: '1.5' is not a whole number of at least 0"]);
}

#[test]
fn an_unknown_precision_is_refused_naming_the_ones_there_are() {
    refused_with(&["model", "--precision", "fp16"], &["invalid choice: 'fp16'", "fp32", "bf16"]);
}

#[test]
fn an_unknown_stage_is_refused_naming_the_stages() {
    refused_with(&["train"], &["invalid choice: 'train'", "corpus", "tokenizer", "model", "export", "all"]);
}

#[test]
fn help_names_the_stages_and_the_resume_path() {
    let out = train_py(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in ["corpus", "tokenizer", "model", "export", "--resume", "--init-from", "--max-steps", "--threads", "--precision", "--corpus-orders"] {
        assert!(text.contains(needle), "--help does not mention {needle}: {text}");
    }
}

#[test]
fn a_second_stage_from_a_folder_without_a_trained_model_is_refused_before_it_starts() {
    let empty = std::env::temp_dir().join(format!("grounded-train-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).expect("a scratch folder");
    let folder = empty.to_str().expect("utf-8 path");
    refused_with(
        &["all", "--corpus-version", "3", "--init-from", folder],
        &["--init-from", folder, "no trained model there", "tokenizer.json", "model.safetensors"],
    );
    let _ = std::fs::remove_dir_all(&empty);
}

#[test]
fn a_stage_from_a_shipped_model_folder_lacking_files_is_refused_naming_them() {
    // A folder with model.onnx is read as a shipped model (weights read back from the
    // graph): its tokenizer, config and training record must be beside it.
    let shipped = std::env::temp_dir().join(format!("grounded-train-shipped-{}", std::process::id()));
    std::fs::create_dir_all(&shipped).expect("a scratch folder");
    std::fs::write(shipped.join("model.onnx"), b"not read before the check").expect("writes");
    std::fs::write(shipped.join("config.json"), b"{}").expect("writes");
    let folder = shipped.to_str().expect("utf-8 path");
    refused_with(
        &["model", "--init-from", folder],
        &["--init-from", folder, "no trained model there", "tokenizer.json", "training.json", "shipped model folder"],
    );
    let _ = std::fs::remove_dir_all(&shipped);
    let nowhere = format!("{folder}-absent");
    refused_with(&["model", "--init-from", &nowhere], &["--init-from", &nowhere, "no such folder"]);
}

#[test]
fn the_shipped_model_is_a_model_to_go_on_from() {
    // `--help` says so, and the shipped folder holds every file the check asks for.
    let out = train_py(&["--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("models/planner-gpt2"), "--help should name the shipped model as a start: {text}");
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/models/planner-gpt2");
    for file in ["model.onnx", "config.json", "tokenizer.json", "training.json"] {
        assert!(std::path::Path::new(shipped).join(file).exists(), "{shipped} lacks {file}");
    }
}

/// A run to go on from whose record lacks the characters its corpus's instructions held (runs
/// made before they were recorded) gets them before training starts, from its corpus made
/// again and checked against the recorded sha256: without them the new model's chain would
/// let every ASCII sign through (src/lm/alphabet.rs). A corpus that no longer comes out the
/// same is said, and left unknown rather than guessed.
#[test]
fn a_run_gone_on_from_without_its_instruction_characters_gets_them_from_its_corpus_made_again() {
    if !common::wordnet_here("the corpus is made again") {
        return;
    }
    let train = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/train");
    let dir = std::env::temp_dir().join(format!("grounded-train-chain-{}", std::process::id()));
    let made = Command::new("python3")
        .arg(format!("{train}/corpus.py"))
        .args(["--write", dir.to_str().unwrap(), "--plans", "60", "--heldout-plans", "2", "--seed", "11", "--version", "2"])
        .output()
        .expect("python3 runs corpus.py");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let record: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("corpus.json")).unwrap()).unwrap();
    let characters = record["instruction_characters"].as_str().expect("corpus.py records the characters").to_string();
    let _ = std::fs::remove_dir_all(&dir);
    let sha = record["corpus_sha256"].as_str().unwrap();
    // The newest run records its characters, the one it went on from does not, and the first
    // records a corpus whose sha256 no generator gives.
    let chain = serde_json::json!({
        "corpus": {"version": 5, "train_plans": 10, "seed": 1, "corpus_sha256": "x", "instruction_characters": "ab"},
        "init_from": {
            "corpus": {"version": 2, "train_plans": 60, "seed": 11, "corpus_sha256": sha},
            "init_from": {"corpus": {"version": 2, "train_plans": 60, "seed": 12, "corpus_sha256": sha}},
        },
    });
    let script = format!(
        "import json, sys; sys.path.insert(0, {train:?}); import train; run = json.loads(sys.argv[1]); \
         train.complete_corpus_records(run, 'the model'); print(json.dumps(run))"
    );
    let out = Command::new("python3").args(["-c", &script, &chain.to_string()]).output().expect("python3 runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let completed: serde_json::Value = serde_json::from_slice(out.stdout.rsplit(|b| *b == b'\n').find(|l| !l.is_empty()).unwrap()).unwrap();
    assert_eq!(completed["corpus"]["instruction_characters"], "ab", "a recorded set is left as it is");
    assert_eq!(completed["init_from"]["corpus"]["instruction_characters"].as_str(), Some(characters.as_str()));
    assert!(completed["init_from"]["init_from"]["corpus"]["instruction_characters"].is_null());
    assert!(stderr.contains("seed 12") && stderr.contains("is not the one recorded"), "{stderr}");
}

/// recipe.sh gives every stage the letter orders ORDERS names (corpus.py `--orders`), and
/// uniform ones, every shipped model's, without it.
#[test]
fn the_recipe_draws_every_stage_s_letter_orders_as_orders_says() {
    let recipe = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/train/recipe.sh");
    let work = std::env::temp_dir().join(format!("grounded-recipe-dry-{}", std::process::id()));
    for (orders, expected) in [(Some("walk-0.7"), "walk-0.7"), (None, "uniform")] {
        let mut command = Command::new("bash");
        command.arg(recipe).arg(&work).env("DRY_RUN", "1").env_remove("ORDERS");
        if let Some(orders) = orders {
            command.env("ORDERS", orders);
        }
        let out = command.output().expect("bash runs recipe.sh");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        let runs: Vec<&str> = stderr.lines().filter(|l| l.starts_with("+ ") && l.contains("train.py all")).collect();
        assert_eq!(runs.len(), 3, "three stages: {stderr}");
        for run in runs {
            assert!(run.contains(&format!("--corpus-orders {expected}")), "{run}");
        }
    }
    assert!(!work.exists(), "a dry run makes no folder");
}
