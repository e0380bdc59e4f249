//! RIHS01 type hashes (REP 2016): the SHA-256 of a type's description (its fields' names and
//! types, and those of every type it refers to, sorted by name; no defaults, no comments,
//! no constants) written as compact JSON. rmw_zenoh puts the hash in every key expression,
//! so a bridge whose hash differs from the robot's never meets it.

use super::idl::{Base, Message, Primitive, Shape, TypeName};
use super::store::{TypeStore, UnknownType};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// `type_description_interfaces/msg/FieldType`'s ids.
fn type_id(base: &Base) -> u8 {
    match base {
        Base::Nested(_) => 1,
        Base::Primitive(p) => match p {
            Primitive::Int8 => 2,
            Primitive::Uint8 => 3,
            Primitive::Int16 => 4,
            Primitive::Uint16 => 5,
            Primitive::Int32 => 6,
            Primitive::Uint32 => 7,
            Primitive::Int64 => 8,
            Primitive::Uint64 => 9,
            Primitive::Float32 => 10,
            Primitive::Float64 => 11,
            Primitive::Bool => 15,
            Primitive::Byte => 16,
            Primitive::String(None) => 17,
            Primitive::String(Some(_)) => 21,
        },
    }
}

/// One structure's description, as JSON with REP 2016's separators.
fn describe(m: &Message, out: &mut String) {
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    out.push_str(&format!("{{\"type_name\": {}, \"fields\": [", q(&m.name.to_string())));
    let placeholder;
    let fields: &[super::idl::Field] = if m.fields.is_empty() {
        // An empty structure is described with rosidl's placeholder member.
        placeholder = [super::idl::Field {
            name: "structure_needs_at_least_one_member".into(),
            ty: super::idl::FieldType { base: Base::Primitive(Primitive::Uint8), shape: Shape::Single },
            default: None,
        }];
        &placeholder
    } else {
        &m.fields
    };
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let (offset, capacity) = match f.ty.shape {
            Shape::Single => (0, 0),
            Shape::Array(n) => (48, n),
            Shape::Sequence(Some(n)) => (96, n),
            Shape::Sequence(None) => (144, 0),
        };
        let string_capacity = match f.ty.base {
            Base::Primitive(Primitive::String(Some(n))) => n,
            _ => 0,
        };
        let nested = match &f.ty.base {
            Base::Nested(n) => n.to_string(),
            Base::Primitive(_) => String::new(),
        };
        out.push_str(&format!(
            "{{\"name\": {}, \"type\": {{\"type_id\": {}, \"capacity\": {capacity}, \"string_capacity\": {string_capacity}, \"nested_type_name\": {}}}}}",
            q(&f.name),
            u32::from(type_id(&f.ty.base)) + offset,
            q(&nested)
        ));
    }
    out.push_str("]}");
}

/// The type description REP 2016 hashes, as its JSON text.
pub fn description_json(store: &TypeStore, name: &TypeName) -> Result<String, UnknownType> {
    let top = store.require(name)?;
    let mut referenced: BTreeMap<String, &Message> = BTreeMap::new();
    let mut pending: Vec<&Message> = vec![top];
    while let Some(m) = pending.pop() {
        for f in &m.fields {
            if let Base::Nested(n) = &f.ty.base {
                if n != name && !referenced.contains_key(&n.to_string()) {
                    let nested = store.require(n)?;
                    referenced.insert(n.to_string(), nested);
                    pending.push(nested);
                }
            }
        }
    }
    let mut out = String::from("{\"type_description\": ");
    describe(top, &mut out);
    out.push_str(", \"referenced_type_descriptions\": [");
    for (i, m) in referenced.values().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        describe(m, &mut out);
    }
    out.push_str("]}");
    Ok(out)
}

/// `RIHS01_<64 hex digits>` of a message, service or action type.
pub fn rihs01(store: &TypeStore, name: &TypeName) -> Result<String, UnknownType> {
    let digest = Sha256::digest(description_json(store, name)?.as_bytes());
    Ok(format!("RIHS01_{}", digest.iter().map(|b| format!("{b:02x}")).collect::<String>()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn std_msgs_string_hashes_as_ros_2_publishes_it() {
        // The hash every ROS 2 Jazzy node puts in the key expressions of std_msgs/msg/String.
        let store = TypeStore::with_grounded_interfaces();
        let name = TypeName::parse("std_msgs/msg/String").unwrap();
        assert_eq!(rihs01(&store, &name).unwrap(), "RIHS01_df668c740482bbd48fb39d76a70dfd4bd59db1288021743503259e948f6b1a18");
    }

    #[test]
    fn a_service_hashes_as_ros_2_publishes_it() {
        // rmw_zenoh's design document: the key of example_interfaces/srv/AddTwoInts.
        let mut store = TypeStore::with_grounded_interfaces();
        let name = TypeName::parse("example_interfaces/srv/AddTwoInts").unwrap();
        store.add(&name, "int64 a\nint64 b\n---\nint64 sum\n").unwrap();
        assert_eq!(rihs01(&store, &name).unwrap(), "RIHS01_e118de6bf5eeb66a2491b5bda11202e7b68f198d6f67922cf30364858239c81a");
    }
}
