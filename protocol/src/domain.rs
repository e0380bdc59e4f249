//! A domain's id: the name an observation carries (`"tabletop"`, `"grid"`, `"kitchen"`, or
//! one a plug-in registers). The built-in names are always known; another must be registered
//! before an observation naming it is read, so that a misspelt domain is refused, not planned in.

use crate::quote::Quoted;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::sync::Mutex;

/// The id of a domain, by its name.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Domain(&'static str);

/// The names registered beside the built-in ones.
static REGISTERED: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

/// The longest domain name accepted, in bytes.
pub const MAX_DOMAIN_NAME: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("domain name {}: use 1 to 32 lowercase letters, digits and '-', starting with a letter", Quoted(.0))]
    BadName(String),
    #[error("unknown domain {}; known domains: {known}", Quoted(.name))]
    Unknown { name: String, known: String },
}

impl Domain {
    pub const TABLETOP: Domain = Domain("tabletop");
    pub const GRID: Domain = Domain("grid");
    pub const KITCHEN: Domain = Domain("kitchen");
    const BUILTIN: [Domain; 3] = [Domain::TABLETOP, Domain::GRID, Domain::KITCHEN];

    /// The name on the wire and on the command line.
    pub fn name(self) -> &'static str {
        self.0
    }

    /// The id of a known name (built in or registered).
    pub fn named(name: &str) -> Result<Domain, DomainError> {
        if let Some(d) = Self::BUILTIN.into_iter().find(|d| d.0 == name) {
            return Ok(d);
        }
        let registered = REGISTERED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = registered.iter().find(|n| **n == name) {
            return Ok(Domain(n));
        }
        let known: Vec<&str> = Self::BUILTIN.iter().map(|d| d.0).chain(registered.iter().copied()).collect();
        Err(DomainError::Unknown { name: name.chars().take(MAX_DOMAIN_NAME * 2).collect(), known: known.join(", ") })
    }

    /// Make a plug-in domain's name known (again registering a name gives the same id).
    pub fn register(name: &str) -> Result<Domain, DomainError> {
        let ok = (1..=MAX_DOMAIN_NAME).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !ok {
            return Err(DomainError::BadName(name.to_string()));
        }
        if let Ok(d) = Self::named(name) {
            return Ok(d);
        }
        let mut registered = REGISTERED.lock().unwrap_or_else(|e| e.into_inner());
        // Leaked once per name: names are registered by code, a handful per process.
        let name: &'static str = Box::leak(name.to_string().into_boxed_str());
        registered.push(name);
        Ok(Domain(name))
    }
}

impl std::fmt::Display for Domain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::fmt::Debug for Domain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for Domain {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for Domain {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Domain::named(&name).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_known_checked_and_registered_once() {
        assert_eq!(serde_json::to_string(&Domain::GRID).unwrap(), "\"grid\"");
        assert_eq!(serde_json::from_str::<Domain>("\"kitchen\"").unwrap(), Domain::KITCHEN);
        let err = serde_json::from_str::<Domain>("\"toy-lamps\"").unwrap_err().to_string();
        assert!(err.contains("unknown domain \"toy-lamps\"") && err.contains("tabletop, grid, kitchen"), "{err}");
        let toy = Domain::register("toy-lamps").unwrap();
        assert_eq!(Domain::register("toy-lamps").unwrap(), toy);
        assert_eq!(serde_json::from_str::<Domain>("\"toy-lamps\"").unwrap(), toy);
        assert_eq!(Domain::register("grid").unwrap(), Domain::GRID);
        for bad in ["", "Toy", "1toy", "toy lamps", &"x".repeat(33)] {
            assert!(matches!(Domain::register(bad), Err(DomainError::BadName(_))), "{bad:?}");
        }
    }
}
