//! `grounded train`: a planner model for a robot's own skills, trained by
//! tools/train/skills.py (torch) on the skill file's templates and the user's examples.

use anyhow::{bail, Context, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// The robot's skill file (docs/skills.md); checked before anything is trained.
    #[arg(long, value_name = "FILE.toml")]
    pub skills: PathBuf,
    /// Example plans in the plan format, separated by blank lines ("Instruction: ...",
    /// "1. <skill>.", ..., "N. done."); every step one of the file's templates.
    #[arg(long, value_name = "FILE.txt")]
    pub examples: PathBuf,
    /// The model directory to write (then `--model DIR` loads it).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Optimiser steps (1200 take about 2 minutes on 2 free CPU cores).
    #[arg(long, default_value_t = 1200)]
    pub steps: u32,
    /// Plans in the training corpus: the examples, and others made from them with their
    /// objects and values swapped for others of the same slot.
    #[arg(long, default_value_t = 20000)]
    pub plans: u32,
    #[arg(long, default_value_t = 1234)]
    pub seed: u64,
    /// The Python that has torch, transformers, tokenizers and optimum-onnx
    /// (tools/train/requirements.txt).
    #[arg(long, env = "GROUNDED_TRAIN_PYTHON", default_value = "python3", value_name = "PYTHON")]
    pub python: PathBuf,
}

/// tools/train/skills.py: beside the executable's models, else in the source tree.
fn script() -> PathBuf {
    let beside = grounded::default_model_dir().parent().and_then(|m| m.parent()).map(|root| root.join("tools/train/skills.py"));
    match beside {
        Some(p) if p.is_file() => p,
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tools/train/skills.py"),
    }
}

pub fn run(args: TrainArgs) -> Result<ExitCode> {
    // The skill file first, with its own errors (line and key).
    let library = grounded::skills::load(&args.skills)?;
    if !args.examples.is_file() {
        bail!("--examples {}: no such file", args.examples.display());
    }
    if args.steps == 0 || args.plans == 0 {
        bail!("--steps and --plans are whole numbers of at least 1");
    }
    let probe = Command::new(&args.python).args(["-c", "import torch, transformers, tokenizers, optimum.exporters.onnx"]).output();
    match probe {
        Ok(o) if o.status.success() => {}
        Ok(o) => bail!(
            "{} lacks what training needs ({}): python3 -m venv .venv-train && .venv-train/bin/pip install -r tools/train/requirements.txt, then --python .venv-train/bin/python",
            args.python.display(),
            String::from_utf8_lossy(&o.stderr).lines().last().unwrap_or("an import failed")
        ),
        Err(e) => bail!("cannot run {}: {e}; give a Python with torch as --python (tools/train/requirements.txt)", args.python.display()),
    }
    // The model folder is made before training, so that minutes of training are not lost to it at the end.
    if args.out.exists() && !args.out.is_dir() {
        bail!("--out {} is a file: give the folder the model is written to", args.out.display());
    }
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot make the model folder --out {}", args.out.display()))?;
    eprintln!("train: {} skills of domain {} -> {}", library.skills.len(), library.domain, args.out.display());
    let status = Command::new(&args.python)
        .arg(script())
        .arg("--skills")
        .arg(&args.skills)
        .arg("--examples")
        .arg(&args.examples)
        .arg("--out")
        .arg(&args.out)
        .args(["--steps", &args.steps.to_string(), "--plans", &args.plans.to_string(), "--seed", &args.seed.to_string()])
        .status()
        .with_context(|| format!("running {}", script().display()))?;
    if !status.success() {
        bail!("training failed ({status}); its messages are above");
    }
    eprintln!("train: done; plan with --model {} --skills {}", args.out.display(), args.skills.display());
    Ok(ExitCode::SUCCESS)
}
