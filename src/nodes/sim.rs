//! The simulator node: owns the simulated world, serves the robot's primitives (arm motions,
//! maze actions, kitchen moves), the observed state and episode control, and publishes the
//! state after every change.

use super::common::{put, NetError};
use super::node::{serve, Incoming, Node};
use crate::domains::{World, WorldOptions};
use protocol::keys::{Component, RobotKeys};
use protocol::messages::Primitive;
use protocol::messages::{decode, encode, EpisodeReply, EpisodeRequest, EpisodeRequestBody, PrimitiveCommand, PrimitiveReply};
use protocol::Observation;
use protocol::SCHEMA_VERSION;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use zenoh::query::Query;

pub use crate::domains::EpisodeSummary;

/// The simulator's state: the current episode's world, and how worlds are set up.
pub struct SimState {
    pub world: Box<dyn World>,
    /// Observation noise, kept for every episode; skill failures are set per reset.
    pub options: WorldOptions,
    /// The emergency stop as the robot side holds it: while set, every primitive but a
    /// wait is refused, and a motion under way halts within one physics step.
    estop: Arc<AtomicBool>,
}

impl SimState {
    /// Any domain's task (a tabletop template, a grid level, a kitchen instruction), by its id.
    pub fn new(task: &str, seed: u64, noise: f64) -> Result<Self, String> {
        let options = WorldOptions { observation_noise: noise, ..WorldOptions::default() };
        let estop = Arc::new(AtomicBool::new(false));
        let mut world = crate::domains::world(task, seed, &options)?;
        world.set_stop(estop.clone());
        Ok(Self { world, options, estop })
    }

    /// The emergency-stop flag this sim obeys.
    pub fn estop(&self) -> Arc<AtomicBool> {
        self.estop.clone()
    }

    /// Forbid grid cells (the operator's safety constraint): policies will never enter them.
    /// Refused by worlds without cells, and for cells outside the maze or under the agent.
    pub fn forbid_cells(&mut self, cells: &[protocol::grid::Pos]) -> Result<(), String> {
        self.world.forbid_cells(cells)
    }

    pub fn summary(&self) -> EpisodeSummary {
        self.world.summary()
    }

    pub fn observe(&mut self) -> Observation {
        self.world.observe()
    }

    fn primitive(&mut self, cmd: &PrimitiveCommand) -> PrimitiveReply {
        if self.estop.load(Ordering::SeqCst) && !matches!(cmd.body, Primitive::Wait { .. }) {
            return crate::domains::refusal("emergency stop engaged: nothing moves until it is released", self.world.sim_seconds());
        }
        self.world.primitive(&cmd.body)
    }

    fn episode_reply(&self, success: Option<bool>, reason: Option<String>) -> EpisodeReply {
        let s = self.summary();
        EpisodeReply { schema: SCHEMA_VERSION, task: s.task, instruction: s.instruction, success, reason, sim_seconds: self.world.sim_seconds() }
    }

    /// The episode's verdict on the ground truth.
    pub fn judge(&self) -> Result<(), String> {
        self.world.judge()
    }

    fn episode(&mut self, req: &EpisodeRequest) -> Result<EpisodeReply, String> {
        match &req.body {
            EpisodeRequestBody::Reset { task, seed, skill_failures } => {
                let forbidden = self.world.forbidden_cells();
                let options = WorldOptions { skill_failures: skill_failures.unwrap_or(true), ..self.options };
                let mut world = crate::domains::world(task, *seed, &options)?;
                // The operator's forbidden cells stay forbidden in the next world, where they fit.
                for c in forbidden {
                    let _ = world.forbid_cells(&[c]);
                }
                world.set_stop(self.estop.clone());
                self.world = world;
                Ok(self.episode_reply(None, None))
            }
            EpisodeRequestBody::Judge => {
                let verdict = self.judge();
                Ok(self.episode_reply(Some(verdict.is_ok()), verdict.err()))
            }
        }
    }
}

/// The sim node: serves the robot's primitives, the state and episodes of one [`SimState`],
/// and publishes the state after every change.
pub struct SimNode {
    pub state: SimState,
    pub keys: RobotKeys,
}

impl SimNode {
    fn publish_state(&mut self, session: &zenoh::Session) {
        let _ = put(session, &self.keys.state(), &self.state.observe());
    }

    async fn on_primitive(&mut self, session: &zenoh::Session, q: Query) {
        let bytes = q.payload().map(|p| p.to_bytes().into_owned()).unwrap_or_default();
        match decode::<PrimitiveCommand>(&bytes) {
            Ok(cmd) => {
                let reply = self.state.primitive(&cmd);
                let _ = q.reply(q.key_expr().clone(), encode(&reply)).await;
                self.publish_state(session);
            }
            Err(e) => {
                tracing::warn!("sim: refused a primitive command: {e}");
                let _ = q.reply_err(e.to_string()).await;
            }
        }
    }

    async fn on_observe(&mut self, q: Query) {
        let obs = self.state.observe();
        let _ = q.reply(q.key_expr().clone(), encode(&obs)).await;
    }

    async fn on_episode(&mut self, session: &zenoh::Session, q: Query) {
        let bytes = q.payload().map(|p| p.to_bytes().into_owned()).unwrap_or_default();
        match decode::<EpisodeRequest>(&bytes).map_err(|e| e.to_string()).and_then(|req| self.state.episode(&req)) {
            Ok(reply) => {
                let _ = q.reply(q.key_expr().clone(), encode(&reply)).await;
                self.publish_state(session);
            }
            Err(e) => {
                tracing::warn!("sim: refused an episode request: {e}");
                let _ = q.reply_err(e).await;
            }
        }
    }
}

impl Node for SimNode {
    const COMPONENT: Component = Component::Sim;

    fn queryables(&self, keys: &RobotKeys) -> Vec<String> {
        vec![keys.primitives(), keys.state(), keys.episode()]
    }

    fn subscriptions(&self, _keys: &RobotKeys) -> Vec<String> {
        Vec::new()
    }

    fn started(&mut self, session: &zenoh::Session) {
        self.publish_state(session);
    }

    fn estop_handler(&self) -> Option<super::node::EStopHandler> {
        let flag = self.state.estop();
        Some(Box::new(move |stop| flag.store(stop.engaged, Ordering::SeqCst)))
    }

    async fn handle(&mut self, session: &zenoh::Session, message: Incoming) {
        let Incoming::Query { key, query } = message else { return };
        if key == self.keys.primitives() {
            self.on_primitive(session, query).await
        } else if key == self.keys.state() {
            self.on_observe(query).await
        } else if key == self.keys.episode() {
            self.on_episode(session, query).await
        }
    }
}

/// Serve until the session closes.
pub async fn run(session: zenoh::Session, keys: RobotKeys, state: SimState) -> Result<(), NetError> {
    serve(session, keys.clone(), SimNode { state, keys }).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::grid::{Action, Event};
    use protocol::messages::Primitive;

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
        assert!(SimState::new("juggle", 0, 0.0).err().is_some_and(|e| e.contains("grid tasks: open-doors") && e.contains("kitchen tasks: bring-apple")));
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
