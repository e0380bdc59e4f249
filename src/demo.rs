//! `grounded demo`: one episode (tabletop, grid maze or kitchen), closed-loop, in one process with a real zenoh
//! session: the simulator, the policy and the controller daemon run as tasks and talk over
//! zenoh exactly as separate processes would.

use crate::dashboard::Dashboard;
use crate::eval::task_models;
use crate::nodes::common::{query_one, CommonArgs};
use crate::nodes::daemon::DaemonConfig;
use crate::nodes::sim::SimState;
use crate::nodes::{client, daemon, policy, sim as sim_node, timeouts};
use crate::planner::{Method, ModelInUse};
use crate::setup::PlannerOptions;
use grounding::Affordance;
use protocol::keys::{Component, RobotId, RobotKeys};
use protocol::messages::{EpisodeReply, EpisodeRequest, EpisodeRequestBody, PlanProgress, PlanStatus};
use protocol::SCHEMA_VERSION;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct DemoOptions {
    pub task: String,
    pub seed: u64,
    /// The user's own wording of the task (slots such as `{place}` filled from the
    /// episode); the episode's task still judges success. `None`: the task's own wording.
    pub instruction: Option<String>,
    pub method: Method,
    pub robot: RobotId,
    /// The model, decoder settings, the user's grounded models and weights, threads.
    pub planner: PlannerOptions,
    pub noise: f64,
    /// Grid cells the agent must never enter.
    pub forbidden: Vec<protocol::grid::Pos>,
    /// Longest the whole episode may take.
    pub timeout: Duration,
}

/// What the demo reports as it goes (printed as text, or as JSON lines with `--json`).
#[derive(Clone, Debug, serde::Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum DemoEvent {
    Scene {
        domain: protocol::Domain,
        task: String,
        seed: u64,
        robot: String,
        instruction: String,
        /// The task's own wording, when the user gave another.
        #[serde(skip_serializing_if = "Option::is_none")]
        task_instruction: Option<String>,
        method: Method,
        objects: Vec<protocol::SceneObject>,
        /// The grid maze, or the kitchen as the robot has seen it, as text.
        #[serde(skip_serializing_if = "Option::is_none")]
        map: Option<String>,
        /// How to read the map (text only).
        #[serde(skip)]
        legend: Option<&'static str>,
    },
    /// The grounded models the planner holds (names; with weights), and ONNX Runtime's
    /// threads for the language model.
    Models {
        grounded: Vec<String>,
        in_use: Vec<ModelInUse>,
        lm_threads: usize,
    },
    Decoding {
        step: usize,
    },
    Decoded {
        step: usize,
        skill: String,
        score: f32,
        lm_score: f32,
    },
    Executed {
        step: usize,
        skill: String,
        success: bool,
        reason: Option<String>,
    },
    PlanEnded {
        status: PlanStatus,
        reason: Option<String>,
        plan: String,
    },
    Verdict {
        success: bool,
        reason: Option<String>,
        sim_seconds: f64,
        /// Who checked the task.
        judge: Judge,
    },
}

/// Who judges an episode's success.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Judge {
    /// The simulator, on its ground truth.
    Simulator,
    /// The robot, with its own success check.
    Robot,
}

impl std::fmt::Display for DemoEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DemoEvent::Scene { domain, task, seed, robot, instruction, task_instruction, method, objects, map, legend } => {
                writeln!(f, "{domain} task {task} (seed {seed}), robot {robot}\nscene:")?;
                for o in objects {
                    let tags = if o.tags.is_empty() { String::new() } else { format!(" ({})", o.tags.join(", ")) };
                    writeln!(f, "  {:<14} {:?}{tags} at ({:+.2}, {:+.2})", o.name, o.kind, o.position[0], o.position[1])?;
                }
                if let Some(map) = map {
                    for line in map.lines() {
                        writeln!(f, "  {line}")?;
                    }
                    if let Some(legend) = legend {
                        writeln!(f, "  {legend}")?;
                    }
                }
                write!(f, "instruction: \"{instruction}\"")?;
                if let Some(own) = task_instruction {
                    write!(f, "\n  (your wording; the task's own is \"{own}\", and the task judges success)")?;
                }
                write!(f, "\nmethod: {method}")
            }
            DemoEvent::Models { in_use, .. } => {
                let named: Vec<String> =
                    in_use.iter().map(|m| if m.weight == 1.0 { m.name.clone() } else { format!("{} (weight {})", m.name, m.weight) }).collect();
                write!(f, "grounded models: {}", named.join(", "))
            }
            DemoEvent::Decoding { step } => write!(f, "decoding step {step} ..."),
            DemoEvent::Decoded { step, skill, score, lm_score } => {
                write!(f, "{step:>2}. {skill}.\n      score {score:.2}: LM {lm_score:.2}, grounded models and renormalisation {:+.2}", score - lm_score)
            }
            DemoEvent::Executed { success: true, .. } => write!(f, "      -> carried out by the policy"),
            DemoEvent::Executed { reason, .. } => write!(f, "      -> FAILED: {}", reason.clone().unwrap_or_default()),
            DemoEvent::PlanEnded { status, reason, .. } => {
                write!(f, "plan ended: {status:?}{}", reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default())
            }
            DemoEvent::Verdict { success, reason, judge, .. } => write!(
                f,
                "success ({}): {}{}",
                match judge {
                    Judge::Simulator => "judged on the simulator's ground truth",
                    Judge::Robot => "judged by the robot",
                },
                if *success { "yes" } else { "no" },
                reason.as_ref().map(|r| format!(" - {r}")).unwrap_or_default()
            ),
        }
    }
}

/// How the demo went.
#[derive(Clone, Debug)]
pub struct DemoOutcome {
    pub success: bool,
    pub reason: Option<String>,
    pub last: PlanProgress,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{0}")]
    Setup(String),
    #[error("zenoh: {0}")]
    Net(String),
    #[error("the episode did not finish within {0:.0} s")]
    Timeout(f64),
}

/// Where the episode plays: a simulator this demo starts (with its policy), or a robot that
/// is already running (a domain grounded does not simulate, from a skill file).
enum Robot {
    Simulated(SimState),
    Running,
}

/// Run the demo, printing what happens to `out` as it happens.
pub async fn run(common: &CommonArgs, options: &DemoOptions, dashboard: &Dashboard, out: &mut (dyn FnMut(DemoEvent) + Send)) -> Result<DemoOutcome, DemoError> {
    let session = common.open().await.map_err(|e| DemoError::Net(e.to_string()))?;
    let keys = RobotKeys::new(options.robot.clone());
    let domain = crate::domains::domain_of_task(&options.task)
        .ok_or_else(|| DemoError::Setup(format!("unknown task {:?}; {}", options.task, crate::domains::task_lists())))?;
    let (robot, episode) = if domain.simulated() {
        let mut state = SimState::new(&options.task, options.seed, options.noise).map_err(DemoError::Setup)?;
        state.forbid_cells(&options.forbidden).map_err(DemoError::Setup)?;
        let episode = state.summary();
        (Robot::Simulated(state), episode)
    } else {
        (Robot::Running, reset_running_robot(&session, &keys, domain, options).await?)
    };
    let space = domain.robot_skills(&session, &keys);
    let mut planner = options.planner.build(Some(Affordance::new(space, options.planner.config.floor)), true).map_err(|e| DemoError::Setup(e.to_string()))?;
    planner.set_task_models(episode.grounding.as_ref().map(task_models).unwrap_or_default());
    // Shown as the planner's model reads it (case, a lone word in capitals), as `plan` shows it.
    let instruction = match &options.instruction {
        Some(text) => {
            let filled = episode.slots.fill(text).map_err(|e| DemoError::Setup(format!("--instruction: {e}")))?;
            planner.read(&filled).map_err(|e| DemoError::Setup(format!("--instruction: {e}")))?.as_str().to_string()
        }
        None => episode.instruction.clone(),
    };
    let map = domain.map(&episode.start);
    out(DemoEvent::Scene {
        domain: episode.domain,
        task: episode.task.clone(),
        seed: episode.seed,
        robot: options.robot.to_string(),
        instruction: instruction.clone(),
        task_instruction: options.instruction.as_ref().map(|_| episode.instruction.clone()),
        method: options.method,
        objects: episode.start.objects.clone(),
        map: map.as_ref().map(|(m, _)| m.clone()),
        legend: map.map(|(_, l)| l),
    });

    out(DemoEvent::Models { grounded: planner.model_names(), in_use: planner.models_in_use(), lm_threads: planner.lm.threads() });

    if let Robot::Simulated(state) = robot {
        tokio::spawn(sim_node::run(session.clone(), keys.clone(), state));
        tokio::spawn(policy::run(session.clone(), keys.clone(), timeouts::PRIMITIVE));
    }
    let config = DaemonConfig { method: options.method, skill_timeout: timeouts::SKILL, observe_timeout: timeouts::OBSERVE, journal: None, ask: None };
    tokio::spawn(daemon::run(session.clone(), keys.clone(), planner, config, dashboard.clone()));

    client::wait_for(&session, &keys, &Component::ALL, timeouts::COMPONENTS_UP).await.map_err(|e| DemoError::Setup(e.to_string()))?;
    let id = format!("demo-{}-{}", episode.task, episode.seed);
    let follower = client::send_instruction(&session, &keys, &id, &instruction).await.map_err(|e| DemoError::Net(e.to_string()))?;
    let last = follower
        .follow(options.timeout, |p| match p.status {
            PlanStatus::Queued => {}
            PlanStatus::Started => out(DemoEvent::Decoding { step: 1 }),
            PlanStatus::Decoded => out(DemoEvent::Decoded {
                step: p.step,
                skill: p.skill.clone().unwrap_or_default(),
                score: p.score.unwrap_or(f32::NAN),
                lm_score: p.lm_score.unwrap_or(f32::NAN),
            }),
            PlanStatus::Succeeded | PlanStatus::Failed => out(DemoEvent::Executed {
                step: p.step,
                skill: p.skill.clone().unwrap_or_default(),
                success: p.status == PlanStatus::Succeeded,
                reason: p.reason.clone(),
            }),
            PlanStatus::Done | PlanStatus::StepLimit | PlanStatus::Aborted => {}
        })
        .await
        .map_err(|e| match e {
            client::ClientError::Timeout(s) => DemoError::Timeout(s),
            e => DemoError::Net(e.to_string()),
        })?;
    out(DemoEvent::PlanEnded { status: last.status, reason: last.reason.clone(), plan: last.plan.clone() });
    let verdict = ask_episode(&session, &keys, EpisodeRequestBody::Judge).await?;
    let success = verdict.success.unwrap_or(false);
    dashboard.episode_result(success, verdict.reason.as_deref());
    let judge = if domain.simulated() { Judge::Simulator } else { Judge::Robot };
    out(DemoEvent::Verdict { success, reason: verdict.reason.clone(), sim_seconds: verdict.sim_seconds, judge });
    let _ = session.close().await;
    Ok(DemoOutcome { success, reason: verdict.reason, last })
}

/// Reset a running robot's episode to the task (its `episode` key, with the task's goal and
/// the seed) and read the scene it lays out.
async fn reset_running_robot(
    session: &zenoh::Session,
    keys: &RobotKeys,
    domain: &'static dyn crate::domains::Domain,
    options: &DemoOptions,
) -> Result<crate::domains::EpisodeSummary, DemoError> {
    if !options.forbidden.is_empty() {
        return Err(DemoError::Setup(format!("forbidden cells apply to grid mazes; {} is played on the robot", domain.id())));
    }
    if options.noise != 0.0 {
        return Err(DemoError::Setup("--noise applies to grounded's simulators; a running robot observes with its own noise".into()));
    }
    client::wait_for(session, keys, &[Component::Sim, Component::Policy], timeouts::COMPONENTS_UP).await.map_err(|e| {
        DemoError::Setup(format!("robot {}: {e} (a {} robot runs itself: is it running, and does --connect reach it?)", keys.robot(), domain.id()))
    })?;
    let mut summary = domain.summary(&options.task, options.seed).map_err(DemoError::Setup)?;
    let reset = EpisodeRequestBody::Reset { task: domain.episode_task(&options.task), seed: options.seed, skill_failures: None };
    let reply = ask_episode(session, keys, reset).await.map_err(|e| match e {
        DemoError::Net(m) => DemoError::Net(format!("resetting the robot to the task: {m}")),
        e => e,
    })?;
    if summary.instruction.is_empty() {
        summary.instruction = reply.instruction;
    }
    let (s, k) = (session.clone(), keys.clone());
    summary.start = tokio::task::spawn_blocking(move || crate::nodes::remote::observe(&s, &k, timeouts::OBSERVE))
        .await
        .map_err(|e| DemoError::Net(e.to_string()))?
        .map_err(|e| DemoError::Net(format!("the robot's state: {e}")))?;
    Ok(summary)
}

/// Ask the robot's `episode` key (reset or judge), from a blocking task.
async fn ask_episode(session: &zenoh::Session, keys: &RobotKeys, body: EpisodeRequestBody) -> Result<EpisodeReply, DemoError> {
    let req = EpisodeRequest { schema: SCHEMA_VERSION, body };
    let (s, k) = (session.clone(), keys.episode());
    tokio::task::spawn_blocking(move || query_one::<EpisodeRequest, EpisodeReply>(&s, &k, &req, timeouts::EPISODE))
        .await
        .map_err(|e| DemoError::Net(e.to_string()))?
        .map_err(|e| DemoError::Net(e.to_string()))?
        .map_err(DemoError::Net)
}
