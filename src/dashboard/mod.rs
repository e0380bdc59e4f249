//! The rerun dashboard: the 3D tabletop on a simulation-time timeline, the instruction and
//! the plan, every decoded token's candidates on a decode-step timeline, skill outcomes and
//! the episode's result. Entity paths and timelines are listed in docs/dashboard.md and in
//! [`paths`]; a disabled dashboard costs nothing.

mod decode;
pub mod grid;
pub mod kitchen;
mod layout;
pub mod paths;
pub mod sink;
pub mod tabletop;
mod view;

pub use sink::{DashboardArgs, DashboardError, Sink};
pub use view::View;

use crate::planner::{Proposal, StepOutcome};
use protocol::Observation;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

/// Where a recording goes, and what this run has logged so far. Cheap to clone: clones log
/// to the same recording (the daemon's planner thread and its state subscriber share one).
#[derive(Clone)]
pub struct Dashboard {
    rec: rerun::RecordingStream,
    /// Entity path prefix (`eval` puts each episode under its own).
    prefix: String,
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    /// Tokens logged so far: the `decode_step` timeline.
    decode_step: AtomicI64,
    /// The latest simulation time seen, seconds (decoding is logged at the time of the
    /// observation it decoded against).
    sim_time: Mutex<f64>,
    /// The latest observation (to place the current skill's targets).
    last: Mutex<Option<Observation>>,
    /// Plan lines so far.
    plan: Mutex<Vec<String>>,
    /// Send the one-run layout for the domain of the first observation (demo, daemon).
    layout: std::sync::atomic::AtomicBool,
    /// The domain whose layout was sent.
    layout_sent: Mutex<Option<protocol::Domain>>,
    /// Where the robot has been so far, in its view's frame.
    trail: Mutex<Vec<[f32; 2]>>,
    /// The last question to the operator (its answer is shown beside it).
    question: Mutex<Option<crate::controller::Asked>>,
}

impl std::fmt::Debug for Dashboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dashboard").field("enabled", &self.is_enabled()).field("prefix", &self.prefix).finish()
    }
}

impl Dashboard {
    /// A dashboard that logs nothing.
    pub fn disabled() -> Self {
        Self::new(rerun::RecordingStream::disabled())
    }

    pub fn new(rec: rerun::RecordingStream) -> Self {
        let d = Self { rec, prefix: String::new(), shared: Arc::default() };
        d.log_static_scene();
        d
    }

    /// Send the one-run layout once the first observation tells the domain.
    pub fn with_layout(self) -> Self {
        self.shared.layout.store(true, Ordering::SeqCst);
        self
    }

    fn send_layout(&self, domain: protocol::Domain) {
        if !self.shared.layout.load(Ordering::SeqCst) {
            return;
        }
        let mut sent = lock(&self.shared.layout_sent);
        if *sent != Some(domain) {
            let activation = rerun::blueprint::BlueprintActivation { make_active: true, make_default: true };
            if let Err(e) = layout::blueprint(view_of(domain).scene()).send(&self.rec, activation) {
                tracing::debug!("dashboard: layout: {e}");
            }
            *sent = Some(domain);
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.rec.is_enabled()
    }

    /// A dashboard that logs under `prefix/` (its own plan, decode timeline and scene).
    pub fn scoped(&self, prefix: &str) -> Self {
        let d = Self { rec: self.rec.clone(), prefix: format!("{prefix}/"), shared: Arc::default() };
        d.log_static_scene();
        d
    }

    fn path(&self, p: &str) -> String {
        format!("{}{p}", self.prefix)
    }

    /// Set the timelines of the next log calls on this thread: simulation time always (the
    /// latest seen), the decode step where given.
    fn at(&self, decode_step: Option<i64>) {
        self.rec.reset_time();
        let t = *lock(&self.shared.sim_time);
        self.rec.set_duration_secs(paths::SIM_TIME, t);
        if let Some(step) = decode_step {
            self.rec.set_time_sequence(paths::DECODE_STEP, step);
        }
    }

    /// Log `what` at `path` under this dashboard's prefix, at the current times.
    pub fn log(&self, path: &str, what: &impl rerun::AsComponents) {
        if let Err(e) = self.rec.log(self.path(path), what) {
            tracing::debug!("dashboard: {path}: {e}");
        }
    }

    fn log_static(&self, path: &str, what: &impl rerun::AsComponents) {
        if let Err(e) = self.rec.log_static(self.path(path), what) {
            tracing::debug!("dashboard: {path}: {e}");
        }
    }

    /// The instruction a plan starts from.
    pub fn instruction(&self, text: &str) {
        if !self.is_enabled() {
            return;
        }
        lock(&self.shared.plan).clear();
        lock(&self.shared.trail).clear();
        self.at(None);
        self.log(paths::INSTRUCTION, &rerun::TextDocument::from_markdown(format!("## Instruction\n\n> {text}")));
        self.log(paths::PLAN, &rerun::TextDocument::from_markdown("## Plan\n\n(decoding the first step)"));
        self.log(paths::TARGETS, &rerun::Clear::recursive());
        self.log(paths::QUESTION, &rerun::TextDocument::from_markdown("## Question\n\n(none asked)"));
        *lock(&self.shared.question) = None;
    }

    /// A state of the world: objects, gripper; the robot's clock moves the `sim_time` timeline.
    pub fn observation(&self, obs: &Observation) {
        if !self.is_enabled() {
            return;
        }
        if let Some(r) = &obs.robot {
            *lock(&self.shared.sim_time) = r.time_s;
        }
        self.send_layout(obs.domain);
        self.at(None);
        let view = view_of(obs.domain);
        let trail = match view.robot_at(obs) {
            Some(at) => extend_trail(&self.shared.trail, at),
            None => Vec::new(),
        };
        view.observation(self, obs, &trail);
        *lock(&self.shared.last) = Some(obs.clone());
    }

    /// A skill was decoded: its tokens' candidates, the plan line, the skill's targets.
    pub fn decoded(&self, p: &Proposal) {
        if !self.is_enabled() {
            return;
        }
        let ticks = decode::token_count(&p.explanation).max(1) as i64;
        let first = self.shared.decode_step.fetch_add(ticks, Ordering::SeqCst);
        decode::log_explanation(self, p, first);
        self.at(Some(first + ticks - 1));
        self.push_plan_line(format!("{}. {} _(score {:.2}, LM {:.2})_", p.index, p.skill, p.score, p.lm_score));
        if let Some(obs) = lock(&self.shared.last).clone() {
            view_of(obs.domain).target(self, &obs, &p.skill);
        }
    }

    /// A question to the operator: the prediction set with its confidences.
    pub fn asked(&self, q: &crate::controller::Asked) {
        if !self.is_enabled() {
            return;
        }
        self.at(Some(self.shared.decode_step.load(Ordering::SeqCst)));
        self.log(paths::QUESTION, &rerun::TextDocument::from_markdown(question_markdown(q, None)));
        *lock(&self.shared.question) = Some(q.clone());
        let text = format!("step {}: asked the operator about {} options", q.step, q.options.len());
        self.log(paths::OUTCOMES, &rerun::TextLog::new(text).with_level(rerun::TextLogLevel::INFO));
    }

    /// The operator's answer to the last question.
    pub fn answered(&self, step: usize, answer: &crate::controller::OperatorAnswer) {
        if !self.is_enabled() {
            return;
        }
        self.at(Some(self.shared.decode_step.load(Ordering::SeqCst)));
        if let Some(q) = lock(&self.shared.question).clone() {
            self.log(paths::QUESTION, &rerun::TextDocument::from_markdown(question_markdown(&q, Some(answer))));
        }
        let text = format!("step {step}: the operator answered {}", answer_text(answer, None));
        self.log(paths::OUTCOMES, &rerun::TextLog::new(text).with_level(rerun::TextLogLevel::INFO));
    }

    /// What became of a step.
    pub fn outcome(&self, index: usize, skill: &str, outcome: &StepOutcome) {
        if !self.is_enabled() {
            return;
        }
        self.at(Some(self.shared.decode_step.load(Ordering::SeqCst)));
        let (level, text) = match outcome {
            StepOutcome::Failed(why) => (rerun::TextLogLevel::WARN, format!("step {index} FAILED: {skill} ({why})")),
            StepOutcome::Infeasible(why) => (rerun::TextLogLevel::WARN, format!("step {index} infeasible: {skill} ({why})")),
            StepOutcome::Done => (rerun::TextLogLevel::INFO, format!("step {index}: done")),
            StepOutcome::Succeeded | StepOutcome::Applied => (rerun::TextLogLevel::INFO, format!("step {index} carried out: {skill}")),
        };
        self.log(paths::OUTCOMES, &rerun::TextLog::new(text).with_level(level));
        let mark = match outcome {
            StepOutcome::Failed(_) | StepOutcome::Infeasible(_) => " **failed**",
            _ => "",
        };
        if !mark.is_empty() {
            if let Some(line) = lock(&self.shared.plan).last_mut() {
                line.push_str(mark);
            }
            self.log_plan();
        }
        // The skill has ended: clear its targets (in its own domain's view).
        let domain = lock(&self.shared.last).as_ref().map(|o| o.domain);
        match domain {
            Some(d) => view_of(d).clear_target(self),
            None => self.log(paths::TARGETS, &rerun::Clear::recursive()),
        }
    }

    /// The plan ended (done, step limit, no skill, aborted), with a reason where there is one.
    pub fn plan_ended(&self, how: &str, reason: Option<&str>) {
        if !self.is_enabled() {
            return;
        }
        self.at(Some(self.shared.decode_step.load(Ordering::SeqCst)));
        let text = format!("plan ended: {how}{}", reason.map(|r| format!(" ({r})")).unwrap_or_default());
        let level = if reason.is_some() { rerun::TextLogLevel::WARN } else { rerun::TextLogLevel::INFO };
        self.log(paths::OUTCOMES, &rerun::TextLog::new(text).with_level(level));
    }

    /// The episode's verdict, judged on the simulator's ground truth.
    pub fn episode_result(&self, success: bool, reason: Option<&str>) {
        if !self.is_enabled() {
            return;
        }
        self.at(None);
        let text = format!("episode {}{}", if success { "SUCCEEDED" } else { "FAILED" }, reason.map(|r| format!(": {r}")).unwrap_or_default());
        let level = if success { rerun::TextLogLevel::INFO } else { rerun::TextLogLevel::ERROR };
        self.log(paths::OUTCOMES, &rerun::TextLog::new(text.clone()).with_level(level));
        self.log(paths::EPISODE, &rerun::TextDocument::from_markdown(format!("## Episode\n\n**{text}**")));
        self.log(paths::SUCCESS, &rerun::Scalars::single(if success { 1.0 } else { 0.0 }));
    }

    fn push_plan_line(&self, line: String) {
        lock(&self.shared.plan).push(line);
        self.log_plan();
    }

    fn log_plan(&self) {
        let text = format!("## Plan\n\n{}", lock(&self.shared.plan).join("\n"));
        self.log(paths::PLAN, &rerun::TextDocument::from_markdown(text));
    }

    /// Wait until everything logged so far has reached the sink.
    pub fn flush(&self) {
        if !self.is_enabled() {
            return;
        }
        if let Err(e) = self.rec.flush_blocking() {
            tracing::warn!("dashboard: could not flush the recording: {e}");
        }
    }

    fn log_static_scene(&self) {
        if self.is_enabled() {
            tabletop::log_static(self);
        }
    }
}

/// The view of a domain; a domain without a plug-in is drawn as objects on a table.
fn view_of(domain: protocol::Domain) -> &'static dyn View {
    crate::domains::domain(domain).map_or(&tabletop::TableView as &dyn View, |d| d.view())
}

/// Where the robot has been so far, `at` appended unless it is still there.
fn extend_trail<T: PartialEq + Clone>(trail: &Mutex<Vec<T>>, at: T) -> Vec<T> {
    let mut trail = lock(trail);
    if trail.last() != Some(&at) {
        trail.push(at);
    }
    trail.clone()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Dashboard {
    /// Log what the closed loop reports.
    pub fn event(&self, event: &crate::controller::ControlEvent<'_>) {
        use crate::controller::ControlEvent;
        match event {
            ControlEvent::Decoded(p) => self.decoded(p),
            ControlEvent::Phase { .. } => {}
            ControlEvent::Asked(q) => self.asked(q),
            ControlEvent::Answered { step, answer } => self.answered(*step, answer),
            ControlEvent::Executed { index, skill, outcome } => self.outcome(*index, skill, outcome),
            ControlEvent::Ended { end, reason } => self.plan_ended(&end.to_string().to_lowercase(), *reason),
        }
    }
}

/// A robot whose every observation is logged to the dashboard.
pub struct Watched<'a> {
    pub robot: &'a mut dyn crate::controller::Robot,
    pub dashboard: &'a Dashboard,
}

impl crate::controller::Robot for Watched<'_> {
    fn observe(&mut self) -> Result<Observation, crate::controller::RobotError> {
        let obs = self.robot.observe()?;
        self.dashboard.observation(&obs);
        Ok(obs)
    }

    fn execute(&mut self, skill: &str, progress: &mut dyn FnMut(&str)) -> Result<policies::SkillOutcome, crate::controller::RobotError> {
        self.robot.execute(skill, progress)
    }
}

/// An answer as a person reads it (the chosen option's skill when the question is known).
fn answer_text(answer: &crate::controller::OperatorAnswer, q: Option<&crate::controller::Asked>) -> String {
    use crate::controller::OperatorAnswer;
    match answer {
        OperatorAnswer::Choose(i) => match q.and_then(|q| q.options.get(*i)) {
            Some((skill, _)) => format!("option {}: {skill}", i + 1),
            None => format!("option {}", i + 1),
        },
        OperatorAnswer::NoneOfThese(t) if t.trim().is_empty() => "none of these (stop)".into(),
        OperatorAnswer::NoneOfThese(t) => format!("none of these: \"{t}\""),
        OperatorAnswer::NoAnswer(why) => format!("nothing ({why})"),
    }
}

/// The question document: the options with their confidences, then the answer if any.
fn question_markdown(q: &crate::controller::Asked, answer: Option<&crate::controller::OperatorAnswer>) -> String {
    let mut md = format!("## Question (step {})\n\n{}\n\n| | option | confidence |\n|---|---|---:|\n", q.step, q.text);
    for (i, (skill, p)) in q.options.iter().enumerate() {
        md.push_str(&format!("| {} | {skill} | {:.0}% |\n", i + 1, 100.0 * p));
    }
    md.push_str(&match answer {
        Some(a) => format!("\n**Answer:** {}\n", answer_text(a, Some(q))),
        None => "\n_waiting for the operator_\n".into(),
    });
    md
}
