//! `grounded eval`: every task template, N episodes per method, closed-loop in the physics
//! simulation, success judged on ground truth; tables in the shape of the paper's.
//!
//! Reproducible: episode `i` of a task uses scene seed `seed * 1000 + i` for every method,
//! every episode is deterministic (scene, physics, decoding), and results are ordered by
//! (task, episode, method) whatever the worker scheduling.

use crate::controller::{run_closed_loop, InProcessRobot};
use crate::dashboard::{Dashboard, Watched};
use crate::domains::{Domain, TaskInfo, WorldOptions};
use crate::lm::LmError;
use crate::planner::{Method, ModelInUse, PlanEnd, PlanError, Planner, StepOutcome, Weighted};
use crate::setup::PlannerOptions;
use crate::wordings::{TaskLookup, Wording};
use grounding::{Preference, PreferenceConfig, Safety, SafetyConfig, SafetyMode};
use serde::Serialize;
use sim::tabletop::tasks::TaskGrounding;
use sim::wording::Slots;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// One task of an evaluation, in its domain: a tabletop template, a grid level, a kitchen
/// instruction, or any registered domain's task.
#[derive(Clone, Copy)]
pub struct EvalTask {
    pub domain: &'static dyn Domain,
    pub info: TaskInfo,
}

impl std::fmt::Debug for EvalTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} task {}", self.domain.id(), self.info.id)
    }
}

impl PartialEq for EvalTask {
    fn eq(&self, other: &Self) -> bool {
        self.domain.id() == other.domain.id() && self.info == other.info
    }
}

impl EvalTask {
    pub fn id(&self) -> &'static str {
        self.info.id
    }

    /// The row of the paper's table the task counts in.
    pub fn row(&self) -> &'static str {
        self.info.row
    }

    /// Every task of a domain.
    pub fn all(domain: protocol::Domain) -> Vec<EvalTask> {
        // A domain without a plug-in has no tasks.
        let Ok(d) = crate::domains::domain(domain) else { return Vec::new() };
        d.tasks().into_iter().map(|info| EvalTask { domain: d, info }).collect()
    }

    /// Every task of a domain and its tasks for asking for help ([`Domain::asking_tasks`]).
    pub fn with_asking(domain: protocol::Domain) -> Vec<EvalTask> {
        let Ok(d) = crate::domains::domain(domain) else { return Vec::new() };
        d.tasks().into_iter().chain(d.asking_tasks()).map(|info| EvalTask { domain: d, info }).collect()
    }

    /// A task of a domain by its id (asking tasks included).
    pub fn named(domain: protocol::Domain, id: &str) -> Option<EvalTask> {
        Self::with_asking(domain).into_iter().find(|t| t.id() == id)
    }

    /// The slots a wording of this task may name (`{place}`, `{word}`, the grid's colours).
    pub fn slot_names(&self) -> &'static [&'static str] {
        self.info.slot_names
    }

    /// The values the episode of `seed` gives the task's slots.
    pub fn slots(&self, seed: u64) -> Slots {
        self.domain.slots(self.info.id, seed)
    }
}

/// The tasks of one domain, for checking a wordings file (`--instructions`).
pub struct DomainTasks(pub protocol::Domain);

impl TaskLookup for DomainTasks {
    fn slots_of(&self, task: &str) -> Result<&'static [&'static str], String> {
        if let Some(t) = EvalTask::named(self.0, task) {
            return Ok(t.slot_names());
        }
        let ids = EvalTask::all(self.0).iter().map(|t| t.id()).collect::<Vec<_>>().join(", ");
        let elsewhere = crate::domains::registry()
            .iter()
            .map(|d| d.id())
            .find(|d| *d != self.0 && EvalTask::named(*d, task).is_some())
            .map(|d| format!(" ({task} is a {d} task: evaluate it with --domain {d})"))
            .unwrap_or_default();
        Err(format!("unknown {} task {task:?}{elsewhere}; tasks: {ids}", self.0))
    }
}

/// Whose words an episode's instruction is: the task's own, or a line of `--instructions`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WordingKind {
    /// The task's own instruction.
    Template,
    /// A wording from the `--instructions` file.
    Reworded,
}

impl std::fmt::Display for WordingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WordingKind::Template => "template",
            WordingKind::Reworded => "reworded",
        })
    }
}

/// The rows of the tables, in the registry's order of domains and each domain's own; a
/// domain that measures planning has two per row (planning success, execution success).
fn row_order() -> Vec<String> {
    let mut rows = Vec::new();
    for d in crate::domains::registry() {
        for r in d.rows() {
            if d.measures_planning() {
                rows.extend([format!("{r} {PLANNING}"), format!("{r} {EXECUTION}")]);
            } else {
                rows.push(r);
            }
        }
    }
    rows
}

/// The suffixes of the kitchen's rows.
const PLANNING: &str = "planning";
const EXECUTION: &str = "execution";

#[derive(Clone, Debug)]
pub struct EvalConfig {
    /// The model, decoder settings, the user's grounded models and weights, threads.
    pub planner: PlannerOptions,
    pub methods: Vec<Method>,
    pub tasks: Vec<EvalTask>,
    pub episodes: usize,
    pub seed: u64,
    pub workers: usize,
    pub observation_noise: f64,
    pub transport: Transport,
    /// Where each episode is logged (under `eval/<method>/<task>/<episode>/`); off by default.
    pub dashboard: crate::dashboard::Dashboard,
    /// Other wordings of the tasks (`--instructions`): each is evaluated on the same
    /// episodes as its task's own wording.
    pub wordings: Vec<Wording>,
}

/// How the controller reaches the simulator and the policy during an evaluation.
#[derive(Clone, Debug, PartialEq)]
pub enum Transport {
    /// Over zenoh, as in the demo and the daemon: each worker has a sim and a policy node of
    /// its own robot id on one in-process session.
    Zenoh,
    /// Direct calls in each worker (same code paths for decoding, policy and physics).
    Local,
    /// Robots that are already running (a user's own, or `grounded sim` and `grounded
    /// policy`), reached over zenoh: one worker per robot, one episode at a time on each.
    Robots(Robots),
}

/// The robots an evaluation runs on, and how to reach them.
#[derive(Clone, Debug, PartialEq)]
pub struct Robots {
    pub zenoh: crate::nodes::common::CommonArgs,
    pub robots: Vec<protocol::keys::RobotId>,
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Zenoh => f.write_str("zenoh"),
            Transport::Local => f.write_str("direct calls"),
            Transport::Robots(r) => write!(f, "zenoh, on robot(s) {}", r.robots.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", ")),
        }
    }
}

/// One step of an episode's plan.
#[derive(Clone, Debug, Serialize)]
pub struct StepRecord {
    pub skill: String,
    pub success: bool,
    pub reason: Option<String>,
    /// How far the skill departed from what the language model wanted, in nats (absent: not at all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub departure_nats: Option<f32>,
}

/// Everything about one episode.
#[derive(Clone, Debug, Serialize)]
pub struct EpisodeRecord {
    pub task: String,
    pub row: String,
    pub method: Method,
    pub episode: usize,
    pub seed: u64,
    /// The instruction the planner was given (slots filled).
    pub instruction: String,
    /// The task's own wording, or a line of the `--instructions` file.
    pub wording: WordingKind,
    /// The line of the `--instructions` file, for a reworded episode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wording_line: Option<usize>,
    pub steps: Vec<StepRecord>,
    pub end: PlanEnd,
    pub success: bool,
    /// Kitchen: did the plan succeed with skills that never fail? (`success` is with the
    /// simulated skills' failures.)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub planning_success: Option<bool>,
    /// What the success check found wrong, or why the episode was aborted.
    pub reason: Option<String>,
    pub lm_tokens: usize,
    /// Forward passes of the language model in the episode.
    pub lm_passes: usize,
    /// Wall time the planner spent choosing skills (decoding, scoring, binding grounded
    /// models), its LM passes included: the episode's planning latency.
    pub choosing_seconds: f64,
    pub wall_seconds: f64,
    pub sim_seconds: f64,
    /// The grounded models the planner held, with their weights: the affordance, the user's
    /// (`--safety`, `--preference`, `--scorer`) and the task's own (the llm method applies none).
    pub grounded_models: Vec<ModelInUse>,
    /// ONNX Runtime's threads for the language model (`--threads`).
    pub lm_threads: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Lm(#[from] LmError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("invalid evaluation: {0}")]
    Config(String),
}

/// The grounded models a task calls for besides the affordance (hard safety, preference).
pub fn task_models(g: &TaskGrounding) -> Vec<Weighted> {
    let mut out = Vec::new();
    if !g.forbidden.is_empty() {
        if let Ok(s) = Safety::new(&SafetyConfig { forbidden: g.forbidden.clone(), mode: SafetyMode::Hard, epsilon: 1e-3 }) {
            out.push(Weighted { model: Box::new(s), weight: 1.0 });
        }
    }
    if !g.preferred.is_empty() {
        if let Ok(p) = Preference::new(&PreferenceConfig { preferred: g.preferred.clone(), alpha: 0.5, beta: 0.1 }) {
            out.push(Weighted { model: Box::new(p), weight: 1.0 });
        }
    }
    out
}

/// Which episode to run, and how.
#[derive(Clone, Copy, Debug)]
pub struct EpisodeSpec<'a> {
    pub task: &'a EvalTask,
    /// The episode's index among the task's.
    pub episode: usize,
    /// Its scene seed.
    pub seed: u64,
    pub method: Method,
    /// Another wording of the task's instruction, slots filled.
    pub wording: Option<&'a str>,
}

/// Run one episode in this thread, the world and its policies in this process.
pub fn run_episode(planner: &mut Planner, spec: &EpisodeSpec<'_>, options: &WorldOptions, dashboard: &Dashboard) -> Result<EpisodeRecord, EvalError> {
    let started = Instant::now();
    let world = spec.task.domain.world(spec.task.id(), spec.seed, options).map_err(EvalError::Config)?;
    let summary = world.summary();
    planner.set_task_models(summary.grounding.as_ref().map(task_models).unwrap_or_default());
    let instruction = spec.wording.map_or(summary.instruction, str::to_string);
    let mut robot = InProcessRobot::new(spec.task.domain, world);
    let dash = episode_dashboard(dashboard, spec, &instruction);
    // Each episode starts with an empty prefix cache: its record (LM tokens, passes) must not
    // depend on which episodes its worker happened to run before.
    planner.lm.clear_prefix_cache();
    let (result, abort) = run_closed_loop(planner, &mut Watched { robot: &mut robot, dashboard: &dash }, &instruction, spec.method, &mut |e| dash.event(&e))?;
    let verdict = robot.world.judge();
    let (success, reason) = (verdict.is_ok(), verdict.err());
    dash.episode_result(success, reason.as_deref());
    let outcome = Outcome { instruction, result, abort, success, reason, started, sim_seconds: robot.world.sim_seconds() };
    Ok(record(planner, spec, outcome))
}

/// Run one episode through zenoh: reset the worker's sim to the task, plan closed-loop with
/// the policy node executing, judge on the sim's ground truth.
pub fn run_episode_zenoh(
    planner: &mut Planner,
    node: (&zenoh::Session, &protocol::keys::RobotKeys),
    spec: &EpisodeSpec<'_>,
    skill_failures: bool,
    dashboard: &Dashboard,
) -> Result<EpisodeRecord, EvalError> {
    use crate::nodes::common::query_one;
    use crate::nodes::remote::ZenohRobot;
    use crate::nodes::timeouts;
    use protocol::messages::{EpisodeReply, EpisodeRequest, EpisodeRequestBody};
    let (session, keys) = node;
    let started = Instant::now();
    let ask = |body: EpisodeRequestBody| -> Result<EpisodeReply, EvalError> {
        let req = EpisodeRequest { schema: protocol::SCHEMA_VERSION, body };
        query_one(session, &keys.episode(), &req, timeouts::EPISODE).map_err(|e| EvalError::Config(e.to_string()))?.map_err(EvalError::Config)
    };
    let domain = spec.task.domain;
    let reset = ask(EpisodeRequestBody::Reset { task: domain.episode_task(spec.task.id()), seed: spec.seed, skill_failures: Some(skill_failures) })?;
    let summary = domain.summary(spec.task.id(), spec.seed).map_err(EvalError::Config)?;
    planner.set_task_models(summary.grounding.as_ref().map(task_models).unwrap_or_default());
    // The wording under test, else the task's own (the robot's, where the task has none).
    let instruction = match spec.wording {
        Some(w) => w.to_string(),
        None if summary.instruction.is_empty() => reset.instruction,
        None => summary.instruction,
    };
    let mut robot = ZenohRobot {
        session: session.clone(),
        keys: keys.clone(),
        skill_timeout: timeouts::SKILL,
        observe_timeout: timeouts::OBSERVE,
        estop: None,
        sender: None,
    };
    let dash = episode_dashboard(dashboard, spec, &instruction);
    // Each episode starts with an empty prefix cache: its record (LM tokens, passes) must not
    // depend on which episodes its worker happened to run before.
    planner.lm.clear_prefix_cache();
    let (result, abort) = run_closed_loop(planner, &mut Watched { robot: &mut robot, dashboard: &dash }, &instruction, spec.method, &mut |e| dash.event(&e))?;
    let verdict = ask(EpisodeRequestBody::Judge)?;
    let success = verdict.success.unwrap_or(false);
    dash.episode_result(success, verdict.reason.as_deref());
    let outcome = Outcome { instruction, result, abort, success, reason: verdict.reason, started, sim_seconds: verdict.sim_seconds };
    Ok(record(planner, spec, outcome))
}

/// An episode twice: with skills that never fail (planning success, not logged to the
/// dashboard) and with the simulated failures (execution success, the record's steps).
fn planned_and_executed(run: &mut dyn FnMut(bool, &Dashboard) -> Result<EpisodeRecord, EvalError>, dashboard: &Dashboard) -> Result<EpisodeRecord, EvalError> {
    let planned = run(false, &Dashboard::disabled())?;
    let mut executed = run(true, dashboard)?;
    executed.planning_success = Some(planned.success);
    Ok(executed)
}

/// The dashboard of one episode: its own entity subtree, so episodes run in parallel do not mix.
fn episode_dashboard(dashboard: &Dashboard, spec: &EpisodeSpec<'_>, instruction: &str) -> Dashboard {
    if !dashboard.is_enabled() {
        return dashboard.clone();
    }
    let d = dashboard.scoped(&format!("eval/{}/{}/{}", spec.method, spec.task.id(), spec.episode));
    d.instruction(instruction);
    d
}

/// How an episode went.
struct Outcome {
    instruction: String,
    result: crate::planner::PlanResult,
    abort: Option<String>,
    success: bool,
    reason: Option<String>,
    started: Instant,
    sim_seconds: f64,
}

fn record(planner: &Planner, spec: &EpisodeSpec<'_>, outcome: Outcome) -> EpisodeRecord {
    let Outcome { instruction, result, abort, success, reason, started, sim_seconds } = outcome;
    let steps = result
        .steps
        .iter()
        .map(|s| {
            let (success, reason) = match &s.outcome {
                StepOutcome::Failed(r) | StepOutcome::Infeasible(r) => (false, Some(r.clone())),
                _ => (true, None),
            };
            StepRecord { skill: s.skill.clone(), success, reason, departure_nats: s.departure.as_ref().map(|d| d.nats) }
        })
        .collect();
    EpisodeRecord {
        task: spec.task.id().to_string(),
        row: spec.task.row().to_string(),
        method: spec.method,
        episode: spec.episode,
        seed: spec.seed,
        instruction,
        wording: WordingKind::Template,
        wording_line: None,
        steps,
        end: result.end.clone(),
        success: success && abort.is_none(),
        planning_success: None,
        reason: abort.or(reason),
        lm_tokens: result.tokens.total(),
        lm_passes: result.tokens.forward_passes,
        choosing_seconds: result.timing.choosing.as_secs_f64(),
        wall_seconds: started.elapsed().as_secs_f64(),
        sim_seconds,
        grounded_models: planner.models_in_use(),
        lm_threads: planner.lm.threads(),
    }
}

/// Run the whole evaluation on `workers` threads; `progress(done, total, record)` after each
/// episode, with its record (in the order episodes finish), so that a caller can keep every
/// finished episode should the run be cut short.
pub fn run(config: &EvalConfig, progress: &(dyn Fn(usize, usize, &EpisodeRecord) + Sync)) -> Result<Vec<EpisodeRecord>, EvalError> {
    if config.episodes == 0 || config.methods.is_empty() || config.tasks.is_empty() {
        return Err(EvalError::Config("need at least one task, one method and one episode".into()));
    }
    config.planner.config.validate().map_err(|e| EvalError::Config(e.to_string()))?;
    let jobs = jobs(config)?;
    let total = jobs.len();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<EpisodeRecord, String>>>> = Mutex::new(vec![None; total]);
    let workers = match &config.transport {
        Transport::Robots(r) => r.robots.len().clamp(1, total),
        _ => config.workers.clamp(1, total),
    };
    let first_error: Mutex<Option<EvalError>> = Mutex::new(None);
    // Over zenoh: one session, and per worker a sim node and a policy node of its own robot id.
    if let Some(t) = config.tasks.iter().find(|t| !t.domain.simulated() && !matches!(config.transport, Transport::Robots(_))) {
        return Err(EvalError::Config(format!(
            "{t:?}: grounded has no simulator for domain {}; its episodes play on the robot: evaluate on it with --robot R --connect ENDPOINT",
            t.domain.id()
        )));
    }
    let net = match &config.transport {
        Transport::Local => None,
        Transport::Zenoh => Some(start_nodes(workers, config.observation_noise)?),
        Transport::Robots(r) => Some(reach_robots(r)?),
    };
    std::thread::scope(|scope| {
        for w in 0..workers {
            let next = &next;
            let done = &done;
            let results = &results;
            let first_error = &first_error;
            let jobs = &jobs;
            let net = net.as_ref();
            scope.spawn(move || {
                let affordance = net.map(|n| grounding::Affordance::new(RobotSkills::of(&config.tasks, &n.session, &n.keys[w]), config.planner.config.floor));
                let mut planner = match config.planner.build(affordance, true) {
                    Ok(p) => p,
                    Err(e) => {
                        if let Ok(mut slot) = first_error.lock() {
                            slot.get_or_insert(EvalError::Config(e.to_string()));
                        }
                        return;
                    }
                };
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= total {
                        break;
                    }
                    let Job { task, episode, seed, method, ref wording } = jobs[i];
                    let spec = EpisodeSpec { task: &task, episode, seed, method, wording: wording.as_ref().map(|(_, t)| t.as_str()) };
                    let options = WorldOptions { observation_noise: config.observation_noise, skill_failures: true, ..WorldOptions::default() };
                    let mut run_one = |skill_failures: bool, dash: &Dashboard| match net {
                        None => run_episode(&mut planner, &spec, &WorldOptions { skill_failures, ..options }, dash),
                        Some(n) => run_episode_zenoh(&mut planner, (&n.session, &n.keys[w]), &spec, skill_failures, dash),
                    };
                    let record =
                        if task.domain.measures_planning() { planned_and_executed(&mut run_one, &config.dashboard) } else { run_one(true, &config.dashboard) }
                            .map(|mut r| {
                                if let Some((line, _)) = wording {
                                    r.wording = WordingKind::Reworded;
                                    r.wording_line = Some(*line);
                                }
                                r
                            })
                            .map_err(|e| e.to_string());
                    let finished = done.fetch_add(1, Ordering::SeqCst) + 1;
                    if let Ok(r) = &record {
                        progress(finished, total, r);
                    }
                    if let Ok(mut r) = results.lock() {
                        r[i] = Some(record);
                    }
                }
            });
        }
    });
    if let Some(n) = net {
        n.runtime.block_on(async {
            let _ = n.session.close().await;
        });
    }
    if let Some(e) = first_error.into_inner().ok().flatten() {
        return Err(e);
    }
    let results = results.into_inner().map_err(|_| EvalError::Config("a worker panicked".into()))?;
    let mut out = Vec::with_capacity(total);
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Some(Ok(rec)) => out.push(rec),
            Some(Err(e)) => return Err(EvalError::Config(format!("episode {i} failed to run: {e}"))),
            None => return Err(EvalError::Config(format!("episode {i} was never run"))),
        }
    }
    Ok(out)
}

/// One episode to run: a task's episode with a method, in the task's own words or in a
/// wording of the file (its line and its text, slots filled from the episode).
#[derive(Clone, Debug)]
struct Job {
    task: EvalTask,
    episode: usize,
    seed: u64,
    method: Method,
    wording: Option<(usize, String)>,
}

/// Every episode of an evaluation, in (task, wording, episode, method) order: each wording
/// of a task runs on the same seeds as the task's own.
fn jobs(config: &EvalConfig) -> Result<Vec<Job>, EvalError> {
    for w in &config.wordings {
        if !config.tasks.iter().any(|t| t.id() == w.task) {
            return Err(EvalError::Config(format!("line {}: task {} is not among the tasks evaluated", w.line, w.task)));
        }
    }
    let mut jobs = Vec::new();
    for task in &config.tasks {
        let wordings: Vec<Option<&Wording>> = std::iter::once(None).chain(config.wordings.iter().filter(|w| w.task == task.id()).map(Some)).collect();
        for wording in wordings {
            for episode in 0..config.episodes {
                let seed = config.seed.wrapping_mul(1000).wrapping_add(episode as u64);
                let text = match wording {
                    None => None,
                    Some(w) => Some((w.line, task.slots(seed).fill(&w.text).map_err(|e| EvalError::Config(format!("line {}: {e}", w.line)))?)),
                };
                for &method in &config.methods {
                    jobs.push(Job { task: *task, episode, seed, method, wording: text.clone() });
                }
            }
        }
    }
    Ok(jobs)
}

/// How many episodes an evaluation runs (for a progress bar).
pub fn episode_count(config: &EvalConfig) -> usize {
    let lines = config.wordings.iter().filter(|w| config.tasks.iter().any(|t| t.id() == w.task)).count();
    (config.tasks.len() + lines) * config.episodes * config.methods.len()
}

/// The zenoh side of an evaluation: a runtime, a session, and each worker's robot keys.
struct Nodes {
    runtime: tokio::runtime::Runtime,
    session: zenoh::Session,
    keys: Vec<protocol::keys::RobotKeys>,
}

/// Reach robots that are already running: every one must show its sim and policy.
fn reach_robots(robots: &Robots) -> Result<Nodes, EvalError> {
    use crate::nodes::{client, timeouts};
    use protocol::keys::{Component, RobotKeys};
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(|e| EvalError::Config(e.to_string()))?;
    let session = runtime.block_on(robots.zenoh.open()).map_err(|e| EvalError::Config(e.to_string()))?;
    let keys: Vec<RobotKeys> = robots.robots.iter().cloned().map(RobotKeys::new).collect();
    for k in &keys {
        client::wait_for_blocking(&session, k, &[Component::Sim, Component::Policy], timeouts::COMPONENTS_UP)
            .map_err(|e| EvalError::Config(format!("robot {}: {e} (is it running, and does --connect reach it?)", k.robot())))?;
    }
    Ok(Nodes { runtime, session, keys })
}

/// The affordance of the tasks' skills as one robot gives it, each observation's domain its
/// own way ([`Domain::robot_skills`]).
struct RobotSkills(Vec<(protocol::Domain, Box<dyn grounding::SkillSpace>)>);

impl RobotSkills {
    fn of(tasks: &[EvalTask], session: &zenoh::Session, keys: &protocol::keys::RobotKeys) -> Self {
        let mut spaces: Vec<(protocol::Domain, Box<dyn grounding::SkillSpace>)> = Vec::new();
        for t in tasks {
            if !spaces.iter().any(|(d, _)| *d == t.domain.id()) {
                spaces.push((t.domain.id(), t.domain.robot_skills(session, keys)));
            }
        }
        Self(spaces)
    }

    fn space(&self, obs: &protocol::Observation) -> Result<&dyn grounding::SkillSpace, grounding::GroundingError> {
        self.0.iter().find(|(d, _)| *d == obs.domain).map(|(_, s)| s.as_ref()).ok_or_else(|| grounding::GroundingError::Model {
            model: "affordance".into(),
            message: format!("the robot observes domain {}, which no task evaluated is of", obs.domain),
        })
    }
}

impl grounding::SkillSpace for RobotSkills {
    fn admissible(&self, obs: &protocol::Observation) -> Result<Vec<grounding::ScoredSkill>, grounding::GroundingError> {
        self.space(obs)?.admissible(obs)
    }

    fn prefix_model<'a>(&'a self, obs: &protocol::Observation) -> Result<Option<Box<dyn grounding::BoundModel + 'a>>, grounding::GroundingError> {
        self.space(obs)?.prefix_model(obs)
    }

    fn conceivable(&self, obs: &protocol::Observation) -> Result<Option<Vec<String>>, grounding::GroundingError> {
        self.space(obs)?.conceivable(obs)
    }
}

fn start_nodes(workers: usize, noise: f64) -> Result<Nodes, EvalError> {
    use crate::nodes::{client, common::CommonArgs, policy, sim as sim_node, timeouts};
    use protocol::keys::{Component, RobotId, RobotKeys};
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(|e| EvalError::Config(e.to_string()))?;
    let session = runtime.block_on(CommonArgs { mode: Some("peer".into()), ..CommonArgs::default() }.open()).map_err(|e| EvalError::Config(e.to_string()))?;
    let mut keys = Vec::new();
    for w in 0..workers {
        let id = RobotId::new(&format!("eval-{}-{w}", std::process::id())).map_err(|e| EvalError::Config(e.to_string()))?;
        let k = RobotKeys::new(id);
        let state = crate::nodes::sim::SimState::new("matching-bowls", 0, noise).map_err(EvalError::Config)?;
        runtime.spawn(sim_node::run(session.clone(), k.clone(), state));
        runtime.spawn(policy::run(session.clone(), k.clone(), timeouts::PRIMITIVE));
        client::wait_for_blocking(&session, &k, &[Component::Sim, Component::Policy], timeouts::COMPONENTS_UP)
            .map_err(|e| EvalError::Config(format!("worker {w}: {e}")))?;
        keys.push(k);
    }
    Ok(Nodes { runtime, session, keys })
}

/// The columns of the tables: each method, and within it each wording present (the task's
/// own and, with `--instructions`, the file's).
fn columns(records: &[EpisodeRecord], methods: &[Method]) -> Vec<(Method, WordingKind)> {
    let kinds: Vec<WordingKind> = [WordingKind::Template, WordingKind::Reworded].into_iter().filter(|k| records.iter().any(|r| r.wording == *k)).collect();
    methods.iter().flat_map(|m| kinds.iter().map(move |k| (*m, *k))).collect()
}

fn column_label(column: (Method, WordingKind), reworded: bool) -> String {
    if reworded {
        format!("{} {}", column.0, column.1)
    } else {
        column.0.to_string()
    }
}

fn header(out: &mut String, first: &str, columns: &[(Method, WordingKind)]) {
    use std::fmt::Write;
    let reworded = columns.iter().any(|c| c.1 == WordingKind::Reworded);
    let _ = write!(out, "| {first} |");
    for c in columns {
        let _ = write!(out, " {} |", column_label(*c, reworded));
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "|---|{}", "---:|".repeat(columns.len()));
}

/// Markdown tables of success rates, tokens and time, shaped like the paper's (docs/method.md); with other wordings
/// (`--instructions`), each method's template and reworded success side by side.
pub fn tables(records: &[EpisodeRecord], methods: &[Method]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let columns = columns(records, methods);
    header(&mut out, "split / family", &columns);
    let cell = |out: &mut String, successes: usize, episodes: usize| {
        let pct = if episodes == 0 { 0.0 } else { 100.0 * successes as f64 / episodes as f64 };
        let _ = write!(out, " {pct:.0}% ({successes}/{episodes}) |");
    };
    // One line per row: success_rates gives each row's cells in column order.
    let rates = success_rates(records, methods);
    let rows: Vec<&[SuccessRate]> = rates.chunks(columns.len().max(1)).collect();
    for row in &rows {
        let _ = write!(out, "| {} |", row[0].row);
        for r in row.iter() {
            cell(&mut out, r.successes, r.episodes);
        }
        let _ = writeln!(out);
    }
    // With other wordings, a total over the rows (the kitchen's planning and execution apart).
    let reworded = columns.iter().any(|c| c.1 == WordingKind::Reworded);
    if reworded && rows.len() > 1 {
        for kind in ["", PLANNING, EXECUTION] {
            let of_kind: Vec<&&[SuccessRate]> = rows
                .iter()
                .filter(|r| if kind.is_empty() { !r[0].row.ends_with(PLANNING) && !r[0].row.ends_with(EXECUTION) } else { r[0].row.ends_with(kind) })
                .collect();
            if of_kind.is_empty() {
                continue;
            }
            let _ = write!(out, "| **all{}{kind}** |", if kind.is_empty() { "" } else { ", " });
            for c in 0..columns.len() {
                cell(&mut out, of_kind.iter().map(|r| r[c].successes).sum(), of_kind.iter().map(|r| r[c].episodes).sum());
            }
            let _ = writeln!(out);
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "| method | LM tokens per plan (mean) | wall time per episode (s, mean) | simulated time per episode (s, mean) |");
    let _ = writeln!(out, "|---|---:|---:|---:|");
    for c in &columns {
        let rs: Vec<&EpisodeRecord> = records.iter().filter(|r| r.method == c.0 && r.wording == c.1).collect();
        let n = rs.len().max(1) as f64;
        let tokens = rs.iter().map(|r| r.lm_tokens as f64).sum::<f64>() / n;
        let wall = rs.iter().map(|r| r.wall_seconds).sum::<f64>() / n;
        let simt = rs.iter().map(|r| r.sim_seconds).sum::<f64>() / n;
        let _ = writeln!(out, "| {} | {tokens:.0} | {wall:.2} | {simt:.1} |", column_label(*c, reworded));
    }
    out
}

/// Per-template success, for looking closer.
pub fn per_task(records: &[EpisodeRecord], methods: &[Method]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let columns = columns(records, methods);
    header(&mut out, "task", &columns);
    let mut tasks: Vec<&str> = Vec::new();
    for r in records {
        if !tasks.contains(&r.task.as_str()) {
            tasks.push(&r.task);
        }
    }
    for t in tasks {
        let _ = write!(out, "| {t} |");
        for c in &columns {
            let rs: Vec<&EpisodeRecord> = records.iter().filter(|r| r.task == t && r.method == c.0 && r.wording == c.1).collect();
            let ok = rs.iter().filter(|r| r.success).count();
            let _ = write!(out, " {ok}/{} |", rs.len());
        }
        let _ = writeln!(out);
    }
    out
}

/// Success of each line of the `--instructions` file, against its task's own wording on
/// the same episodes (kitchen: execution success).
pub fn per_wording(records: &[EpisodeRecord], methods: &[Method], wordings: &[Wording]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = write!(out, "| line | task | instruction |");
    for m in methods {
        let _ = write!(out, " {m} |");
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "|---:|---|---|{}", "---:|".repeat(methods.len()));
    for w in wordings {
        let _ = write!(out, "| {} | {} | {} |", w.line, w.task, w.text.replace('|', "\\|"));
        for m in methods {
            let rs: Vec<&EpisodeRecord> = records.iter().filter(|r| r.wording_line == Some(w.line) && r.method == *m).collect();
            let template = records.iter().filter(|r| r.wording == WordingKind::Template && r.task == w.task && r.method == *m);
            let (ok, base) = (rs.iter().filter(|r| r.success).count(), template.filter(|r| r.success).count());
            let _ = write!(out, " {ok}/{} (template {base}) |", rs.len());
        }
        let _ = writeln!(out);
    }
    out
}

/// One cell of the success table: a row of the paper's table, a method and a wording.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SuccessRate {
    pub row: String,
    pub method: Method,
    pub wording: WordingKind,
    pub successes: usize,
    pub episodes: usize,
}

/// The success table as data (the rows present in `records`, in the paper's order; in each,
/// the methods in order, and for each method its wordings, template first).
pub fn success_rates(records: &[EpisodeRecord], methods: &[Method]) -> Vec<SuccessRate> {
    let columns = columns(records, methods);
    let mut out = Vec::new();
    for label in row_order() {
        // A kitchen row counts planning or execution success of its split's records.
        let (split, planning) = match (label.strip_suffix(&format!(" {PLANNING}")), label.strip_suffix(&format!(" {EXECUTION}"))) {
            (Some(split), _) => (split, true),
            (_, Some(split)) => (split, false),
            _ => (label.as_str(), false),
        };
        if !records.iter().any(|r| r.row == split) {
            continue;
        }
        for &(m, wording) in &columns {
            let rs: Vec<&EpisodeRecord> = records.iter().filter(|r| r.row == split && r.method == m && r.wording == wording).collect();
            let successes = rs.iter().filter(|r| if planning { r.planning_success == Some(true) } else { r.success }).count();
            out.push(SuccessRate { row: label.clone(), method: m, wording, successes, episodes: rs.len() });
        }
    }
    out
}
