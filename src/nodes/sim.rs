//! The simulator node: owns the simulated world, serves the robot's primitives (arm motions,
//! maze actions, kitchen moves), the observed state and episode control, and publishes the
//! state after every change.

use super::common::{put_latest, urgent_put, NetError};
use super::node::{serve, Incoming, Node};
use crate::domains::{World, WorldOptions};
use protocol::keys::{Component, RobotKeys};
use protocol::messages::Primitive;
use protocol::messages::{decode, encode, EStop, EStopState, EpisodeReply, EpisodeRequest, EpisodeRequestBody, PrimitiveCommand, PrimitiveReply};
use protocol::Observation;
use protocol::SCHEMA_VERSION;
use sim::stop::StopSignal;
use std::sync::{Arc, Mutex, PoisonError};
use zenoh::query::Query;
use zenoh::Wait;

pub use crate::domains::EpisodeSummary;

/// The simulator's state: the current episode's world, and how worlds are set up.
pub struct SimState {
    pub world: Box<dyn World>,
    /// Observation noise, kept for every episode; skill failures are set per reset.
    pub options: WorldOptions,
    /// The emergency stop as the robot side holds it.
    estop: Arc<RobotEStop>,
}

/// The emergency stop as the robot side holds it, latched: engaged by an `EStop` message,
/// released only by an explicit release. While engaged, every primitive but a wait is
/// refused and a motion under way halts within one physics step. A halt (the policy's
/// dead-man switch) stops the motion under way without latching.
#[derive(Debug)]
pub struct RobotEStop {
    state: Mutex<EStopState>,
    signal: Arc<StopSignal>,
}

impl RobotEStop {
    /// `engaged`: start stopped (until an explicit release).
    pub fn new(engaged: bool) -> Self {
        let signal = Arc::new(StopSignal::default());
        if engaged {
            signal.stop();
        }
        let reason = engaged.then(|| "started stopped".to_string());
        Self { state: Mutex::new(EStopState { schema: SCHEMA_VERSION, engaged, reason, epoch: 0 }), signal }
    }

    /// Engage or release, as the message says; the new state, to publish.
    pub fn apply(&self, stop: &EStop) -> EStopState {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if stop.engaged {
            self.signal.stop();
        } else {
            self.signal.clear();
        }
        state.engaged = stop.engaged;
        state.reason = stop.reason.clone();
        state.epoch += 1;
        state.clone()
    }

    /// Halt the motion under way (not latched: the next primitive may move again).
    pub fn halt(&self) {
        self.signal.stop();
    }

    pub fn state(&self) -> EStopState {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Before a primitive: refused while engaged; a halt from before is over.
    fn before_primitive(&self) -> Result<(), String> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.engaged {
            return Err(match &state.reason {
                Some(r) => format!("emergency stop engaged ({r}): nothing moves until it is released (grounded estop --release)"),
                None => "emergency stop engaged: nothing moves until it is released (grounded estop --release)".into(),
            });
        }
        self.signal.clear();
        Ok(())
    }

    /// The signal worlds obey.
    pub fn signal(&self) -> Arc<StopSignal> {
        self.signal.clone()
    }
}

impl SimState {
    /// Any domain's task (a tabletop template, a grid level, a kitchen instruction), by its id.
    pub fn new(task: &str, seed: u64, noise: f64) -> Result<Self, String> {
        let options = WorldOptions { observation_noise: noise, ..WorldOptions::default() };
        let estop = Arc::new(RobotEStop::new(false));
        let mut world = crate::domains::world(task, seed, &options)?;
        world.set_stop(estop.signal());
        Ok(Self { world, options, estop })
    }

    /// Motions take as long on the wall clock as in simulated time (tabletop), as on a real
    /// arm: for watching, and for timing what happens during a motion.
    pub fn real_time(mut self) -> Result<Self, String> {
        self.options.real_time = true;
        let s = self.summary();
        let mut world = crate::domains::world(&s.task, s.seed, &self.options)?;
        world.set_stop(self.estop.signal());
        self.world = world;
        Ok(self)
    }

    /// Start with the emergency stop engaged (released only by `grounded estop --release`).
    pub fn start_stopped(mut self) -> Self {
        self.estop = Arc::new(RobotEStop::new(true));
        self.world.set_stop(self.estop.signal());
        self
    }

    /// The emergency stop this sim holds and obeys.
    pub fn estop(&self) -> Arc<RobotEStop> {
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
        if !matches!(cmd.body, Primitive::Wait { .. }) {
            if let Err(why) = self.estop.before_primitive() {
                return crate::domains::refusal(&why, self.world.sim_seconds());
            }
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
                world.set_stop(self.estop.signal());
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
    session: zenoh::Session,
}

/// Publish the robot's emergency stop state, with real-time priority, never dropped.
pub(crate) async fn publish_estop_state(session: &zenoh::Session, key: &str, state: &EStopState) {
    let sent = urgent_put(session, key, encode(state)).await;
    if let Err(e) = sent {
        tracing::warn!("sim: could not publish the emergency stop state: {e}");
    }
}

impl SimNode {
    fn publish_state(&mut self, session: &zenoh::Session) {
        let _ = put_latest(session, &self.keys.state(), &self.state.observe());
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
        let (estop, session, key) = (self.state.estop(), self.session.clone(), self.keys.estop_state());
        let runtime = tokio::runtime::Handle::current();
        Some(Box::new(move |stop| {
            let state = estop.apply(stop);
            // Everyone who follows the robot's stop hears the change (from a task of its
            // own: a put may wait on the network, and this runs in zenoh's callback).
            let (session, key) = (session.clone(), key.clone());
            runtime.spawn(async move { publish_estop_state(&session, &key, &state).await });
        }))
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
    let z = |e: zenoh::Error| NetError::Zenoh(super::common::zenoh_text(&e));
    let estop = state.estop();
    // The latched stop is answered from zenoh's callback, never queued behind primitives;
    // the halt (dead-man) acts there too.
    let _estop_state = session
        .declare_queryable(keys.estop_state())
        .callback(move |q| {
            let _ = q.reply(q.key_expr().clone(), encode(&estop.state())).wait();
        })
        .await
        .map_err(z)?;
    let estop = state.estop();
    let _halt = session
        .declare_subscriber(keys.halt())
        .callback(move |sample| match decode::<EStop>(&sample.payload().to_bytes()) {
            Ok(stop) if stop.engaged => {
                tracing::warn!("sim: motion halted ({})", stop.reason.as_deref().unwrap_or("no reason given"));
                estop.halt()
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("sim: ignored a malformed halt: {e}"),
        })
        .await
        .map_err(z)?;
    serve(session.clone(), keys.clone(), SimNode { state, keys, session }).await
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
