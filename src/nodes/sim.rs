//! The simulator node: owns the simulated world, serves the robot's primitives (arm motions,
//! maze actions, kitchen moves), the observed state and episode control, and publishes the
//! state after every change.

use super::common::{put, NetError};
use protocol::keys::{Component, RobotKeys};
use protocol::messages::Primitive;
use protocol::messages::{decode, encode, EpisodeReply, EpisodeRequest, EpisodeRequestBody, PrimitiveCommand, PrimitiveReply};
use protocol::Observation;
use protocol::SCHEMA_VERSION;
use sim::grid::{GridEpisode, GridWorld, Level};
use sim::kitchen::{KitchenConfig, KitchenEpisode, KitchenWorld};
use sim::{generate, judge, task_named, Episode, World, WorldConfig};

/// An episode and the world it plays in, in its domain.
pub enum Scenario {
    Tabletop { episode: Episode, world: Box<World> },
    Grid { episode: GridEpisode, world: GridWorld },
    Kitchen { episode: KitchenEpisode, world: KitchenWorld },
}

/// The simulator's state: the current scenario, and the observation noise of tabletop worlds.
pub struct SimState {
    pub scenario: Scenario,
    pub noise: f64,
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
    pub grounding: Option<sim::tasks::TaskGrounding>,
    /// What the instruction names, by slot (`{place}`, `{word}`, the grid's colours).
    pub slots: sim::wording::Slots,
}

impl SimState {
    /// A tabletop task template, a grid level or a kitchen instruction, by its id.
    pub fn new(task: &str, seed: u64, noise: f64) -> Result<Self, String> {
        let scenario = if let Some(t) = task_named(task) {
            let episode = generate(t, seed);
            let world = World::new(&episode.scene, WorldConfig { observation_noise: noise, noise_seed: seed, ..WorldConfig::default() });
            Scenario::Tabletop { episode, world: Box::new(world) }
        } else if let Some(level) = Level::named(task) {
            let episode = sim::grid::episode(level, seed);
            let world = GridWorld::new(&episode);
            Scenario::Grid { episode, world }
        } else if let Some(t) = sim::kitchen::task_named(task) {
            let episode = sim::kitchen::episode(t, seed);
            let world = KitchenWorld::new(&episode, KitchenConfig::default());
            Scenario::Kitchen { episode, world }
        } else {
            return Err(format!(
                "unknown task {task:?}; tabletop tasks: {}; grid levels: {}; kitchen instructions: {}",
                sim::tasks::task_ids(),
                sim::grid::level_ids(),
                sim::kitchen::task_ids()
            ));
        };
        Ok(Self { scenario, noise })
    }

    /// Forbid grid cells (the operator's safety constraint): policies will never enter them.
    /// Refused for a tabletop world, and for cells outside the maze or under the agent.
    pub fn forbid_cells(&mut self, cells: &[protocol::grid::Pos]) -> Result<(), String> {
        if cells.is_empty() {
            return Ok(());
        }
        let Scenario::Grid { episode, world } = &mut self.scenario else {
            return Err("forbidden cells apply to grid mazes; this is not a grid level".into());
        };
        for &c in cells {
            if !world.state.inside(c) || c == world.state.agent {
                return Err(format!("cell {c:?} is outside the {} x {} maze or under the agent", world.state.width, world.state.height));
            }
            world.state.forbidden.push(c);
            episode.start.forbidden.push(c);
        }
        Ok(())
    }

    pub fn summary(&self) -> EpisodeSummary {
        match &self.scenario {
            Scenario::Tabletop { episode, .. } => EpisodeSummary {
                domain: protocol::Domain::Tabletop,
                task: episode.task.id.to_string(),
                seed: episode.seed,
                instruction: episode.instruction.clone(),
                start: episode.scene.clone(),
                grounding: Some(episode.grounding.clone()),
                slots: episode.slots(),
            },
            Scenario::Grid { episode, .. } => EpisodeSummary {
                domain: protocol::Domain::Grid,
                task: episode.level.id().to_string(),
                seed: episode.seed,
                instruction: episode.instruction.clone(),
                start: GridWorld::new(episode).observe(),
                grounding: None,
                slots: episode.slots.clone(),
            },
            Scenario::Kitchen { episode, world } => EpisodeSummary {
                domain: protocol::Domain::Kitchen,
                task: episode.task.id.to_string(),
                seed: episode.seed,
                instruction: episode.instruction.clone(),
                start: KitchenWorld::new(episode, world.config).observe(),
                grounding: None,
                slots: sim::wording::Slots::default(),
            },
        }
    }

    pub fn observe(&mut self) -> Observation {
        match &mut self.scenario {
            Scenario::Tabletop { world, .. } => world.observe(),
            Scenario::Grid { world, .. } => world.observe(),
            Scenario::Kitchen { world, .. } => world.observe(),
        }
    }

    fn sim_seconds(&self) -> f64 {
        match &self.scenario {
            Scenario::Tabletop { world, .. } => world.sim_seconds(),
            Scenario::Grid { world, .. } => f64::from(world.steps),
            Scenario::Kitchen { world, .. } => world.sim_seconds,
        }
    }

    fn primitive(&mut self, cmd: &PrimitiveCommand) -> PrimitiveReply {
        let refuse = |reason: &str, sim_seconds: f64| PrimitiveReply {
            schema: SCHEMA_VERSION,
            ok: false,
            reason: Some(reason.to_string()),
            holding: None,
            tip: [0.0; 3],
            sim_seconds,
            event: None,
        };
        match &mut self.scenario {
            Scenario::Tabletop { world, .. } => {
                let result = match &cmd.body {
                    Primitive::MoveTo { position, speed } => world.move_to(*position, *speed),
                    Primitive::Suction { on } => world.suction(*on),
                    Primitive::Wait { seconds } => world.wait(*seconds),
                    Primitive::Act { .. } | Primitive::Kitchen { .. } => {
                        return refuse("this simulator runs a tabletop world: grid and kitchen actions do not apply", world.sim_seconds())
                    }
                };
                let (ok, reason) = match &result {
                    Ok(_) => (true, None),
                    Err(e) => (false, Some(e.to_string())),
                };
                let arm = world.arm();
                PrimitiveReply { schema: SCHEMA_VERSION, ok, reason, holding: arm.holding, tip: arm.tip, sim_seconds: arm.sim_seconds, event: None }
            }
            Scenario::Grid { world, .. } => {
                let steps = f64::from(world.steps);
                let event = match &cmd.body {
                    Primitive::Act { action } => match world.act(*action) {
                        Ok(e) => Some(e),
                        Err(e) => return refuse(&e.to_string(), steps),
                    },
                    Primitive::Wait { .. } => None,
                    _ => return refuse("this simulator runs a grid maze: send grid actions (act)", steps),
                };
                let g = &world.state;
                PrimitiveReply {
                    schema: SCHEMA_VERSION,
                    ok: true,
                    reason: None,
                    holding: g.carrying.map(|o| o.to_string()),
                    tip: [f64::from(g.agent.0), f64::from(g.agent.1), 0.0],
                    sim_seconds: f64::from(world.steps),
                    event,
                }
            }
            Scenario::Kitchen { world, .. } => {
                let result = match &cmd.body {
                    Primitive::Kitchen { action } => policies::kitchen::KitchenAgent::act(world, action.clone()),
                    Primitive::Wait { seconds } if seconds.is_finite() && *seconds >= 0.0 => {
                        world.sim_seconds += seconds;
                        Ok(())
                    }
                    _ => return refuse("this simulator runs a kitchen: send kitchen actions (navigate, grasp, place)", world.sim_seconds),
                };
                let p = world.view.robot_at.map_position();
                PrimitiveReply {
                    schema: SCHEMA_VERSION,
                    ok: result.is_ok(),
                    reason: result.err(),
                    holding: world.view.holding.clone(),
                    tip: [p[0], p[1], 0.0],
                    sim_seconds: world.sim_seconds,
                    event: None,
                }
            }
        }
    }

    fn episode_reply(&self, success: Option<bool>, reason: Option<String>) -> EpisodeReply {
        let s = self.summary();
        EpisodeReply { schema: SCHEMA_VERSION, task: s.task, instruction: s.instruction, success, reason, sim_seconds: self.sim_seconds() }
    }

    /// The episode's verdict on the ground truth.
    pub fn judge(&self) -> Result<(), String> {
        match &self.scenario {
            Scenario::Tabletop { episode, world } => judge(episode, &world.ground_truth()),
            Scenario::Grid { episode, world } => sim::grid::judge(episode, world),
            Scenario::Kitchen { episode, world } => sim::kitchen::judge(episode, world),
        }
    }

    fn episode(&mut self, req: &EpisodeRequest) -> Result<EpisodeReply, String> {
        match &req.body {
            EpisodeRequestBody::Reset { task, seed, skill_failures } => {
                let forbidden = match &self.scenario {
                    Scenario::Grid { world, .. } => world.state.forbidden.clone(),
                    Scenario::Tabletop { .. } | Scenario::Kitchen { .. } => Vec::new(),
                };
                *self = SimState::new(task, *seed, self.noise)?;
                if let (Scenario::Kitchen { world, .. }, Some(false)) = (&mut self.scenario, skill_failures) {
                    world.config = KitchenConfig::PERFECT;
                }
                // The operator's forbidden cells stay forbidden in the next maze, where they fit.
                if let Scenario::Grid { world, .. } = &self.scenario {
                    let fits: Vec<_> = forbidden.into_iter().filter(|c| world.state.inside(*c) && *c != world.state.agent).collect();
                    self.forbid_cells(&fits)?;
                }
                Ok(self.episode_reply(None, None))
            }
            EpisodeRequestBody::Judge => {
                let verdict = self.judge();
                Ok(self.episode_reply(Some(verdict.is_ok()), verdict.err()))
            }
        }
    }
}

/// Serve until the session closes.
pub async fn run(session: zenoh::Session, keys: RobotKeys, mut state: SimState) -> Result<(), NetError> {
    let z = |e: zenoh::Error| NetError::Zenoh(e.to_string());
    let primitives = session.declare_queryable(keys.primitives()).await.map_err(z)?;
    let observe = session.declare_queryable(keys.state()).await.map_err(z)?;
    let episode = session.declare_queryable(keys.episode()).await.map_err(z)?;
    // Alive only once it answers.
    let _token = session.liveliness().declare_token(keys.alive(Component::Sim)).await.map_err(z)?;
    let state_key = keys.state();
    put(&session, &state_key, &state.observe())?;
    loop {
        tokio::select! {
            q = primitives.recv_async() => {
                let Ok(q) = q else { break };
                let bytes = q.payload().map(|p| p.to_bytes().into_owned()).unwrap_or_default();
                match decode::<PrimitiveCommand>(&bytes) {
                    Ok(cmd) => {
                        let reply = state.primitive(&cmd);
                        let _ = q.reply(q.key_expr().clone(), encode(&reply)).await;
                        let _ = put(&session, &state_key, &state.observe());
                    }
                    Err(e) => {
                        tracing::warn!("sim: refused a primitive command: {e}");
                        let _ = q.reply_err(e.to_string()).await;
                    }
                }
            }
            q = observe.recv_async() => {
                let Ok(q) = q else { break };
                let obs = state.observe();
                let _ = q.reply(q.key_expr().clone(), encode(&obs)).await;
            }
            q = episode.recv_async() => {
                let Ok(q) = q else { break };
                let bytes = q.payload().map(|p| p.to_bytes().into_owned()).unwrap_or_default();
                match decode::<EpisodeRequest>(&bytes).map_err(|e| e.to_string()).and_then(|req| state.episode(&req)) {
                    Ok(reply) => {
                        let _ = q.reply(q.key_expr().clone(), encode(&reply)).await;
                        let _ = put(&session, &state_key, &state.observe());
                    }
                    Err(e) => {
                        tracing::warn!("sim: refused an episode request: {e}");
                        let _ = q.reply_err(e).await;
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::grid::{Action, Event};

    fn cmd(body: Primitive) -> PrimitiveCommand {
        PrimitiveCommand { schema: SCHEMA_VERSION, body }
    }

    #[test]
    fn each_world_refuses_the_other_domains_commands_with_the_reason() {
        let mut table = SimState::new("matching-bowls", 0, 0.0).unwrap();
        let r = table.primitive(&cmd(Primitive::Act { action: Action::Forward }));
        assert!(!r.ok && r.reason.as_deref().is_some_and(|m| m.contains("grid and kitchen actions do not apply")), "{r:?}");
        let mut maze = SimState::new("locked-room", 0, 0.0).unwrap();
        let r = maze.primitive(&cmd(Primitive::MoveTo { position: [0.0, 0.0, 0.1], speed: 0.5 }));
        assert!(!r.ok && r.reason.as_deref().is_some_and(|m| m.contains("send grid actions")), "{r:?}");
        let r = maze.primitive(&cmd(Primitive::Act { action: Action::Left }));
        assert!(r.ok && r.event == Some(Event::Turned), "{r:?}");
        assert_eq!(r.sim_seconds, 1.0, "one primitive step");
        assert!(SimState::new("juggle", 0, 0.0)
            .err()
            .is_some_and(|e| e.contains("grid levels: open-doors") && e.contains("kitchen instructions: bring-apple")));
        let mut kitchen = SimState::new("healthy", 0, 0.0).unwrap();
        let r = kitchen.primitive(&cmd(Primitive::Act { action: Action::Left }));
        assert!(!r.ok && r.reason.as_deref().is_some_and(|m| m.contains("send kitchen actions")), "{r:?}");
        let r = kitchen.primitive(&cmd(Primitive::Kitchen { action: protocol::kitchen::KitchenAction::Place }));
        assert!(!r.ok && r.reason.as_deref().is_some_and(|m| m.contains("holds nothing")), "{r:?}");
        let r =
            kitchen.primitive(&cmd(Primitive::Kitchen { action: protocol::kitchen::KitchenAction::Navigate { location: protocol::kitchen::Location::Table } }));
        assert!(r.ok && r.sim_seconds > 0.0, "{r:?}");
        let r = table.primitive(&cmd(Primitive::Kitchen { action: protocol::kitchen::KitchenAction::Place }));
        assert!(!r.ok && r.reason.as_deref().is_some_and(|m| m.contains("kitchen actions do not apply")), "{r:?}");
    }

    #[test]
    fn forbidden_cells_are_checked_and_kept_across_resets() {
        let mut table = SimState::new("matching-bowls", 0, 0.0).unwrap();
        assert!(table.forbid_cells(&[(1, 1)]).unwrap_err().contains("apply to grid mazes"));
        let mut maze = SimState::new("open-doors", 0, 0.0).unwrap();
        assert!(maze.forbid_cells(&[(40, 40)]).unwrap_err().contains("outside"));
        let agent = maze.observe().grid.unwrap().agent;
        assert!(maze.forbid_cells(&[agent]).unwrap_err().contains("under the agent"));
        let free = if agent == (2, 2) { (3, 3) } else { (2, 2) };
        maze.forbid_cells(&[free]).unwrap();
        let reset = EpisodeRequest { schema: SCHEMA_VERSION, body: EpisodeRequestBody::Reset { task: "put-next".into(), seed: 4, skill_failures: None } };
        maze.episode(&reset).unwrap();
        let g = maze.observe().grid.unwrap();
        assert_ne!(g.agent, free, "this seed's agent starts elsewhere");
        assert_eq!(g.forbidden, vec![free], "the forbidden cell is kept in the next maze");
    }
}
