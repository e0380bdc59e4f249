//! The grid maze: MiniGrid's rules (doors, keys, boxes, lava) with a fully observed agent;
//! five levels from easy to hard. The maze's rules live in `protocol::grid` because the
//! observation carries the maze, and planner, policy and simulator all apply the same rules.

use super::{refusal, Domain, EpisodeSummary, Primitives, TaskInfo, World, WorldOptions};
use grounding::SkillSpace;
use policies::grid::{GridAgent, GridSkills};
use policies::SkillOutcome;
use protocol::grid::{Action, Event, GridSkill, GridState, Pos};
use protocol::messages::{Primitive, PrimitiveReply};
use protocol::{Observation, SCHEMA_VERSION};
use sim::grid::{GridEpisode, GridWorld, Level};

pub struct Grid;

impl Domain for Grid {
    fn id(&self) -> protocol::Domain {
        protocol::Domain::GRID
    }

    fn about(&self) -> &'static str {
        "the grid maze, MiniGrid's rules (levels open-doors, put-next, locked-room, multi-room, blocked-unlock-pickup)"
    }

    fn tasks(&self) -> Vec<TaskInfo> {
        Level::ALL.iter().map(|l| TaskInfo { id: l.id(), row: l.difficulty().label(), slot_names: l.slot_names() }).collect()
    }

    fn default_task(&self) -> &'static str {
        "locked-room"
    }

    fn rows(&self) -> Vec<String> {
        sim::grid::Difficulty::ALL.iter().map(|d| d.label().to_string()).collect()
    }

    fn skills(&self) -> &'static dyn SkillSpace {
        &GridSkills
    }

    fn apply(&self, state: &Observation, skill: &str) -> Result<Observation, String> {
        let s = GridSkill::parse(skill).map_err(|e| e.to_string())?;
        let mut g = state.grid.clone().ok_or("a grid observation has no grid")?;
        for a in policies::grid::plan(&s, &g)? {
            g.apply(a);
        }
        let mut next = state.clone();
        next.grid = Some(g);
        Ok(next)
    }

    fn execute(&self, skill: &str, robot: &mut dyn Primitives, _progress: &mut dyn FnMut(&str)) -> SkillOutcome {
        policies::grid::execute(skill, &mut AgentOver(robot)).into()
    }

    fn world(&self, task: &str, seed: u64, _options: &WorldOptions) -> Result<Box<dyn World>, String> {
        let level = Level::named(task).ok_or_else(|| format!("unknown grid level {task:?}; levels: {}", sim::grid::level_ids()))?;
        let episode = sim::grid::episode(level, seed);
        let world = GridWorld::new(&episode);
        Ok(Box::new(MazeWorld { episode, world }))
    }

    fn slots(&self, task: &str, seed: u64) -> sim::wording::Slots {
        Level::named(task).map(|l| sim::grid::episode(l, seed).slots).unwrap_or_default()
    }

    fn map(&self, scene: &Observation) -> Option<(String, &'static str)> {
        let legend = "(## wall, GG goal, ~~ lava, D/L/d closed/locked/open door, K key, B ball, X box + colour initial; >> the agent)";
        scene.grid.as_ref().map(|g| (g.render(), legend))
    }

    fn view(&self) -> &'static dyn crate::dashboard::View {
        &crate::dashboard::grid::MazeView
    }

    fn describe(&self, scene: &Observation) -> String {
        let Some(g) = &scene.grid else { return "scene: a grid observation without its maze\n".into() };
        let mut out = format!("scene: a {} x {} grid maze\n", g.width, g.height);
        for line in g.render().lines() {
            out.push_str(&format!("  {line}\n"));
        }
        out
    }
}

/// A grid episode: its maze and the rules that change it.
pub struct MazeWorld {
    pub episode: GridEpisode,
    pub world: GridWorld,
}

impl World for MazeWorld {
    fn summary(&self) -> EpisodeSummary {
        let e = &self.episode;
        EpisodeSummary {
            domain: protocol::Domain::GRID,
            task: e.level.id().to_string(),
            seed: e.seed,
            instruction: e.instruction.clone(),
            start: GridWorld::new(e).observe(),
            grounding: None,
            slots: e.slots.clone(),
        }
    }

    fn observe(&mut self) -> Observation {
        self.world.observe()
    }

    fn primitive(&mut self, primitive: &Primitive) -> PrimitiveReply {
        let steps = f64::from(self.world.steps);
        let event = match primitive {
            Primitive::Act { action } => match self.world.act(*action) {
                Ok(e) => Some(e),
                Err(e) => return refusal(&e.to_string(), steps),
            },
            Primitive::Wait { .. } => None,
            _ => return refusal("this simulator runs a grid maze: send grid actions (act)", steps),
        };
        let g = &self.world.state;
        PrimitiveReply {
            schema: SCHEMA_VERSION,
            ok: true,
            reason: None,
            holding: g.carrying.map(|o| o.to_string()),
            tip: [f64::from(g.agent.0), f64::from(g.agent.1), 0.0],
            sim_seconds: f64::from(self.world.steps),
            event,
            halted_after: None,
        }
    }

    /// One primitive step counts one second.
    fn sim_seconds(&self) -> f64 {
        f64::from(self.world.steps)
    }

    fn judge(&self) -> Result<(), String> {
        sim::grid::judge(&self.episode, &self.world)
    }

    /// Refused for cells outside the maze or under the agent.
    fn forbid_cells(&mut self, cells: &[Pos]) -> Result<(), String> {
        for &c in cells {
            let s = &self.world.state;
            if !s.inside(c) || c == s.agent {
                return Err(format!("cell {c:?} is outside the {} x {} maze or under the agent", s.width, s.height));
            }
            self.world.state.forbidden.push(c);
            self.episode.start.forbidden.push(c);
        }
        Ok(())
    }

    fn forbidden_cells(&self) -> Vec<Pos> {
        self.world.state.forbidden.clone()
    }
}

/// The maze agent the grid policy drives, over the robot's primitives.
struct AgentOver<'a>(&'a mut dyn Primitives);

impl GridAgent for AgentOver<'_> {
    fn state(&mut self) -> Result<GridState, String> {
        self.0.observe()?.grid.ok_or_else(|| "the sim is not running a grid maze".to_string())
    }

    fn act(&mut self, action: Action) -> Result<Event, String> {
        self.0.primitive(Primitive::Act { action })?.event.ok_or_else(|| "the sim did not say what the action did".to_string())
    }
}
