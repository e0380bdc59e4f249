//! Message types shared by every `grounded` component.
//!
//! Everything here is plain serde data: the observed world state ([`Observation`]), the
//! skill text that travels from planner to policy ([`SkillText`], checked on decoding) and the tabletop skill
//! grammar ([`tabletop`]) that planner, grounded models and policies all parse the same way,
//! the zenoh key expressions ([`keys`]) and the messages on them ([`messages`]).

pub mod domain;
pub mod grid;
pub mod keys;
pub mod kitchen;
pub mod limits;
pub mod messages;
pub mod observation;
pub mod quote;
pub mod skill;
pub mod tabletop;

pub use observation::{Domain, ObjectKind, Observation, ObservationError, RobotState, SceneObject, SCHEMA_VERSION};
pub use skill::{SkillText, SkillTextError};
