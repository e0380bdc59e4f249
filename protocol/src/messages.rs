//! Messages on the wire: JSON, each with a `schema` version field.
//!
//! [`decode`] refuses a payload larger than [`MAX_MESSAGE_BYTES`], one that is not JSON of
//! the expected shape, and one of another schema version, each with a clear reason.

use crate::observation::{Observation, SCHEMA_VERSION};
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
    #[error("malformed {what} message: {source}")]
    Json {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("{what} message has schema version {found}; this build speaks version {SCHEMA_VERSION}")]
    Schema { what: &'static str, found: u32 },
}

/// A message type with a schema version.
pub trait Message: Serialize + DeserializeOwned {
    const NAME: &'static str;
    fn schema(&self) -> u32;
}

/// Parse a message, checking size, shape and schema version.
pub fn decode<T: Message>(bytes: &[u8]) -> Result<T, MessageError> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(MessageError::TooLarge(bytes.len()));
    }
    let msg: T = serde_json::from_slice(bytes).map_err(|source| MessageError::Json { what: T::NAME, source })?;
    if msg.schema() != SCHEMA_VERSION {
        return Err(MessageError::Schema { what: T::NAME, found: msg.schema() });
    }
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
}

message!(Observation, "observation");

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
message!(InstructionMsg, "instruction");

/// A skill for a policy to carry out: a valid skill text (non-empty, at most
/// [`crate::skill::MAX_SKILL_LEN`] bytes, no terminator), or the message is refused.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillRequest {
    #[serde(default = "schema_version")]
    pub schema: u32,
    pub skill: crate::skill::SkillText,
}
message!(SkillRequest, "skill request");

/// A policy's reply while and after carrying out a skill.
// (no deny_unknown_fields: serde does not support it together with flatten)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SkillReply {
    #[serde(default = "schema_version")]
    pub schema: u32,
    #[serde(flatten)]
    pub body: SkillReplyBody,
}
message!(SkillReply, "skill reply");

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
message!(AffordanceRequest, "affordance request");

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
message!(AffordanceReply, "affordance reply");

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
}
message!(PlanProgress, "plan progress");

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlanStatus {
    Started,
    Decoded,
    Succeeded,
    Failed,
    Done,
    StepLimit,
    Aborted,
}

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
message!(EStop, "emergency stop");

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
message!(PrimitiveCommand, "primitive command");

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
}
message!(PrimitiveReply, "primitive reply");

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
message!(EpisodeReply, "episode reply");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refusals() {
        let req = SkillRequest { schema: SCHEMA_VERSION, skill: crate::SkillText::done() };
        assert_eq!(decode::<SkillRequest>(&encode(&req)).unwrap(), req);
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
}
