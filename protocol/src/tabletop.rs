//! The tabletop skill grammar, shared by planner, grounded models and policies.
//!
//! ```text
//! skill     := "pick up the " OBJECT " and place it " placement | "done"
//! placement := "in the " CONTAINER          (a bowl or a box)
//!            | "on the " SURFACE            (a block, a corner or a side of the table)
//!            | "at position " N             (a slot of the letter row, 1..=8)
//! ```
//!
//! The shipped language model's corpus (tools/train/corpus.py) writes exactly this grammar.

use std::fmt;

/// Named corners of the table, in the words skills use.
pub const CORNERS: [&str; 4] = ["top left corner", "top right corner", "bottom left corner", "bottom right corner"];
/// Named sides of the table.
pub const SIDES: [&str; 4] = ["top side", "bottom side", "left side", "right side"];
/// Slots of the letter row: `at position 1` ..= `at position 8`.
pub const POSITIONS: std::ops::RangeInclusive<u32> = 1..=8;

/// Where a skill puts the object it picked.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Placement {
    /// `in the <container>`
    In(String),
    /// `on the <block, corner or side>`
    On(String),
    /// `at position <n>`
    AtPosition(u32),
}

/// A parsed tabletop skill other than `done`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PickPlace {
    pub object: String,
    pub placement: Placement,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("{0:?} is not a tabletop skill: expected \"pick up the <object> and place it in the <bowl or box>\", \"... on the <block, corner or side>\", \"... at position <1-8>\" or \"done\"")]
    Grammar(String),
    #[error("{0:?} names no object")]
    EmptyName(String),
    #[error("position {0} is not a slot of the letter row (1 to 8)")]
    Position(u32),
}

/// A tabletop skill: a pick-and-place or the end of the plan.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TabletopSkill {
    PickPlace(PickPlace),
    Done,
}

impl TabletopSkill {
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let t = text.trim();
        if t == "done" {
            return Ok(TabletopSkill::Done);
        }
        let grammar = || ParseError::Grammar(t.to_string());
        let rest = t.strip_prefix("pick up the ").ok_or_else(grammar)?;
        let (object, placement) = rest.split_once(" and place it ").ok_or_else(grammar)?;
        let object = name(object, t)?;
        let placement = if let Some(target) = placement.strip_prefix("in the ") {
            Placement::In(name(target, t)?)
        } else if let Some(target) = placement.strip_prefix("on the ") {
            Placement::On(name(target, t)?)
        } else if let Some(n) = placement.strip_prefix("at position ") {
            let n: u32 = n.parse().map_err(|_| grammar())?;
            if !POSITIONS.contains(&n) {
                return Err(ParseError::Position(n));
            }
            Placement::AtPosition(n)
        } else {
            return Err(grammar());
        };
        Ok(TabletopSkill::PickPlace(PickPlace { object, placement }))
    }
}

fn name(s: &str, whole: &str) -> Result<String, ParseError> {
    let s = s.trim();
    if s.is_empty() {
        Err(ParseError::EmptyName(whole.to_string()))
    } else {
        Ok(s.to_string())
    }
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Placement::In(t) => write!(f, "in the {t}"),
            Placement::On(t) => write!(f, "on the {t}"),
            Placement::AtPosition(n) => write!(f, "at position {n}"),
        }
    }
}

impl fmt::Display for TabletopSkill {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TabletopSkill::Done => f.write_str("done"),
            TabletopSkill::PickPlace(p) => write!(f, "pick up the {} and place it {}", p.object, p.placement),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_form() {
        for text in [
            "pick up the red block and place it in the blue bowl",
            "pick up the letter A and place it at position 3",
            "pick up the red block and place it on the top left corner",
            "pick up the chips bag and place it in the brown box",
            "done",
        ] {
            assert_eq!(TabletopSkill::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn refuses_what_is_not_a_skill() {
        for text in ["", "pick up the red block", "place it in the bowl", "pick up the  and place it in the blue bowl"] {
            assert!(TabletopSkill::parse(text).is_err(), "{text:?}");
        }
        assert_eq!(TabletopSkill::parse("pick up the letter A and place it at position 9"), Err(ParseError::Position(9)));
    }
}

/// The table's shared geometry: where named places are, and where an object is in the
/// grammar's words. Planner (symbolic effects), policies (targets) and the simulator
/// (success checks on ground truth) all use these, so "the top left corner" is one place.
///
/// Frame: metres; x to the right, y away from the robot ("top"), z up from the table top.
/// The table spans x in [-0.5, 0.5], y in [-0.35, 0.35].
pub mod geometry {
    use super::{Placement, CORNERS, POSITIONS, SIDES};
    use crate::{ObjectKind, Observation, SceneObject};

    pub const TABLE_HALF_X: f64 = 0.5;
    pub const TABLE_HALF_Y: f64 = 0.35;
    /// Edge length of a block or letter block.
    pub const BLOCK_SIZE: f64 = 0.04;
    /// Inner radius of a bowl: an object whose centre is this close is in it.
    pub const BOWL_RADIUS: f64 = 0.06;
    /// Inner half extents of a box.
    pub const BOX_HALF: [f64; 2] = [0.1, 0.075];
    /// Centres closer than this in the plane are stacked (one on the other).
    pub const STACK_RADIUS: f64 = 0.025;
    /// A corner or side is the band of the table beyond these from the centre.
    pub const SIDE_X: f64 = 0.3;
    pub const SIDE_Y: f64 = 0.2;
    /// The letter row: slot n at x = ROW_X0 + (n - 1) * ROW_STEP, y = ROW_Y.
    pub const ROW_X0: f64 = -0.245;
    pub const ROW_STEP: f64 = 0.07;
    pub const ROW_Y: f64 = 0.14;

    /// A named area of the table (a corner or a side).
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct Region {
        pub name: &'static str,
        /// Where to put things in it.
        pub anchor: [f64; 2],
        sx: i8,
        sy: i8,
    }

    impl Region {
        pub fn contains(&self, x: f64, y: f64) -> bool {
            let in_band = |v: f64, edge: f64, sign: i8| match sign {
                -1 => v < -edge,
                1 => v > edge,
                _ => v.abs() <= edge,
            };
            in_band(x, SIDE_X, self.sx) && in_band(y, SIDE_Y, self.sy)
        }
    }

    const fn region(name: &'static str, sx: i8, sy: i8) -> Region {
        let ax = 0.4 * sx as f64;
        let ay = 0.27 * sy as f64;
        Region { name, anchor: [ax, ay], sx, sy }
    }

    /// The eight named areas: four corners, four sides.
    pub const REGIONS: [Region; 8] = [
        region("top left corner", -1, 1),
        region("top right corner", 1, 1),
        region("bottom left corner", -1, -1),
        region("bottom right corner", 1, -1),
        region("top side", 0, 1),
        region("bottom side", 0, -1),
        region("left side", -1, 0),
        region("right side", 1, 0),
    ];

    pub fn region_named(name: &str) -> Option<&'static Region> {
        debug_assert!(CORNERS.len() + SIDES.len() == REGIONS.len());
        REGIONS.iter().find(|r| r.name == name)
    }

    /// Where slot `n` of the letter row is.
    pub fn slot(n: u32) -> [f64; 2] {
        [ROW_X0 + ROW_STEP * f64::from(n.saturating_sub(1)), ROW_Y]
    }

    pub fn planar(a: [f64; 3], b: [f64; 2]) -> f64 {
        ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
    }

    pub fn xy(o: &SceneObject) -> [f64; 2] {
        [o.position[0], o.position[1]]
    }

    /// Is point `p` inside container `c`?
    pub fn inside(c: &SceneObject, p: [f64; 3]) -> bool {
        match c.kind {
            ObjectKind::Bowl => planar(p, xy(c)) < BOWL_RADIUS,
            ObjectKind::Box => (p[0] - c.position[0]).abs() < BOX_HALF[0] && (p[1] - c.position[1]).abs() < BOX_HALF[1],
            _ => false,
        }
    }

    /// The object lying directly on top of `o`, if any.
    pub fn covering<'a>(obs: &'a Observation, o: &SceneObject) -> Option<&'a SceneObject> {
        obs.objects.iter().find(|other| {
            other.id != o.id && other.kind.is_pickable() && planar(other.position, xy(o)) < STACK_RADIUS && other.position[2] > o.position[2] + 0.5 * BLOCK_SIZE
        })
    }

    /// The block `o` rests on, if any.
    pub fn resting_on<'a>(obs: &'a Observation, o: &SceneObject) -> Option<&'a SceneObject> {
        obs.objects.iter().find(|b| {
            b.id != o.id
                && b.kind == ObjectKind::Block
                && planar(o.position, xy(b)) < STACK_RADIUS
                && o.position[2] > b.position[2] + 0.5 * BLOCK_SIZE
                && o.position[2] < b.position[2] + 1.5 * BLOCK_SIZE
        })
    }

    /// Where an object is, in the skill grammar's words, if it is at a named place.
    pub fn location_of(obs: &Observation, o: &SceneObject) -> Option<Placement> {
        if let Some(c) = obs.objects.iter().find(|c| c.kind.is_container() && c.id != o.id && inside(c, o.position)) {
            return Some(Placement::In(c.name.clone()));
        }
        if let Some(b) = resting_on(obs, o) {
            return Some(Placement::On(b.name.clone()));
        }
        if let Some(n) = POSITIONS.clone().find(|&n| planar(o.position, slot(n)) < STACK_RADIUS) {
            return Some(Placement::AtPosition(n));
        }
        REGIONS.iter().find(|r| r.contains(o.position[0], o.position[1])).map(|r| Placement::On(r.name.to_string()))
    }

    /// A spot near `anchor` (the anchor, then a ring of eight at `step`) where no other
    /// pickable object than `moving` stands within `clearance` and that `fits` accepts;
    /// the anchor itself when none is free.
    pub fn free_spot(obs: &Observation, moving: &SceneObject, anchor: [f64; 2], step: f64, clearance: f64, fits: impl Fn([f64; 2]) -> bool) -> [f64; 2] {
        const RING: [(f64, f64); 9] = [(0.0, 0.0), (1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0), (1.0, 1.0), (-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0)];
        RING.iter()
            .map(|(dx, dy)| [anchor[0] + dx * step, anchor[1] + dy * step])
            .find(|p| fits(*p) && obs.objects.iter().all(|o| o.id == moving.id || !o.kind.is_pickable() || planar(o.position, *p) >= clearance))
            .unwrap_or(anchor)
    }

    /// The objects of a stack, bottom first, that `o` belongs to.
    pub fn stack_of<'a>(obs: &'a Observation, o: &'a SceneObject) -> Vec<&'a SceneObject> {
        let mut members: Vec<&SceneObject> = obs.objects.iter().filter(|x| x.kind.is_pickable() && planar(x.position, xy(o)) < STACK_RADIUS).collect();
        members.sort_by(|a, b| a.position[2].total_cmp(&b.position[2]));
        members
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn regions_partition_the_edges_and_hold_their_anchors() {
            for r in REGIONS {
                assert!(r.contains(r.anchor[0], r.anchor[1]), "{}", r.name);
                assert_eq!(REGIONS.iter().filter(|o| o.contains(r.anchor[0], r.anchor[1])).count(), 1, "{}", r.name);
                assert!(r.anchor[0].abs() < TABLE_HALF_X && r.anchor[1].abs() < TABLE_HALF_Y);
            }
            assert!(REGIONS.iter().all(|r| !r.contains(0.0, 0.0)), "the centre is no region");
            for n in POSITIONS {
                let s = slot(n);
                assert!(REGIONS.iter().all(|r| !r.contains(s[0], s[1])), "slot {n} is in a region");
            }
        }
    }
}
