//! tools/train/train.py's command line, checked without torch: argument parsing happens
//! before any stage imports it, so a bad value is refused at once, with the reason, and never
//! after a corpus has been written or an hour of training spent.

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
    for needle in ["corpus", "tokenizer", "model", "export", "--resume", "--init-from", "--max-steps", "--threads", "--precision"] {
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
