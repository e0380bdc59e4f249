//! CDR, the payload of every rmw_zenoh sample and query: OMG CDR (XCDR1), little-endian, a
//! 4-byte encapsulation header, each primitive aligned to its size from the end of the
//! header, strings as a length (with the terminating NUL) then bytes and NUL, sequences as a
//! count then elements, fixed arrays as elements only. Values are JSON here: an object per
//! structure (every field present), arrays for arrays and sequences.

use super::idl::{Base, FieldType, Message, Primitive, Shape};
use super::store::TypeStore;
use serde_json::{Map, Value};

/// The encapsulation header of little-endian plain CDR.
pub const CDR_LE: [u8; 4] = [0x00, 0x01, 0x00, 0x00];

/// What cannot be encoded or decoded, and where in the value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{path}: {message}")]
pub struct CdrError {
    /// The field at fault, e.g. `objects[2].pose.position.x` (`.` for the whole value).
    pub path: String,
    pub message: String,
}

fn at(path: &str, message: impl Into<String>) -> CdrError {
    CdrError { path: if path.is_empty() { ".".into() } else { path.into() }, message: message.into() }
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.into()
    } else {
        format!("{path}.{field}")
    }
}

/// Encode `value` as the structure `ty`, with the encapsulation header.
pub fn encode(store: &TypeStore, ty: &Message, value: &Value) -> Result<Vec<u8>, CdrError> {
    let mut w = Writer { out: CDR_LE.to_vec() };
    w.structure(store, ty, value, "")?;
    Ok(w.out)
}

/// Decode a payload (header included) as the structure `ty`.
pub fn decode(store: &TypeStore, ty: &Message, bytes: &[u8]) -> Result<Value, CdrError> {
    match bytes.get(..4) {
        Some(h) if h == CDR_LE => {}
        Some(h) if h == [0x00, 0x00, 0x00, 0x00] => return Err(at("", "big-endian CDR is not supported (the robot sends CDR_BE)")),
        _ => return Err(at("", "not a CDR payload: its encapsulation header is missing or unknown")),
    }
    let mut r = Reader { data: &bytes[4..], pos: 0 };
    r.structure(store, ty, "")
}

struct Writer {
    out: Vec<u8>,
}

impl Writer {
    fn align(&mut self, n: usize) {
        while !(self.out.len() - 4).is_multiple_of(n) {
            self.out.push(0);
        }
    }

    fn structure(&mut self, store: &TypeStore, ty: &Message, value: &Value, path: &str) -> Result<(), CdrError> {
        let obj = value.as_object().ok_or_else(|| at(path, format!("expected an object of {}", ty.name)))?;
        if let Some(extra) = obj.keys().find(|k| !ty.fields.iter().any(|f| &f.name == *k)) {
            return Err(at(&join(path, extra), format!("{} has no field {extra}", ty.name)));
        }
        if ty.fields.is_empty() {
            // rosidl's placeholder member of an empty structure.
            self.out.push(0);
        }
        for f in &ty.fields {
            let p = join(path, &f.name);
            let v = obj.get(&f.name).ok_or_else(|| at(&p, "missing"))?;
            self.field(store, &f.ty, v, &p)?;
        }
        Ok(())
    }

    fn field(&mut self, store: &TypeStore, ty: &FieldType, value: &Value, path: &str) -> Result<(), CdrError> {
        let items = match ty.shape {
            Shape::Single => return self.element(store, &ty.base, value, path),
            Shape::Array(n) | Shape::Sequence(Some(n)) => {
                let items = value.as_array().ok_or_else(|| at(path, "expected an array"))?;
                let fixed = matches!(ty.shape, Shape::Array(_));
                if fixed && items.len() != n as usize {
                    return Err(at(path, format!("expected {n} elements, not {}", items.len())));
                }
                if !fixed && items.len() > n as usize {
                    return Err(at(path, format!("at most {n} elements, not {}", items.len())));
                }
                items
            }
            Shape::Sequence(None) => value.as_array().ok_or_else(|| at(path, "expected an array"))?,
        };
        if matches!(ty.shape, Shape::Sequence(_)) {
            let count = u32::try_from(items.len()).map_err(|_| at(path, "too many elements"))?;
            self.align(4);
            self.out.extend(count.to_le_bytes());
        }
        for (i, item) in items.iter().enumerate() {
            self.element(store, &ty.base, item, &format!("{path}[{i}]"))?;
        }
        Ok(())
    }

    fn element(&mut self, store: &TypeStore, base: &Base, value: &Value, path: &str) -> Result<(), CdrError> {
        let p = match base {
            Base::Nested(name) => {
                let nested = store.require(name).map_err(|e| at(path, e.to_string()))?;
                return self.structure(store, nested, value, path);
            }
            Base::Primitive(p) => *p,
        };
        let int = |lo: i128, hi: i128| -> Result<i128, CdrError> {
            let n = value.as_i64().map(i128::from).or_else(|| value.as_u64().map(i128::from)).ok_or_else(|| at(path, "expected an integer"))?;
            if !(lo..=hi).contains(&n) {
                return Err(at(path, format!("{n} is out of range {lo}..={hi}")));
            }
            Ok(n)
        };
        let float = || value.as_f64().ok_or_else(|| at(path, "expected a number"));
        if let Some(size) = p.size() {
            self.align(size);
        }
        match p {
            Primitive::Bool => self.out.push(u8::from(value.as_bool().ok_or_else(|| at(path, "expected true or false"))?)),
            Primitive::Byte | Primitive::Uint8 => self.out.push(int(0, 255)? as u8),
            Primitive::Int8 => self.out.extend((int(-128, 127)? as i8).to_le_bytes()),
            Primitive::Int16 => self.out.extend((int(i16::MIN.into(), i16::MAX.into())? as i16).to_le_bytes()),
            Primitive::Uint16 => self.out.extend((int(0, u16::MAX.into())? as u16).to_le_bytes()),
            Primitive::Int32 => self.out.extend((int(i32::MIN.into(), i32::MAX.into())? as i32).to_le_bytes()),
            Primitive::Uint32 => self.out.extend((int(0, u32::MAX.into())? as u32).to_le_bytes()),
            Primitive::Int64 => self.out.extend((int(i64::MIN.into(), i64::MAX.into())? as i64).to_le_bytes()),
            Primitive::Uint64 => self.out.extend((int(0, u64::MAX.into())? as u64).to_le_bytes()),
            Primitive::Float32 => self.out.extend((float()? as f32).to_le_bytes()),
            Primitive::Float64 => self.out.extend(float()?.to_le_bytes()),
            Primitive::String(bound) => {
                let s = value.as_str().ok_or_else(|| at(path, "expected a string"))?;
                if s.contains('\0') {
                    return Err(at(path, "a string cannot hold NUL"));
                }
                if let Some(b) = bound.filter(|b| s.len() > *b as usize) {
                    return Err(at(path, format!("at most {b} bytes, not {}", s.len())));
                }
                let len = u32::try_from(s.len() + 1).map_err(|_| at(path, "too long"))?;
                self.align(4);
                self.out.extend(len.to_le_bytes());
                self.out.extend(s.as_bytes());
                self.out.push(0);
            }
        }
        Ok(())
    }
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize, path: &str) -> Result<&[u8], CdrError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.data.len()).ok_or_else(|| at(path, "the payload ends early"))?;
        let bytes = &self.data[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn aligned(&mut self, n: usize, path: &str) -> Result<&[u8], CdrError> {
        let pad = (n - self.pos % n) % n;
        self.take(pad, path)?;
        self.take(n, path)
    }

    fn u32(&mut self, path: &str) -> Result<u32, CdrError> {
        let b = self.aligned(4, path)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn structure(&mut self, store: &TypeStore, ty: &Message, path: &str) -> Result<Value, CdrError> {
        let mut obj = Map::new();
        if ty.fields.is_empty() {
            self.take(1, path)?;
        }
        for f in &ty.fields {
            let p = join(path, &f.name);
            obj.insert(f.name.clone(), self.field(store, &f.ty, &p)?);
        }
        Ok(Value::Object(obj))
    }

    fn field(&mut self, store: &TypeStore, ty: &FieldType, path: &str) -> Result<Value, CdrError> {
        let count = match ty.shape {
            Shape::Single => return self.element(store, &ty.base, path),
            Shape::Array(n) => n,
            Shape::Sequence(bound) => {
                let n = self.u32(path)?;
                if let Some(b) = bound.filter(|b| n > *b) {
                    return Err(at(path, format!("{n} elements; the type allows at most {b}")));
                }
                // Every element takes a byte at least: a count beyond the payload is a lie.
                if n as usize > self.data.len() - self.pos {
                    return Err(at(path, format!("{n} elements do not fit in the payload")));
                }
                n
            }
        };
        (0..count as usize).map(|i| self.element(store, &ty.base, &format!("{path}[{i}]"))).collect::<Result<Vec<_>, _>>().map(Value::Array)
    }

    fn element(&mut self, store: &TypeStore, base: &Base, path: &str) -> Result<Value, CdrError> {
        let p = match base {
            Base::Nested(name) => {
                let nested = store.require(name).map_err(|e| at(path, e.to_string()))?;
                return self.structure(store, nested, path);
            }
            Base::Primitive(p) => *p,
        };
        let fixed = |r: &mut Self, n: usize| -> Result<Vec<u8>, CdrError> { r.aligned(n, path).map(<[u8]>::to_vec) };
        Ok(match p {
            Primitive::Bool => match self.take(1, path)?[0] {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                b => return Err(at(path, format!("{b} is not a boolean"))),
            },
            Primitive::Byte | Primitive::Uint8 => Value::from(self.take(1, path)?[0]),
            Primitive::Int8 => Value::from(self.take(1, path)?[0] as i8),
            Primitive::Int16 => Value::from(i16::from_le_bytes(fixed(self, 2)?.try_into().unwrap_or_default())),
            Primitive::Uint16 => Value::from(u16::from_le_bytes(fixed(self, 2)?.try_into().unwrap_or_default())),
            Primitive::Int32 => Value::from(i32::from_le_bytes(fixed(self, 4)?.try_into().unwrap_or_default())),
            Primitive::Uint32 => Value::from(u32::from_le_bytes(fixed(self, 4)?.try_into().unwrap_or_default())),
            Primitive::Int64 => Value::from(i64::from_le_bytes(fixed(self, 8)?.try_into().unwrap_or_default())),
            Primitive::Uint64 => Value::from(u64::from_le_bytes(fixed(self, 8)?.try_into().unwrap_or_default())),
            Primitive::Float32 => Value::from(f64::from(f32::from_le_bytes(fixed(self, 4)?.try_into().unwrap_or_default()))),
            Primitive::Float64 => Value::from(f64::from_le_bytes(fixed(self, 8)?.try_into().unwrap_or_default())),
            Primitive::String(bound) => {
                let len = self.u32(path)? as usize;
                if len == 0 {
                    return Err(at(path, "a string's length counts its NUL: 0 is not one"));
                }
                let bytes = self.take(len, path)?;
                if bytes[len - 1] != 0 {
                    return Err(at(path, "the string does not end in NUL"));
                }
                let s = std::str::from_utf8(&bytes[..len - 1]).map_err(|_| at(path, "the string is not UTF-8"))?;
                if let Some(b) = bound.filter(|b| s.len() > *b as usize) {
                    return Err(at(path, format!("{} bytes; the type allows at most {b}", s.len())));
                }
                Value::String(s.to_string())
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ros2::TypeName;
    use serde_json::json;

    fn store_and(name: &str) -> (TypeStore, Message) {
        let store = TypeStore::with_grounded_interfaces();
        let m = store.get(&TypeName::parse(name).unwrap()).unwrap().clone();
        (store, m)
    }

    #[test]
    fn strings_are_length_prefixed_with_their_nul_and_doubles_aligned_to_eight() {
        let (store, m) = store_and("std_msgs/msg/String");
        assert_eq!(encode(&store, &m, &json!({"data": "hi"})).unwrap(), [0, 1, 0, 0, 3, 0, 0, 0, b'h', b'i', 0]);
        let (store, header) = store_and("std_msgs/msg/Header");
        let bytes = encode(&store, &header, &json!({"stamp": {"sec": 1, "nanosec": 2}, "frame_id": "b"})).unwrap();
        assert_eq!(bytes, [0, 1, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, b'b', 0]);
        assert_eq!(decode(&store, &header, &bytes).unwrap(), json!({"stamp": {"sec": 1, "nanosec": 2}, "frame_id": "b"}));
    }

    #[test]
    fn bad_values_and_payloads_are_refused_with_the_field() {
        let (store, m) = store_and("grounded_interfaces/msg/SceneObject");
        let pose = json!({"position": {"x": 0.0, "y": 0.0, "z": 0.0}, "orientation": {"x": 0.0, "y": 0.0, "z": 0.0, "w": 1.0}});
        let ok = json!({"id": "b1", "name": "red block", "kind": "block", "pose": pose, "rgb": [255, 0, 0], "tags": []});
        let bytes = encode(&store, &m, &ok).unwrap();
        assert_eq!(decode(&store, &m, &bytes).unwrap(), ok);
        let (store_e, event) = store_and("grounded_interfaces/srv/Affordance_Event");
        let info = json!({"event_type": 0, "stamp": {"sec": 0, "nanosec": 0}, "client_gid": vec![0; 16], "sequence_number": 1});
        let two = json!({"info": info, "request": [], "response": [{"scores": []}, {"scores": []}]});
        assert_eq!(encode(&store_e, &event, &two).unwrap_err().to_string(), "response: at most 1 elements, not 2");
        let mut big = ok.clone();
        big["rgb"] = json!([256, 0, 0]);
        assert_eq!(encode(&store, &m, &big).unwrap_err().to_string(), "rgb[0]: 256 is out of range 0..=255");
        let mut missing = ok.clone();
        missing["pose"]["position"].as_object_mut().unwrap().remove("z");
        assert_eq!(encode(&store, &m, &missing).unwrap_err().to_string(), "pose.position.z: missing");
        assert!(decode(&store, &m, &bytes[..bytes.len() - 3]).unwrap_err().to_string().contains("ends early"));
        assert!(decode(&store, &m, &[0, 0, 0, 0]).unwrap_err().to_string().contains("big-endian"));
        // A sequence count far beyond the payload is refused, not allocated.
        let mut lying = CDR_LE.to_vec();
        lying.extend([0xff, 0xff, 0xff, 0x7f]);
        let (store, status) = store_and("action_msgs/msg/GoalStatusArray");
        assert!(decode(&store, &status, &lying).unwrap_err().to_string().contains("do not fit"));
    }
}
