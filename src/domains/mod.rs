//! Domains as plug-ins. A [`Domain`] says everything that differs between worlds: its tasks,
//! its skills and their affordance in an observation, a skill's open-loop effect, how its
//! policies carry a skill out on the robot's primitives, and the simulated [`World`] an
//! episode plays in. Everything else (decoder, planner, daemon, protocol, eval runner,
//! dashboard) is shared and asks the [`registry`].
//!
//! Adding a domain: a file beside `tabletop.rs`, `grid.rs` and `kitchen.rs` that implements
//! both traits, and one line in [`BUILTIN`] (docs/architecture.md lists the files).

pub mod grid;
pub mod kitchen;
pub mod skill_file;
pub mod tabletop;

use grounding::{GroundingError, SkillSpace};
use policies::SkillOutcome;
use protocol::messages::{Primitive, PrimitiveReply};
use protocol::{Observation, SCHEMA_VERSION};
use std::borrow::Cow;
use std::sync::RwLock;

/// One task of a domain: a tabletop template, a grid level, a kitchen instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskInfo {
    pub id: &'static str,
    /// The row of the results table the task counts in.
    pub row: &'static str,
    /// The slots a wording of the task may name (`{place}`, `{word}`, the grid's colours).
    pub slot_names: &'static [&'static str],
}

/// How a simulated world is set up beyond its task and seed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WorldOptions {
    /// Standard deviation of observation noise, metres (worlds with positions).
    pub observation_noise: f64,
    /// Whether the simulated skills fail as the domain's policies do (false: never fail,
    /// which is how planning success is measured).
    pub skill_failures: bool,
    /// Motions take as long on the wall clock as in simulated time, as on a real robot
    /// (worlds with continuous motion: the tabletop); false: as fast as the machine runs.
    pub real_time: bool,
}

impl Default for WorldOptions {
    fn default() -> Self {
        Self { observation_noise: 0.0, skill_failures: true, real_time: false }
    }
}

/// What a client needs to know of an episode.
#[derive(Clone, Debug)]
pub struct EpisodeSummary {
    pub domain: protocol::Domain,
    pub task: String,
    pub seed: u64,
    pub instruction: String,
    pub start: Observation,
    /// The task's own grounded models (tabletop: safety, preference).
    pub grounding: Option<sim::tabletop::tasks::TaskGrounding>,
    /// What the instruction names, by slot (`{place}`, `{word}`, the grid's colours).
    pub slots: sim::wording::Slots,
}

/// The robot's primitives as a domain's policy reaches them (over zenoh, or in-process).
pub trait Primitives {
    /// The current observation.
    fn observe(&mut self) -> Result<Observation, String>;
    /// Carry out one primitive; `Err` says why it was refused or failed.
    fn primitive(&mut self, primitive: Primitive) -> Result<PrimitiveReply, String>;
}

/// One episode of a simulated world: the task's scene, the physics or rules that change it,
/// the domain's primitives, and the task's success check on the ground truth.
pub trait World: Send {
    fn summary(&self) -> EpisodeSummary;
    /// What the robot observes now.
    fn observe(&mut self) -> Observation;
    /// Carry out one primitive; a primitive of another domain is refused with why.
    fn primitive(&mut self, primitive: &Primitive) -> PrimitiveReply;
    /// The world's clock, seconds (a grid step counts one).
    fn sim_seconds(&self) -> f64;
    /// Did the episode succeed? `Err` says what is missing.
    fn judge(&self) -> Result<(), String>;
    /// Forbid cells (an operator's safety constraint): refused by worlds without cells.
    fn forbid_cells(&mut self, cells: &[protocol::grid::Pos]) -> Result<(), String> {
        if cells.is_empty() {
            return Ok(());
        }
        Err(format!("forbidden cells apply to grid mazes; this is a {} world", self.summary().domain))
    }
    /// The cells forbidden so far (kept across a reset where they fit).
    fn forbidden_cells(&self) -> Vec<protocol::grid::Pos> {
        Vec::new()
    }
    /// The emergency stop, for a world whose primitives take time (an arm's motion): it
    /// halts within one physics step once `stop` is set. Worlds whose primitives are
    /// instantaneous need not look (the sim refuses every primitive while it is set).
    fn set_stop(&mut self, _stop: std::sync::Arc<sim::stop::StopSignal>) {}
}

/// A world's primitives, reached in this process.
pub struct InProcess<'a>(pub &'a mut dyn World);

impl Primitives for InProcess<'_> {
    fn observe(&mut self) -> Result<Observation, String> {
        Ok(self.0.observe())
    }
    fn primitive(&mut self, primitive: Primitive) -> Result<PrimitiveReply, String> {
        let reply = self.0.primitive(&primitive);
        if reply.ok {
            Ok(reply)
        } else {
            Err(reply.reason.unwrap_or_else(|| "the primitive was refused".into()))
        }
    }
}

/// A domain: its tasks, skills, policies and simulated world.
pub trait Domain: Sync {
    /// The domain's id, as observations and `--domain` name it.
    fn id(&self) -> protocol::Domain;
    /// One line for `--help`.
    fn about(&self) -> &'static str;
    /// Every task, in the order of the results tables.
    fn tasks(&self) -> Vec<TaskInfo>;
    /// Tasks for asking for help, beside [`tasks`](Self::tasks) and not in its tables: the
    /// instruction leaves out which object is meant, so only asking can tell (`grounded
    /// calibrate`, `grounded eval --ask-for-help`) [default: none].
    fn asking_tasks(&self) -> Vec<TaskInfo> {
        Vec::new()
    }
    /// The task the demo runs when none is named.
    fn default_task(&self) -> &'static str;
    /// The rows of the results tables, in order.
    fn rows(&self) -> Vec<String> {
        let mut rows: Vec<String> = Vec::new();
        for t in self.tasks() {
            if !rows.iter().any(|r| r == t.row) {
                rows.push(t.row.to_string());
            }
        }
        rows
    }
    /// Whether an evaluation also measures planning success (the plan with skills that
    /// never fail) beside execution success.
    fn measures_planning(&self) -> bool {
        false
    }
    /// The skills admissible in an observation, as the affordance model scores them.
    fn skills(&self) -> &'static dyn SkillSpace;
    /// The state after `skill` as if carried out perfectly (open-loop planning). `Err` says
    /// why it cannot be.
    fn apply(&self, state: &Observation, skill: &str) -> Result<Observation, String>;
    /// The state as the SayCan baseline sees it (its detector may be coarser).
    fn saycan_view<'a>(&self, state: &'a Observation) -> Cow<'a, Observation> {
        Cow::Borrowed(state)
    }
    /// Carry out `skill` with the domain's policy on the robot's primitives; `progress`
    /// hears each phase's name.
    fn execute(&self, skill: &str, robot: &mut dyn Primitives, progress: &mut dyn FnMut(&str)) -> SkillOutcome;
    /// The episode of `task` with scene seed `seed`; `Err` names the domain's tasks.
    fn world(&self, task: &str, seed: u64, options: &WorldOptions) -> Result<Box<dyn World>, String>;
    /// What an episode of `task` with scene seed `seed` is (its instruction, starting scene,
    /// the task's own grounded models, its slots), without running it.
    fn summary(&self, task: &str, seed: u64) -> Result<EpisodeSummary, String> {
        self.world(task, seed, &WorldOptions::default()).map(|w| w.summary())
    }
    /// Whether grounded simulates this domain ([`Domain::world`] opens an episode). A domain
    /// without a simulator (a robot's own skill file) plays its episodes on the robot
    /// itself, reached over zenoh (`--robot`, `--connect`).
    fn simulated(&self) -> bool {
        true
    }
    /// What the robot's `episode` key is told to reset to for `task` [default: the task's id].
    fn episode_task(&self, task: &str) -> String {
        task.to_string()
    }
    /// The affordance of this domain's skills as a robot reached over zenoh gives it
    /// [default: the robot's policy lists its skills and their scores on `affordance`].
    fn robot_skills(&'static self, session: &zenoh::Session, keys: &protocol::keys::RobotKeys) -> Box<dyn SkillSpace> {
        Box::new(crate::nodes::remote::RemoteSkillSpace { session: session.clone(), keys: keys.clone(), timeout: crate::nodes::timeouts::AFFORDANCE })
    }
    /// The values an episode of `task` gives its slots.
    fn slots(&self, task: &str, seed: u64) -> sim::wording::Slots {
        self.summary(task, seed).map(|s| s.slots).unwrap_or_default()
    }
    /// The scene as a person reads it (what `plan` prints above the plan).
    fn describe(&self, scene: &Observation) -> String;
    /// The scene as a text map with its legend, for a domain whose scene is not a list of
    /// objects (the demo prints it) [default: none].
    fn map(&self, _scene: &Observation) -> Option<(String, &'static str)> {
        None
    }
    /// How the dashboard draws the domain [default: objects on a table, in 3D].
    fn view(&self) -> &'static dyn crate::dashboard::View {
        &crate::dashboard::tabletop::TableView
    }
}

/// The built-in domains, in the order `--help` lists them. A new domain is one line here.
pub static BUILTIN: &[&dyn Domain] = &[&tabletop::Tabletop, &grid::Grid, &kitchen::Kitchen];

/// Domains registered at run time (a plug-in outside this crate, a test's own domain).
static REGISTERED: RwLock<Vec<&'static dyn Domain>> = RwLock::new(Vec::new());

/// Every domain: the built-in ones, then those registered, in order.
pub fn registry() -> Vec<&'static dyn Domain> {
    let registered = REGISTERED.read().unwrap_or_else(|e| e.into_inner());
    BUILTIN.iter().copied().chain(registered.iter().copied()).collect()
}

/// Add a domain at run time. Refused when its id or one of its task ids is taken already
/// (registering the same domain again is a no-op).
pub fn register(d: &'static dyn Domain) -> Result<(), String> {
    let mut registered = REGISTERED.write().unwrap_or_else(|e| e.into_inner());
    let known: Vec<&'static dyn Domain> = BUILTIN.iter().copied().chain(registered.iter().copied()).collect();
    if let Some(same) = known.iter().find(|k| k.id() == d.id()) {
        if std::ptr::addr_eq(*same as *const dyn Domain, d as *const dyn Domain) {
            return Ok(());
        }
        return Err(format!("a domain named {} is registered already", d.id()));
    }
    for t in d.tasks() {
        if let Some(k) = known.iter().find(|k| k.tasks().iter().any(|o| o.id == t.id)) {
            return Err(format!("task id {} of domain {} is a {} task already; task ids name one task", t.id, d.id(), k.id()));
        }
    }
    registered.push(d);
    Ok(())
}

/// The domain of an id; `Err` when no plug-in of that name is registered.
pub fn domain(id: protocol::Domain) -> Result<&'static dyn Domain, String> {
    registry().into_iter().find(|d| d.id() == id).ok_or_else(|| format!("no domain plug-in named {id} is registered"))
}

/// The domain that has a task of this id (asking tasks included), if any.
pub fn domain_of_task(task: &str) -> Option<&'static dyn Domain> {
    registry().into_iter().find(|d| d.tasks().iter().chain(&d.asking_tasks()).any(|t| t.id == task))
}

/// The episode of any domain's task, by the task's id.
pub fn world(task: &str, seed: u64, options: &WorldOptions) -> Result<Box<dyn World>, String> {
    match domain_of_task(task) {
        Some(d) => d.world(task, seed, options),
        None => Err(format!("unknown task {task:?}; {}", task_lists())),
    }
}

/// Every domain's task ids, for error messages: "tabletop tasks: a, b; grid tasks: ...".
pub fn task_lists() -> String {
    registry().iter().map(|d| format!("{} tasks: {}", d.id(), task_ids(*d))).collect::<Vec<_>>().join("; ")
}

/// A domain's task ids, comma-separated.
pub fn task_ids(d: &dyn Domain) -> String {
    d.tasks().iter().map(|t| t.id).collect::<Vec<_>>().join(", ")
}

/// Every skill admissible in an observation, by its own domain's rules.
#[derive(Clone, Debug, Default)]
pub struct AnyDomainSkills;

impl SkillSpace for AnyDomainSkills {
    fn admissible(&self, obs: &Observation) -> Result<Vec<grounding::ScoredSkill>, GroundingError> {
        domain(obs.domain).map_err(affordance_error)?.skills().admissible(obs)
    }

    fn prefix_model<'a>(&'a self, obs: &Observation) -> Result<Option<Box<dyn grounding::BoundModel + 'a>>, GroundingError> {
        domain(obs.domain).map_err(affordance_error)?.skills().prefix_model(obs)
    }

    fn conceivable(&self, obs: &Observation) -> Result<Option<Vec<String>>, GroundingError> {
        domain(obs.domain).map_err(affordance_error)?.skills().conceivable(obs)
    }
}

/// A scene that is a list of objects, as [`Domain::describe`] begins it: how many, then each
/// as `describe_object` says it ("scene: no objects" when there are none).
pub fn objects_line<T>(objects: &[T], describe_object: impl Fn(&T) -> String) -> String {
    match objects {
        [] => "scene: no objects".to_string(),
        [one] => format!("scene: 1 object: {}", describe_object(one)),
        many => format!("scene: {} objects: {}", many.len(), many.iter().map(describe_object).collect::<Vec<_>>().join(", ")),
    }
}

/// An error of the affordance model (a domain not registered, a robot that cannot be asked).
pub(crate) fn affordance_error(message: String) -> GroundingError {
    GroundingError::Model { model: "affordance".into(), message }
}

/// A primitive's refusal, in the shape every world answers with.
pub fn refusal(reason: &str, sim_seconds: f64) -> PrimitiveReply {
    PrimitiveReply {
        schema: SCHEMA_VERSION,
        ok: false,
        reason: Some(reason.to_string()),
        holding: None,
        tip: [0.0; 3],
        sim_seconds,
        event: None,
        halted_after: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_task_id_names_one_domain_and_opens_its_world() {
        let mut seen = std::collections::HashSet::new();
        // Those grounded simulates (a test may register a skill file's meanwhile).
        for d in registry().into_iter().filter(|d| d.simulated()) {
            assert!(!d.tasks().is_empty(), "{} has no tasks", d.id());
            assert!(d.tasks().iter().any(|t| t.id == d.default_task()), "{}'s default task is not among its tasks", d.id());
            for t in d.tasks() {
                assert!(seen.insert(t.id), "task id {} is in two domains", t.id);
                let w = d.world(t.id, 0, &WorldOptions::default()).unwrap_or_else(|e| panic!("{}: {e}", t.id));
                let s = w.summary();
                assert_eq!((s.domain, s.task.as_str()), (d.id(), t.id));
                assert!(d.rows().iter().any(|r| r == t.row));
            }
        }
        let err = world("juggle", 0, &WorldOptions::default()).err().unwrap();
        assert!(err.contains("unknown task \"juggle\"") && err.contains("grid tasks: "), "{err}");
    }

    #[test]
    fn a_scene_of_objects_is_told_with_its_count_in_words() {
        let tabletop = domain(protocol::Domain::TABLETOP).unwrap();
        let block = |id: &str, name: &str| protocol::SceneObject::new(id, name, protocol::ObjectKind::Block, [0.0; 3]);
        let scene = |objects| Observation::new(protocol::Domain::TABLETOP, objects);
        assert_eq!(tabletop.describe(&scene(vec![])), "scene: no objects\n");
        assert_eq!(tabletop.describe(&scene(vec![block("a", "red block")])), "scene: 1 object: red block\n");
        assert_eq!(tabletop.describe(&scene(vec![block("a", "red block"), block("b", "blue block")])), "scene: 2 objects: red block, blue block\n");
    }
}
