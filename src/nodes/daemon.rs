//! The controller daemon: takes instructions over zenoh and carries each out closed-loop
//! (decode the next skill on the latest state, have the policy execute it, decode again),
//! publishing its progress. Bad messages and lost components end the instruction with a
//! record of why; the daemon keeps running.

use super::common::{put, NetError};
use super::latch::{watch, Latch};
use super::node::{serve, Incoming, Node};
use super::operator::ZenohOperator;
use super::remote::ZenohRobot;
use super::timeouts;
use crate::controller::{run_closed_loop_asking, AskForHelp, ControlEvent};
use crate::dashboard::{Dashboard, Watched};
use crate::journal::{Event as JournalEvent, Journal, Recorded};
use crate::planner::{Method, PlanEnd, Planner, StepOutcome};
use protocol::keys::{Component, RobotKeys};
use protocol::messages::{decode, EStop, InstructionMsg, PlanProgress, PlanStatus};
use protocol::SCHEMA_VERSION;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use zenoh::sample::Sample;

/// Settings of a daemon.
#[derive(Clone, Debug)]
pub struct DaemonConfig {
    pub method: Method,
    pub skill_timeout: Duration,
    pub observe_timeout: Duration,
    /// Where every instruction, decoded skill, outcome and stop is recorded (none: off).
    pub journal: Option<Arc<Journal>>,
    /// Ask the operator when the plan is uncertain (`--ask-for-help`); none: never ask.
    pub ask: Option<AskSettings>,
}

/// When and how the daemon asks its operator.
#[derive(Clone, Debug, PartialEq)]
pub struct AskSettings {
    /// The domain calibrated.
    pub domain: protocol::Domain,
    /// Which options the set holds: measure, temperature and threshold (`grounded
    /// calibrate`).
    pub rule: crate::ask::SetRule,
    /// Options per step (the calibration's).
    pub options: usize,
    /// How long to wait for an answer before stopping the instruction.
    pub timeout: Duration,
}

impl AskSettings {
    /// From a calibration file's threshold and options.
    pub fn from_calibration(c: &crate::ask::Calibration, timeout: Duration) -> Self {
        Self { domain: c.domain, rule: c.rule(), options: c.options, timeout }
    }
}

/// A progress message of instruction `id`, signed with this daemon's zenoh id.
fn progress(session: &zenoh::Session, id: &str, step: usize, status: PlanStatus) -> PlanProgress {
    PlanProgress {
        schema: SCHEMA_VERSION,
        daemon: Some(session.zid().to_string()),
        instruction_id: id.to_string(),
        step,
        skill: None,
        status,
        reason: None,
        score: None,
        lm_score: None,
        plan: String::new(),
    }
}

/// Carry out one instruction; publishes progress on the plan key.
pub fn handle_instruction(
    session: &zenoh::Session,
    keys: &RobotKeys,
    planner: &mut Planner,
    config: &DaemonConfig,
    msg: &InstructionMsg,
    latch: &Arc<Latch>,
    dashboard: &Dashboard,
) -> PlanProgress {
    let plan_key = keys.plan();
    let id = msg.id.clone();
    let _ = put(session, &plan_key, &progress(session, &id, 0, PlanStatus::Started));
    let mut robot = ZenohRobot {
        session: session.clone(),
        keys: keys.clone(),
        skill_timeout: config.skill_timeout,
        observe_timeout: config.observe_timeout,
        estop: Some(latch.stopped_flag()),
        sender: Some(session.zid().to_string()),
    };
    let mut last_step = 0;
    dashboard.instruction(&msg.text);
    let journal = config.journal.as_deref();
    let record = |event: JournalEvent| {
        if let Some(j) = journal {
            j.record(event);
        }
    };
    let end = |m: &PlanProgress| {
        record(JournalEvent::Ended { id: m.instruction_id.clone(), status: m.status, reason: m.reason.clone(), plan: m.plan.clone() });
        let _ = put(session, &plan_key, m);
    };
    let mut publish = |event: ControlEvent<'_>| match event {
        ControlEvent::Decoded(p) => {
            record(JournalEvent::Decoded { id: id.clone(), proposal: Box::new(p.clone()) });
            last_step = p.index;
            let mut m = progress(session, &id, p.index, PlanStatus::Decoded);
            m.skill = Some(p.skill.clone());
            m.score = Some(p.score);
            m.lm_score = Some(p.lm_score);
            let _ = put(session, &plan_key, &m);
        }
        ControlEvent::Executed { index, skill, outcome } => {
            record(JournalEvent::Executed { id: id.clone(), index, skill: skill.to_string(), outcome: outcome.clone() });
            if *outcome == StepOutcome::Done {
                return;
            }
            let mut m = progress(session, &id, index, if matches!(outcome, StepOutcome::Failed(_)) { PlanStatus::Failed } else { PlanStatus::Succeeded });
            m.skill = Some(skill.to_string());
            if let StepOutcome::Failed(r) = outcome {
                m.reason = Some(r.clone());
            }
            let _ = put(session, &plan_key, &m);
        }
        ControlEvent::Phase { index, phase } => record(JournalEvent::Phase { id: id.clone(), index, phase: phase.to_string() }),
        ControlEvent::Asked(q) => record(JournalEvent::Asked { id: id.clone(), question: q.clone() }),
        ControlEvent::Answered { step, answer } => record(JournalEvent::Answered { id: id.clone(), step, answer: answer.clone() }),
        ControlEvent::Ended { .. } => {}
    };
    let mut events = |event: ControlEvent<'_>| {
        dashboard.event(&event);
        publish(event)
    };
    // Nothing is planned unless the robot itself says its stop is released.
    if let Err(why) = latch.ensure_released(session, keys, config.observe_timeout) {
        let mut m = progress(session, &id, 0, PlanStatus::Aborted);
        m.reason = Some(why);
        end(&m);
        return m;
    }
    let mut recorded = Recorded { robot: &mut robot, journal, id: &id };
    let mut operator = config.ask.as_ref().map(|a| {
        let operator = ZenohOperator {
            session: session.clone(),
            keys: keys.clone(),
            instruction_id: id.clone(),
            timeout: a.timeout,
            stopped: latch.stopped_flag(),
            asked: 0,
        };
        (a.clone(), operator)
    });
    let mut help = operator.as_mut().map(|(a, operator)| AskForHelp { domain: Some(a.domain), rule: a.rule, options: a.options, operator });
    let outcome = run_closed_loop_asking(planner, &mut Watched { robot: &mut recorded, dashboard }, &msg.text, config.method, help.as_mut(), &mut events);
    let mut last = match outcome {
        Ok((result, abort)) => {
            let status = match (&abort, &result.end) {
                (Some(_), _) => PlanStatus::Aborted,
                (None, PlanEnd::Done) => PlanStatus::Done,
                (None, PlanEnd::StepLimit | PlanEnd::ContextFull) => PlanStatus::StepLimit,
                (None, PlanEnd::NoSkill | PlanEnd::Departed(_)) => PlanStatus::Aborted,
            };
            let mut m = progress(session, &id, result.steps.len(), status);
            m.reason = abort.or_else(|| match &result.end {
                PlanEnd::NoSkill => Some("no admissible skill could be decoded".to_string()),
                PlanEnd::ContextFull => Some("the plan filled the language model's context".to_string()),
                PlanEnd::Departed(_) | PlanEnd::Done => result.end_reason(),
                PlanEnd::StepLimit => None,
            });
            m.plan = result.text;
            m
        }
        Err(e) => {
            let mut m = progress(session, &id, last_step, PlanStatus::Aborted);
            m.reason = Some(e.to_string());
            m
        }
    };
    if last.status != PlanStatus::Aborted {
        if let Some(why) = latch.why_stopped() {
            last.status = PlanStatus::Aborted;
            last.reason = Some(why);
        }
    }
    if last.status == PlanStatus::Aborted {
        dashboard.plan_ended("aborted", last.reason.as_deref());
    }
    end(&last);
    last
}

/// Instructions waiting beyond this many while one is carried out are refused.
pub const QUEUE: usize = 16;

/// Refusals logged and journalled one by one per second; beyond, they are counted.
const REFUSALS_RECORDED_PER_SECOND: u32 = 10;

/// Whether a refusal is recorded one by one.
#[derive(Debug, PartialEq, Eq)]
enum Admit {
    /// Record it; `suppressed` were counted, not recorded, since the last one recorded.
    Record {
        suppressed: u64,
    },
    Suppress,
}

/// Keeps the records of refusals bounded under a flood.
#[derive(Debug)]
struct RefusalLimiter {
    window: std::time::Instant,
    in_window: u32,
    suppressed: u64,
}

impl Default for RefusalLimiter {
    fn default() -> Self {
        Self { window: std::time::Instant::now(), in_window: 0, suppressed: 0 }
    }
}

impl RefusalLimiter {
    fn admit(&mut self) -> Admit {
        if self.window.elapsed() >= Duration::from_secs(1) {
            self.window = std::time::Instant::now();
            self.in_window = 0;
        }
        if self.in_window < REFUSALS_RECORDED_PER_SECOND {
            self.in_window += 1;
            Admit::Record { suppressed: std::mem::take(&mut self.suppressed) }
        } else {
            self.suppressed += 1;
            Admit::Suppress
        }
    }
}

/// The daemon node: hears instructions (queued for its one planner), the emergency stop
/// (at once, also while a plan runs) and, for the dashboard, every published state.
pub struct DaemonNode {
    pub keys: RobotKeys,
    dashboard: Dashboard,
    latch: Arc<Latch>,
    work: mpsc::Sender<InstructionMsg>,
    journal: Option<Arc<Journal>>,
    /// Instructions accepted and not yet ended (the one being carried out included).
    pending: Arc<AtomicUsize>,
    refusals: RefusalLimiter,
}

impl DaemonNode {
    fn record(&self, event: JournalEvent) {
        if let Some(j) = &self.journal {
            j.record(event);
        }
    }

    fn refuse(&mut self, session: &zenoh::Session, id: &str, reason: String) {
        // Every refusal is answered; the log and the journal keep the first few of each
        // second and then say how many more there were, so that a flood fills neither.
        match self.refusals.admit() {
            Admit::Record { suppressed } => {
                if suppressed > 0 {
                    let more = format!("{suppressed} more instructions were refused in the second before (not recorded one by one)");
                    tracing::warn!("daemon: {more}");
                    self.record(JournalEvent::Refused { id: String::new(), reason: more });
                }
                tracing::warn!("daemon: refused an instruction: {reason}");
                self.record(JournalEvent::Refused { id: id.to_string(), reason: reason.clone() });
            }
            Admit::Suppress => {}
        }
        let mut m = progress(session, id, 0, PlanStatus::Aborted);
        m.reason = Some(reason);
        let _ = put(session, &self.keys.plan(), &m);
    }

    fn on_instruction(&mut self, session: &zenoh::Session, s: Sample) {
        let msg = match decode::<InstructionMsg>(&s.payload().to_bytes()) {
            Ok(m) => m,
            Err(e) => return self.refuse(session, "", e.to_string()),
        };
        let (id, text) = (msg.id.clone(), msg.text.clone());
        match self.work.try_send(msg) {
            Ok(()) => {
                self.record(JournalEvent::Instruction { id: id.clone(), text });
                let ahead = self.pending.fetch_add(1, Ordering::SeqCst);
                if ahead > 0 {
                    let mut m = progress(session, &id, 0, PlanStatus::Queued);
                    m.reason = Some(format!("{ahead} instruction(s) ahead of it"));
                    let _ = put(session, &self.keys.plan(), &m);
                }
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.refuse(session, &id, format!("busy: {QUEUE} instructions are waiting already; send it again later"))
            }
            Err(mpsc::error::TrySendError::Closed(_)) => self.refuse(session, &id, "the daemon's planner has stopped".into()),
        }
    }

    fn on_state(&mut self, s: Sample) {
        if let Ok(obs) = decode::<protocol::Observation>(&s.payload().to_bytes()) {
            self.dashboard.observation(&obs);
        }
    }
}

impl Node for DaemonNode {
    const COMPONENT: Component = Component::Daemon;

    fn queryables(&self, _keys: &RobotKeys) -> Vec<String> {
        Vec::new()
    }

    fn subscriptions(&self, keys: &RobotKeys) -> Vec<String> {
        let mut keys = vec![keys.instruction()];
        if self.dashboard.is_enabled() {
            // Every state the simulator (or robot) publishes, also while a skill runs.
            keys.push(self.keys.state());
        }
        keys
    }

    fn estop_handler(&self) -> Option<super::node::EStopHandler> {
        let (latch, journal) = (self.latch.clone(), self.journal.clone());
        Some(Box::new(move |stop: &EStop| {
            latch.operator(stop);
            if let Some(j) = &journal {
                j.record(JournalEvent::EStop { engaged: stop.engaged, reason: stop.reason.clone() });
            }
        }))
    }

    async fn handle(&mut self, session: &zenoh::Session, message: Incoming) {
        let Incoming::Sample { key, sample } = message else { return };
        if key == self.keys.instruction() {
            self.on_instruction(session, sample)
        } else if key == self.keys.state() {
            self.on_state(sample)
        }
    }
}

/// Why a daemon stopped serving.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Net(#[from] NetError),
    #[error(
        "a daemon is already running for robot {robot:?} (zenoh id {instance}): one daemon plans for a robot; stop that one first, or start this one with another --robot"
    )]
    AlreadyRunning { robot: String, instance: String },
}

/// The other daemons' instances for this robot (never this session's own).
async fn other_daemons(session: &zenoh::Session, keys: &RobotKeys) -> Vec<String> {
    let own = session.zid().to_string();
    let found = super::client::daemon_instances(session, keys).await.unwrap_or_default();
    found.into_iter().filter(|i| *i != own).collect()
}

/// Refuse to start while another daemon serves the robot, looking for
/// [`timeouts::DAEMON_CLASH`] (a new session needs a moment to meet its peers).
async fn refuse_if_running(session: &zenoh::Session, keys: &RobotKeys) -> Result<(), DaemonError> {
    let started = std::time::Instant::now();
    loop {
        if let Some(instance) = other_daemons(session, keys).await.into_iter().next() {
            return Err(DaemonError::AlreadyRunning { robot: keys.robot().to_string(), instance });
        }
        if started.elapsed() >= timeouts::DAEMON_CLASH {
            return Ok(());
        }
        tokio::time::sleep(timeouts::RETRY).await;
    }
}

/// Returns once another daemon with a smaller zenoh id serves the robot too (two started at
/// once, or two networks joined): of the two, that one keeps serving.
async fn yield_to_another(session: &zenoh::Session, keys: &RobotKeys) -> DaemonError {
    let own = session.zid().to_string();
    loop {
        tokio::time::sleep(timeouts::DAEMON_RECHECK).await;
        if let Some(instance) = other_daemons(session, keys).await.into_iter().find(|i| *i < own) {
            return DaemonError::AlreadyRunning { robot: keys.robot().to_string(), instance };
        }
    }
}

/// Aborts a task when dropped (the daemon's planner worker, however `run` ends).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Serve instructions until the session closes: one planner carries them out in turn, the
/// emergency stop heard throughout (the robot client checks it before every observation
/// and skill). Refuses to start, or stops, when another daemon serves the same robot.
pub async fn run(session: zenoh::Session, keys: RobotKeys, planner: Planner, config: DaemonConfig, dashboard: Dashboard) -> Result<(), DaemonError> {
    refuse_if_running(&session, &keys).await?;
    let journal = config.journal.clone();
    if let Some(j) = &journal {
        j.record(JournalEvent::Started {
            robot: keys.robot().to_string(),
            daemon: session.zid().to_string(),
            method: config.method.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        });
    }
    let latch = Arc::new(Latch::default());
    let _latch = watch(&session, &keys, latch.clone(), config.observe_timeout).await?;
    let (work, mut queue) = mpsc::channel::<InstructionMsg>(QUEUE);
    let pending = Arc::new(AtomicUsize::new(0));
    let (s, k, e, d, done) = (session.clone(), keys.clone(), latch.clone(), dashboard.clone(), pending.clone());
    let _worker = AbortOnDrop(tokio::spawn(async move {
        let mut planner = Some(planner);
        while let Some(msg) = queue.recv().await {
            let Some(mut p) = planner.take() else { break };
            let (s, k, config, e, d) = (s.clone(), k.clone(), config.clone(), e.clone(), d.clone());
            match tokio::task::spawn_blocking(move || {
                handle_instruction(&s, &k, &mut p, &config, &msg, &e, &d);
                p
            })
            .await
            {
                Ok(p) => {
                    done.fetch_sub(1, Ordering::SeqCst);
                    planner = Some(p)
                }
                Err(e) => {
                    tracing::error!("daemon: the planner failed: {e}");
                    break;
                }
            }
        }
    }));
    let node = DaemonNode { keys: keys.clone(), dashboard, latch, work, journal, pending, refusals: RefusalLimiter::default() };
    tokio::select! {
        served = serve(session.clone(), keys.clone(), node) => Ok(served?),
        clash = yield_to_another(&session, &keys) => Err(clash),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_refusals_is_recorded_a_few_per_second_then_counted() {
        let mut limiter = RefusalLimiter::default();
        for _ in 0..REFUSALS_RECORDED_PER_SECOND {
            assert_eq!(limiter.admit(), Admit::Record { suppressed: 0 });
        }
        for _ in 0..500 {
            assert_eq!(limiter.admit(), Admit::Suppress);
        }
        // A new second: the next one is recorded, with the count of those in between.
        limiter.window -= Duration::from_secs(2);
        assert_eq!(limiter.admit(), Admit::Record { suppressed: 500 });
        assert_eq!(limiter.admit(), Admit::Record { suppressed: 0 });
    }
}
