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
        assert_eq!(
            TabletopSkill::parse("pick up the letter A and place it at position 9"),
            Err(ParseError::Position(9))
        );
    }
}
