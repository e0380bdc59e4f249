//! What the clients of a robot share (`send`, `demo`, `eval` and the tests): waiting for its
//! components to come up, and sending an instruction and following its plan to the end.

use super::common::{alive, put};
use super::timeouts;
use protocol::keys::{Component, RobotKeys};
use protocol::messages::{decode, InstructionMsg, PlanProgress, PlanStatus};
use protocol::SCHEMA_VERSION;
use std::time::{Duration, Instant};
use zenoh::handlers::FifoChannelHandler;
use zenoh::pubsub::Subscriber;
use zenoh::sample::Sample;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("no {component} is running for robot {robot:?} (no liveliness token on {key} within {seconds:.0} s)")]
    NotUp { component: &'static str, robot: String, key: String, seconds: f64 },
    #[error("the plan did not end within {0:.0} s")]
    Timeout(f64),
    #[error("zenoh: {0}")]
    Net(String),
}

/// Whether each of `components` holds its liveliness token, looking again until `within`
/// has passed. Blocking: for threads outside an async runtime.
pub fn wait_for_blocking(session: &zenoh::Session, keys: &RobotKeys, components: &[Component], within: Duration) -> Result<(), ClientError> {
    let started = Instant::now();
    for c in components {
        let key = keys.alive(*c);
        while !alive(session, &key) {
            if started.elapsed() > within {
                return Err(ClientError::NotUp { component: c.name(), robot: keys.robot().to_string(), key, seconds: within.as_secs_f64() });
            }
            std::thread::sleep(timeouts::RETRY);
        }
    }
    Ok(())
}

/// [`wait_for_blocking`] from async code.
pub async fn wait_for(session: &zenoh::Session, keys: &RobotKeys, components: &[Component], within: Duration) -> Result<(), ClientError> {
    let (s, k, c) = (session.clone(), keys.clone(), components.to_vec());
    tokio::task::spawn_blocking(move || wait_for_blocking(&s, &k, &c, within)).await.map_err(|e| ClientError::Net(e.to_string()))?
}

/// An instruction sent, and the robot's plan progress to follow.
pub struct PlanFollower {
    progress: Subscriber<FifoChannelHandler<Sample>>,
    id: String,
}

/// Send an instruction to the robot's daemon, subscribed to its progress first so that
/// nothing of the plan is missed. `id` is echoed in every progress message of this
/// instruction.
pub async fn send_instruction(session: &zenoh::Session, keys: &RobotKeys, id: &str, text: &str) -> Result<PlanFollower, ClientError> {
    let progress = session.declare_subscriber(keys.plan()).await.map_err(|e| ClientError::Net(e.to_string()))?;
    let msg = InstructionMsg { schema: SCHEMA_VERSION, id: id.to_string(), text: text.to_string() };
    let (s, k) = (session.clone(), keys.instruction());
    tokio::task::spawn_blocking(move || put(&s, &k, &msg)).await.map_err(|e| ClientError::Net(e.to_string()))?.map_err(|e| ClientError::Net(e.to_string()))?;
    Ok(PlanFollower { progress, id: id.to_string() })
}

/// Whether a status ends a plan.
pub fn ends_plan(status: PlanStatus) -> bool {
    matches!(status, PlanStatus::Done | PlanStatus::StepLimit | PlanStatus::Aborted)
}

impl PlanFollower {
    /// Every progress message of this instruction to `each`, until the plan ends (done,
    /// step limit, aborted), which is returned; an error when `within` passes first.
    pub async fn follow(&self, within: Duration, mut each: impl FnMut(&PlanProgress)) -> Result<PlanProgress, ClientError> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let sample = tokio::time::timeout(left, self.progress.recv_async())
                .await
                .map_err(|_| ClientError::Timeout(within.as_secs_f64()))?
                .map_err(|e| ClientError::Net(e.to_string()))?;
            let Ok(p) = decode::<PlanProgress>(&sample.payload().to_bytes()) else { continue };
            if p.instruction_id != self.id {
                continue;
            }
            each(&p);
            if ends_plan(p.status) {
                return Ok(p);
            }
        }
    }
}
