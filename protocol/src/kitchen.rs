//! The kitchen domain, after SayCan's real kitchen: five locations, eighteen objects, and a
//! mobile robot that can find, pick up, go to and put down. The robot's state holds what it
//! has *observed* (each sighting with the detector's box score), never the ground truth.

use crate::quote::Quoted;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A place the robot can go to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Location {
    FarCounter,
    NearCounter,
    Table,
    TrashCan,
    User,
}

impl Location {
    pub const ALL: [Location; 5] = [Location::FarCounter, Location::NearCounter, Location::Table, Location::TrashCan, Location::User];

    /// Where objects stand and where the robot looks for them.
    pub const SURFACES: [Location; 3] = [Location::FarCounter, Location::NearCounter, Location::Table];

    /// The words a skill uses for it.
    pub fn name(self) -> &'static str {
        match self {
            Location::FarCounter => "far counter",
            Location::NearCounter => "near counter",
            Location::Table => "table",
            Location::TrashCan => "trash can",
            Location::User => "user",
        }
    }

    pub fn named(name: &str) -> Option<Location> {
        Self::ALL.into_iter().find(|l| l.name() == name)
    }

    /// Position on the kitchen's floor plan, metres (x right, y up the map).
    pub fn map_position(self) -> [f64; 2] {
        match self {
            Location::FarCounter => [5.5, 4.0],
            Location::NearCounter => [1.0, 4.0],
            Location::Table => [5.5, 0.5],
            Location::TrashCan => [-1.5, 1.0],
            Location::User => [2.0, -0.5],
        }
    }

    /// Straight-line distance between two locations on the floor plan, metres.
    pub fn distance(self, other: Location) -> f64 {
        let (a, b) = (self.map_position(), other.map_position());
        ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What an object is good for: the semantic groups ambiguous instructions ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tag {
    Drink,
    Can,
    Soda,
    Caffeine,
    Healthy,
    Fruit,
    Salty,
    Energy,
    Cleaning,
}

/// One of the kitchen's objects: its name in skills, other words people use for it, and tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CatalogueEntry {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub tags: &'static [Tag],
    /// Its colour on the dashboard's map.
    pub rgb: [u8; 3],
}

impl CatalogueEntry {
    pub fn has(&self, tag: Tag) -> bool {
        self.tags.contains(&tag)
    }
}

use Tag::*;

/// The eighteen objects of the kitchen (as in SayCan's: drinks, snacks, fruit, a sponge...).
pub const CATALOGUE: [CatalogueEntry; 18] = [
    CatalogueEntry { name: "coke can", aliases: &["coke", "coca cola", "cola can"], tags: &[Drink, Can, Soda, Caffeine], rgb: [200, 30, 40] },
    CatalogueEntry { name: "pepsi can", aliases: &["pepsi", "pepsi cola"], tags: &[Drink, Can, Soda, Caffeine], rgb: [30, 70, 180] },
    CatalogueEntry { name: "sprite can", aliases: &["sprite", "lemon lime soda"], tags: &[Drink, Can, Soda], rgb: [40, 170, 80] },
    CatalogueEntry { name: "lime soda can", aliases: &["lime soda", "lime seltzer"], tags: &[Drink, Can, Soda], rgb: [150, 210, 60] },
    CatalogueEntry { name: "tea can", aliases: &["iced tea", "tea"], tags: &[Drink, Can, Caffeine], rgb: [170, 120, 50] },
    CatalogueEntry { name: "grapefruit soda can", aliases: &["grapefruit soda", "grapefruit can"], tags: &[Drink, Can, Soda], rgb: [240, 120, 110] },
    CatalogueEntry { name: "red bull can", aliases: &["red bull", "energy drink"], tags: &[Drink, Can, Caffeine, Energy], rgb: [60, 80, 160] },
    CatalogueEntry { name: "water bottle", aliases: &["water", "bottle of water"], tags: &[Drink, Healthy], rgb: [120, 190, 240] },
    CatalogueEntry { name: "apple", aliases: &["green apple", "red apple"], tags: &[Fruit, Healthy], rgb: [220, 40, 30] },
    CatalogueEntry { name: "orange", aliases: &["mandarin", "clementine"], tags: &[Fruit, Healthy], rgb: [250, 150, 20] },
    CatalogueEntry { name: "banana", aliases: &["bananas"], tags: &[Fruit, Healthy, Energy], rgb: [250, 220, 50] },
    CatalogueEntry { name: "kettle chips", aliases: &["kettle crisps", "bag of kettle chips"], tags: &[Salty], rgb: [210, 170, 90] },
    CatalogueEntry { name: "rice chips", aliases: &["rice crisps", "rice crackers"], tags: &[Salty], rgb: [235, 225, 190] },
    CatalogueEntry { name: "jalapeno chips", aliases: &["jalapeno crisps", "spicy chips"], tags: &[Salty], rgb: [90, 150, 60] },
    CatalogueEntry { name: "multigrain chips", aliases: &["multigrain crisps", "whole grain chips"], tags: &[Salty], rgb: [180, 130, 70] },
    CatalogueEntry { name: "energy bar", aliases: &["granola bar", "protein bar"], tags: &[Healthy, Energy], rgb: [140, 90, 60] },
    CatalogueEntry { name: "sponge", aliases: &["dish sponge", "scrubber"], tags: &[Cleaning], rgb: [250, 230, 80] },
    CatalogueEntry { name: "towel", aliases: &["paper towel", "cloth", "napkin"], tags: &[Cleaning], rgb: [150, 170, 200] },
];

/// The catalogue entry of an object, by its name.
pub fn entry(name: &str) -> Option<&'static CatalogueEntry> {
    CATALOGUE.iter().find(|e| e.name == name)
}

/// The object names of the catalogue, for messages.
pub fn object_names() -> String {
    CATALOGUE.iter().map(|e| e.name).collect::<Vec<_>>().join(", ")
}

/// One object the robot has seen: where, and how sure its detector was (the box score).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Detection {
    /// The detector's label: a catalogue name.
    pub name: String,
    pub location: Location,
    /// The detector's box score in (0, 1]: low for an object seen partly hidden.
    pub score: f64,
}

/// Below this box score an object counts as not detected for a thresholded detector (the
/// SayCan baseline's "object detected or not").
pub const DETECTION_THRESHOLD: f64 = 0.5;

/// The robot's view of the kitchen: where it is, what it holds, where it has looked, and
/// what it saw there.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KitchenState {
    pub robot_at: Location,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holding: Option<String>,
    /// The surfaces the robot has looked at (what is elsewhere it has not seen).
    #[serde(default)]
    pub looked: Vec<Location>,
    /// Every object the robot has seen and not since seen move, with where it saw it.
    #[serde(default)]
    pub detections: Vec<Detection>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum KitchenError {
    #[error("kitchen: {} is not one of the kitchen's objects ({names})", Quoted(.0), names = object_names())]
    UnknownObject(String),
    #[error("kitchen: the {0} is detected twice; each object is in one place")]
    DuplicateDetection(String),
    #[error("kitchen: the {name} has box score {score}; a score is in (0, 1]")]
    BadScore { name: String, score: f64 },
    #[error("kitchen: the {0} is held and also seen on a surface")]
    HeldAndSeen(String),
}

impl KitchenState {
    pub fn validate(&self) -> Result<(), KitchenError> {
        let mut seen = std::collections::HashSet::new();
        for d in &self.detections {
            if entry(&d.name).is_none() {
                return Err(KitchenError::UnknownObject(d.name.clone()));
            }
            if !seen.insert(d.name.as_str()) {
                return Err(KitchenError::DuplicateDetection(d.name.clone()));
            }
            if !(d.score > 0.0 && d.score <= 1.0) {
                return Err(KitchenError::BadScore { name: d.name.clone(), score: d.score });
            }
        }
        if let Some(h) = &self.holding {
            if entry(h).is_none() {
                return Err(KitchenError::UnknownObject(h.clone()));
            }
            if seen.contains(h.as_str()) {
                return Err(KitchenError::HeldAndSeen(h.clone()));
            }
        }
        Ok(())
    }

    /// Where the robot last saw `name`.
    pub fn detection(&self, name: &str) -> Option<&Detection> {
        self.detections.iter().find(|d| d.name == name)
    }

    /// The view as text, one line per location: what the robot saw there (with box scores).
    pub fn render(&self) -> String {
        let mut out = format!("robot at the {}, holding {}\n", self.robot_at, self.holding.as_deref().unwrap_or("nothing"));
        for l in Location::SURFACES {
            let seen: Vec<String> = self.detections.iter().filter(|d| d.location == l).map(|d| format!("{} ({:.2})", d.name, d.score)).collect();
            let what = if !self.looked.contains(&l) {
                "not looked at yet".to_string()
            } else if seen.is_empty() {
                "nothing seen".to_string()
            } else {
                seen.join(", ")
            };
            out.push_str(&format!("{:<13} {what}\n", format!("{}:", l.name())));
        }
        out
    }

    /// Surfaces the robot has not looked at yet.
    pub fn unlooked(&self) -> Vec<Location> {
        Location::SURFACES.into_iter().filter(|l| !self.looked.contains(l)).collect()
    }
}

/// One kitchen skill. Objects are named in open vocabulary ("the coca cola"): a policy
/// resolves the phrase to an object it has seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KitchenSkill {
    /// Go to where the object was seen, or search the surfaces not yet looked at.
    Find(String),
    PickUp(String),
    GoTo(Location),
    PutDown(String),
    Done,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a kitchen skill: {0:?} (skills are \"find the X\", \"pick up the X\", \"go to the L\", \"put down the X\" and \"done\"; locations: far counter, near counter, table, trash can, user)")]
pub struct KitchenSkillError(pub String);

impl KitchenSkill {
    /// The skill verbs as plan text starts them, in the order they are tried.
    pub const VERBS: [&'static str; 4] = ["find the ", "pick up the ", "go to the ", "put down the "];

    pub fn parse(text: &str) -> Result<Self, KitchenSkillError> {
        let t = text.trim();
        let bad = || KitchenSkillError(t.to_string());
        if t == "done" {
            return Ok(KitchenSkill::Done);
        }
        let object = |rest: &str| {
            let rest = rest.trim();
            if rest.is_empty() {
                Err(bad())
            } else {
                Ok(rest.to_string())
            }
        };
        if let Some(rest) = t.strip_prefix("find the ") {
            Ok(KitchenSkill::Find(object(rest)?))
        } else if let Some(rest) = t.strip_prefix("pick up the ") {
            Ok(KitchenSkill::PickUp(object(rest)?))
        } else if let Some(rest) = t.strip_prefix("put down the ") {
            Ok(KitchenSkill::PutDown(object(rest)?))
        } else if let Some(rest) = t.strip_prefix("go to the ") {
            Location::named(rest.trim()).map(KitchenSkill::GoTo).ok_or_else(bad)
        } else {
            Err(bad())
        }
    }
}

impl fmt::Display for KitchenSkill {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KitchenSkill::Find(o) => write!(f, "find the {o}"),
            KitchenSkill::PickUp(o) => write!(f, "pick up the {o}"),
            KitchenSkill::GoTo(l) => write!(f, "go to the {l}"),
            KitchenSkill::PutDown(o) => write!(f, "put down the {o}"),
            KitchenSkill::Done => f.write_str("done"),
        }
    }
}

/// One primitive of the kitchen robot, as the simulator (or a robot bridge) takes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum KitchenAction {
    /// Drive to a location and look at what is there.
    Navigate { location: Location },
    /// Grasp an object at the robot's location.
    Grasp { object: String },
    /// Put the held object down where the robot is.
    Place,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eighteen_objects_with_unique_names_and_aliases() {
        let mut words = std::collections::HashSet::new();
        for e in &CATALOGUE {
            assert!(words.insert(e.name), "{}", e.name);
            for a in e.aliases {
                assert!(words.insert(a), "alias {a} used twice");
            }
        }
        assert_eq!(CATALOGUE.len(), 18);
        assert_eq!(Location::ALL.len(), 5);
    }

    #[test]
    fn skills_parse_and_print_back() {
        for text in ["find the coke can", "pick up the apple", "go to the far counter", "put down the sponge", "done", "find the coca cola"] {
            assert_eq!(KitchenSkill::parse(text).unwrap().to_string(), text);
        }
        for bad in ["go to the moon", "find the ", "pick the apple", "fly"] {
            assert!(KitchenSkill::parse(bad).is_err(), "{bad}");
        }
        assert!(KitchenSkill::parse("go to the moon").unwrap_err().to_string().contains("trash can"));
    }

    #[test]
    fn states_are_validated() {
        let mut s = KitchenState {
            robot_at: Location::User,
            holding: None,
            looked: vec![Location::Table],
            detections: vec![Detection { name: "apple".into(), location: Location::Table, score: 0.9 }],
        };
        s.validate().unwrap();
        assert_eq!(s.unlooked(), vec![Location::FarCounter, Location::NearCounter]);
        let text = s.render();
        assert!(
            text.contains("robot at the user, holding nothing")
                && text.contains("table:        apple (0.90)")
                && text.contains("far counter:  not looked at yet"),
            "{text}"
        );
        s.holding = Some("apple".into());
        assert_eq!(s.validate(), Err(KitchenError::HeldAndSeen("apple".into())));
        s.holding = None;
        s.detections[0].score = 1.5;
        assert!(s.validate().unwrap_err().to_string().contains("(0, 1]"));
        s.detections[0] = Detection { name: "hammer".into(), location: Location::Table, score: 0.5 };
        assert!(s.validate().unwrap_err().to_string().contains("coke can"));
        let json = r#"{"robot_at":"far-counter","looked":["far-counter"],"detections":[{"name":"sponge","location":"far-counter","score":0.7}]}"#;
        let s: KitchenState = serde_json::from_str(json).unwrap();
        assert_eq!(s.detection("sponge").unwrap().location, Location::FarCounter);
    }
}
