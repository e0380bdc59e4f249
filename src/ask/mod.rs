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

use crate::decoder::DEPARTURE_RULE;
use crate::eval::EvalTask;
use crate::planner::{PlanError, Planner};
use crate::setup::PlannerOptions;
use conformal::Measure;
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
    /// The temperature of the confidences: chosen on the calibration's even-numbered
    /// episodes as the one that asks least at `epsilon`; the scores are the odd-numbered
    /// episodes', at this temperature (so the threshold's guarantee holds as it is).
    #[serde(default = "one")]
    pub temperature: f64,
    /// How the scores measure nonconformity (chosen with the temperature).
    #[serde(default)]
    pub measure: Measure,
    /// Each (odd-numbered) episode's nonconformity under `measure`: the largest of its
    /// steps'.
    pub scores: Vec<f64>,
    /// Every calibration episode's steps (in task, episode order), so that the temperature
    /// and the threshold can be chosen again for another epsilon ([`Calibration::fit`]).
    #[serde(default)]
    pub steps: Vec<Vec<CalibrationStep>>,
    /// The epsilon the threshold is for (the set misses a right option in at most this
    /// share of episodes).
    pub epsilon: f64,
    /// With a delta, the threshold makes the share covered at least `1 - epsilon` with
    /// probability at least `1 - delta` over the calibration drawn; without, on average
    /// ([`conformal::rank`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta: Option<f64>,
    /// The threshold: options with confidence at least `1 - threshold` are in the set.
    pub threshold: f64,
    /// The planner's `max_departure` when the calibration was made: a step whose most
    /// confident option departs further from what the language model wanted holds every
    /// option in its set ([`Measure::step_set`]). Absent: no limit (and in files written
    /// before departures were recorded, no step departs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_departure: Option<f32>,
    /// The rule that said which steps depart ([`DEPARTURE_RULE`]); files written before it
    /// was recorded: 1.
    #[serde(default = "first_departure_rule")]
    pub departure_rule: u32,
    /// The model's fingerprint ([`crate::lm::fingerprint`]), so that a model retrained in
    /// the same folder is told apart; absent in files written before it was recorded, and
    /// where the model's files could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_sha256: Option<String>,
}

/// Which options a step's set holds: the measure, the temperature of the confidences, the
/// threshold, and the departure beyond which the set holds every option.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SetRule {
    pub measure: Measure,
    pub temperature: f64,
    pub threshold: f64,
    /// The calibration's `max_departure` (none: no step departs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_departure: Option<f32>,
}

impl SetRule {
    /// The options' confidences and the set the robot acts on (it asks when that holds more
    /// than one).
    pub fn apply(&self, options: &[crate::decoder::SkillOption]) -> (Vec<f64>, Vec<usize>) {
        let p = conformal::confidences(options, self.temperature);
        let set = self.measure.step_set(&p, self.threshold, self.departs(options));
        (p, set)
    }

    /// Whether the step of `options` (best first) departs under this rule: its most
    /// confident option departs from what the language model wanted by more than the
    /// calibration's `max_departure`.
    pub fn departs(&self, options: &[crate::decoder::SkillOption]) -> bool {
        let (Some(limit), Some(top)) = (self.max_departure, options.first()) else { return false };
        top.departing().is_some_and(|d| d.beyond(limit))
    }
}

/// One step of a calibration episode: its options' scores and which were right.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalibrationStep {
    /// The options' scores under the decoding rule, best first (`null`: minus infinity).
    #[serde(deserialize_with = "crate::decoder::never_as_null::many")]
    pub scores: Vec<f32>,
    pub right: Vec<bool>,
    /// Whether the most confident option departed beyond the calibration's `max_departure`
    /// (its set then holds every option).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub departs: bool,
}

impl Calibration {
    /// The set's rule for `epsilon`: chosen again from the calibration's episodes when it
    /// holds them (even-numbered ones choose the measure and the temperature, odd-numbered
    /// ones give the threshold), else the file's measure and temperature with the threshold
    /// from its scores.
    pub fn fit(&self, epsilon: f64) -> SetRule {
        if self.steps.is_empty() {
            return SetRule {
                measure: self.measure,
                temperature: self.temperature,
                threshold: conformal::threshold(&self.scores, epsilon, self.delta),
                max_departure: self.max_departure,
            };
        }
        let (fit, held) = split(&self.steps, self.episodes);
        let (measure, temperature) = fit_measure(&fit, epsilon, self.delta);
        let scores: Vec<f64> = held.iter().map(|e| episode_nonconformity(e, measure, temperature)).collect();
        SetRule { measure, temperature, threshold: conformal::threshold(&scores, epsilon, self.delta), max_departure: self.max_departure }
    }

    /// How planning with `options` differs from the planning the calibration measured, in
    /// words (empty: it does not); each difference voids the guarantee until calibrated again.
    pub fn differences(&self, options: &PlannerOptions) -> Vec<String> {
        let mut out = Vec::new();
        // Only a file with a fingerprint has one to compare: older files go by the path.
        let planning = self.model_sha256.as_ref().and_then(|_| crate::lm::fingerprint(&options.model).ok());
        match (&self.model_sha256, &planning) {
            (Some(then), Some(now)) if then != now => out.push(format!(
                "calibrated with model {} (sha256 {}), planning with {} (sha256 {}): not the same model",
                self.model,
                short(then),
                options.model.display(),
                short(now)
            )),
            (Some(_), Some(_)) => {} // the same files, wherever they are now
            _ if self.model != options.model.display().to_string() => {
                out.push(format!("calibrated with model {}, planning with {}", self.model, options.model.display()))
            }
            _ => {}
        }
        if self.departure_rule != DEPARTURE_RULE {
            out.push(format!(
                "calibrated under departure rule {}, planning under rule {DEPARTURE_RULE} (since rule 2 a wish the world allows only later, \
                 such as a locked door whose key can be fetched, is no departure; since rule 3 a skill departs by the sum of its tokens' \
                 gaps, not the largest; since rule 4 a \"done\" said at the first step in place of a departing skill departs as that skill does), so the \
                 steps that depart differ",
                self.departure_rule
            ));
        }
        let limit = Some(options.config.max_departure).filter(|d| d.is_finite());
        if limit != self.max_departure {
            let say = |d: Option<f32>| d.map_or_else(|| "inf".to_string(), |d| d.to_string());
            out.push(format!(
                "calibrated with --max-departure {}, planning with {} (the set holds every option beyond the calibration's)",
                say(self.max_departure),
                say(limit)
            ));
        }
        out
    }

    /// The file's own rule (for its epsilon).
    pub fn rule(&self) -> SetRule {
        SetRule { measure: self.measure, temperature: self.temperature, threshold: self.threshold, max_departure: self.max_departure }
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
        check_delta(c.delta).map_err(|e| AskError::Config(format!("{}: {e}", path.display())))?;
        if !(c.temperature > 0.0 && c.temperature <= 100.0) {
            return bad(format!("temperature {} is not in (0, 100]", c.temperature));
        }
        if !(0.0..=1.0).contains(&c.threshold) || c.scores.iter().any(|s| !(0.0..=1.0).contains(s)) {
            return bad("the threshold and every score must be in [0, 1]".into());
        }
        if c.scores.is_empty() || c.options < 2 || c.options > 32 {
            return bad("no scores, or options per step outside 2..=32".into());
        }
        if let Some(d) = c.max_departure.filter(|d| !(*d >= 0.0 && d.is_finite())) {
            return bad(format!("max_departure {d} is not a number of nats >= 0 (leave it out for no limit)"));
        }
        if c.steps.iter().flatten().any(|s| s.scores.len() != s.right.len() || s.scores.len() > c.options) {
            return bad("a step's scores and right options do not match".into());
        }
        Ok(c)
    }
}

fn one() -> f64 {
    1.0
}

fn first_departure_rule() -> u32 {
    1
}

/// A fingerprint's first 12 hex digits, enough to tell two models apart in a warning.
fn short(sha256: &str) -> &str {
    sha256.get(..12).unwrap_or(sha256)
}

/// The temperatures calibration chooses among.
pub const TEMPERATURES: [f64; 12] = [0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0, 1.4, 2.0, 3.0, 5.0];

/// An episode's nonconformity under `measure` with confidences at `temperature`: the largest
/// of its steps'.
fn episode_nonconformity(steps: &[CalibrationStep], measure: Measure, temperature: f64) -> f64 {
    steps.iter().map(|s| measure.step_nonconformity(&conformal::tempered(&s.scores, temperature), &s.right, s.departs)).fold(0.0, f64::max)
}

/// The questions the set of `threshold` under `measure` at `temperature` asks along an
/// episode's steps.
fn episode_questions(steps: &[CalibrationStep], measure: Measure, threshold: f64, temperature: f64) -> usize {
    steps.iter().filter(|s| measure.step_set(&conformal::tempered(&s.scores, temperature), threshold, s.departs).len() > 1).count()
}

/// Episodes in (task, episode) order, `per_task` a task, split into the even-numbered and
/// the odd-numbered.
fn split(episodes: &[Vec<CalibrationStep>], per_task: usize) -> (Vec<&[CalibrationStep]>, Vec<&[CalibrationStep]>) {
    let (mut even, mut odd) = (Vec::new(), Vec::new());
    for (i, e) in episodes.iter().enumerate() {
        if (i % per_task.max(1)).is_multiple_of(2) {
            even.push(e.as_slice());
        } else {
            odd.push(e.as_slice());
        }
    }
    (even, odd)
}

/// The measure and temperature that ask least along `episodes` at `epsilon` (the threshold
/// from the same episodes); of those that tie, the temperature nearest 1, then the measure
/// first in [`Measure::ALL`].
pub fn fit_measure(episodes: &[&[CalibrationStep]], epsilon: f64, delta: Option<f64>) -> (Measure, f64) {
    let mut best = (usize::MAX, f64::INFINITY, Measure::Confidence, 1.0);
    for measure in Measure::ALL {
        for t in TEMPERATURES {
            let scores: Vec<f64> = episodes.iter().map(|e| episode_nonconformity(e, measure, t)).collect();
            let q = conformal::threshold(&scores, epsilon, delta);
            let questions: usize = episodes.iter().map(|e| episode_questions(e, measure, q, t)).sum();
            let distance = t.ln().abs();
            if (questions, distance) < (best.0, best.1) {
                best = (questions, distance, measure, t);
            }
        }
    }
    (best.2, best.3)
}

/// Refuse an epsilon outside (0, 1).
pub fn check_epsilon(epsilon: f64) -> Result<(), AskError> {
    if epsilon > 0.0 && epsilon < 1.0 {
        Ok(())
    } else {
        Err(AskError::Config(format!("epsilon {epsilon} is not in (0, 1): it is the share of episodes whose set may miss a right option, e.g. 0.15")))
    }
}

/// Refuse a delta outside (0, 1).
pub fn check_delta(delta: Option<f64>) -> Result<(), AskError> {
    match delta {
        Some(d) if !(d > 0.0 && d < 1.0) => {
            Err(AskError::Config(format!("delta {d} is not in (0, 1): it is the chance that a calibration's sets cover less than 1 - epsilon, e.g. 0.05")))
        }
        _ => Ok(()),
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
pub fn calibrate(run: &AskRun<'_>, epsilon: f64, delta: Option<f64>, progress: &(dyn Fn(usize, usize) + Sync)) -> Result<Calibration, AskError> {
    check_epsilon(epsilon)?;
    check_delta(delta)?;
    if run.episodes < 2 {
        return Err(AskError::Config(format!(
            "{} episode per task: calibration needs at least 2 (half choose the temperature, half give the scores)",
            run.episodes
        )));
    }
    let width = run.options;
    let episodes = run.each(
        &|planner, task, seed| {
            let instruction = task.domain.summary(task.id(), seed).map_err(AskError::Config)?.instruction;
            let mut oracle = Oracle::new(*task, seed, &instruction, width);
            play(planner, task, seed, Asking::Calibrating, width, &mut oracle)
        },
        progress,
    )?;
    let steps: Vec<Vec<CalibrationStep>> = episodes
        .iter()
        .map(|e| e.steps.iter().map(|s| CalibrationStep { scores: s.scores.clone(), right: s.right.clone(), departs: s.departs }).collect())
        .collect();
    // Even-numbered episodes choose the temperature; the odd-numbered ones, not seen by that
    // choice, give the scores.
    let (fit, held) = split(&steps, run.episodes);
    let (measure, temperature) = fit_measure(&fit, epsilon, delta);
    let scores: Vec<f64> = held.iter().map(|e| episode_nonconformity(e, measure, temperature)).collect();
    let domain = run.tasks.first().map(|t| t.domain.id()).ok_or_else(|| AskError::Config("no tasks".into()))?;
    Ok(Calibration {
        format: CALIBRATION_FORMAT.into(),
        domain,
        model: run.planner.model.display().to_string(),
        options: run.options,
        seed: run.seed,
        episodes: run.episodes,
        tasks: run.tasks.iter().map(|t| t.id().to_string()).collect(),
        threshold: conformal::threshold(&scores, epsilon, delta),
        temperature,
        measure,
        scores,
        steps,
        epsilon,
        delta,
        max_departure: Some(run.planner.config.max_departure).filter(|d| d.is_finite()),
        departure_rule: DEPARTURE_RULE,
        model_sha256: crate::lm::fingerprint(&run.planner.model).ok(),
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
    run.check()?;
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
    policies.extend(epsilons.iter().map(|&epsilon| Asking::Conformal { epsilon, rule: calibration.fit(epsilon) }));
    let width = calibration.options;
    let per_episode = run.each(
        &|planner, task, seed| {
            let instruction = task.domain.summary(task.id(), seed).map_err(AskError::Config)?.instruction;
            let mut oracle = Oracle::new(*task, seed, &instruction, width);
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
            Asking::Conformal { epsilon, rule: SetRule { measure, temperature, threshold, .. } } => {
                format!("conformal, epsilon {epsilon} (set {}, threshold {threshold:.3}, temperature {temperature})", measure.label())
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn step(scores: &[f32], right: &[bool]) -> CalibrationStep {
        CalibrationStep { scores: scores.to_vec(), right: right.to_vec(), departs: false }
    }

    fn calibration(steps: Vec<Vec<CalibrationStep>>, episodes: usize) -> Calibration {
        Calibration {
            format: CALIBRATION_FORMAT.into(),
            domain: protocol::Domain::KITCHEN,
            model: "m".into(),
            options: 6,
            seed: 1,
            episodes,
            tasks: vec!["t".into()],
            epsilon: 0.2,
            threshold: 0.5,
            temperature: 1.0,
            measure: Measure::Confidence,
            delta: None,
            scores: vec![0.1, 0.5, 0.9],
            steps,
            max_departure: None,
            departure_rule: DEPARTURE_RULE,
            model_sha256: None,
        }
    }

    #[test]
    fn departing_steps_hold_every_option_and_leave_the_threshold_to_the_others() {
        // A quarter of the episodes depart at their first step, where the model's favourite
        // is wrong and the right option is all but ruled out; the other steps are easy.
        let departing = vec![CalibrationStep { departs: true, ..step(&[0.0, -6.0, -7.0], &[false, false, true]) }, step(&[0.0, -4.0], &[true, false])];
        let easy = vec![step(&[0.0, -4.0], &[true, false])];
        let episodes: Vec<Vec<CalibrationStep>> = (0..40).map(|i| if i % 8 < 2 { departing.clone() } else { easy.clone() }).collect();
        let mut c = calibration(episodes.clone(), 40);
        c.max_departure = Some(8.0);
        let rule = c.fit(0.1);
        assert_eq!(rule.max_departure, Some(8.0));
        // Every episode's score is small: the departing steps cover with every option in
        // their set, and do not push the threshold to 1 as they would without.
        assert!(rule.threshold < 0.5, "{rule:?}");
        let without: Vec<Vec<CalibrationStep>> = episodes.iter().map(|e| e.iter().map(|s| CalibrationStep { departs: false, ..s.clone() }).collect()).collect();
        let without = calibration(without, 40).fit(0.1);
        assert!(without.threshold > rule.threshold + 0.2, "{without:?} against {rule:?}");
        // Applied: the departing step's set is every option, the easy step's the top alone.
        let option = |skill: &str, score: f32, nats: Option<f32>| crate::decoder::SkillOption {
            departure: nats.map(|nats| crate::decoder::Departure {
                before: String::new(),
                wanted: " red".into(),
                chosen: " blue".into(),
                token_nats: nats,
                tokens: 1,
                nats,
            }),
            ..crate::decoder::SkillOption::new(skill, score, score)
        };
        let departed = [option("a", 0.0, Some(9.0)), option("b", -6.0, None), option("c", -7.0, None)];
        assert_eq!(rule.apply(&departed).1, vec![0, 1, 2]);
        let within = [option("a", 0.0, Some(7.0)), option("b", -6.0, None), option("c", -7.0, None)];
        assert_eq!(rule.apply(&within).1, vec![0]);
        assert_eq!(SetRule { max_departure: None, ..rule }.apply(&departed).1, vec![0]);
        // A `done` said in place of a skill that departs departs as that skill does (rule 4).
        let done_instead = |nats: Option<f32>| crate::decoder::SkillOption {
            in_place_of: option("pick up the blue", -9.0, nats)
                .departure
                .map(|departure| crate::decoder::DoneInstead { unfinished: "pick up the blue".into(), departure }),
            ..option("done", 0.0, None)
        };
        for (nats, set) in [(Some(9.0), vec![0, 1, 2]), (Some(7.0), vec![0]), (None, vec![0])] {
            let options = [done_instead(nats), option("b", -6.0, None), option("c", -7.0, None)];
            assert_eq!(rule.apply(&options).1, set, "{nats:?}");
        }
    }

    /// `c` written to a file of its own (named after `name`) and read back as a calibration.
    fn read_back(c: &Calibration, name: &str) -> Result<Calibration, AskError> {
        let path = std::env::temp_dir().join(format!("grounded-{name}-{}.json", std::process::id()));
        std::fs::write(&path, serde_json::to_string(c).unwrap()).unwrap();
        let read = Calibration::read(&path);
        let _ = std::fs::remove_file(&path);
        read
    }

    #[test]
    fn a_calibration_file_with_a_delta_outside_0_1_is_refused() {
        let mut c = calibration(Vec::new(), 3);
        c.delta = Some(2.0);
        let err = read_back(&c, "delta").unwrap_err().to_string();
        assert!(err.contains("delta 2 is not in (0, 1)"), "{err}");
        c.delta = Some(0.05);
        assert_eq!(read_back(&c, "delta").unwrap().delta, Some(0.05));
    }

    #[test]
    fn a_calibration_file_with_a_negative_max_departure_is_refused() {
        let mut c = calibration(Vec::new(), 3);
        c.max_departure = Some(-1.0);
        let err = read_back(&c, "max-departure").unwrap_err().to_string();
        assert!(err.contains("max_departure -1 is not a number of nats >= 0"), "{err}");
        c.max_departure = Some(8.0);
        assert_eq!(read_back(&c, "max-departure").unwrap().max_departure, Some(8.0));
    }

    #[test]
    fn a_file_from_before_the_departure_rule_was_recorded_reads_as_rule_1_and_is_told_apart() {
        let mut c = calibration(Vec::new(), 3);
        c.model = "models/planner-gpt2".into();
        let mut json = serde_json::to_value(&c).unwrap();
        json.as_object_mut().unwrap().remove("departure_rule");
        let old: Calibration = serde_json::from_value(json).unwrap();
        assert_eq!(old.departure_rule, 1);
        let options = PlannerOptions {
            config: crate::decoder::DecodeConfig { max_departure: f32::INFINITY, ..Default::default() },
            ..PlannerOptions::new("models/planner-gpt2".into())
        };
        let said = old.differences(&options);
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].contains("departure rule 1") && said[0].contains(&format!("rule {DEPARTURE_RULE}")), "{said:?}");
        assert!(c.differences(&options).is_empty(), "{:?}", c.differences(&options));
    }

    #[test]
    fn a_model_retrained_in_the_same_folder_is_not_the_calibrated_one_and_a_moved_one_is() {
        let root = std::env::temp_dir().join(format!("grounded-calibrated-model-{}", std::process::id()));
        let write = |dir: &Path, weights: &[u8]| {
            std::fs::create_dir_all(dir).unwrap();
            for (name, bytes) in [("model.onnx", weights), ("tokenizer.json", b"{}".as_slice()), ("config.json", b"{}".as_slice())] {
                std::fs::write(dir.join(name), bytes).unwrap();
            }
        };
        let (here, moved) = (root.join("here"), root.join("moved"));
        write(&here, b"first weights");
        write(&moved, b"first weights");
        let mut c = calibration(Vec::new(), 3);
        c.model = here.display().to_string();
        c.model_sha256 = Some(crate::lm::fingerprint(&here).unwrap());
        let planning = |dir: &Path| PlannerOptions {
            config: crate::decoder::DecodeConfig { max_departure: f32::INFINITY, ..Default::default() },
            ..PlannerOptions::new(dir.to_path_buf())
        };
        assert!(c.differences(&planning(&here)).is_empty());
        assert!(c.differences(&planning(&moved)).is_empty(), "the same files elsewhere are the same model");
        write(&here, b"other weights");
        let said = c.differences(&planning(&here));
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].contains("not the same model"), "{said:?}");
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn without_its_episodes_a_calibration_keeps_its_temperature_and_takes_the_quantile_of_its_scores() {
        let c = calibration(Vec::new(), 3);
        let rule = |threshold| SetRule { measure: Measure::Confidence, temperature: 1.0, threshold, max_departure: None };
        assert_eq!(c.fit(0.2), rule(1.0));
        assert_eq!(c.fit(0.5), rule(0.5));
    }

    #[test]
    fn the_even_episodes_choose_the_temperature_and_the_odd_ones_give_the_threshold() {
        // Steps where the right option is a close second: sharpening makes its confidence
        // fall, so that asking is needed more; and easy steps where the top is right.
        let hard = vec![step(&[0.0, -0.2], &[false, true])];
        let easy = vec![step(&[0.0, -3.0], &[true, false])];
        let episodes: Vec<Vec<CalibrationStep>> = (0..40).map(|i| if i % 4 == 1 { hard.clone() } else { easy.clone() }).collect();
        let c = calibration(episodes.clone(), 40);
        let SetRule { measure, temperature: t, threshold: q, .. } = c.fit(0.1);
        assert!(TEMPERATURES.contains(&t));
        let (fit, held) = split(&episodes, 40);
        assert_eq!((fit.len(), held.len()), (20, 20));
        assert_eq!((measure, t), fit_measure(&fit, 0.1, None));
        let scores: Vec<f64> = held.iter().map(|e| episode_nonconformity(e, measure, t)).collect();
        assert_eq!(q, conformal::threshold(&scores, 0.1, None));
        // The held-out half's hard episodes (every other odd one) are covered by the set.
        for e in &held {
            assert!(episode_nonconformity(e, measure, t) <= q + 1e-12);
            let p = conformal::tempered(&e[0].scores, t);
            assert!(measure.set(&p, q).iter().any(|&i| e[0].right[i]), "{measure:?} at {t}: {p:?}");
        }
        // No measure and temperature asks less on the even-numbered half.
        let asks = |m: Measure, t: f64| {
            let q = conformal::threshold(&fit.iter().map(|e| episode_nonconformity(e, m, t)).collect::<Vec<_>>(), 0.1, None);
            fit.iter().map(|e| episode_questions(e, m, q, t)).sum::<usize>()
        };
        let chosen = asks(measure, t);
        for m in Measure::ALL {
            for t in TEMPERATURES {
                assert!(asks(m, t) >= chosen);
            }
        }
    }
}
