//! `grounded plan`: the skills for an instruction in a scene, open-loop, with explanations.

use super::common::{load_planner, method_of, PlannerArgs};
use anyhow::{Context, Result};
use clap::Args;
use grounded::config::ConfigFile;
use grounded::decoder::score_text as score;
use grounded::planner::{Method, PlanEnd, PlanResult, StepExplanation, StepOutcome};
use grounded::setup::load_scene;
use std::path::PathBuf;
use std::process::ExitCode;

pub const PLAN_EXAMPLES: &str = "Examples:
  grounded plan --scene examples/scenes/blocks-and-bowls.json \"put the blocks in the bowls with matching colours\"
  grounded plan --scene examples/scenes/ten-objects.json --method saycan \"stack all the blocks\"
  grounded plan --scene examples/scenes/box-packing.json --safety examples/grounding/safety-red-knife.json \"pack the brown box\"
  grounded plan --scene examples/scenes/blocks-and-bowls.json --explain \"put the blocks in the bowls with matching colours\"
  grounded plan --scene examples/scenes/letters.json --json \"spell the word love\" > plan.json
  grounded plan --device cuda --scene examples/scenes/ten-objects.json \"stack all the blocks\"   # on a GPU (tools/setup-onnxruntime.sh --gpu)

Methods:
  llm        the language model alone (greedy, no grounding)
  saycan     score every admissible skill whole: LM likelihood x affordance
  gd-greedy  grounded decoding, one token at a time (the paper's Algorithm 1)
  gd-beam    grounded decoding with beam search (default)

A scene is JSON: {\"domain\": \"tabletop\", \"objects\": [{\"id\": \"b1\", \"name\": \"red block\",
\"kind\": \"block\", \"position\": [x, y, z]}, ...]} with kinds block, bowl, letter, item, box.";

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// The scene (JSON observation) to plan in.
    #[arg(long, value_name = "FILE")]
    pub scene: PathBuf,
    /// How skills are chosen [default: gd-beam]
    #[arg(long, value_enum)]
    pub method: Option<Method>,
    /// Print, for every token, the candidates with their LM, grounded and combined scores.
    #[arg(long)]
    pub explain: bool,
    /// Print the plan (with every explanation) as JSON.
    #[arg(long)]
    pub json: bool,
    /// Your robot's skills (TOML, docs/skills.md): the scene's domain is the file's, and the
    /// admissible skills are the file's templates filled from the scene's objects.
    #[arg(long, value_name = "FILE.toml")]
    pub skills: Option<PathBuf>,
    #[command(flatten)]
    pub planner: PlannerArgs,
    /// What the robot should do, e.g. "put the blocks in the bowls with matching colours".
    pub instruction: String,
}

pub fn run(args: PlanArgs, file: &ConfigFile) -> Result<ExitCode> {
    // The file's domain is registered before the scene, which names it, is read.
    let skills = super::common::register_skills(args.skills.as_deref(), &args.planner.options(file).model)?;
    let scene = load_scene(&args.scene)?;
    if let Some(d) = skills {
        use grounded::domains::Domain;
        if scene.domain != d.id() {
            anyhow::bail!("{} is a {} scene; {} plans for domain {}", args.scene.display(), scene.domain, d.library().source.display(), d.id());
        }
    }
    let options = args.planner.options(file);
    options.config.validate()?;
    let mut planner = load_planner(&options)?;
    let result = planner.plan(&args.instruction, &scene, method_of(args.method, file)).context("planning")?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print!("{}", render_plan(&result, &scene, args.explain));
    }
    Ok(ExitCode::SUCCESS)
}

/// The plan as a person reads it.
pub fn render_plan(result: &PlanResult, scene: &protocol::Observation, explain: bool) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    if let Ok(d) = grounded::domains::domain(scene.domain) {
        out.push_str(&d.describe(scene));
    }
    let _ = writeln!(out, "instruction: {}", result.instruction);
    let _ = writeln!(
        out,
        "method: {}   grounded models: {}",
        result.method,
        if result.method == Method::Llm { "none".to_string() } else { result.models.join(", ") }
    );
    for step in &result.steps {
        let note = match &step.outcome {
            StepOutcome::Applied | StepOutcome::Succeeded | StepOutcome::Done => String::new(),
            StepOutcome::Infeasible(why) => format!("   <- infeasible: {why}"),
            StepOutcome::Failed(why) => format!("   <- failed: {why}"),
        };
        let _ = writeln!(out, "{:>2}. {}.{note}", step.index, step.skill);
        if explain {
            explain_step(&mut out, result, &step.explanation);
            if let Some(d) = &step.departure {
                let _ = writeln!(out, "      departure: {d}");
            }
            if let Some(d) = &step.deferred {
                let _ = writeln!(out, "      allowed only later: {}", d.as_deferred());
            }
        }
    }
    let t = &result.tokens;
    let _ = writeln!(
        out,
        "plan ended: {}; LM tokens: {} (prompt {}, decode {}, scoring {}) in {} forward passes; {:.0} ms",
        result.end,
        t.total(),
        t.prompt_tokens,
        t.decode_tokens,
        t.scoring_tokens,
        t.forward_passes,
        result.elapsed.as_secs_f64() * 1000.0
    );
    if let Some(d) = result.end.departed() {
        let _ = writeln!(
            out,
            "  ({d}. The instruction may name something the scene does not have; --max-departure sets how far a skill may \
             depart before the plan stops)"
        );
    }
    if let Some(d) = result.done_instead() {
        // After a skill or more, wanting one more object of a kind the scene has no more of
        // is how a plan over a kind of objects ends (the model does not see the scene);
        // before any, the robot did nothing for the instruction.
        let why = if result.steps.len() > 1 {
            "The model does not see the scene: wanting one more object than the scene has is how a plan over a kind of \
             objects ends. If the instruction names objects, check that the scene has each"
        } else {
            "The instruction may name something the scene does not have"
        };
        let _ = writeln!(out, "  ({d}; so the plan ended. {why}; --max-departure sets how far a skill may depart before it is not carried out)");
    }
    if result.end == PlanEnd::NoSkill {
        let _ = writeln!(
            out,
            "  (no admissible skill could be decoded at the next step: the language model preferred text no admissible skill \
             starts with, or no skill finished within --max-skill-tokens. The model may not know these words (a skill file's: \
             docs/skills.md, grounded train), or greedy decoding committed to an object early: try --method gd-beam, --floor 0 \
             (such text is never chosen) or a larger --top-k; --explain shows the candidates of the steps taken)"
        );
    }
    out
}

fn explain_step(out: &mut String, result: &PlanResult, explanation: &StepExplanation) {
    use std::fmt::Write;
    let models: Vec<&str> = if result.method == Method::Llm { Vec::new() } else { result.models.iter().map(String::as_str).collect() };
    match explanation {
        StepExplanation::Tokens(choices) => {
            for (i, c) in choices.iter().enumerate() {
                let _ = writeln!(out, "      token {}: chose {:?} (beam normaliser {})", i + 1, c.chosen, score(c.normaliser));
                let mut header = format!("        {:<16} {:>8}", "candidate", "LM");
                for m in &models {
                    let _ = write!(header, " {:>11}", m);
                }
                let _ = writeln!(out, "{header} {:>9}", "total");
                for cand in c.candidates.iter().take(5) {
                    let mark = if cand.token == c.chosen { ">" } else { " " };
                    let beyond = if cand.beyond_top_k { "+" } else { "" };
                    let mut line = format!("      {mark} {:<16} {:>8}", format!("{:?}{beyond}", cand.token), score(cand.lm));
                    for g in &cand.grounded {
                        let _ = write!(line, " {:>11}", score(*g));
                    }
                    let _ = writeln!(out, "{line} {:>9}", score(cand.total));
                }
                if c.candidates.iter().take(5).any(|cand| cand.beyond_top_k) {
                    let _ = writeln!(out, "        (+: beyond the LM's top-k; none of those kept the skill admissible)");
                }
            }
        }
        StepExplanation::Skills(skills) => {
            let _ = writeln!(out, "        {:<64} {:>8} {:>11} {:>9}", "skill", "LM", "grounded", "total");
            for s in skills.iter().take(5) {
                let g: Vec<String> = s.grounded.iter().map(|v| score(*v)).collect();
                let _ = writeln!(out, "        {:<64} {:>8} {:>11} {:>9}", s.skill, score(s.lm), g.join("/"), score(s.total));
            }
        }
    }
}
