//! The emergency stop as a policy or daemon follows it: the robot side (sim or bridge) holds
//! the latched state; a component believes "released" only when it reads it from the robot.
//! It starts stopped, stops again when it loses the robot, stops at once on an operator's
//! engage, and never takes a release from anyone but the robot. (Who may publish as the
//! robot is the network's to enforce: `grounded secure init` lets only the sim's
//! certificate publish `estop/state`. On an open network a forged release still moves
//! nothing: the sim refuses every primitive while its own stop is engaged.)

use super::common::{query_all, NetError};
use protocol::keys::{Component, RobotKeys};
use protocol::messages::{decode, EStop, EStopState};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use zenoh::sample::SampleKind;

/// Where a state of the robot's stop came from: a change it published, or the answer to
/// a question (which may be older than an engage heard meanwhile).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Published,
    Answered,
}

/// What a component knows of the robot's emergency stop.
#[derive(Clone, Debug, PartialEq)]
pub enum LatchState {
    /// Not read from the robot yet (started, or lost the robot): stopped.
    Unknown { why: String },
    /// Engaged. `after`: a release is believed only with an epoch above it (None: only a
    /// release the robot publishes, as nothing is known of its epochs).
    Engaged { reason: String, after: Option<u64> },
    /// Released, as the robot said at `epoch`.
    Released { epoch: u64 },
}

/// A component's view of the robot's emergency stop, shared by its threads.
#[derive(Debug)]
pub struct Latch {
    state: Mutex<LatchState>,
    /// Set unless released: what a motion loop looks at, lock-free.
    stopped: Arc<AtomicBool>,
}

impl Default for Latch {
    fn default() -> Self {
        Self {
            state: Mutex::new(LatchState::Unknown { why: "the robot's emergency stop has not been read yet".into() }),
            stopped: Arc::new(AtomicBool::new(true)),
        }
    }
}

impl Latch {
    /// Set while not released (for loops that look before every primitive).
    pub fn stopped_flag(&self) -> Arc<AtomicBool> {
        self.stopped.clone()
    }

    pub fn is_released(&self) -> bool {
        !self.stopped.load(Ordering::SeqCst)
    }

    /// Why nothing may move now (None: released).
    pub fn why_stopped(&self) -> Option<String> {
        match &*self.lock() {
            LatchState::Released { .. } => None,
            LatchState::Unknown { why } => Some(format!("emergency stop state unknown: {why}")),
            LatchState::Engaged { reason, .. } => Some(format!("emergency stop engaged ({reason})")),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LatchState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set(&self, state: &mut LatchState, new: LatchState) {
        self.stopped.store(!matches!(new, LatchState::Released { .. }), Ordering::SeqCst);
        *state = new;
    }

    /// An operator's stop message: an engage stops at once; a release is the robot's to
    /// confirm, so it changes nothing here.
    pub fn operator(&self, stop: &EStop) {
        if !stop.engaged {
            return;
        }
        let mut state = self.lock();
        let after = match &*state {
            LatchState::Released { epoch } => Some(*epoch),
            LatchState::Engaged { after, .. } => *after,
            LatchState::Unknown { .. } => None,
        };
        let reason = stop.reason.clone().unwrap_or_else(|| "no reason given".into());
        self.set(&mut state, LatchState::Engaged { reason, after });
    }

    /// The robot's own state.
    pub fn robot(&self, robot: &EStopState, source: Source) {
        let mut state = self.lock();
        if robot.engaged {
            let reason = robot.reason.clone().unwrap_or_else(|| "no reason given".into());
            self.set(&mut state, LatchState::Engaged { reason, after: Some(robot.epoch) });
            return;
        }
        let believed = match &*state {
            LatchState::Unknown { .. } => true,
            LatchState::Released { epoch } => robot.epoch >= *epoch,
            LatchState::Engaged { after: Some(after), .. } => robot.epoch > *after,
            LatchState::Engaged { after: None, .. } => source == Source::Published,
        };
        if believed {
            self.set(&mut state, LatchState::Released { epoch: robot.epoch });
        }
    }

    /// The robot went away (its token was withdrawn): stopped until it is read again; an
    /// engaged stop stays engaged until the robot publishes a release.
    pub fn robot_lost(&self) {
        let mut state = self.lock();
        let new = match &*state {
            LatchState::Engaged { reason, .. } => LatchState::Engaged { reason: reason.clone(), after: None },
            _ => LatchState::Unknown { why: "the robot (its sim or bridge) went away".into() },
        };
        self.set(&mut state, new);
    }

    /// Ask the robot for its state (blocking, at most `timeout`).
    pub fn refresh(&self, session: &zenoh::Session, keys: &RobotKeys, timeout: Duration) {
        for s in ask_robot(session, keys, timeout) {
            self.robot(&s, Source::Answered);
        }
    }

    /// Released, or released once the robot is asked again (blocking, at most `timeout`);
    /// `Err` says why nothing may move.
    pub fn ensure_released(&self, session: &zenoh::Session, keys: &RobotKeys, timeout: Duration) -> Result<(), String> {
        if !self.is_released() {
            self.refresh(session, keys, timeout);
        }
        self.why_stopped().map_or(Ok(()), Err)
    }
}

/// The emergency stop as the robot side answers it on `estop/state` (blocking, at most
/// `timeout`): every answer that reads; malformed ones are logged and left out.
pub fn ask_robot(session: &zenoh::Session, keys: &RobotKeys, timeout: Duration) -> Vec<EStopState> {
    let replies = query_all(session, &keys.estop_state(), Vec::new(), timeout).unwrap_or_default();
    replies
        .into_iter()
        .flatten()
        .filter_map(|bytes| decode::<EStopState>(&bytes).map_err(|e| tracing::warn!("ignored a malformed emergency stop state: {e}")).ok())
        .collect()
}

/// Ask the robot until it says its stop is `engaged` (or released), for at most `within`
/// (blocking): its state then, or None.
pub fn await_robot(session: &zenoh::Session, keys: &RobotKeys, engaged: bool, within: Duration) -> Option<EStopState> {
    let started = std::time::Instant::now();
    while started.elapsed() < within {
        if let Some(state) = ask_robot(session, keys, super::timeouts::LIVELINESS).into_iter().find(|s| s.engaged == engaged) {
            return Some(state);
        }
        std::thread::sleep(super::timeouts::RETRY);
    }
    None
}

/// The subscriptions that keep a [`Latch`] up to date; dropping it stops them.
pub struct LatchWatch {
    _state: zenoh::pubsub::Subscriber<()>,
    _robot: zenoh::pubsub::Subscriber<()>,
}

/// Follow the robot's stop: its published changes, and its liveliness (lost: stopped; back
/// or first seen: asked for its state). Declare before the component's own token.
pub async fn watch(session: &zenoh::Session, keys: &RobotKeys, latch: Arc<Latch>, ask_timeout: Duration) -> Result<LatchWatch, NetError> {
    let z = |e: zenoh::Error| NetError::Zenoh(super::common::zenoh_text(&e));
    let l = latch.clone();
    let state = session
        .declare_subscriber(keys.estop_state())
        .callback(move |sample| match decode::<EStopState>(&sample.payload().to_bytes()) {
            Ok(s) => l.robot(&s, Source::Published),
            Err(e) => tracing::warn!("ignored a malformed emergency stop state: {e}"),
        })
        .await
        .map_err(z)?;
    let runtime = tokio::runtime::Handle::current();
    let (s, k) = (session.clone(), keys.clone());
    let robot = session
        .liveliness()
        .declare_subscriber(keys.alive(Component::Sim))
        .history(true)
        .callback(move |sample| match sample.kind() {
            SampleKind::Delete => latch.robot_lost(),
            SampleKind::Put => {
                let (latch, s, k) = (latch.clone(), s.clone(), k.clone());
                runtime.spawn_blocking(move || latch.refresh(&s, &k, ask_timeout));
            }
        })
        .await
        .map_err(z)?;
    Ok(LatchWatch { _state: state, _robot: robot })
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::SCHEMA_VERSION;

    fn robot(engaged: bool, epoch: u64) -> EStopState {
        EStopState { schema: SCHEMA_VERSION, engaged, reason: Some("r".into()), epoch }
    }

    fn operator(engaged: bool) -> EStop {
        EStop { schema: SCHEMA_VERSION, engaged, reason: Some("operator".into()) }
    }

    #[test]
    fn starts_stopped_and_is_released_only_by_the_robot() {
        let latch = Latch::default();
        assert!(!latch.is_released());
        assert!(latch.why_stopped().is_some_and(|w| w.contains("not been read")));
        latch.operator(&operator(false));
        assert!(!latch.is_released(), "an operator's release is the robot's to confirm");
        latch.robot(&robot(false, 0), Source::Answered);
        assert!(latch.is_released());
        assert!(!latch.stopped_flag().load(Ordering::SeqCst));
    }

    #[test]
    fn an_engage_is_not_undone_by_an_older_answer() {
        let latch = Latch::default();
        latch.robot(&robot(false, 4), Source::Answered);
        latch.operator(&operator(true));
        assert!(latch.why_stopped().is_some_and(|w| w.contains("engaged (operator)")));
        // An answer sent before the robot heard the engage: same epoch, still released.
        latch.robot(&robot(false, 4), Source::Answered);
        assert!(!latch.is_released());
        latch.robot(&robot(true, 5), Source::Published);
        latch.robot(&robot(false, 5), Source::Answered);
        assert!(!latch.is_released());
        latch.robot(&robot(false, 6), Source::Published);
        assert!(latch.is_released());
    }

    #[test]
    fn losing_the_robot_stops_and_an_engage_outlives_a_restart() {
        let latch = Latch::default();
        latch.robot(&robot(false, 2), Source::Published);
        latch.robot_lost();
        assert!(latch.why_stopped().is_some_and(|w| w.contains("went away")));
        // A new robot (its epochs start again) answers released: believed.
        latch.robot(&robot(false, 0), Source::Answered);
        assert!(latch.is_released());
        latch.operator(&operator(true));
        latch.robot_lost();
        latch.robot(&robot(false, 0), Source::Answered);
        assert!(!latch.is_released(), "engaged before the robot restarted: only an explicit release ends it");
        latch.robot(&robot(false, 1), Source::Published);
        assert!(latch.is_released());
    }
}
