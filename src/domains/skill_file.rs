//! A robot's own domain, from its skill file (`--skills FILE.toml`): the file's skills are
//! the admissible ones, filled from each observation; the robot carries its skills out
//! itself (it answers `skill`) and has no simulator here. Its affordance is asked of the
//! robot over zenoh ([`RobotAffordance`]), or, when no robot answers, comes from the file's
//! preconditions.

use super::{affordance_error, Domain, EpisodeSummary, Primitives, TaskInfo, World, WorldOptions};
use crate::nodes::common::query_one;
use crate::skills::{SkillLibrary, SkillTask};
use grounding::{GroundingError, ScoredSkill, SkillSpace};
use policies::SkillOutcome;
use protocol::keys::RobotKeys;
use protocol::messages::{AffordanceReply, AffordanceRequest, AffordanceText};
use protocol::{Observation, RobotState, SCHEMA_VERSION};
use std::time::Duration;

/// The domain of one skill file.
pub struct SkillFileDomain {
    skills: &'static FileSkills,
    about: &'static str,
}

/// A skill file's skills as a skill space: those whose preconditions hold, each fully
/// feasible.
pub struct FileSkills {
    pub library: SkillLibrary,
}

/// Register a skill file's domain (once per process and domain name).
pub fn register(library: SkillLibrary) -> Result<&'static SkillFileDomain, String> {
    if let Ok(d) = super::domain(library.domain) {
        return Err(format!("a domain named {} is registered already ({}); one skill file per robot domain", library.domain, d.about()));
    }
    // Leaked: a registered domain lives as long as the process (one per skill file).
    let about: &'static str = Box::leak(format!("skills of {}", library.source.display()).into_boxed_str());
    let skills: &'static FileSkills = Box::leak(Box::new(FileSkills { library }));
    let domain: &'static SkillFileDomain = Box::leak(Box::new(SkillFileDomain { skills, about }));
    super::register(domain)?;
    Ok(domain)
}

impl SkillFileDomain {
    pub fn library(&self) -> &SkillLibrary {
        &self.skills.library
    }

    /// A `[[task]]` of the file by its id; `Err` names the file's tasks.
    fn task(&self, id: &str) -> Result<&SkillTask, String> {
        let lib = self.library();
        lib.tasks.iter().find(|t| t.id == id).ok_or_else(|| {
            if lib.tasks.is_empty() {
                format!("unknown {} task {id:?}: {} declares no [[task]] (docs/skills.md)", lib.domain, lib.source.display())
            } else {
                format!("unknown {} task {id:?}; tasks: {}", lib.domain, lib.tasks.iter().map(|t| t.id.as_str()).collect::<Vec<_>>().join(", "))
            }
        })
    }
}

impl SkillSpace for FileSkills {
    /// The file's skills whose preconditions hold, each fully feasible.
    fn admissible(&self, observation: &Observation) -> Result<Vec<ScoredSkill>, GroundingError> {
        let filled = self.library.admissible(observation).map_err(|e| affordance_error(e.to_string()))?;
        Ok(filled.into_iter().map(|s| ScoredSkill { text: s.text, feasibility: 1.0 }).collect())
    }
}

impl Domain for SkillFileDomain {
    fn id(&self) -> protocol::Domain {
        self.library().domain
    }

    fn about(&self) -> &'static str {
        self.about
    }

    /// The file's `[[task]]`s, in one row named after the domain.
    fn tasks(&self) -> Vec<TaskInfo> {
        let skills: &'static FileSkills = self.skills;
        let row = skills.library.domain.name();
        skills.library.tasks.iter().map(|t| TaskInfo { id: t.id.as_str(), row, slot_names: &[] }).collect()
    }

    /// The file's first task ("" when it declares none).
    fn default_task(&self) -> &'static str {
        let skills: &'static FileSkills = self.skills;
        skills.library.tasks.first().map_or("", |t| t.id.as_str())
    }

    fn simulated(&self) -> bool {
        false
    }

    /// The task's `goal`.
    fn episode_task(&self, task: &str) -> String {
        self.task(task).map_or_else(|_| task.to_string(), |t| t.goal.clone())
    }

    /// Asked of the robot, one batched query per step ([`RobotAffordance`]).
    fn robot_skills(&'static self, session: &zenoh::Session, keys: &RobotKeys) -> Box<dyn SkillSpace> {
        Box::new(RobotAffordance { skills: self.skills, session: session.clone(), keys: keys.clone(), timeout: crate::nodes::timeouts::AFFORDANCE })
    }

    /// The task's instruction; the scene is the robot's, known once it is reset.
    fn summary(&self, task: &str, seed: u64) -> Result<EpisodeSummary, String> {
        let t = self.task(task)?;
        let start = Observation { schema: SCHEMA_VERSION, domain: self.id(), objects: Vec::new(), robot: None, grid: None, kitchen: None };
        Ok(EpisodeSummary {
            domain: self.id(),
            task: t.id.clone(),
            seed,
            instruction: t.instruction.clone(),
            start,
            grounding: None,
            slots: Default::default(),
        })
    }

    fn skills(&self) -> &'static dyn SkillSpace {
        self.skills
    }

    /// The file's effect on what the robot holds (`then`), where it says one.
    fn apply(&self, state: &Observation, skill: &str) -> Result<Observation, String> {
        let filled = self.library().admissible(state).map_err(|e| e.to_string())?;
        let Some(s) = filled.iter().find(|s| s.text == skill) else {
            return Err(format!("{skill:?} is not one of the skills {} allows in this state", self.library().source.display()));
        };
        let mut next = state.clone();
        if let Some(holding) = &s.then {
            let robot = next.robot.get_or_insert(RobotState { time_s: 0.0, gripper: [0.0; 3], holding: None });
            robot.holding = holding.clone();
        }
        Ok(next)
    }

    fn execute(&self, skill: &str, _robot: &mut dyn Primitives, _progress: &mut dyn FnMut(&str)) -> SkillOutcome {
        SkillOutcome {
            success: false,
            reason: Some(format!(
                "{skill:?}: a {} robot carries out its skills itself (it answers the skill key); grounded has no policy for them",
                self.library().domain
            )),
        }
    }

    fn world(&self, _task: &str, _seed: u64, _options: &WorldOptions) -> Result<Box<dyn World>, String> {
        Err(format!(
            "domain {} comes from {}: grounded has no simulator for it; its episodes play on the robot (--robot R --connect ENDPOINT)",
            self.library().domain,
            self.library().source.display()
        ))
    }

    fn describe(&self, scene: &Observation) -> String {
        let objects = super::objects_line(&scene.objects, |o| {
            if o.tags.is_empty() {
                format!("{} ({})", o.name, o.kind.name())
            } else {
                format!("{} ({}, {})", o.name, o.kind.name(), o.tags.join(", "))
            }
        });
        let holding = scene.robot.as_ref().and_then(|r| r.holding.as_deref()).unwrap_or("nothing");
        format!("{objects}; holding {holding}\n")
    }
}

/// The affordance of a skill file's skills, asked of the robot: one query per plan step
/// carries the observation and every admissible text; the robot answers a score for each.
/// When no robot answers, the file's preconditions alone decide (each admissible skill
/// fully feasible), and a warning says so.
pub struct RobotAffordance {
    pub skills: &'static FileSkills,
    pub session: zenoh::Session,
    pub keys: RobotKeys,
    pub timeout: Duration,
}

impl SkillSpace for RobotAffordance {
    fn admissible(&self, observation: &Observation) -> Result<Vec<ScoredSkill>, GroundingError> {
        let skills = self.skills.admissible(observation)?;
        let mut scores = Vec::with_capacity(skills.len());
        // One round trip per step; a scene with more skills than one query may carry takes
        // a few.
        for chunk in skills.chunks(protocol::limits::MAX_AFFORDANCE_TEXTS) {
            let texts: Vec<AffordanceText> = chunk.iter().map(|s| AffordanceText { text: s.text.clone(), complete: true }).collect();
            let req = AffordanceRequest { schema: SCHEMA_VERSION, texts, observation: Some(observation.clone()) };
            match query_one::<AffordanceRequest, AffordanceReply>(&self.session, &self.keys.affordance(), &req, self.timeout) {
                Ok(Ok(reply)) if reply.scores.len() == chunk.len() => scores.extend(reply.scores),
                Ok(Ok(reply)) => {
                    return Err(affordance_error(format!("the robot scored {} of the {} skills it was asked about", reply.scores.len(), chunk.len())))
                }
                Ok(Err(e)) => return Err(affordance_error(format!("the robot refused the affordance query: {e}"))),
                Err(e) => {
                    tracing::warn!("no affordance from the robot ({e}): the skill file's preconditions decide");
                    return Ok(skills);
                }
            }
        }
        Ok(skills
            .into_iter()
            .zip(scores)
            .filter(|(_, p)| p.is_finite() && *p > 0.0)
            .map(|(s, p)| ScoredSkill { text: s.text, feasibility: p.min(1.0) })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_tasks_are_the_domains_played_on_the_robot_with_their_goals() {
        let text = "domain = \"tasks-test\"\n[[skill]]\ntemplate = \"go\"\n[[task]]\nid = \"tt-go\"\ninstruction = \"go now\"\ngoal = \"at=door\"\n[[task]]\nid = \"tt-stay\"\ninstruction = \"stay\"\n";
        let d = register(crate::skills::parse(text, "t.toml".as_ref()).unwrap()).unwrap();
        assert!(!d.simulated());
        assert_eq!(d.tasks().iter().map(|t| (t.id, t.row)).collect::<Vec<_>>(), [("tt-go", "tasks-test"), ("tt-stay", "tasks-test")]);
        assert_eq!(d.default_task(), "tt-go");
        assert_eq!((d.episode_task("tt-go"), d.episode_task("tt-stay")), ("at=door".to_string(), "tt-stay".to_string()));
        let s = d.summary("tt-go", 7).unwrap();
        assert_eq!((s.instruction.as_str(), s.seed, s.domain), ("go now", 7, d.id()));
        let e = d.summary("tt-fly", 0).unwrap_err();
        assert!(e.contains("unknown tasks-test task \"tt-fly\"; tasks: tt-go, tt-stay"), "{e}");
        assert!(d.world("tt-go", 0, &WorldOptions::default()).err().unwrap().contains("--robot"));
        assert_eq!(crate::domains::domain_of_task("tt-stay").map(|x| x.id()), Some(d.id()));
    }
}
