//! Messages on the wire: JSON, each with a `schema` version field.
//!
//! [`decode`] refuses a payload larger than [`MAX_MESSAGE_BYTES`], one that is not JSON of
//! the expected shape, one of another schema version, and one whose values break the bounds
//! of [`crate::limits`] or an observation's invariants, each with a clear reason.

use crate::limits::{self, valid_sim_seconds};
use crate::observation::{Observation, SCHEMA_VERSION};
use crate::quote::{clip, Quoted};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The largest message accepted, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;

fn schema_version() -> u32 {
    SCHEMA_VERSION
}

#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    #[error("message of {0} bytes refused: at most {MAX_MESSAGE_BYTES} are accepted")]
    TooLarge(usize),
    #[error("malformed {what} message: {}", clip(&.error.to_string()))]
    Json { what: &'static str, error: serde_json::Error },
    #[error("{what} message has schema version {found}; this build speaks version {SCHEMA_VERSION}")]
    Schema { what: &'static str, found: u32 },
    #[error("invalid {what} message: {}", clip(.reason))]
    Invalid { what: &'static str, reason: String },
}

/// A message type with a schema version.
pub trait Message: Serialize + DeserializeOwned {
    const NAME: &'static str;
    fn schema(&self) -> u32;
    /// The message's values within their bounds (checked by [`decode`]).
    fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

/// Parse a message, checking size, shape and schema version.
pub fn decode<T: Message>(bytes: &[u8]) -> Result<T, MessageError> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(MessageError::TooLarge(bytes.len()));
    }
    let msg: T = serde_json::from_slice(bytes).map_err(|error| MessageError::Json { what: T::NAME, error })?;
    if msg.schema() != SCHEMA_VERSION {
        return Err(MessageError::Schema { what: T::NAME, found: msg.schema() });
    }
    msg.check().map_err(|reason| MessageError::Invalid { what: T::NAME, reason })?;
    Ok(msg)
}

/// Serialize a message (never fails for these types).
pub fn encode<T: Message>(msg: &T) -> Vec<u8> {
    serde_json::to_vec(msg).unwrap_or_default()
}

macro_rules! message {
    ($t:ty, $name:literal) => {
        impl Message for $t {
            const NAME: &'static str = $name;
            fn schema(&self) -> u32 {
                self.schema
            }
        }
    };
    ($t:ty, $name:literal, $check:expr) => {
        impl Message for $t {
            const NAME: &'static str = $name;
            fn schema(&self) -> u32 {
                self.schema
            }
            fn check(&self) -> Result<(), String> {
                let check: fn(&$t) -> Result<(), String> = $check;
                check(self)
            }
        }
    };
}

/// `Err(reason)` unless `ok`.
fn ensure(ok: bool, reason: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(reason())
    }
}

fn check_sim_seconds(what: &str, x: f64) -> Result<(), String> {
    ensure(valid_sim_seconds(x), || format!("{what} {x} s is not a clock reading in [0, {}] s", limits::MAX_SIM_SECONDS))
}

message!(Observation, "observation", |o| o.validate().map_err(|e| e.to_string()));

/// An instruction for a robot's daemon.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstructionMsg {
    #[serde(default = "schema_version")]
    pub schema: u32,
    /// Chosen by the client; echoed in every `PlanProgress` of this instruction.
    pub id: String,
    pub text: String,
}
message!(InstructionMsg, "instruction", |m| {
    ensure(m.id.len() <= limits::MAX_ID_LEN, || format!("its id is {} bytes long; at most {} are accepted", m.id.len(), limits::MAX_ID_LEN))?;
    ensure(m.text.len() <= limits::MAX_INSTRUCTION_LEN, || {
        format!("the instruction is {} bytes long; at most {} are accepted: say it in fewer words", m.text.len(), limits::MAX_INSTRUCTION_LEN)
    })
});

/// A skill for a policy to carry out: a valid skill text (non-empty, at most
/// [`crate::skill::MAX_SKILL_LEN`] bytes, no terminator), or the message is refused.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillRequest {
    #[serde(default = "schema_version")]
    pub schema: u32,
    pub skill: crate::skill::SkillText,
    /// The zenoh id of the daemon that sends it (its instance token
    /// [`crate::keys::RobotKeys::alive_instance`]): the policy's dead-man switch stops the
    /// skill when that token goes away. None: no dead-man (a client without a token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
}
message!(SkillRequest, "skill request", |r| match &r.sender {
    Some(s) => ensure(!s.is_empty() && s.len() <= limits::MAX_ID_LEN && s.chars().all(|c| c.is_ascii_alphanumeric()), || {
        format!("the sender {} is not a zenoh id (1 to {} letters and digits)", limits::MAX_ID_LEN, Quoted(s))
    }),
    None => Ok(()),
});

/// A policy's reply while and after carrying out a skill.
// (no deny_unknown_fields: serde does not support it together with flatten)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SkillReply {
    #[serde(default = "schema_version")]
    pub schema: u32,
    #[serde(flatten)]
    pub body: SkillReplyBody,
}
message!(SkillReply, "skill reply", |r| match &r.body {
    SkillReplyBody::Result { sim_seconds, .. } => check_sim_seconds("its simulated time", *sim_seconds),
    SkillReplyBody::Progress { .. } => Ok(()),
});

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SkillReplyBody {
    /// A phase of the skill started (approach, descend, attach, lift, move, place, release).
    Progress { phase: String },
    /// The skill ended.
    Result { success: bool, reason: Option<String>, sim_seconds: f64 },
}

/// An affordance query to a policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AffordanceRequest {
    #[serde(default = "schema_version")]
    pub schema: u32,
    /// Texts to score; empty asks for the list of every admissible skill instead.
    #[serde(default)]
    pub texts: Vec<AffordanceText>,
    /// The state to answer on: the one the asker plans on, so that the policy answers on the
    /// same state without fetching it again (one round trip). Left out, the policy observes
    /// the robot itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observation: Option<Observation>,
}
message!(AffordanceRequest, "affordance request", |r| {
    ensure(r.texts.len() <= limits::MAX_AFFORDANCE_TEXTS, || {
        format!("it asks for {} texts; at most {} are scored at once", r.texts.len(), limits::MAX_AFFORDANCE_TEXTS)
    })?;
    if let Some(t) = r.texts.iter().find(|t| t.text.len() > crate::skill::MAX_SKILL_LEN) {
        return Err(format!("a text is {} bytes long; a skill is at most {}", t.text.len(), crate::skill::MAX_SKILL_LEN));
    }
    match &r.observation {
        Some(o) => o.validate().map_err(|e| format!("its observation: {e}")),
        None => Ok(()),
    }
});

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AffordanceText {
    pub text: String,
    /// The text is a whole skill (not a prefix).
    #[serde(default)]
    pub complete: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AffordanceReply {
    #[serde(default = "schema_version")]
    pub schema: u32,
    /// For a list request: every admissible skill and its feasibility in (0, 1].
    #[serde(default)]
    pub skills: Vec<(String, f64)>,
    /// For a scoring request: one probability per text, in order.
    #[serde(default)]
    pub scores: Vec<f64>,
}
message!(AffordanceReply, "affordance reply", |r| {
    if let Some((text, f)) = r.skills.iter().find(|(_, f)| !(f.is_finite() && *f > 0.0 && *f <= 1.0)) {
        return Err(format!("skill {} has feasibility {f}, not a probability in (0, 1]", Quoted(text)));
    }
    match r.scores.iter().find(|p| !(p.is_finite() && (0.0..=1.0).contains(*p))) {
        Some(p) => Err(format!("a score {p} is not a probability in [0, 1]")),
        None => Ok(()),
    }
});

/// What a daemon is doing with an instruction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanProgress {
    #[serde(default = "schema_version")]
    pub schema: u32,
    pub instruction_id: String,
    pub step: usize,
    pub skill: Option<String>,
    pub status: PlanStatus,
    pub reason: Option<String>,
    /// For a decoded skill: its score (LM and grounded models together) and the LM's part.
    #[serde(default)]
    pub score: Option<f32>,
    #[serde(default)]
    pub lm_score: Option<f32>,
    /// The plan text so far.
    pub plan: String,
    /// The zenoh id of the daemon that sent it (its instance token is
    /// `alive/daemon/<id>`), so that a client follows only the daemon it sent to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daemon: Option<String>,
}
message!(PlanProgress, "plan progress");

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlanStatus {
    /// Accepted, waiting behind other instructions (`reason` says how many).
    Queued,
    Started,
    Decoded,
    Succeeded,
    Failed,
    Done,
    StepLimit,
    Aborted,
}

/// The most options one question offers.
pub const MAX_QUESTION_OPTIONS: usize = 32;

/// One option of a question: a skill and how confident the planner is in it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionOption {
    pub skill: String,
    /// Its share of the options' probability under the decoding rule, in [0, 1].
    pub confidence: f64,
}

/// The daemon asks its operator which skill is meant: the grounded plan is uncertain (its
/// calibrated prediction set holds more than one skill). Published on
/// [`crate::keys::RobotKeys::question`]; answered on [`crate::keys::RobotKeys::answer`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    #[serde(default = "schema_version")]
    pub schema: u32,
    /// The zenoh id of the daemon asking.
    pub daemon: String,
    pub instruction_id: String,
    /// Unique per question; the answer echoes it.
    pub question_id: String,
    /// The plan step it is about (1 = the first skill).
    pub step: usize,
    /// For a person: what is asked.
    pub text: String,
    /// The options, most confident first.
    pub options: Vec<QuestionOption>,
    /// The daemon waits this long for an answer, then stops the instruction.
    pub timeout_s: f64,
}
message!(Question, "question", |q| {
    ensure(!q.options.is_empty() && q.options.len() <= MAX_QUESTION_OPTIONS, || {
        format!("{} options; between 1 and {MAX_QUESTION_OPTIONS} are accepted", q.options.len())
    })?;
    ensure(q.options.iter().all(|o| o.confidence.is_finite() && (0.0..=1.0).contains(&o.confidence)), || "an option's confidence is not in [0, 1]".into())?;
    ensure(q.text.len() <= limits::MAX_INSTRUCTION_LEN && q.question_id.len() <= limits::MAX_ID_LEN && q.instruction_id.len() <= limits::MAX_ID_LEN, || {
        "a text or an id is too long".into()
    })?;
    ensure(q.options.iter().all(|o| o.skill.len() <= crate::skill::MAX_SKILL_LEN), || "an option's skill is too long".into())?;
    ensure(q.timeout_s.is_finite() && q.timeout_s > 0.0 && q.timeout_s <= 86_400.0, || format!("timeout {} s is not in (0, 86400]", q.timeout_s))
});

/// What the operator answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum AnswerChoice {
    /// This option (0 = the first offered).
    Option { index: usize },
    /// None of the options: `text` says what is meant (it goes into the prompt and the step
    /// is decoded again); an empty text stops the instruction.
    NoneOfThese { text: String },
}

/// The operator's answer to a [`Question`], on [`crate::keys::RobotKeys::answer`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    #[serde(default = "schema_version")]
    pub schema: u32,
    pub question_id: String,
    pub choice: AnswerChoice,
}
message!(Answer, "answer", |a| {
    ensure(a.question_id.len() <= limits::MAX_ID_LEN, || "the question id is too long".into())?;
    match &a.choice {
        AnswerChoice::Option { index } => ensure(*index < MAX_QUESTION_OPTIONS, || format!("option {index} does not exist")),
        AnswerChoice::NoneOfThese { text } => ensure(text.len() <= limits::MAX_ANSWER_LEN, || {
            format!("the answer's text is {} bytes; at most {} are accepted", text.len(), limits::MAX_ANSWER_LEN)
        }),
    }
});

/// Engage (or release) the emergency stop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EStop {
    #[serde(default = "schema_version")]
    pub schema: u32,
    pub engaged: bool,
    #[serde(default)]
    pub reason: Option<String>,
}
message!(EStop, "emergency stop", |m| check_reason(&m.reason));

/// The emergency stop as the robot side holds it (latched): published on
/// [`crate::keys::RobotKeys::estop_state`] at every change, and the answer to a query there.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EStopState {
    #[serde(default = "schema_version")]
    pub schema: u32,
    pub engaged: bool,
    /// Why it was last engaged or released.
    #[serde(default)]
    pub reason: Option<String>,
    /// Counts the stop messages this robot-side instance has applied: a release is believed
    /// only when it is newer than the engage it ends.
    pub epoch: u64,
}
message!(EStopState, "emergency stop state", |m| check_reason(&m.reason));

fn check_reason(reason: &Option<String>) -> Result<(), String> {
    match reason {
        Some(r) => {
            ensure(r.len() <= limits::MAX_INSTRUCTION_LEN, || format!("the reason has {} bytes; at most {} are accepted", r.len(), limits::MAX_INSTRUCTION_LEN))
        }
        None => Ok(()),
    }
}

/// One primitive of the simulated robot: an arm motion or suction switch (tabletop), a maze
/// agent's action (grid), a mobile robot's navigate, grasp or place (kitchen). On the wire
/// key `arm` (its first name; see [`crate::keys::RobotKeys::primitives`]).
// (no deny_unknown_fields: serde does not support it together with flatten)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrimitiveCommand {
    #[serde(default = "schema_version")]
    pub schema: u32,
    #[serde(flatten)]
    pub body: Primitive,
}
message!(PrimitiveCommand, "primitive command", |c| match &c.body {
    Primitive::MoveTo { position, speed } => {
        ensure(position.iter().all(|x| x.is_finite()), || format!("position {position:?} is not finite"))?;
        ensure((limits::MIN_ARM_SPEED..=limits::MAX_ARM_SPEED).contains(speed), || {
            format!("speed {speed} m/s is not in [{}, {}] m/s", limits::MIN_ARM_SPEED, limits::MAX_ARM_SPEED)
        })
    }
    Primitive::Wait { seconds } =>
        ensure((0.0..=limits::MAX_WAIT_SECONDS).contains(seconds), || { format!("a wait of {seconds} s is not in [0, {}] s", limits::MAX_WAIT_SECONDS) }),
    Primitive::Suction { .. } | Primitive::Act { .. } | Primitive::Kitchen { .. } => Ok(()),
});

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Primitive {
    /// Move the suction cup's tip in a straight line to `position` (metres, table frame).
    MoveTo { position: [f64; 3], speed: f64 },
    /// Switch suction on (grips what the cup touches) or off (releases).
    Suction { on: bool },
    /// Let the world run for a while (objects settle).
    Wait { seconds: f64 },
    /// Grid maze: one primitive action of the agent (left, right, forward, pickup, drop,
    /// toggle, done); the reply's `event` says what it did.
    Act { action: crate::grid::Action },
    /// Kitchen: one primitive of the mobile robot (navigate and look, grasp, place).
    Kitchen { action: crate::kitchen::KitchenAction },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrimitiveReply {
    #[serde(default = "schema_version")]
    pub schema: u32,
    pub ok: bool,
    pub reason: Option<String>,
    /// Name of the object held by suction, if any.
    pub holding: Option<String>,
    pub tip: [f64; 3],
    pub sim_seconds: f64,
    /// Grid maze: what the action did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<crate::grid::Event>,
    /// A motion halted by a stop: the simulated seconds it moved after the stop reached the
    /// robot (at most one physics step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub halted_after: Option<f64>,
}
message!(PrimitiveReply, "primitive reply", |r| {
    ensure(r.tip.iter().all(|x| x.is_finite()), || format!("the tip {:?} is not finite", r.tip))?;
    ensure(r.halted_after.is_none_or(|h| h.is_finite() && h >= 0.0), || format!("halted_after {:?} is not a finite time", r.halted_after))?;
    check_sim_seconds("its simulated time", r.sim_seconds)
});

/// Episode control of a simulator.
// (no deny_unknown_fields: serde does not support it together with flatten)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpisodeRequest {
    #[serde(default = "schema_version")]
    pub schema: u32,
    #[serde(flatten)]
    pub body: EpisodeRequestBody,
}
message!(EpisodeRequest, "episode request");

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EpisodeRequestBody {
    /// A new scene for a task template, fixed by the seed.
    Reset {
        task: String,
        seed: u64,
        /// Kitchen: `false` makes the simulated skills never fail (how planning success is
        /// measured); absent or `true`, grasps slip at the simulator's rate.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        skill_failures: Option<bool>,
    },
    /// Judge the current state against the task's success check.
    Judge,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpisodeReply {
    #[serde(default = "schema_version")]
    pub schema: u32,
    pub task: String,
    pub instruction: String,
    pub success: Option<bool>,
    pub reason: Option<String>,
    /// Simulated time since the episode's reset.
    #[serde(default)]
    pub sim_seconds: f64,
}
message!(EpisodeReply, "episode reply", |r| check_sim_seconds("its simulated time", r.sim_seconds));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refusals() {
        let req = SkillRequest { schema: SCHEMA_VERSION, skill: crate::SkillText::done(), sender: None };
        assert_eq!(decode::<SkillRequest>(&encode(&req)).unwrap(), req);
        let signed = SkillRequest { sender: Some("1f2e3d".into()), ..req.clone() };
        assert_eq!(decode::<SkillRequest>(&encode(&signed)).unwrap(), signed);
        refused::<SkillRequest>(r#"{"skill":"done","sender":"alive/daemon/*"}"#, "not a zenoh id");
        let state = EStopState { schema: SCHEMA_VERSION, engaged: true, reason: Some("operator".into()), epoch: 3 };
        assert_eq!(decode::<EStopState>(&encode(&state)).unwrap(), state);
        assert!(decode::<EStopState>(br#"{"engaged":true}"#).unwrap_err().to_string().contains("epoch"));
        let reply = SkillReply { schema: SCHEMA_VERSION, body: SkillReplyBody::Result { success: false, reason: Some("slipped".into()), sim_seconds: 1.5 } };
        let text = String::from_utf8(encode(&reply)).unwrap();
        assert!(text.contains("\"kind\":\"result\""), "{text}");
        assert_eq!(decode::<SkillReply>(text.as_bytes()).unwrap(), reply);
        let cmd: PrimitiveCommand = decode(br#"{"kind":"move-to","position":[0,0,0.1],"speed":0.5}"#).unwrap();
        assert!(matches!(cmd.body, Primitive::MoveTo { .. }));

        let big = vec![b' '; MAX_MESSAGE_BYTES + 1];
        assert!(matches!(decode::<SkillRequest>(&big), Err(MessageError::TooLarge(_))));
        let err = decode::<SkillRequest>(b"{\"skil\": 3}").unwrap_err().to_string();
        assert!(err.starts_with("malformed skill request message"), "{err}");
        let err = decode::<SkillRequest>(br#"{"schema": 9, "skill": "done"}"#).unwrap_err().to_string();
        assert!(err.contains("schema version 9"), "{err}");
        assert!(decode::<InstructionMsg>(b"\xff\xfe").is_err());
        // A skill request carries a valid skill text, or it is refused with why.
        let err = decode::<SkillRequest>(br#"{"skill": "go. now"}"#).unwrap_err().to_string();
        assert!(err.contains("may not contain '.'"), "{err}");
        let err = decode::<SkillRequest>(br#"{"skill": ""}"#).unwrap_err().to_string();
        assert!(err.contains("a skill text is empty"), "{err}");
    }
    fn refused<T: Message + std::fmt::Debug>(json: &str, needle: &str) {
        match decode::<T>(json.as_bytes()) {
            Err(e @ MessageError::Invalid { .. }) => assert!(e.to_string().contains(needle), "{json}: {e}"),
            other => panic!("{json}: expected a refusal containing {needle:?}, got {other:?}"),
        }
    }

    /// Values that would hang a simulator, make a clock infinite or grow a node's memory
    /// are refused when decoded, with the bound they break.
    #[test]
    fn values_out_of_bounds_are_refused() {
        refused::<PrimitiveCommand>(r#"{"kind":"move-to","position":[0.1,0.1,0.2],"speed":1e-9}"#, "speed 0.000000001 m/s is not in [0.01, 2]");
        refused::<PrimitiveCommand>(r#"{"kind":"move-to","position":[0.1,0.1,0.2],"speed":3}"#, "is not in [0.01, 2]");
        refused::<PrimitiveCommand>(r#"{"kind":"wait","seconds":1.7e308}"#, "a wait of");
        refused::<PrimitiveCommand>(r#"{"kind":"wait","seconds":-1}"#, "a wait of -1 s");
        assert!(decode::<PrimitiveCommand>(br#"{"kind":"wait","seconds":30}"#).is_ok());
        refused::<PrimitiveReply>(r#"{"ok":true,"reason":null,"holding":null,"tip":[0,0,0],"sim_seconds":1e300}"#, "simulated time");
        refused::<PrimitiveReply>(r#"{"ok":false,"reason":null,"holding":null,"tip":[0,0,0],"sim_seconds":1,"halted_after":-1}"#, "halted_after");
        refused::<EpisodeReply>(r#"{"task":"t","instruction":"i","success":null,"reason":null,"sim_seconds":-3}"#, "simulated time");
        refused::<SkillReply>(r#"{"kind":"result","success":true,"reason":null,"sim_seconds":1e10}"#, "simulated time");
        let long = "a".repeat(crate::limits::MAX_INSTRUCTION_LEN + 1);
        refused::<InstructionMsg>(&format!(r#"{{"id":"x","text":"{long}"}}"#), "say it in fewer words");
        refused::<InstructionMsg>(&format!(r#"{{"id":"{long}","text":"stack"}}"#), "its id is");
        refused::<AffordanceReply>(r#"{"scores":[0.5, 2.0]}"#, "a score 2 is not a probability");
        refused::<AffordanceReply>(r#"{"skills":[["done", 0.0]]}"#, "feasibility 0");
        let texts = vec![r#"{"text":"done"}"#; crate::limits::MAX_AFFORDANCE_TEXTS + 1].join(",");
        refused::<AffordanceRequest>(&format!(r#"{{"texts":[{texts}]}}"#), "at most 1024");
        // An observation is checked wherever it travels: alone, or inside a query.
        let grid = r#"{"domain":"grid","objects":[],"grid":{"width":5,"height":5,"cells":[],"agent":[1,1],"dir":"right"}}"#;
        refused::<Observation>(grid, "cells");
        refused::<AffordanceRequest>(&format!(r#"{{"observation":{grid}}}"#), "its observation");
        // Asking for help: a question offers 1-32 options with confidences in [0, 1] and a
        // finite wait; an answer names an option or carries bounded words.
        let question = |options: &str, timeout: &str| {
            format!(r#"{{"daemon":"d","instruction_id":"i","question_id":"i#1","step":1,"text":"which?","options":[{options}],"timeout_s":{timeout}}}"#)
        };
        assert!(decode::<Question>(question(r#"{"skill":"done","confidence":0.5}"#, "60").as_bytes()).is_ok());
        refused::<Question>(&question("", "60"), "0 options");
        refused::<Question>(&question(r#"{"skill":"done","confidence":1.5}"#, "60"), "confidence is not in [0, 1]");
        refused::<Question>(&question(r#"{"skill":"done","confidence":0.5}"#, "1e300"), "timeout");
        assert!(decode::<Answer>(br#"{"question_id":"i#1","choice":{"kind":"option","index":1}}"#).is_ok());
        refused::<Answer>(r#"{"question_id":"i#1","choice":{"kind":"option","index":99}}"#, "option 99 does not exist");
        let words = "a".repeat(crate::limits::MAX_ANSWER_LEN + 1);
        refused::<Answer>(&format!(r#"{{"question_id":"i#1","choice":{{"kind":"none-of-these","text":"{words}"}}}}"#), "at most 512");
    }

    /// A refusal quotes a peer's value by its beginning and length, so that a message near
    /// the size limit cannot make a megabyte-long log line or error reply.
    #[test]
    fn a_refusal_stays_short_whatever_it_refuses() {
        let long = "z".repeat(MAX_MESSAGE_BYTES - 200);
        fn refusal<T: Message>(json: &str) -> String {
            decode::<T>(json.as_bytes()).err().map(|e| e.to_string()).unwrap_or_default()
        }
        type Refusal = fn(&str) -> String;
        let cases: [(String, Refusal, &str); 4] = [
            (format!(r#"{{"skill":"done","sender":"{long}"}}"#), refusal::<SkillRequest>, "is not a zenoh id"),
            (format!(r#"{{"skill":"done","{long}":1}}"#), refusal::<SkillRequest>, "unknown field"),
            (format!(r#"{{"skills":[["{long}", 7.0]]}}"#), refusal::<AffordanceReply>, "has feasibility 7"),
            (
                format!(
                    r#"{{"domain":"kitchen","kitchen":{{"robot_at":"user","looked":[],"detections":[{{"name":"{long}","location":"table","score":0.5}}]}}}}"#
                ),
                refusal::<Observation>,
                "is not one of the kitchen's objects",
            ),
        ];
        for (json, refusal, needle) in cases {
            let err = refusal(&json);
            assert!(err.contains(needle) && err.len() < 1000, "{} bytes: {}", err.len(), crate::quote::clip(&err));
        }
    }

    use proptest::prelude::*;

    /// JSON made of the messages' own field names and tags, with extreme values: deep enough
    /// to reach past the first field into every decoder's checks.
    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::{json, Value};
        let names = prop::sample::select(vec![
            "schema",
            "kind",
            "id",
            "text",
            "skill",
            "texts",
            "complete",
            "observation",
            "objects",
            "domain",
            "grid",
            "kitchen",
            "robot",
            "position",
            "speed",
            "seconds",
            "on",
            "action",
            "task",
            "seed",
            "engaged",
            "reason",
            "success",
            "sim_seconds",
            "tip",
            "ok",
            "holding",
            "scores",
            "skills",
            "width",
            "height",
            "cells",
            "agent",
            "dir",
            "name",
            "yaw",
            "time_s",
            "gripper",
            "status",
            "step",
        ]);
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            prop::sample::select(vec![0.0, -0.0, 1e-9, 0.5, 30.0, 1e308, -1e308, f64::MIN_POSITIVE]).prop_map(|x| json!(x)),
            any::<i64>().prop_map(|x| json!(x)),
            any::<u64>().prop_map(|x| json!(x)),
            prop::sample::select(vec![1u32, 0, 2]).prop_map(|x| json!(x)),
            prop::sample::select(vec![
                "move-to",
                "wait",
                "suction",
                "act",
                "kitchen",
                "reset",
                "judge",
                "result",
                "progress",
                "tabletop",
                "grid",
                "done",
                "pick up the red block and place it in the red bowl",
                "",
                " ",
                "right",
                "forward",
                "navigate",
                ".",
                "\u{0}",
            ])
            .prop_map(|s| json!(s)),
            "\\PC{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((names.clone(), inner), 0..6).prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
            ]
        })
    }

    /// Decode `bytes` as every message type: none may panic, and whatever is accepted keeps
    /// its bounds.
    fn decode_all(bytes: &[u8]) {
        fn one<T: Message>(bytes: &[u8]) {
            if let Ok(m) = decode::<T>(bytes) {
                assert!(m.check().is_ok());
                assert_eq!(m.schema(), SCHEMA_VERSION);
            }
        }
        one::<Observation>(bytes);
        one::<InstructionMsg>(bytes);
        one::<SkillRequest>(bytes);
        one::<SkillReply>(bytes);
        one::<AffordanceRequest>(bytes);
        one::<AffordanceReply>(bytes);
        one::<PlanProgress>(bytes);
        one::<EStop>(bytes);
        one::<EStopState>(bytes);
        one::<PrimitiveCommand>(bytes);
        one::<PrimitiveReply>(bytes);
        one::<EpisodeRequest>(bytes);
        one::<EpisodeReply>(bytes);
        one::<Question>(bytes);
        one::<Answer>(bytes);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn no_decoder_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            decode_all(&bytes);
        }

        #[test]
        fn no_decoder_panics_on_message_shaped_json(value in json_value()) {
            decode_all(value.to_string().as_bytes());
        }
    }
}
