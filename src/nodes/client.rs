//! What the clients of a robot share (`send`, `demo`, `eval` and the tests): waiting for its
//! components to come up, and sending an instruction and following its plan to the end.

use super::common::{alive, instances, put};
use super::timeouts;
use protocol::keys::{Component, RobotKeys};
use protocol::messages::{decode, Answer, AnswerChoice, InstructionMsg, PlanProgress, PlanStatus, Question};
use protocol::SCHEMA_VERSION;
use std::time::{Duration, Instant};
use zenoh::handlers::FifoChannelHandler;
use zenoh::pubsub::Subscriber;
use zenoh::sample::{Sample, SampleKind};

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

/// An instruction sent, and the robot's plan progress to follow: from the daemon it was
/// sent to only, and ended as aborted should that daemon go away.
pub struct PlanFollower {
    progress: Subscriber<FifoChannelHandler<Sample>>,
    daemon_token: Subscriber<FifoChannelHandler<Sample>>,
    /// The daemon's questions (asking for help), heard from before the instruction was sent.
    questions: Subscriber<FifoChannelHandler<Sample>>,
    session: zenoh::Session,
    keys: RobotKeys,
    daemon: String,
    id: String,
}

/// The zenoh ids of the robot's running daemons, sorted (one, but for a moment when two
/// meet).
pub async fn daemon_instances(session: &zenoh::Session, keys: &RobotKeys) -> Result<Vec<String>, ClientError> {
    let (s, pattern) = (session.clone(), keys.alive_instances(Component::Daemon));
    tokio::task::spawn_blocking(move || instances(&s, &pattern)).await.map_err(|e| ClientError::Net(e.to_string()))
}

/// The running daemon's instance (its zenoh id), looking again until `within` has passed.
/// Should several answer for a moment, the one with the smallest id, which keeps serving.
pub async fn daemon_instance(session: &zenoh::Session, keys: &RobotKeys, within: Duration) -> Result<String, ClientError> {
    let started = Instant::now();
    loop {
        if let Some(first) = daemon_instances(session, keys).await?.into_iter().next() {
            return Ok(first);
        }
        if started.elapsed() > within {
            let key = keys.alive_instances(Component::Daemon);
            return Err(ClientError::NotUp { component: Component::Daemon.name(), robot: keys.robot().to_string(), key, seconds: within.as_secs_f64() });
        }
        tokio::time::sleep(timeouts::RETRY).await;
    }
}

/// Send an instruction to the robot's daemon, subscribed to its progress first so that
/// nothing of the plan is missed. `id` is echoed in every progress message of this
/// instruction.
pub async fn send_instruction(session: &zenoh::Session, keys: &RobotKeys, id: &str, text: &str) -> Result<PlanFollower, ClientError> {
    let net = |e: zenoh::Error| ClientError::Net(super::common::zenoh_text(&e));
    let daemon = daemon_instance(session, keys, timeouts::DAEMON_FOUND).await?;
    let progress = session.declare_subscriber(keys.plan()).await.map_err(net)?;
    let questions = session.declare_subscriber(keys.question()).await.map_err(net)?;
    let daemon_token = session.liveliness().declare_subscriber(keys.alive_instance(Component::Daemon, &daemon)).await.map_err(net)?;
    let msg = InstructionMsg { schema: SCHEMA_VERSION, id: id.to_string(), text: text.to_string() };
    let (s, k) = (session.clone(), keys.instruction());
    tokio::task::spawn_blocking(move || put(&s, &k, &msg)).await.map_err(|e| ClientError::Net(e.to_string()))?.map_err(|e| ClientError::Net(e.to_string()))?;
    Ok(PlanFollower { progress, daemon_token, questions, session: session.clone(), keys: keys.clone(), daemon, id: id.to_string() })
}

/// Whether a status ends a plan.
pub fn ends_plan(status: PlanStatus) -> bool {
    matches!(status, PlanStatus::Done | PlanStatus::StepLimit | PlanStatus::Aborted)
}

impl PlanFollower {
    /// Every progress message of this instruction from the daemon it was sent to, to `each`,
    /// until the plan ends (done, step limit, aborted), which is returned; an `aborted`
    /// progress of its own when that daemon goes away first (its token withdrawn and still
    /// gone [`timeouts::DAEMON_GONE_CONFIRM`] later); an error when `within` passes.
    pub async fn follow(&self, within: Duration, each: impl FnMut(&PlanProgress)) -> Result<PlanProgress, ClientError> {
        self.follow_answering(within, each, |_| None).await
    }

    /// As [`follow`](Self::follow), and the daemon's questions about this instruction go to
    /// `ask`: what it returns is published as the answer (`None`: not answered here).
    pub async fn follow_answering(
        &self,
        within: Duration,
        mut each: impl FnMut(&PlanProgress),
        mut ask: impl FnMut(&Question) -> Option<AnswerChoice>,
    ) -> Result<PlanProgress, ClientError> {
        let deadline = Instant::now() + within;
        let mut last_step = 0;
        // When the daemon's token was seen withdrawn: it is looked for again after
        // [`timeouts::DAEMON_GONE_CONFIRM`] before the plan is reported aborted, so that a
        // withdrawal the network takes back (a link re-made) is not reported as an end while
        // the daemon still plans and the robot still moves.
        let mut withdrawn: Option<Instant> = None;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let confirm = withdrawn.map_or(left, |at| (at + timeouts::DAEMON_GONE_CONFIRM).saturating_duration_since(Instant::now()));
            let sample = tokio::select! {
                q = self.questions.recv_async() => {
                    let Ok(q) = q else { continue };
                    let Ok(question) = decode::<Question>(&q.payload().to_bytes()) else { continue };
                    if question.instruction_id != self.id || question.daemon != self.daemon {
                        continue;
                    }
                    // `ask` may block (a person at a terminal): the plan's messages wait in their queue.
                    if let Some(choice) = ask(&question) {
                        let answer = Answer { schema: SCHEMA_VERSION, question_id: question.question_id.clone(), choice };
                        let (s, k) = (self.session.clone(), self.keys.answer());
                        tokio::task::spawn_blocking(move || put(&s, &k, &answer)).await.map_err(|e| ClientError::Net(e.to_string()))?.map_err(|e| ClientError::Net(e.to_string()))?;
                    }
                    continue;
                }
                s = self.progress.recv_async() => s.map_err(|e| ClientError::Net(e.to_string()))?,
                t = self.daemon_token.recv_async() => match t {
                    Ok(t) if t.kind() == SampleKind::Delete => {
                        withdrawn.get_or_insert_with(Instant::now);
                        continue;
                    }
                    Ok(_) => {
                        withdrawn = None;
                        continue;
                    }
                    Err(e) => return Err(ClientError::Net(e.to_string())),
                },
                _ = tokio::time::sleep(confirm), if withdrawn.is_some() => {
                    if self.daemon_alive().await {
                        withdrawn = None;
                        continue;
                    }
                    let p = self.went_away(last_step);
                    each(&p);
                    return Ok(p);
                }
                _ = tokio::time::sleep(left) => return Err(ClientError::Timeout(within.as_secs_f64())),
            };
            let Ok(p) = decode::<PlanProgress>(&sample.payload().to_bytes()) else { continue };
            if p.instruction_id != self.id || p.daemon.as_deref() != Some(self.daemon.as_str()) {
                continue;
            }
            last_step = p.step;
            each(&p);
            if ends_plan(p.status) {
                return Ok(p);
            }
        }
    }

    /// Whether the daemon followed holds its instance token now.
    async fn daemon_alive(&self) -> bool {
        let (s, key) = (self.session.clone(), self.keys.alive_instance(Component::Daemon, &self.daemon));
        tokio::task::spawn_blocking(move || alive(&s, &key)).await.unwrap_or(false)
    }

    fn went_away(&self, step: usize) -> PlanProgress {
        PlanProgress {
            schema: SCHEMA_VERSION,
            instruction_id: self.id.clone(),
            step,
            skill: None,
            status: PlanStatus::Aborted,
            reason: Some(format!("the daemon (zenoh id {}) went away before the plan ended", self.daemon)),
            score: None,
            lm_score: None,
            plan: String::new(),
            daemon: Some(self.daemon.clone()),
        }
    }
}
