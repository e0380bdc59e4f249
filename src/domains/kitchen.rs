//! The kitchen: a mobile manipulator after SayCan's kitchen (18 objects, 5 locations), that
//! knows only what it has seen; 8 unambiguous and 10 ambiguous instructions.

use super::{refusal, Domain, EpisodeSummary, Primitives, TaskInfo, World, WorldOptions};
use grounding::SkillSpace;
use policies::kitchen::{KitchenAgent, KitchenSkills};
use policies::SkillOutcome;
use protocol::kitchen::{KitchenAction, KitchenState};
use protocol::limits::MAX_WAIT_SECONDS;
use protocol::messages::{Primitive, PrimitiveReply};
use protocol::{Observation, SCHEMA_VERSION};
use sim::kitchen::{KitchenConfig, KitchenEpisode, KitchenWorld, Split};
use std::borrow::Cow;

pub struct Kitchen;

impl Domain for Kitchen {
    fn id(&self) -> protocol::Domain {
        protocol::Domain::KITCHEN
    }

    fn about(&self) -> &'static str {
        "kitchen mobile manipulation after SayCan's kitchen (18 objects, 5 locations; 8 unambiguous and 10 ambiguous instructions, e.g. spill, healthy, bring-apple)"
    }

    fn tasks(&self) -> Vec<TaskInfo> {
        sim::kitchen::TASKS.iter().map(|t| TaskInfo { id: t.id, row: t.split.label(), slot_names: &[] }).collect()
    }

    fn asking_tasks(&self) -> Vec<TaskInfo> {
        sim::kitchen::ASKING_TASKS.iter().map(|t| TaskInfo { id: t.id, row: t.split.label(), slot_names: &[] }).collect()
    }

    fn default_task(&self) -> &'static str {
        "spill"
    }

    fn rows(&self) -> Vec<String> {
        Split::ALL.iter().map(|s| s.label().to_string()).collect()
    }

    /// Skills slip in the kitchen: a plan is judged with skills that never fail (planning)
    /// and with the simulated failures (execution).
    fn measures_planning(&self) -> bool {
        true
    }

    fn skills(&self) -> &'static dyn SkillSpace {
        &KitchenSkills
    }

    fn apply(&self, state: &Observation, skill: &str) -> Result<Observation, String> {
        let k = state.kitchen.as_ref().ok_or("a kitchen observation has no kitchen state")?;
        let mut next = state.clone();
        next.kitchen = Some(policies::kitchen::apply(k, skill)?);
        Ok(next)
    }

    /// SayCan's detector is thresholded ("object detected or not", docs/method.md): a partly
    /// hidden object is not seen at all.
    fn saycan_view<'a>(&self, state: &'a Observation) -> Cow<'a, Observation> {
        match &state.kitchen {
            Some(k) => {
                let mut s = state.clone();
                s.kitchen = Some(policies::kitchen::thresholded(k));
                Cow::Owned(s)
            }
            None => Cow::Borrowed(state),
        }
    }

    fn execute(&self, skill: &str, robot: &mut dyn Primitives, _progress: &mut dyn FnMut(&str)) -> SkillOutcome {
        policies::kitchen::execute(skill, &mut RobotOver(robot))
    }

    fn world(&self, task: &str, seed: u64, options: &WorldOptions) -> Result<Box<dyn World>, String> {
        let t = sim::kitchen::task_named(task).ok_or_else(|| format!("unknown kitchen instruction {task:?}; instructions: {}", sim::kitchen::task_ids()))?;
        let episode = sim::kitchen::episode(t, seed);
        let config = if options.skill_failures { KitchenConfig::default() } else { KitchenConfig::PERFECT };
        let world = KitchenWorld::new(&episode, config);
        Ok(Box::new(KitchenEpisodeWorld { episode, world }))
    }

    fn slots(&self, _task: &str, _seed: u64) -> sim::wording::Slots {
        sim::wording::Slots::default()
    }

    fn map(&self, scene: &Observation) -> Option<(String, &'static str)> {
        scene.kitchen.as_ref().map(|k| (k.render(), "(what the robot has seen, with the detector's box scores; it has not seen the truth)"))
    }

    fn view(&self) -> &'static dyn crate::dashboard::View {
        &crate::dashboard::kitchen::KitchenView
    }

    fn describe(&self, scene: &Observation) -> String {
        let Some(k) = &scene.kitchen else { return "scene: a kitchen observation without the robot's view\n".into() };
        let mut out = String::from("scene: a kitchen, as the robot has seen it (box scores in brackets)\n");
        for line in k.render().lines() {
            out.push_str(&format!("  {line}\n"));
        }
        out
    }
}

/// A kitchen episode: the truth, the robot's view, its clock.
pub struct KitchenEpisodeWorld {
    pub episode: KitchenEpisode,
    pub world: KitchenWorld,
}

impl World for KitchenEpisodeWorld {
    fn summary(&self) -> EpisodeSummary {
        let e = &self.episode;
        EpisodeSummary {
            domain: protocol::Domain::KITCHEN,
            task: e.task.id.to_string(),
            seed: e.seed,
            instruction: e.instruction.clone(),
            start: KitchenWorld::new(e, self.world.config).observe(),
            grounding: None,
            slots: sim::wording::Slots::default(),
        }
    }

    fn observe(&mut self) -> Observation {
        self.world.observe()
    }

    fn primitive(&mut self, primitive: &Primitive) -> PrimitiveReply {
        let w = &mut self.world;
        let result = match primitive {
            Primitive::Kitchen { action } => KitchenAgent::act(w, action.clone()),
            Primitive::Wait { seconds } if (0.0..=MAX_WAIT_SECONDS).contains(seconds) => {
                w.sim_seconds += seconds;
                Ok(())
            }
            Primitive::Wait { seconds } => return refusal(&format!("a wait of {seconds} s is not in [0, {MAX_WAIT_SECONDS}] s"), w.sim_seconds),
            _ => return refusal("this simulator runs a kitchen: send kitchen actions (navigate, grasp, place)", w.sim_seconds),
        };
        let p = w.view.robot_at.map_position();
        PrimitiveReply {
            schema: SCHEMA_VERSION,
            ok: result.is_ok(),
            reason: result.err(),
            holding: w.view.holding.clone(),
            tip: [p[0], p[1], 0.0],
            sim_seconds: w.sim_seconds,
            event: None,
            halted_after: None,
        }
    }

    fn sim_seconds(&self) -> f64 {
        self.world.sim_seconds
    }

    fn judge(&self) -> Result<(), String> {
        sim::kitchen::judge(&self.episode, &self.world)
    }
}

/// The mobile robot the kitchen policy drives, over the robot's primitives.
struct RobotOver<'a>(&'a mut dyn Primitives);

impl KitchenAgent for RobotOver<'_> {
    fn state(&mut self) -> Result<KitchenState, String> {
        self.0.observe()?.kitchen.ok_or_else(|| "the sim is not running a kitchen".to_string())
    }

    fn act(&mut self, action: KitchenAction) -> Result<(), String> {
        self.0.primitive(Primitive::Kitchen { action }).map(|_| ())
    }
}
