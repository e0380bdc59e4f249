//! ROS 2 over rmw_zenoh, from the interface definitions up: the `.msg`, `.srv` and `.action`
//! files ([`idl`]), the RIHS01 type hashes of REP 2016 ([`type_hash`]), CDR payloads
//! ([`cdr`]), and rmw_zenoh's key expressions, liveliness tokens and attachments
//! ([`names`], [`attachment`]). Everything is checked against independent implementations
//! in `hardware/tests/golden.rs`.

pub mod attachment;
pub mod bridge;
pub mod cdr;
pub mod idl;
pub mod names;
pub mod store;
pub mod type_hash;

pub use bridge::{Ros2Bridge, Ros2Config};
pub use idl::{Field, FieldType, Interface, Message, Primitive, Shape, TypeName};
pub use store::TypeStore;
