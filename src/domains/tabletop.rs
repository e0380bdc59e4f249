//! The tabletop: rearranging blocks, bowls, letters and box-packing objects with a suction
//! arm, in rigid-body physics; the paper's 20 task templates.

use super::{refusal, Domain, EpisodeSummary, Primitives, TaskInfo, World, WorldOptions};
use grounding::tabletop::{apply, TabletopSkills};
use grounding::SkillSpace;
use policies::{PickPlace, SkillOutcome};
use protocol::messages::{Primitive, PrimitiveReply};
use protocol::tabletop::TabletopSkill;
use protocol::{Observation, SCHEMA_VERSION};
use sim::tabletop::{ArmState, Episode, WorldConfig};

pub struct Tabletop;

impl Domain for Tabletop {
    fn id(&self) -> protocol::Domain {
        protocol::Domain::TABLETOP
    }

    fn about(&self) -> &'static str {
        "tabletop rearrangement in rapier3d physics (20 task templates)"
    }

    fn tasks(&self) -> Vec<TaskInfo> {
        sim::tabletop::TASKS.iter().map(|t| TaskInfo { id: t.id, row: t.row().label(), slot_names: t.slot_names() }).collect()
    }

    fn asking_tasks(&self) -> Vec<TaskInfo> {
        sim::tabletop::ASKING_TASKS.iter().map(|t| TaskInfo { id: t.id, row: t.row().label(), slot_names: t.slot_names() }).collect()
    }

    fn default_task(&self) -> &'static str {
        "matching-bowls"
    }

    fn rows(&self) -> Vec<String> {
        sim::tabletop::Row::ALL.iter().map(|r| r.label().to_string()).collect()
    }

    fn skills(&self) -> &'static dyn SkillSpace {
        &TabletopSkills
    }

    fn apply(&self, state: &Observation, skill: &str) -> Result<Observation, String> {
        let s = TabletopSkill::parse(skill).map_err(|e| e.to_string())?;
        apply(state, &s).map_err(|e| e.to_string())
    }

    fn execute(&self, skill: &str, robot: &mut dyn Primitives, progress: &mut dyn FnMut(&str)) -> SkillOutcome {
        PickPlace::default().execute(skill, &mut ArmOver(robot), &mut |phase| progress(phase.name()))
    }

    fn world(&self, task: &str, seed: u64, options: &WorldOptions) -> Result<Box<dyn World>, String> {
        let episode = episode(task, seed)?;
        let world = sim::tabletop::World::new(
            &episode.scene,
            WorldConfig { observation_noise: options.observation_noise, noise_seed: seed, real_time: options.real_time, ..WorldConfig::default() },
        );
        Ok(Box::new(TabletopWorld { episode, world }))
    }

    /// The episode without its physics.
    fn summary(&self, task: &str, seed: u64) -> Result<EpisodeSummary, String> {
        Ok(summary(&episode(task, seed)?))
    }

    fn describe(&self, scene: &Observation) -> String {
        format!("{}\n", super::objects_line(&scene.objects, |o| o.name.clone()))
    }
}

fn episode(task: &str, seed: u64) -> Result<Episode, String> {
    let t = sim::tabletop::task_named(task).ok_or_else(|| format!("unknown task {task:?}; tabletop tasks: {}", sim::tabletop::tasks::task_ids()))?;
    Ok(sim::tabletop::generate(t, seed))
}

fn summary(e: &Episode) -> EpisodeSummary {
    EpisodeSummary {
        domain: protocol::Domain::TABLETOP,
        task: e.task.id.to_string(),
        seed: e.seed,
        instruction: e.instruction.clone(),
        start: e.scene.clone(),
        grounding: Some(e.grounding.clone()),
        slots: e.slots(),
    }
}

/// A tabletop episode in physics.
pub struct TabletopWorld {
    pub episode: Episode,
    pub world: sim::tabletop::World,
}

impl World for TabletopWorld {
    fn summary(&self) -> EpisodeSummary {
        summary(&self.episode)
    }

    fn set_stop(&mut self, stop: std::sync::Arc<sim::stop::StopSignal>) {
        self.world.set_stop(stop);
    }

    fn observe(&mut self) -> Observation {
        self.world.observe()
    }

    fn primitive(&mut self, primitive: &Primitive) -> PrimitiveReply {
        let w = &mut self.world;
        let result = match primitive {
            Primitive::MoveTo { position, speed } => w.move_to(*position, *speed),
            Primitive::Suction { on } => w.suction(*on),
            Primitive::Wait { seconds } => w.wait(*seconds),
            Primitive::Act { .. } | Primitive::Kitchen { .. } => {
                return refusal("this simulator runs a tabletop world: grid and kitchen actions do not apply", w.sim_seconds())
            }
        };
        let arm = w.arm();
        let halted_after = if matches!(result, Err(sim::tabletop::ArmError::Stopped(_))) { w.motion_after_stop() } else { None };
        PrimitiveReply {
            schema: SCHEMA_VERSION,
            ok: result.is_ok(),
            reason: result.err().map(|e| e.to_string()),
            holding: arm.holding,
            tip: arm.tip,
            sim_seconds: arm.sim_seconds,
            event: None,
            halted_after,
        }
    }

    fn sim_seconds(&self) -> f64 {
        self.world.sim_seconds()
    }

    fn judge(&self) -> Result<(), String> {
        sim::tabletop::judge(&self.episode, &self.world.ground_truth())
    }
}

/// The pick-and-place policy's arm, over the robot's primitives.
struct ArmOver<'a>(&'a mut dyn Primitives);

impl ArmOver<'_> {
    fn command(&mut self, primitive: Primitive) -> Result<ArmState, String> {
        let r = self.0.primitive(primitive)?;
        Ok(ArmState { tip: r.tip, holding: r.holding, sim_seconds: r.sim_seconds })
    }
}

impl policies::Arm for ArmOver<'_> {
    fn observe(&mut self) -> Result<Observation, String> {
        self.0.observe()
    }
    fn move_to(&mut self, position: [f64; 3], speed: f64) -> Result<ArmState, String> {
        self.command(Primitive::MoveTo { position, speed })
    }
    fn suction(&mut self, on: bool) -> Result<ArmState, String> {
        self.command(Primitive::Suction { on })
    }
    fn wait(&mut self, seconds: f64) -> Result<ArmState, String> {
        self.command(Primitive::Wait { seconds })
    }
}
