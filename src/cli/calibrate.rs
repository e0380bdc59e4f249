//! `grounded calibrate`, and `grounded eval --ask-for-help`: when the robot asks its operator,
//! calibrated by split conformal prediction (grounded::ask, docs/method.md).

use super::common::{DomainArg, DomainParser, PlannerArgs};
use anyhow::{Context, Result};
use clap::Args;
use grounded::ask::{AskRun, Calibration, DEFAULT_OPTIONS};
use grounded::config::ConfigFile;
use grounded::eval::EvalTask;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub const CALIBRATE_EXAMPLES: &str = "Examples:
  grounded calibrate --domain tabletop --episodes 10 --seed 7 --out target/ask/tabletop.json
  grounded calibrate --domain kitchen --epsilon 0.05 --episodes 20 --seed 7 --out kitchen.json
  grounded calibrate --domain kitchen --epsilon 0.05 --delta 0.05 --episodes 40 --seed 7 --out kitchen.json
  grounded eval --domain tabletop --ask-for-help target/ask/tabletop.json --episodes 10 --seed 0

At every step the options for the next skill are the skills a grounded beam finishes; an
oracle that knows the task (the success rule, replayed in a copy of the world) marks which
are right. The even-numbered episodes choose the temperature of the confidences and the
measure of nonconformity, the pair that asks least: 1 - p of the most confident right option
(the set: options with p >= 1 - threshold) or how far its p is below the most confident
option's (the set: options within the threshold of the top). The odd-numbered ones each
give that measure at their worst step, and the threshold makes the set hold a right option
at every step in at least 1 - epsilon of episodes like these (on average over calibrations;
with --delta, for this one with probability 1 - delta). At a step whose most confident
option departs from what the model wanted beyond --max-departure, the set holds every
option, here and wherever the calibration is used; the file records the limit. Use other
seeds to test: eval --ask-for-help refuses the calibration's own.";

#[derive(Args, Debug)]
pub struct CalibrateArgs {
    /// Domain to calibrate (each domain has its own calibration).
    #[arg(long, default_value = "tabletop", value_parser = DomainParser)]
    pub domain: DomainArg,
    /// Tasks to calibrate on, comma-separated [default: all of the domain, with its tasks
    /// where the instruction leaves out which object is meant].
    #[arg(long, value_delimiter = ',')]
    pub tasks: Vec<String>,
    /// Episodes per task.
    #[arg(long, default_value_t = 10)]
    pub episodes: usize,
    /// Base seed of the scenes (episode i: seed * 1000 + i); test with another.
    #[arg(long)]
    pub seed: u64,
    /// The share of episodes whose sets may miss a right option, in (0, 1).
    #[arg(long, default_value_t = 0.15)]
    pub epsilon: f64,
    /// Make the guarantee hold for this calibration, not only on average over calibrations:
    /// the sets then cover at least 1 - epsilon of episodes with probability at least
    /// 1 - delta over the calibration drawn (a higher threshold: more questions). In (0, 1),
    /// e.g. 0.05 [default: off, the marginal guarantee].
    #[arg(long)]
    pub delta: Option<f64>,
    /// Options per step: the skills the beam finishes, most a question offers (2-32).
    #[arg(long, default_value_t = DEFAULT_OPTIONS)]
    pub options: usize,
    /// Episodes run in parallel [default: the number of cores].
    #[arg(long)]
    pub workers: Option<usize>,
    /// Where to write the calibration (JSON).
    #[arg(long, value_name = "FILE.json")]
    pub out: PathBuf,
    #[command(flatten)]
    pub planner: PlannerArgs,
}

/// The tasks of `domain` that `names` names (all, with the asking tasks, when empty).
pub fn tasks_of(domain: protocol::Domain, names: &[String]) -> Result<Vec<EvalTask>> {
    if names.is_empty() {
        return Ok(EvalTask::with_asking(domain));
    }
    let ids = || EvalTask::with_asking(domain).iter().map(|t| t.id()).collect::<Vec<_>>().join(", ");
    names.iter().map(|t| EvalTask::named(domain, t).ok_or_else(|| anyhow::anyhow!("unknown {domain} task {t:?}; tasks: {}", ids()))).collect()
}

fn workers(asked: Option<usize>) -> usize {
    asked.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
}

fn progress_bar(total: usize) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} episodes ({eta} left)")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

pub fn run(args: CalibrateArgs, file: &ConfigFile) -> Result<ExitCode> {
    let domain = args.domain.domain();
    let options = args.planner.options(file);
    let run = AskRun {
        planner: &options,
        tasks: tasks_of(domain, &args.tasks)?,
        episodes: args.episodes,
        seed: args.seed,
        options: args.options,
        workers: workers(args.workers),
    };
    let out = super::common::Output::check(&args.out)?;
    let bar = progress_bar(run.tasks.len() * run.episodes);
    let started = std::time::Instant::now();
    let calibration = grounded::ask::calibrate(&run, args.epsilon, args.delta, &|done, _| bar.set_position(done as u64)).context("calibrating")?;
    bar.finish_and_clear();
    let text = serde_json::to_string_pretty(&calibration)?;
    out.write(&(text + "\n"))?;
    println!(
        "{domain}: {} tasks x {} episodes, seed {}, epsilon {}{}: set {} at temperature {} (chosen on the even-numbered episodes), threshold {:.4} from the {} odd-numbered ({}); {:.0} s. Written to {}",
        run.tasks.len(),
        run.episodes,
        args.seed,
        args.epsilon,
        args.delta.map(|d| format!(" with probability {} (delta {d})", 1.0 - d)).unwrap_or_default(),
        calibration.measure.label(),
        calibration.temperature,
        calibration.threshold,
        calibration.scores.len(),
        calibration.measure.describe(calibration.threshold),
        started.elapsed().as_secs_f64(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// What `grounded eval --ask-for-help` is given besides the evaluation's own arguments.
pub struct AskEvalArgs<'a> {
    pub calibration: &'a Path,
    pub epsilons: &'a [f64],
    pub margins: &'a [f64],
    pub domain: protocol::Domain,
    pub tasks: &'a [String],
    pub episodes: usize,
    pub seed: u64,
    pub workers: Option<usize>,
    pub json: bool,
    pub out: Option<&'a Path>,
}

/// `grounded eval --ask-for-help FILE`: never asking, the margin baseline and the calibrated
/// sets, on test seeds, with a simulated operator who answers correctly.
pub fn eval_asking(args: AskEvalArgs<'_>, planner: &PlannerArgs, file: &ConfigFile) -> Result<ExitCode> {
    let calibration = Calibration::read(args.calibration)?;
    let options = planner.options(file);
    let run = AskRun {
        planner: &options,
        tasks: tasks_of(args.domain, args.tasks)?,
        episodes: args.episodes,
        seed: args.seed,
        options: calibration.options,
        workers: workers(args.workers),
    };
    for difference in calibration.differences(&options) {
        tracing::warn!("{}: {difference}; calibrate again for a guarantee", args.calibration.display());
    }
    let out = args.out.map(super::common::Output::check).transpose()?;
    let bar = progress_bar(run.tasks.len() * run.episodes);
    let started = std::time::Instant::now();
    let episodes = grounded::ask::evaluate(&run, &calibration, args.epsilons, args.margins, &|done, _| bar.set_position(done as u64))
        .context("evaluating asking for help")?;
    bar.finish_and_clear();
    if let Some(out) = out {
        let mut text = String::new();
        for e in &episodes {
            text.push_str(&serde_json::to_string(e)?);
            text.push('\n');
        }
        out.write(&text)?;
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({ "domain": args.domain, "calibration": args.calibration, "seed": args.seed, "episodes_per_task": args.episodes, "records": episodes })
            )?
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "## grounded eval --ask-for-help: {}, {} episodes per task, test seed {}, calibration {} ({} episodes, seed {})\n",
        args.domain,
        args.episodes,
        args.seed,
        args.calibration.display(),
        calibration.scores.len(),
        calibration.seed
    );
    println!("{}", grounded::ask::table(&episodes));
    println!("Task success per row (questions per episode):\n");
    println!("{}", grounded::ask::rows_table(&episodes));
    println!("{} episodes in {:.0} s.", episodes.len(), started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}
