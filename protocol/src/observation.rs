//! The observed world state that grounded models score against.

use crate::limits::MAX_ID_LEN;
use crate::quote::{clip, Quoted};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Version of the observation schema; a message with another version is refused.
pub const SCHEMA_VERSION: u32 = 1;

/// The longest object name accepted, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// The most objects one observation may hold.
pub const MAX_OBJECTS: usize = 256;

/// The most tags an object may carry.
pub const MAX_TAGS: usize = 16;

pub use crate::domain::Domain;

/// What an object is, which decides what a policy can do with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectKind {
    /// A coloured block: pickable, and others can be stacked on it.
    Block,
    /// A coloured bowl: a container, not pickable.
    Bowl,
    /// A letter block: pickable.
    Letter,
    /// A box-packing object (fruit, snacks, a knife, ...): pickable.
    Item,
    /// A box: a container, not pickable.
    Box,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 5] = [ObjectKind::Block, ObjectKind::Bowl, ObjectKind::Letter, ObjectKind::Item, ObjectKind::Box];

    /// The kind as the wire (and a skill file) names it.
    pub fn name(self) -> &'static str {
        match self {
            ObjectKind::Block => "block",
            ObjectKind::Bowl => "bowl",
            ObjectKind::Letter => "letter",
            ObjectKind::Item => "item",
            ObjectKind::Box => "box",
        }
    }

    pub fn is_pickable(self) -> bool {
        matches!(self, ObjectKind::Block | ObjectKind::Letter | ObjectKind::Item)
    }

    pub fn is_container(self) -> bool {
        matches!(self, ObjectKind::Bowl | ObjectKind::Box)
    }
}

/// One object as the robot observes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SceneObject {
    /// Unique within the observation.
    pub id: String,
    /// The words a skill uses for it, e.g. `red block`, `letter A`, `apple`. Unique.
    pub name: String,
    pub kind: ObjectKind,
    /// Position of the object's base centre in metres, table frame: x right, y away from
    /// the robot ("top"), z up from the table surface.
    pub position: [f64; 3],
    /// Rotation about the vertical axis, radians.
    #[serde(default)]
    pub yaw: f64,
    /// The object's colour (red, green, blue), where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rgb: Option<[u8; 3]>,
    /// What else the object is, in a robot's own words (`shelf`, `tool`, `person`): a skill
    /// file's slot takes objects by kind or by tag (docs/skills.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl SceneObject {
    pub fn new(id: impl Into<String>, name: impl Into<String>, kind: ObjectKind, position: [f64; 3]) -> Self {
        Self { id: id.into(), name: name.into(), kind, position, yaw: 0.0, rgb: None, tags: Vec::new() }
    }

    /// Is the object of this kind (`block`, `bowl`, `letter`, `item`, `box`) or tagged so?
    pub fn is_a(&self, kind_or_tag: &str) -> bool {
        self.kind.name() == kind_or_tag || self.tags.iter().any(|t| t == kind_or_tag)
    }
}

/// The world state: every object the robot observes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observation {
    #[serde(default = "schema_version")]
    pub schema: u32,
    pub domain: Domain,
    #[serde(default)]
    pub objects: Vec<SceneObject>,
    /// The robot itself, where the source knows it (the simulator always does; a hand-written
    /// scene need not say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub robot: Option<RobotState>,
    /// The maze, in the grid domain (its objects live in the cells, not in `objects`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid: Option<crate::grid::GridState>,
    /// The kitchen as the robot has observed it, in the kitchen domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kitchen: Option<crate::kitchen::KitchenState>,
}

/// The robot's own state at the moment of an observation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RobotState {
    /// The robot's clock in seconds (simulation time in the simulator), from the episode's start.
    pub time_s: f64,
    /// Position of the gripper's tip, metres, table frame.
    pub gripper: [f64; 3],
    /// The name of the object held, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holding: Option<String>,
}

fn schema_version() -> u32 {
    SCHEMA_VERSION
}

#[derive(Debug, thiserror::Error)]
pub enum ObservationError {
    #[error("not a valid observation: {} (expected JSON like {{\"domain\": \"tabletop\", \"objects\": [{{\"id\": \"b1\", \"name\": \"red block\", \"kind\": \"block\", \"position\": [0.1, 0.2, 0.0]}}]}})", clip(&.0.to_string()))]
    Json(#[from] serde_json::Error),
    #[error("observation schema version {found} is not supported (this build reads version {SCHEMA_VERSION})")]
    Schema { found: u32 },
    #[error("an observation holds {0} objects; at most {MAX_OBJECTS} are accepted")]
    TooManyObjects(usize),
    #[error("object #{index} has an empty id")]
    EmptyId { index: usize },
    #[error("object #{index} has id {}: an id is at most {MAX_ID_LEN} bytes, without control characters", Quoted(.id))]
    BadId { index: usize, id: String },
    #[error("object id {} appears twice; ids must be unique", Quoted(.0))]
    DuplicateId(String),
    #[error("object {} has name {}: a name is 1 to {MAX_NAME_LEN} letters, digits and single spaces, in lower case except a letter block's letter", Quoted(.id), Quoted(.name))]
    BadName { id: String, name: String },
    #[error("object {}: at most {MAX_TAGS} tags, each like a name (1 to {MAX_NAME_LEN} letters, digits and single spaces)", Quoted(.id))]
    BadTags { id: String },
    #[error("object name {} appears twice; names must be unique, since skills refer to objects by name", Quoted(.0))]
    DuplicateName(String),
    #[error("object {} has a position that is not finite: {position:?}", Quoted(.id))]
    BadPosition { id: String, position: [f64; 3] },
    #[error("grid: {0}")]
    Grid(#[from] crate::grid::GridError),
    #[error("a {0} observation needs a \"grid\"")]
    MissingGrid(Domain),
    #[error(transparent)]
    Kitchen(#[from] crate::kitchen::KitchenError),
    #[error("a kitchen observation needs a \"kitchen\" (the robot's location, what it holds, where it looked and what it saw)")]
    MissingKitchen,
    #[error("the robot state is not finite (time {time_s}, gripper {gripper:?})")]
    BadRobotState { time_s: f64, gripper: [f64; 3] },
}

impl Observation {
    pub fn new(domain: Domain, objects: Vec<SceneObject>) -> Self {
        Self { schema: SCHEMA_VERSION, domain, objects, robot: None, grid: None, kitchen: None }
    }

    /// Parse and validate an observation from JSON text.
    pub fn from_json(text: &str) -> Result<Self, ObservationError> {
        let obs: Observation = serde_json::from_str(text)?;
        obs.validate()?;
        Ok(obs)
    }

    /// Check every invariant the rest of the system relies on.
    pub fn validate(&self) -> Result<(), ObservationError> {
        if self.schema != SCHEMA_VERSION {
            return Err(ObservationError::Schema { found: self.schema });
        }
        if self.objects.len() > MAX_OBJECTS {
            return Err(ObservationError::TooManyObjects(self.objects.len()));
        }
        let mut ids = HashSet::new();
        let mut names = HashSet::new();
        for (index, o) in self.objects.iter().enumerate() {
            if o.id.trim().is_empty() {
                return Err(ObservationError::EmptyId { index });
            }
            if o.id.len() > MAX_ID_LEN || o.id.chars().any(char::is_control) {
                return Err(ObservationError::BadId { index, id: o.id.clone() });
            }
            if !ids.insert(o.id.as_str()) {
                return Err(ObservationError::DuplicateId(o.id.clone()));
            }
            if !valid_name(&o.name) {
                return Err(ObservationError::BadName { id: o.id.clone(), name: o.name.clone() });
            }
            if !names.insert(o.name.as_str()) {
                return Err(ObservationError::DuplicateName(o.name.clone()));
            }
            if o.tags.len() > MAX_TAGS || o.tags.iter().any(|t| !valid_name(t)) {
                return Err(ObservationError::BadTags { id: o.id.clone() });
            }
            if o.position.iter().any(|v| !v.is_finite()) || !o.yaw.is_finite() {
                return Err(ObservationError::BadPosition { id: o.id.clone(), position: o.position });
            }
        }
        match (&self.grid, self.domain) {
            (Some(g), _) => g.validate()?,
            (None, Domain::GRID) => return Err(ObservationError::MissingGrid(self.domain)),
            (None, _) => {}
        }
        match (&self.kitchen, self.domain) {
            (Some(k), _) => k.validate()?,
            (None, Domain::KITCHEN) => return Err(ObservationError::MissingKitchen),
            (None, _) => {}
        }
        if let Some(r) = &self.robot {
            if !r.time_s.is_finite() || r.gripper.iter().any(|v| !v.is_finite()) {
                return Err(ObservationError::BadRobotState { time_s: r.time_s, gripper: r.gripper });
            }
        }
        Ok(())
    }

    pub fn object(&self, name: &str) -> Option<&SceneObject> {
        self.objects.iter().find(|o| o.name == name)
    }

    pub fn object_mut(&mut self, name: &str) -> Option<&mut SceneObject> {
        self.objects.iter_mut().find(|o| o.name == name)
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && !name.starts_with(' ')
        && !name.ends_with(' ')
        && !name.contains("  ")
        && name
            .split(' ')
            .all(|word| word.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) || (word.len() == 1 && word.chars().all(|c| c.is_ascii_uppercase())))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"domain":"tabletop","objects":[
        {"id":"b1","name":"red block","kind":"block","position":[0.1,0.2,0.0]},
        {"id":"l1","name":"letter A","kind":"letter","position":[0.3,0.2,0.0]}]}"#;

    #[test]
    fn parses_a_valid_observation() {
        let obs = Observation::from_json(GOOD).unwrap();
        assert_eq!(obs.objects.len(), 2);
        assert_eq!(obs.schema, SCHEMA_VERSION);
        assert_eq!(obs.object("letter A").unwrap().kind, ObjectKind::Letter);
    }

    #[test]
    fn rejects_bad_observations_with_a_reason() {
        let cases = [
            ("{", "not a valid observation"),
            (r#"{"domain":"moon","objects":[]}"#, "not a valid observation"),
            (r#"{"schema":7,"domain":"tabletop"}"#, "schema version 7"),
            (
                r#"{"domain":"tabletop","objects":[{"id":"a","name":"red block","kind":"block","position":[0,0,0]},{"id":"a","name":"blue block","kind":"block","position":[0,0,0]}]}"#,
                "appears twice",
            ),
            (r#"{"domain":"tabletop","objects":[{"id":"a","name":"Red  block","kind":"block","position":[0,0,0]}]}"#, "has name"),
            (r#"{"domain":"tabletop","objects":[{"id":"a","name":"red block","kind":"block","position":[0,0,0],"colour":"red"}]}"#, "unknown field"),
            (
                r#"{"domain":"tabletop","objects":[{"id":"a","name":"red block","kind":"block","position":[0,0,0],"tags":["Shelf!"]}]}"#,
                "at most 16 tags, each like a name",
            ),
        ];
        for (json, needle) in cases {
            let err = Observation::from_json(json).unwrap_err().to_string();
            assert!(err.contains(needle), "{json} -> {err}");
        }
    }

    /// A refusal names the value it refuses, but a peer's megabyte-long value is quoted by its
    /// beginning and length: the reason stays a line long and is not lost.
    #[test]
    fn a_long_value_is_quoted_short_in_its_refusal() {
        let long = "x".repeat(900_000);
        let object = |id: &str, name: &str, kind: &str| format!(r#"{{"id":"{id}","name":"{name}","kind":"{kind}","position":[0,0,0]}}"#);
        let scene = |objects: &[String]| format!(r#"{{"domain":"tabletop","objects":[{}]}}"#, objects.join(","));
        let cases = [
            (scene(&[object("a", &long, "block")]), "has name \"xxx"),
            (scene(&[object(&long, "red block", "block")]), "an id is at most 128 bytes"),
            (scene(&[object("a", "red block", "block"), object("b", "red block", "block")]), "\"red block\" appears twice"),
            (scene(&[object("a", "red block", &long)]), "expected one of `block`"),
        ];
        for (json, needle) in cases {
            let err = Observation::from_json(&json).unwrap_err().to_string();
            assert!(err.contains(needle), "{}", crate::quote::clip(&err));
            assert!(err.len() < 1000, "a refusal {} bytes long: {}", err.len(), crate::quote::clip(&err));
        }
        let control = scene(&[object("a\\u0007", "red block", "block")]);
        assert!(Observation::from_json(&control).unwrap_err().to_string().contains("without control characters"));
    }
}
