//! The simulator node: owns the physics world, serves the arm's low-level commands, the
//! observed state and episode control, and publishes the state after every change.

use super::common::{put, NetError};
use protocol::keys::{Component, RobotKeys};
use protocol::messages::{decode, encode, ArmCommand, ArmCommandBody, ArmReply, EpisodeReply, EpisodeRequest, EpisodeRequestBody};
use protocol::SCHEMA_VERSION;
use sim::{generate, judge, task_named, Episode, World, WorldConfig};

/// The world and the episode it plays.
pub struct SimState {
    pub episode: Episode,
    pub world: World,
    pub noise: f64,
}

impl SimState {
    pub fn new(task: &str, seed: u64, noise: f64) -> Result<Self, String> {
        let t = task_named(task).ok_or_else(|| format!("unknown task {task:?}; tasks: {}", sim::tasks::task_ids()))?;
        let episode = generate(t, seed);
        let world = World::new(&episode.scene, WorldConfig { observation_noise: noise, noise_seed: seed, ..WorldConfig::default() });
        Ok(Self { episode, world, noise })
    }

    fn arm(&mut self, cmd: &ArmCommand) -> ArmReply {
        let result = match &cmd.body {
            ArmCommandBody::MoveTo { position, speed } => self.world.move_to(*position, *speed),
            ArmCommandBody::Suction { on } => self.world.suction(*on),
            ArmCommandBody::Wait { seconds } => self.world.wait(*seconds),
        };
        let (ok, reason) = match &result {
            Ok(_) => (true, None),
            Err(e) => (false, Some(e.to_string())),
        };
        let arm = self.world.arm();
        ArmReply { schema: SCHEMA_VERSION, ok, reason, holding: arm.holding, tip: arm.tip, sim_seconds: arm.sim_seconds }
    }

    fn episode_reply(&self, success: Option<bool>, reason: Option<String>) -> EpisodeReply {
        EpisodeReply {
            schema: SCHEMA_VERSION,
            task: self.episode.task.id.to_string(),
            instruction: self.episode.instruction.clone(),
            success,
            reason,
            sim_seconds: self.world.sim_seconds(),
        }
    }

    fn episode(&mut self, req: &EpisodeRequest) -> Result<EpisodeReply, String> {
        match &req.body {
            EpisodeRequestBody::Reset { task, seed } => {
                *self = SimState::new(task, *seed, self.noise)?;
                Ok(self.episode_reply(None, None))
            }
            EpisodeRequestBody::Judge => {
                let verdict = judge(&self.episode, &self.world.ground_truth());
                Ok(self.episode_reply(Some(verdict.is_ok()), verdict.err()))
            }
        }
    }
}

/// Serve until the session closes.
pub async fn run(session: zenoh::Session, keys: RobotKeys, mut state: SimState) -> Result<(), NetError> {
    let z = |e: zenoh::Error| NetError::Zenoh(e.to_string());
    let _token = session.liveliness().declare_token(keys.alive(Component::Sim)).await.map_err(z)?;
    let arm = session.declare_queryable(keys.arm()).await.map_err(z)?;
    let observe = session.declare_queryable(keys.state()).await.map_err(z)?;
    let episode = session.declare_queryable(keys.episode()).await.map_err(z)?;
    let state_key = keys.state();
    put(&session, &state_key, &state.world.observe())?;
    loop {
        tokio::select! {
            q = arm.recv_async() => {
                let Ok(q) = q else { break };
                let bytes = q.payload().map(|p| p.to_bytes().into_owned()).unwrap_or_default();
                match decode::<ArmCommand>(&bytes) {
                    Ok(cmd) => {
                        let reply = state.arm(&cmd);
                        let _ = q.reply(q.key_expr().clone(), encode(&reply)).await;
                        let _ = put(&session, &state_key, &state.world.observe());
                    }
                    Err(e) => {
                        tracing::warn!("sim: refused an arm command: {e}");
                        let _ = q.reply_err(e.to_string()).await;
                    }
                }
            }
            q = observe.recv_async() => {
                let Ok(q) = q else { break };
                let obs = state.world.observe();
                let _ = q.reply(q.key_expr().clone(), encode(&obs)).await;
            }
            q = episode.recv_async() => {
                let Ok(q) = q else { break };
                let bytes = q.payload().map(|p| p.to_bytes().into_owned()).unwrap_or_default();
                match decode::<EpisodeRequest>(&bytes).map_err(|e| e.to_string()).and_then(|req| state.episode(&req)) {
                    Ok(reply) => {
                        let _ = q.reply(q.key_expr().clone(), encode(&reply)).await;
                        let _ = put(&session, &state_key, &state.world.observe());
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
