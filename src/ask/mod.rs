//! Knowing when not to know: the robot asks its operator when the grounded plan is
//! uncertain, with a calibrated guarantee (docs/method.md, "Asking for help").
//!
//! At each step the options for the next skill are the skills a grounded beam finishes
//! ([`crate::decoder::decode_options`]); their confidences and the prediction set come
//! from split conformal prediction ([`conformal`]) with a threshold calibrated on episodes
//! where an oracle knows which options are right ([`oracle`]). The robot asks when the set
//! holds other than one option.
//!
//! - [`calibrate`]: `grounded calibrate` (the scores and a threshold, [`Calibration`]);
//! - [`evaluate`]: `grounded eval --ask-for-help` (never asking, the margin baseline, and
//!   the calibrated sets for several epsilons, with a simulated operator).

pub mod conformal;
pub mod episode;
pub mod oracle;

use crate::eval::EvalTask;
use crate::planner::{PlanError, Planner};
use crate::setup::PlannerOptions;
use episode::{play, AskEpisode, Asking};
use oracle::Oracle;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum AskError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("{0}")]
    Config(String),
}

/// What a calibration file says: the format's name and version.
pub const CALIBRATION_FORMAT: &str = "grounded-calibration/1";

/// Options per step by default: the widest set a question offers.
pub const DEFAULT_OPTIONS: usize = 6;

/// A calibration: the episode scores of a domain's calibration episodes, and the threshold
/// for the chosen epsilon. Written by `grounded calibrate`, read by `grounded eval
/// --ask-for-help` and `grounded daemon --ask-for-help`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    pub format: String,
    pub domain: protocol::Domain,
    /// The model directory the scores came from.
    pub model: String,
    /// Options per step (the beam's width).
    pub options: usize,
    /// The calibration's seed: episode `i` of each task used scene seed `seed * 1000 + i`.
    pub seed: u64,
    /// Episodes per task.
    pub episodes: usize,
    pub tasks: Vec<String>,
    /// Each episode's nonconformity (the largest of its steps').
    pub scores: Vec<f64>,
    /// The epsilon the threshold is for (the set misses a right option in at most this
    /// share of episodes).
    pub epsilon: f64,
    /// The threshold: options with confidence at least `1 - threshold` are in the set.
    pub threshold: f64,
}

impl Calibration {
    /// The threshold for another epsilon, from the same scores.
    pub fn threshold_for(&self, epsilon: f64) -> f64 {
        conformal::threshold(&self.scores, epsilon)
    }

    /// The scene seeds the calibration used (no test may use them).
    pub fn seeds(&self) -> std::ops::Range<u64> {
        let first = self.seed.wrapping_mul(1000);
        first..first + self.episodes as u64
    }

    /// Read and check a calibration file.
    pub fn read(path: &Path) -> Result<Self, AskError> {
        let text = crate::setup::read_text(path).map_err(|e| AskError::Config(e.to_string()))?;
        let c: Calibration = serde_json::from_str(&text)
            .map_err(|e| AskError::Config(format!("{}: not a calibration file ({e}); make one with grounded calibrate", path.display())))?;
        let bad = |m: String| Err(AskError::Config(format!("{}: {m}", path.display())));
        if c.format != CALIBRATION_FORMAT {
            return bad(format!("format {:?}, expected {CALIBRATION_FORMAT:?}; make it again with this grounded calibrate", c.format));
        }
        if !(c.epsilon > 0.0 && c.epsilon < 1.0) {
            return bad(format!("epsilon {} is not in (0, 1)", c.epsilon));
        }
        if !(0.0..=1.0).contains(&c.threshold) || c.scores.iter().any(|s| !(0.0..=1.0).contains(s)) {
            return bad("the threshold and every score must be in [0, 1]".into());
        }
        if c.scores.is_empty() || c.options < 2 || c.options > 32 {
            return bad("no scores, or options per step outside 2..=32".into());
        }
        Ok(c)
    }
}

/// Refuse an epsilon outside (0, 1).
pub fn check_epsilon(epsilon: f64) -> Result<(), AskError> {
    if epsilon > 0.0 && epsilon < 1.0 {
        Ok(())
    } else {
        Err(AskError::Config(format!("epsilon {epsilon} is not in (0, 1): it is the share of episodes whose set may miss a right option, e.g. 0.15")))
    }
}

/// What a calibration or an asking evaluation runs on.
pub struct AskRun<'a> {
    pub planner: &'a PlannerOptions,
    pub tasks: Vec<EvalTask>,
    pub episodes: usize,
    pub seed: u64,
    pub options: usize,
    pub workers: usize,
}

impl AskRun<'_> {
    fn seed_of(&self, episode: usize) -> u64 {
        self.seed.wrapping_mul(1000).wrapping_add(episode as u64)
    }

    fn check(&self) -> Result<(), AskError> {
        if self.episodes == 0 || self.tasks.is_empty() {
            return Err(AskError::Config("need at least one task and one episode".into()));
        }
        if self.episodes > 1000 {
            return Err(AskError::Config(format!("{} episodes per task: at most 1000 (seeds seed*1000+i must not reach the next seed's)", self.episodes)));
        }
        if !(2..=32).contains(&self.options) {
            return Err(AskError::Config(format!("{} options per step: between 2 and 32", self.options)));
        }
        if let Some(t) = self.tasks.iter().find(|t| !t.domain.simulated()) {
            return Err(AskError::Config(format!(
                "{t:?}: asking is calibrated and evaluated in grounded's simulated domains (the oracle replays the episode's world)"
            )));
        }
        Ok(())
    }

    /// Run `job` for every (task, episode) on `workers` threads, each with its own planner;
    /// results in (task, episode) order. `progress(done, total)` after each.
    fn each<T: Send>(
        &self,
        job: &(dyn Fn(&mut Planner, &EvalTask, u64) -> Result<T, AskError> + Sync),
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<Vec<T>, AskError> {
        self.check()?;
        let jobs: Vec<(EvalTask, u64)> = self.tasks.iter().flat_map(|t| (0..self.episodes).map(move |e| (*t, e))).map(|(t, e)| (t, self.seed_of(e))).collect();
        let total = jobs.len();
        let next = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<Result<T, String>>>> = Mutex::new((0..total).map(|_| None).collect());
        let workers = self.workers.clamp(1, total);
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    let mut planner = match self.planner.build(None, true) {
                        Ok(p) => p,
                        Err(e) => {
                            if let Ok(mut r) = results.lock() {
                                r[0] = Some(Err(e.to_string()));
                            }
                            return;
                        }
                    };
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        if i >= total {
                            break;
                        }
                        let (task, seed) = jobs[i];
                        let r = job(&mut planner, &task, seed).map_err(|e| format!("{task:?} seed {seed}: {e}"));
                        if let Ok(mut all) = results.lock() {
                            all[i] = Some(r);
                        }
                        progress(done.fetch_add(1, Ordering::SeqCst) + 1, total);
                    }
                });
            }
        });
        let results = results.into_inner().map_err(|_| AskError::Config("a worker panicked".into()))?;
        let mut out = Vec::with_capacity(total);
        for r in results {
            match r {
                Some(Ok(v)) => out.push(v),
                Some(Err(e)) => return Err(AskError::Config(e)),
                None => return Err(AskError::Config("an episode was never run (a worker could not start)".into())),
            }
        }
        Ok(out)
    }
}

/// `grounded calibrate`: play every task's episodes with the oracle showing the right
/// option at each step, and take each episode's nonconformity.
pub fn calibrate(run: &AskRun<'_>, epsilon: f64, progress: &(dyn Fn(usize, usize) + Sync)) -> Result<Calibration, AskError> {
    check_epsilon(epsilon)?;
    let width = run.options;
    let episodes = run.each(
        &|planner, task, seed| {
            let instruction = task.domain.summary(task.id(), seed).map_err(AskError::Config)?.instruction;
            let mut oracle = Oracle::new(*task, seed, &instruction);
            play(planner, task, seed, Asking::Calibrating, width, &mut oracle)
        },
        progress,
    )?;
    let scores: Vec<f64> = episodes.iter().map(AskEpisode::nonconformity).collect();
    let domain = run.tasks.first().map(|t| t.domain.id()).ok_or_else(|| AskError::Config("no tasks".into()))?;
    Ok(Calibration {
        format: CALIBRATION_FORMAT.into(),
        domain,
        model: run.planner.model.display().to_string(),
        options: run.options,
        seed: run.seed,
        episodes: run.episodes,
        tasks: run.tasks.iter().map(|t| t.id().to_string()).collect(),
        threshold: conformal::threshold(&scores, epsilon),
        scores,
        epsilon,
    })
}

/// The epsilons an asking evaluation reports by default.
pub const EPSILONS: [f64; 3] = [0.05, 0.15, 0.25];

/// The margins of the simple baseline by default: ask when the two most confident options'
/// confidences are within this (several, so that its help rate can be read at the success
/// the calibrated sets reach).
pub const DEFAULT_MARGINS: [f64; 4] = [0.1, 0.25, 0.5, 0.75];

/// `grounded eval --ask-for-help`: every episode played never asking, with the margin
/// baseline for each margin, and with the calibrated set for each epsilon; the same oracle answers for the
/// operator in all of them.
pub fn evaluate(
    run: &AskRun<'_>,
    calibration: &Calibration,
    epsilons: &[f64],
    margins: &[f64],
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<AskEpisode>, AskError> {
    for &e in epsilons {
        check_epsilon(e)?;
    }
    if let Some(m) = margins.iter().find(|m| !(**m > 0.0 && **m <= 1.0)) {
        return Err(AskError::Config(format!("margin {m} is not in (0, 1]: the confidence gap under which the baseline asks")));
    }
    if let Some(t) = run.tasks.iter().find(|t| t.domain.id() != calibration.domain) {
        return Err(AskError::Config(format!(
            "the calibration is for the {} domain; {t:?} is not: calibrate that domain with grounded calibrate --domain {}",
            calibration.domain,
            t.domain.id()
        )));
    }
    let test_seeds = run.seed_of(0)..run.seed_of(run.episodes - 1) + 1;
    let cal = calibration.seeds();
    if test_seeds.start < cal.end && cal.start < test_seeds.end {
        return Err(AskError::Config(format!(
            "test seeds {}..{} overlap the calibration's {}..{} (--seed {} both): evaluate with another --seed",
            test_seeds.start, test_seeds.end, cal.start, cal.end, run.seed
        )));
    }
    let mut policies = vec![Asking::Never];
    policies.extend(margins.iter().map(|&margin| Asking::Margin { margin }));
    policies.extend(epsilons.iter().map(|&epsilon| Asking::Conformal { epsilon, threshold: calibration.threshold_for(epsilon) }));
    let width = calibration.options;
    let per_episode = run.each(
        &|planner, task, seed| {
            let instruction = task.domain.summary(task.id(), seed).map_err(AskError::Config)?.instruction;
            let mut oracle = Oracle::new(*task, seed, &instruction);
            policies.iter().map(|&p| play(planner, task, seed, p, width, &mut oracle)).collect::<Result<Vec<_>, _>>()
        },
        progress,
    )?;
    Ok(per_episode.into_iter().flatten().collect())
}

/// The asking evaluation's table: one row per policy.
pub fn table(episodes: &[AskEpisode]) -> String {
    let mut policies: Vec<Asking> = Vec::new();
    for e in episodes {
        if !policies.contains(&e.asking) {
            policies.push(e.asking);
        }
    }
    let mut out = String::from("| asking | task success | questions per episode | questions per step | set coverage, steps | set coverage, episodes | target |\n|---|---:|---:|---:|---:|---:|---:|\n");
    for p in &policies {
        let mine: Vec<&AskEpisode> = episodes.iter().filter(|e| e.asking == *p).collect();
        let n = mine.len().max(1);
        let steps: usize = mine.iter().map(|e| e.steps.len()).sum();
        let questions: usize = mine.iter().map(|e| e.questions()).sum();
        let success = mine.iter().filter(|e| e.success).count();
        let covered_steps: usize = mine.iter().map(|e| e.steps.iter().filter(|s| s.covered()).count()).sum();
        let covered = mine.iter().filter(|e| e.covered()).count();
        let target = match p {
            Asking::Conformal { epsilon, .. } => format!("{:.0}%", 100.0 * (1.0 - epsilon)),
            _ => String::new(),
        };
        let label = match p {
            Asking::Conformal { epsilon, threshold } => format!("conformal, epsilon {epsilon} (threshold {threshold:.3})"),
            other => other.label(),
        };
        out.push_str(&format!(
            "| {label} | {} | {:.2} | {:.2} | {} | {} | {target} |\n",
            percent(success, mine.len()),
            questions as f64 / n as f64,
            questions as f64 / steps.max(1) as f64,
            percent(covered_steps, steps),
            percent(covered, mine.len()),
        ));
    }
    out
}

/// Task success per row of the results tables and policy.
pub fn rows_table(episodes: &[AskEpisode]) -> String {
    let mut rows: Vec<&str> = Vec::new();
    let mut policies: Vec<Asking> = Vec::new();
    for e in episodes {
        if !rows.contains(&e.row.as_str()) {
            rows.push(&e.row);
        }
        if !policies.contains(&e.asking) {
            policies.push(e.asking);
        }
    }
    let mut out = format!("| row | {} |\n|---|{}\n", policies.iter().map(Asking::label).collect::<Vec<_>>().join(" | "), "---:|".repeat(policies.len()));
    for r in rows {
        let cells: Vec<String> = policies
            .iter()
            .map(|p| {
                let mine: Vec<&AskEpisode> = episodes.iter().filter(|e| e.asking == *p && e.row == r).collect();
                let q: usize = mine.iter().map(|e| e.questions()).sum();
                format!("{} ({:.1} q)", percent(mine.iter().filter(|e| e.success).count(), mine.len()), q as f64 / mine.len().max(1) as f64)
            })
            .collect();
        out.push_str(&format!("| {r} | {} |\n", cells.join(" | ")));
    }
    out
}

fn percent(k: usize, n: usize) -> String {
    if n == 0 {
        return "-".into();
    }
    format!("{:.0}% ({k}/{n})", 100.0 * k as f64 / n as f64)
}
