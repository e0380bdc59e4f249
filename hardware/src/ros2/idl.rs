//! ROS 2 interface definitions: `.msg`, `.srv` and `.action` files, as rosidl reads them
//! (<https://docs.ros.org/en/rolling/Concepts/Basic/About-Interfaces.html>): one field or
//! constant per line (`TYPE NAME [DEFAULT]`, `TYPE NAME=VALUE`), `#` comments, `---`
//! between a service's request and response and an action's goal, result and feedback.

use std::fmt;

/// What is wrong with an interface definition, and where.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdlError {
    #[error("{name}:{line}: {message}")]
    Line { name: String, line: usize, message: String },
    #[error("{0:?} is not a ROS 2 type name: write it as package/msg/Name (or srv, action)")]
    TypeName(String),
    #[error("{name}: {message}")]
    Shape { name: String, message: String },
}

/// A type's full name: `geometry_msgs/msg/Pose`, `grounded_interfaces/action/ExecuteSkill_Goal`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeName {
    pub package: String,
    /// `msg`, `srv` or `action`.
    pub kind: String,
    pub name: String,
}

impl TypeName {
    pub fn new(package: &str, kind: &str, name: &str) -> Self {
        Self { package: package.into(), kind: kind.into(), name: name.into() }
    }

    /// `package/kind/Name`.
    pub fn parse(text: &str) -> Result<Self, IdlError> {
        let parts: Vec<&str> = text.split('/').collect();
        let ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        match parts.as_slice() {
            [package, kind @ ("msg" | "srv" | "action"), name] if ok(package) && ok(name) => Ok(Self::new(package, kind, name)),
            _ => Err(IdlError::TypeName(text.into())),
        }
    }

    /// The same package and kind, another name (`Name_Request` of `Name`).
    pub fn with_suffix(&self, suffix: &str) -> Self {
        Self::new(&self.package, &self.kind, &format!("{}{suffix}", self.name))
    }

    /// The name DDS and rmw_zenoh use: `geometry_msgs::msg::dds_::Pose_`.
    pub fn dds(&self) -> String {
        format!("{}::{}::dds_::{}_", self.package, self.kind, self.name)
    }
}

impl fmt::Display for TypeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.package, self.kind, self.name)
    }
}

/// A built-in type. `char` is read as `uint8` and `byte` as an octet, as rosidl maps them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Primitive {
    Bool,
    Byte,
    Int8,
    Uint8,
    Int16,
    Uint16,
    Int32,
    Uint32,
    Int64,
    Uint64,
    Float32,
    Float64,
    /// UTF-8 text, with an upper bound on its bytes (`string<=N`) or none.
    String(Option<u32>),
}

impl Primitive {
    fn parse(word: &str) -> Option<Self> {
        Some(match word {
            "bool" => Self::Bool,
            "byte" => Self::Byte,
            "char" | "uint8" => Self::Uint8,
            "int8" => Self::Int8,
            "int16" => Self::Int16,
            "uint16" => Self::Uint16,
            "int32" => Self::Int32,
            "uint32" => Self::Uint32,
            "int64" => Self::Int64,
            "uint64" => Self::Uint64,
            "float32" => Self::Float32,
            "float64" => Self::Float64,
            "string" => Self::String(None),
            _ => {
                let bound = word.strip_prefix("string<=")?.parse().ok()?;
                Self::String(Some(bound))
            }
        })
    }

    /// Size in bytes of a fixed-size primitive (`None` for strings).
    pub fn size(self) -> Option<usize> {
        Some(match self {
            Self::Bool | Self::Byte | Self::Int8 | Self::Uint8 => 1,
            Self::Int16 | Self::Uint16 => 2,
            Self::Int32 | Self::Uint32 | Self::Float32 => 4,
            Self::Int64 | Self::Uint64 | Self::Float64 => 8,
            Self::String(_) => return None,
        })
    }
}

/// What a field's element is: a built-in type or another message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Base {
    Primitive(Primitive),
    Nested(TypeName),
}

/// One value, a fixed-size array, or a sequence (bounded or not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Single,
    Array(u32),
    Sequence(Option<u32>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldType {
    pub base: Base,
    pub shape: Shape,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub ty: FieldType,
    /// The default value as written, where one is given.
    pub default: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Constant {
    pub name: String,
    pub ty: Primitive,
    pub value: String,
}

/// A structure: a message, a service's request or response, an action's goal, and the
/// structures rosidl derives from services and actions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub name: TypeName,
    pub fields: Vec<Field>,
    pub constants: Vec<Constant>,
}

impl Message {
    /// A structure of these fields, each one value of its type.
    pub fn of(name: TypeName, fields: &[(&str, Base)]) -> Self {
        let fields =
            fields.iter().map(|(n, base)| Field { name: (*n).into(), ty: FieldType { base: base.clone(), shape: Shape::Single }, default: None }).collect();
        Self { name, fields, constants: Vec::new() }
    }
}

/// A parsed interface file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Interface {
    Message(Message),
    Service { name: TypeName, request: Message, response: Message },
    Action { name: TypeName, goal: Message, result: Message, feedback: Message },
}

/// Split a definition into its `---`-separated sections, with each line's number.
fn sections(text: &str) -> Vec<Vec<(usize, &str)>> {
    let mut out = vec![Vec::new()];
    for (i, line) in text.lines().enumerate() {
        if line.trim() == "---" {
            out.push(Vec::new());
        } else if let Some(last) = out.last_mut() {
            last.push((i + 1, line));
        }
    }
    out
}

fn is_field_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase()) && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn is_constant_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase()) && s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// A field's type as written (`float64`, `Point`, `geometry_msgs/Pose`, `string<=8[<=3]`),
/// nested names resolved within `package` (a bare name is a message of the same package).
fn parse_type(word: &str, package: &str) -> Result<FieldType, String> {
    let (base_word, shape) = match word.find('[') {
        None => (word, Shape::Single),
        Some(open) => {
            let inner = word[open + 1..].strip_suffix(']').ok_or_else(|| format!("{word:?}: an array's type ends in ']'"))?;
            let shape = if inner.is_empty() {
                Shape::Sequence(None)
            } else if let Some(bound) = inner.strip_prefix("<=") {
                Shape::Sequence(Some(bound.parse().map_err(|_| format!("{word:?}: the bound {bound:?} is not a number"))?))
            } else {
                Shape::Array(inner.parse().map_err(|_| format!("{word:?}: the size {inner:?} is not a number"))?)
            };
            (&word[..open], shape)
        }
    };
    if let Some(p) = Primitive::parse(base_word) {
        return Ok(FieldType { base: Base::Primitive(p), shape });
    }
    if base_word.starts_with("wstring") || base_word == "wchar" {
        return Err(format!("{base_word}: wide strings are not supported; use string (UTF-8)"));
    }
    let nested = match base_word.split('/').collect::<Vec<_>>().as_slice() {
        [name] => TypeName::new(package, "msg", name),
        [pkg, name] => TypeName::new(pkg, "msg", name),
        [pkg, "msg", name] => TypeName::new(pkg, "msg", name),
        _ => return Err(format!("{base_word:?} is not a type: a built-in type, Name, or package/Name")),
    };
    if !nested.name.starts_with(|c: char| c.is_ascii_uppercase()) || !nested.name.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!("{base_word:?} is not a type: a built-in type, or a message name in CamelCase"));
    }
    Ok(FieldType { base: Base::Nested(nested), shape })
}

/// Parse one section of a definition into the structure `name`.
fn parse_section(name: TypeName, lines: &[(usize, &str)]) -> Result<Message, IdlError> {
    let err = |line: usize, message: String| IdlError::Line { name: name.to_string(), line, message };
    let mut fields: Vec<Field> = Vec::new();
    let mut constants: Vec<Constant> = Vec::new();
    for &(number, raw) in lines {
        // A comment starts at '#' (string defaults holding '#' are not supported).
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (ty_word, rest) = line.split_once(char::is_whitespace).ok_or_else(|| err(number, format!("{line:?}: write TYPE NAME")))?;
        let rest = rest.trim();
        let ty = parse_type(ty_word, &name.package).map_err(|m| err(number, m))?;
        if let Some((cname, value)) = rest.split_once('=') {
            let (cname, value) = (cname.trim(), value.trim());
            let Base::Primitive(p) = ty.base else { return Err(err(number, format!("constant {cname}: a constant is of a built-in type"))) };
            if ty.shape != Shape::Single || !is_constant_name(cname) || value.is_empty() {
                return Err(err(number, format!("{line:?}: a constant is TYPE NAME=VALUE, NAME in UPPER_CASE")));
            }
            constants.push(Constant { name: cname.into(), ty: p, value: value.into() });
            continue;
        }
        let (fname, default) = match rest.split_once(char::is_whitespace) {
            Some((f, d)) => (f, Some(d.trim().to_string())),
            None => (rest, None),
        };
        if !is_field_name(fname) {
            return Err(err(number, format!("field {fname:?}: a field name is lower_case letters, digits and '_'")));
        }
        if fields.iter().any(|f| f.name == fname) {
            return Err(err(number, format!("field {fname:?} is declared twice")));
        }
        fields.push(Field { name: fname.into(), ty, default });
    }
    Ok(Message { name, fields, constants })
}

/// Parse the file of `name` (its kind says which file: `msg`, `srv` or `action`).
pub fn parse(name: &TypeName, text: &str) -> Result<Interface, IdlError> {
    let parts = sections(text);
    let wrong = |want: usize| IdlError::Shape {
        name: name.to_string(),
        message: format!("a .{} file has {want} section(s) separated by '---'; this one has {}", name.kind, parts.len()),
    };
    match (name.kind.as_str(), parts.as_slice()) {
        ("msg", [only]) => Ok(Interface::Message(parse_section(name.clone(), only)?)),
        ("srv", [request, response]) => Ok(Interface::Service {
            name: name.clone(),
            request: parse_section(name.with_suffix("_Request"), request)?,
            response: parse_section(name.with_suffix("_Response"), response)?,
        }),
        ("action", [goal, result, feedback]) => Ok(Interface::Action {
            name: name.clone(),
            goal: parse_section(name.with_suffix("_Goal"), goal)?,
            result: parse_section(name.with_suffix("_Result"), result)?,
            feedback: parse_section(name.with_suffix("_Feedback"), feedback)?,
        }),
        ("msg", _) => Err(wrong(1)),
        ("srv", _) => Err(wrong(2)),
        _ => Err(wrong(3)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_constants_arrays_and_defaults_are_read() {
        let name = TypeName::parse("pkg/msg/Thing").unwrap();
        let text = "# a comment\nint8 LOW = -1  # low\nfloat64 x 0.5\nPoint[] points\ngeometry_msgs/Pose[3] poses\nstring<=8[<=2] tags\n";
        let Interface::Message(m) = parse(&name, text).unwrap() else { panic!() };
        assert_eq!(m.constants, [Constant { name: "LOW".into(), ty: Primitive::Int8, value: "-1".into() }]);
        let shapes: Vec<(&str, &Base, Shape)> = m.fields.iter().map(|f| (f.name.as_str(), &f.ty.base, f.ty.shape)).collect();
        assert_eq!(
            shapes,
            [
                ("x", &Base::Primitive(Primitive::Float64), Shape::Single),
                ("points", &Base::Nested(TypeName::new("pkg", "msg", "Point")), Shape::Sequence(None)),
                ("poses", &Base::Nested(TypeName::new("geometry_msgs", "msg", "Pose")), Shape::Array(3)),
                ("tags", &Base::Primitive(Primitive::String(Some(8))), Shape::Sequence(Some(2))),
            ]
        );
        assert_eq!(m.fields[0].default.as_deref(), Some("0.5"));
    }

    #[test]
    fn bad_definitions_say_the_line() {
        let name = TypeName::parse("pkg/msg/Bad").unwrap();
        let e = parse(&name, "float64 x\nfloat64 X\n").unwrap_err();
        assert_eq!(e.to_string(), "pkg/msg/Bad:2: field \"X\": a field name is lower_case letters, digits and '_'");
        assert!(parse(&name, "wstring w\n").unwrap_err().to_string().contains("wide strings"));
        assert!(parse(&name, "float64 x\nfloat64 x\n").unwrap_err().to_string().contains("declared twice"));
        let srv = TypeName::parse("pkg/srv/S").unwrap();
        assert!(parse(&srv, "int8 a\n").unwrap_err().to_string().contains("2 section(s)"));
        assert!(TypeName::parse("pkg/Thing").is_err());
    }
}
