//! `grounded eval`: every task template, N episodes per method, closed-loop in the physics
//! simulation, success judged on ground truth; tables in the shape of PAPER.md's.
//!
//! Reproducible: episode `i` of a task uses scene seed `seed * 1000 + i` for every method,
//! every episode is deterministic (scene, physics, decoding), and results are ordered by
//! (task, episode, method) whatever the worker scheduling.

use crate::controller::{run_closed_loop, LocalRobot, LocalWorld, SkillWorld};
use crate::dashboard::{Dashboard, Watched};
use crate::decoder::DecodeConfig;
use crate::lm::{LanguageModel, LmError};
use crate::planner::{Method, PlanEnd, PlanError, Planner, StepOutcome, Weighted};
use grounding::{Preference, PreferenceConfig, Safety, SafetyConfig, SafetyMode};
use policies::PickPlace;
use serde::Serialize;
use sim::tasks::{Row, TaskGrounding};
use sim::grid::{Difficulty, GridWorld, Level};
use sim::kitchen::{KitchenConfig, KitchenTask, KitchenWorld, Split as KitchenSplit};
use sim::{generate, judge, Task, World, WorldConfig};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// One task of an evaluation: a tabletop template, a grid level or a kitchen instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvalTask {
    Tabletop(Task),
    Grid(Level),
    Kitchen(KitchenTask),
}

impl EvalTask {
    pub fn id(&self) -> &'static str {
        match self {
            EvalTask::Tabletop(t) => t.id,
            EvalTask::Grid(l) => l.id(),
            EvalTask::Kitchen(t) => t.id,
        }
    }

    /// The row of PAPER.md's table the task counts in.
    pub fn row(&self) -> &'static str {
        match self {
            EvalTask::Tabletop(t) => t.row().label(),
            EvalTask::Grid(l) => l.difficulty().label(),
            EvalTask::Kitchen(t) => t.split.label(),
        }
    }

    /// Every task of a domain.
    pub fn all(domain: protocol::Domain) -> Vec<EvalTask> {
        match domain {
            protocol::Domain::Tabletop => sim::TASKS.iter().map(|t| EvalTask::Tabletop(*t)).collect(),
            protocol::Domain::Grid => Level::ALL.iter().map(|l| EvalTask::Grid(*l)).collect(),
            protocol::Domain::Kitchen => sim::kitchen::TASKS.iter().map(|t| EvalTask::Kitchen(*t)).collect(),
        }
    }

    /// A task of a domain by its id.
    pub fn named(domain: protocol::Domain, id: &str) -> Option<EvalTask> {
        Self::all(domain).into_iter().find(|t| t.id() == id)
    }
}

/// The rows of the tables, in PAPER.md's order; a kitchen split has two (planning success,
/// execution success).
fn row_order() -> Vec<String> {
    let kitchen = KitchenSplit::ALL.iter().flat_map(|s| [format!("{} {PLANNING}", s.label()), format!("{} {EXECUTION}", s.label())]);
    Row::ALL.iter().map(|r| r.label().to_string()).chain(Difficulty::ALL.iter().map(|d| d.label().to_string())).chain(kitchen).collect()
}

/// The suffixes of the kitchen's rows.
const PLANNING: &str = "planning";
const EXECUTION: &str = "execution";

#[derive(Clone, Debug)]
pub struct EvalConfig {
    pub model: PathBuf,
    pub decode: DecodeConfig,
    pub methods: Vec<Method>,
    pub tasks: Vec<EvalTask>,
    pub episodes: usize,
    pub seed: u64,
    pub workers: usize,
    pub observation_noise: f64,
    pub transport: Transport,
    /// Where each episode is logged (under `eval/<method>/<task>/<episode>/`); off by default.
    pub dashboard: crate::dashboard::Dashboard,
}

/// How the controller reaches the simulator and the policy during an evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Transport {
    /// Over zenoh, as in the demo and the daemon: each worker has a sim and a policy node of
    /// its own robot id on one in-process session.
    Zenoh,
    /// Direct calls in each worker (same code paths for decoding, policy and physics).
    Local,
}

/// One step of an episode's plan.
#[derive(Clone, Debug, Serialize)]
pub struct StepRecord {
    pub skill: String,
    pub success: bool,
    pub reason: Option<String>,
}

/// Everything about one episode.
#[derive(Clone, Debug, Serialize)]
pub struct EpisodeRecord {
    pub task: String,
    pub row: String,
    pub method: Method,
    pub episode: usize,
    pub seed: u64,
    pub instruction: String,
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
    pub wall_seconds: f64,
    pub sim_seconds: f64,
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

/// Run one episode in this thread.
pub fn run_episode(planner: &mut Planner, task: &Task, episode: usize, seed: u64, method: Method, noise: f64, dashboard: &Dashboard) -> Result<EpisodeRecord, EvalError> {
    let started = Instant::now();
    let ep = generate(task, seed);
    planner.others = task_models(&ep.grounding);
    let world = World::new(&ep.scene, WorldConfig { observation_noise: noise, noise_seed: seed, ..WorldConfig::default() });
    let mut robot = LocalRobot { arm: world, policy: PickPlace::default() };
    let dash = episode_dashboard(dashboard, task.id, episode, method, &ep.instruction);
    let (result, abort) = run_closed_loop(planner, &mut Watched { robot: &mut robot, dashboard: &dash }, &ep.instruction, method, &mut |e| dash.event(&e))?;
    let truth = robot.arm.ground_truth();
    let verdict = judge(&ep, &truth);
    let (success, reason) = (verdict.is_ok(), verdict.err());
    dash.episode_result(success, reason.as_deref());
    Ok(record(&EvalTask::Tabletop(*task), episode, seed, method, &ep.instruction, &result, abort, success, reason, started, robot.arm.sim_seconds()))
}

#[allow(clippy::too_many_arguments)]
/// Run one episode through zenoh: reset the worker's sim to the task, plan closed-loop with
/// the policy node executing, judge on the sim's ground truth.
pub fn run_episode_zenoh(
    planner: &mut Planner,
    session: &zenoh::Session,
    keys: &protocol::keys::RobotKeys,
    task: &EvalTask,
    episode: usize,
    seed: u64,
    method: Method,
    skill_failures: bool,
    dashboard: &Dashboard,
) -> Result<EpisodeRecord, EvalError> {
    use crate::nodes::common::query_one;
    use crate::nodes::remote::ZenohRobot;
    use protocol::messages::{EpisodeReply, EpisodeRequest, EpisodeRequestBody};
    use std::time::Duration;
    let started = Instant::now();
    let ask = |body: EpisodeRequestBody| -> Result<EpisodeReply, EvalError> {
        let req = EpisodeRequest { schema: protocol::SCHEMA_VERSION, body };
        query_one(session, &keys.episode(), &req, Duration::from_secs(10)).map_err(|e| EvalError::Config(e.to_string()))?.map_err(EvalError::Config)
    };
    let reset = ask(EpisodeRequestBody::Reset { task: task.id().to_string(), seed, skill_failures: Some(skill_failures) })?;
    planner.others = match task {
        EvalTask::Tabletop(t) => task_models(&generate(t, seed).grounding),
        EvalTask::Grid(_) | EvalTask::Kitchen(_) => Vec::new(),
    };
    let instruction = reset.instruction;
    let mut robot = ZenohRobot { session: session.clone(), keys: keys.clone(), skill_timeout: Duration::from_secs(60), observe_timeout: Duration::from_secs(5), estop: None };
    let dash = episode_dashboard(dashboard, task.id(), episode, method, &instruction);
    let (result, abort) = run_closed_loop(planner, &mut Watched { robot: &mut robot, dashboard: &dash }, &instruction, method, &mut |e| dash.event(&e))?;
    let verdict = ask(EpisodeRequestBody::Judge)?;
    dash.episode_result(verdict.success.unwrap_or(false), verdict.reason.as_deref());
    Ok(record(task, episode, seed, method, &instruction, &result, abort, verdict.success.unwrap_or(false), verdict.reason, started, verdict.sim_seconds))
}

/// Run one grid episode in this thread.
pub fn run_grid_episode(planner: &mut Planner, level: Level, episode: usize, seed: u64, method: Method, dashboard: &Dashboard) -> Result<EpisodeRecord, EvalError> {
    let ep = sim::grid::episode(level, seed);
    let world = GridWorld::new(&ep);
    run_world_episode(planner, EvalTask::Grid(level), episode, seed, method, &ep.instruction, world, |w| sim::grid::judge(&ep, w), dashboard)
}

/// Run one kitchen episode in this thread, with the simulated skills failing as configured.
pub fn run_kitchen_episode(planner: &mut Planner, task: KitchenTask, episode: usize, seed: u64, method: Method, config: KitchenConfig, dashboard: &Dashboard) -> Result<EpisodeRecord, EvalError> {
    let ep = sim::kitchen::episode(task, seed);
    let world = KitchenWorld::new(&ep, config);
    run_world_episode(planner, EvalTask::Kitchen(task), episode, seed, method, &ep.instruction, world, |w| sim::kitchen::judge(&ep, w), dashboard)
}

/// Plan closed-loop in a world whose policies run in this process, then judge it.
#[allow(clippy::too_many_arguments)]
fn run_world_episode<W: SkillWorld>(
    planner: &mut Planner,
    task: EvalTask,
    episode: usize,
    seed: u64,
    method: Method,
    instruction: &str,
    world: W,
    judge: impl Fn(&W) -> Result<(), String>,
    dashboard: &Dashboard,
) -> Result<EpisodeRecord, EvalError> {
    let started = Instant::now();
    planner.others = Vec::new();
    let mut robot = LocalWorld(world);
    let dash = episode_dashboard(dashboard, task.id(), episode, method, instruction);
    let (result, abort) = run_closed_loop(planner, &mut Watched { robot: &mut robot, dashboard: &dash }, instruction, method, &mut |e| dash.event(&e))?;
    let verdict = judge(&robot.0);
    let (success, reason) = (verdict.is_ok(), verdict.err());
    dash.episode_result(success, reason.as_deref());
    Ok(record(&task, episode, seed, method, instruction, &result, abort, success, reason, started, robot.0.sim_seconds()))
}

/// A kitchen episode twice: with skills that never fail (planning success, not logged to
/// the dashboard) and with the simulated failures (execution success, the record's steps).
fn kitchen_twice(run: &mut dyn FnMut(bool, &Dashboard) -> Result<EpisodeRecord, EvalError>, dashboard: &Dashboard) -> Result<EpisodeRecord, EvalError> {
    let planned = run(false, &Dashboard::disabled())?;
    let mut executed = run(true, dashboard)?;
    executed.planning_success = Some(planned.success);
    Ok(executed)
}

/// The dashboard of one episode: its own entity subtree, so episodes run in parallel do not mix.
fn episode_dashboard(dashboard: &Dashboard, task: &str, episode: usize, method: Method, instruction: &str) -> Dashboard {
    if !dashboard.is_enabled() {
        return dashboard.clone();
    }
    let d = dashboard.scoped(&format!("eval/{method}/{task}/{episode}"));
    d.instruction(instruction);
    d
}

#[allow(clippy::too_many_arguments)]
fn record(
    task: &EvalTask,
    episode: usize,
    seed: u64,
    method: Method,
    instruction: &str,
    result: &crate::planner::PlanResult,
    abort: Option<String>,
    success: bool,
    reason: Option<String>,
    started: Instant,
    sim_seconds: f64,
) -> EpisodeRecord {
    let steps = result
        .steps
        .iter()
        .map(|s| match &s.outcome {
            StepOutcome::Failed(r) | StepOutcome::Infeasible(r) => StepRecord { skill: s.skill.clone(), success: false, reason: Some(r.clone()) },
            _ => StepRecord { skill: s.skill.clone(), success: true, reason: None },
        })
        .collect();
    EpisodeRecord {
        task: task.id().to_string(),
        row: task.row().to_string(),
        method,
        episode,
        seed,
        instruction: instruction.to_string(),
        steps,
        end: result.end.clone(),
        success: success && abort.is_none(),
        planning_success: None,
        reason: abort.or(reason),
        lm_tokens: result.tokens.total(),
        wall_seconds: started.elapsed().as_secs_f64(),
        sim_seconds,
    }
}

/// Run the whole evaluation on `workers` threads; `progress(done, total)` after each episode.
pub fn run(config: &EvalConfig, progress: &(dyn Fn(usize, usize) + Sync)) -> Result<Vec<EpisodeRecord>, EvalError> {
    if config.episodes == 0 || config.methods.is_empty() || config.tasks.is_empty() {
        return Err(EvalError::Config("need at least one task, one method and one episode".into()));
    }
    config.decode.validate().map_err(|e| EvalError::Config(e.to_string()))?;
    let mut jobs = Vec::new();
    for task in &config.tasks {
        for episode in 0..config.episodes {
            for &method in &config.methods {
                jobs.push((*task, episode, config.seed.wrapping_mul(1000).wrapping_add(episode as u64), method));
            }
        }
    }
    let total = jobs.len();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<EpisodeRecord, String>>>> = Mutex::new(vec![None; total]);
    let workers = config.workers.clamp(1, total);
    let first_error: Mutex<Option<EvalError>> = Mutex::new(None);
    // Over zenoh: one session, and per worker a sim node and a policy node of its own robot id.
    let net = match config.transport {
        Transport::Local => None,
        Transport::Zenoh => Some(start_nodes(workers, config.observation_noise)?),
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
                let lm = match LanguageModel::load(&config.model, 1) {
                    Ok(lm) => lm,
                    Err(e) => {
                        if let Ok(mut slot) = first_error.lock() {
                            slot.get_or_insert(e.into());
                        }
                        return;
                    }
                };
                let mut planner = match net {
                    None => Planner::any_domain(lm, config.decode.clone()),
                    Some(n) => {
                        let space = crate::nodes::remote::RemoteSkillSpace { session: n.session.clone(), keys: n.keys[w].clone(), timeout: std::time::Duration::from_secs(5) };
                        Planner::with_affordance(lm, config.decode.clone(), grounding::Affordance::new(space, config.decode.floor))
                    }
                };
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= total {
                        break;
                    }
                    let (task, episode, seed, method) = jobs[i];
                    let record = match (net, task) {
                        (None, EvalTask::Tabletop(task)) => run_episode(&mut planner, &task, episode, seed, method, config.observation_noise, &config.dashboard),
                        (None, EvalTask::Grid(level)) => run_grid_episode(&mut planner, level, episode, seed, method, &config.dashboard),
                        (None, EvalTask::Kitchen(t)) => kitchen_twice(
                            &mut |failures, dash| {
                                let kc = if failures { KitchenConfig::default() } else { KitchenConfig::PERFECT };
                                run_kitchen_episode(&mut planner, t, episode, seed, method, kc, dash)
                            },
                            &config.dashboard,
                        ),
                        (Some(n), EvalTask::Kitchen(_)) => kitchen_twice(&mut |failures, dash| run_episode_zenoh(&mut planner, &n.session, &n.keys[w], &task, episode, seed, method, failures, dash), &config.dashboard),
                        (Some(n), _) => run_episode_zenoh(&mut planner, &n.session, &n.keys[w], &task, episode, seed, method, true, &config.dashboard),
                    }
                    .map_err(|e| e.to_string());
                    if let Ok(mut r) = results.lock() {
                        r[i] = Some(record);
                    }
                    progress(done.fetch_add(1, Ordering::SeqCst) + 1, total);
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

/// The zenoh side of an evaluation: a runtime, a session, and each worker's robot keys.
struct Nodes {
    runtime: tokio::runtime::Runtime,
    session: zenoh::Session,
    keys: Vec<protocol::keys::RobotKeys>,
}

fn start_nodes(workers: usize, noise: f64) -> Result<Nodes, EvalError> {
    use crate::nodes::{common::CommonArgs, policy, sim as sim_node};
    use protocol::keys::{Component, RobotId, RobotKeys};
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(|e| EvalError::Config(e.to_string()))?;
    let session = runtime.block_on(CommonArgs { mode: "peer".into(), ..CommonArgs::default() }.open()).map_err(|e| EvalError::Config(e.to_string()))?;
    let mut keys = Vec::new();
    for w in 0..workers {
        let id = RobotId::new(&format!("eval-{}-{w}", std::process::id())).map_err(|e| EvalError::Config(e.to_string()))?;
        let k = RobotKeys::new(id);
        let state = crate::nodes::sim::SimState::new("matching-bowls", 0, noise).map_err(EvalError::Config)?;
        runtime.spawn(sim_node::run(session.clone(), k.clone(), state));
        runtime.spawn(policy::run(session.clone(), k.clone(), std::time::Duration::from_secs(10)));
        for c in [Component::Sim, Component::Policy] {
            let key = k.alive(c);
            let up = (0..200).any(|_| {
                let ok = crate::nodes::common::alive(&session, &key);
                if !ok {
                    std::thread::sleep(std::time::Duration::from_millis(25));
                }
                ok
            });
            if !up {
                return Err(EvalError::Config(format!("the {} node of worker {w} did not start", c.name())));
            }
        }
        keys.push(k);
    }
    Ok(Nodes { runtime, session, keys })
}

/// PAPER.md-shaped Markdown tables of success rates, tokens and time.
pub fn tables(records: &[EpisodeRecord], methods: &[Method]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = write!(out, "| split / family |");
    for m in methods {
        let _ = write!(out, " {m} |");
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "|---|{}", "---:|".repeat(methods.len()));
    // One line per row: success_rates gives each row's cells in method order.
    for row in success_rates(records, methods).chunks(methods.len().max(1)) {
        let _ = write!(out, "| {} |", row[0].row);
        for r in row {
            let pct = if r.episodes == 0 { 0.0 } else { 100.0 * r.successes as f64 / r.episodes as f64 };
            let _ = write!(out, " {pct:.0}% ({}/{}) |", r.successes, r.episodes);
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "| method | LM tokens per plan (mean) | wall time per episode (s, mean) | simulated time per episode (s, mean) |");
    let _ = writeln!(out, "|---|---:|---:|---:|");
    for m in methods {
        let rs: Vec<&EpisodeRecord> = records.iter().filter(|r| r.method == *m).collect();
        let n = rs.len().max(1) as f64;
        let tokens = rs.iter().map(|r| r.lm_tokens as f64).sum::<f64>() / n;
        let wall = rs.iter().map(|r| r.wall_seconds).sum::<f64>() / n;
        let simt = rs.iter().map(|r| r.sim_seconds).sum::<f64>() / n;
        let _ = writeln!(out, "| {m} | {tokens:.0} | {wall:.2} | {simt:.1} |");
    }
    out
}

/// Per-template success, for looking closer.
pub fn per_task(records: &[EpisodeRecord], methods: &[Method]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = write!(out, "| task |");
    for m in methods {
        let _ = write!(out, " {m} |");
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "|---|{}", "---:|".repeat(methods.len()));
    let mut tasks: Vec<&str> = Vec::new();
    for r in records {
        if !tasks.contains(&r.task.as_str()) {
            tasks.push(&r.task);
        }
    }
    for t in tasks {
        let _ = write!(out, "| {t} |");
        for m in methods {
            let rs: Vec<&EpisodeRecord> = records.iter().filter(|r| r.task == t && r.method == *m).collect();
            let ok = rs.iter().filter(|r| r.success).count();
            let _ = write!(out, " {ok}/{} |", rs.len());
        }
        let _ = writeln!(out);
    }
    out
}

/// One cell of the success table: a row of PAPER.md's table and a method.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SuccessRate {
    pub row: String,
    pub method: Method,
    pub successes: usize,
    pub episodes: usize,
}

/// The success table as data (the rows present in `records`, in PAPER.md's order).
pub fn success_rates(records: &[EpisodeRecord], methods: &[Method]) -> Vec<SuccessRate> {
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
        for m in methods {
            let rs: Vec<&EpisodeRecord> = records.iter().filter(|r| r.row == split && r.method == *m).collect();
            let successes = rs.iter().filter(|r| if planning { r.planning_success == Some(true) } else { r.success }).count();
            out.push(SuccessRate { row: label.clone(), method: *m, successes, episodes: rs.len() });
        }
    }
    out
}
