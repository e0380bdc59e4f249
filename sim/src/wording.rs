//! Instructions in other words: the values an episode's instruction names (a place, a word
//! to spell, a door's colour), by slot name, so that a user's wording of a task can say
//! `{place}` and have each episode fill in its own.
//!
//! ```
//! use sim::wording::Slots;
//! let slots = Slots::of(&[("place", "top left corner")]);
//! assert_eq!(slots.fill("move every block to the {place}").unwrap(), "move every block to the top left corner");
//! assert!(slots.fill("spell {word}").is_err());
//! // A slot named in capitals is filled in capitals, one capitalised with each word so.
//! assert_eq!(slots.fill("MOVE EVERY BLOCK TO THE {PLACE}").unwrap(), "MOVE EVERY BLOCK TO THE TOP LEFT CORNER");
//! assert_eq!(slots.fill("Move Every Block To The {Place}").unwrap(), "Move Every Block To The Top Left Corner");
//! ```

use serde::Serialize;

/// Slot values of one episode, in the order the task names them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Slots(Vec<(String, String)>);

/// Why a wording could not be filled in.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SlotError {
    #[error("{{{name}}} is not a slot of this task ({})", known_list(.known))]
    Unknown { name: String, known: Vec<String> },
    #[error("a '{{' without its '}}': write a slot as {{name}}")]
    Unclosed,
    #[error("an empty slot '{{}}': write a slot as {{name}}")]
    Empty,
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "it has none".to_string()
    } else {
        format!("its slots: {}", known.iter().map(|k| format!("{{{k}}}")).collect::<Vec<_>>().join(", "))
    }
}

impl Slots {
    pub fn of(pairs: &[(&str, &str)]) -> Self {
        Self(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    pub fn set(&mut self, name: &str, value: &str) {
        match self.0.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = value.to_string(),
            None => self.0.push((name.to_string(), value.to_string())),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// `text` with every `{name}` replaced by its value: `{NAME}` by its value in capitals,
    /// `{Name}` by its value with each word capitalised (to try wordings written so).
    pub fn fill(&self, text: &str) -> Result<String, SlotError> {
        let known: Vec<String> = self.names().map(str::to_string).collect();
        let mut out = String::with_capacity(text.len());
        for part in slots_in(text) {
            match part? {
                Part::Text(t) => out.push_str(t),
                Part::Slot(written) => match SlotCase::of(written).and_then(|(name, case)| Some((self.get(&name)?, case))) {
                    Some((v, case)) => out.push_str(&case.apply(v)),
                    None => return Err(SlotError::Unknown { name: written.to_string(), known }),
                },
            }
        }
        Ok(out)
    }
}

/// How a slot's name is written, and so its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SlotCase {
    /// `{place}`: the value as it is.
    AsIs,
    /// `{PLACE}`: the value in capitals.
    Capitals,
    /// `{Place}`: each word of the value capitalised.
    Capitalised,
}

impl SlotCase {
    /// The slot's name (in small letters) and case, if written in one of the three ways.
    fn of(written: &str) -> Option<(String, SlotCase)> {
        let small = written.to_lowercase();
        let mut chars = written.chars();
        let first_capital = chars.next().is_some_and(char::is_uppercase);
        let case = if written == small {
            SlotCase::AsIs
        } else if written == written.to_uppercase() {
            SlotCase::Capitals
        } else if first_capital && !chars.any(char::is_uppercase) {
            SlotCase::Capitalised
        } else {
            return None;
        };
        Some((small, case))
    }

    fn apply(self, value: &str) -> String {
        match self {
            SlotCase::AsIs => value.to_string(),
            SlotCase::Capitals => value.to_uppercase(),
            SlotCase::Capitalised => value
                .split(' ')
                .map(|w| {
                    let mut c = w.chars();
                    c.next().map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
                })
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

/// A piece of a wording: plain text, or a slot's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part<'a> {
    Text(&'a str),
    Slot(&'a str),
}

/// The pieces of `text`, with its slots; an unclosed or empty slot is an error.
pub fn slots_in(text: &str) -> impl Iterator<Item = Result<Part<'_>, SlotError>> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match rest.find('{') {
            Some(0) => {
                let Some(end) = rest.find('}') else {
                    rest = "";
                    return Some(Err(SlotError::Unclosed));
                };
                let name = &rest[1..end];
                rest = &rest[end + 1..];
                if name.trim().is_empty() {
                    return Some(Err(SlotError::Empty));
                }
                Some(Ok(Part::Slot(name)))
            }
            Some(i) => {
                let (t, r) = rest.split_at(i);
                rest = r;
                Some(Ok(Part::Text(t)))
            }
            None => {
                let t = rest;
                rest = "";
                Some(Ok(Part::Text(t)))
            }
        }
    })
}

/// Check that `text` names only slots among `known`, without filling it.
pub fn check(text: &str, known: &[&str]) -> Result<(), SlotError> {
    for part in slots_in(text) {
        if let Part::Slot(name) = part? {
            if !SlotCase::of(name).is_some_and(|(small, _)| known.contains(&small.as_str())) {
                return Err(SlotError::Unknown { name: name.to_string(), known: known.iter().map(|k| k.to_string()).collect() });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_fill_and_refuse_what_they_do_not_know() {
        let s = Slots::of(&[("first", "red"), ("second", "blue")]);
        assert_eq!(s.fill("the {first} door, then the {second} one").unwrap(), "the red door, then the blue one");
        assert_eq!(s.fill("no slots here").unwrap(), "no slots here");
        let e = s.fill("the {colour} door").unwrap_err();
        assert_eq!(e.to_string(), "{colour} is not a slot of this task (its slots: {first}, {second})");
        assert_eq!(Slots::default().fill("{place}").unwrap_err().to_string(), "{place} is not a slot of this task (it has none)");
        assert_eq!(s.fill("open {first"), Err(SlotError::Unclosed));
        assert_eq!(s.fill("open {} door"), Err(SlotError::Empty));
        assert!(check("go to the {place}", &["place"]).is_ok());
        assert!(check("spell {word}", &["place"]).is_err());
    }

    #[test]
    fn a_slot_named_in_capitals_or_capitalised_is_filled_so() {
        let s = Slots::of(&[("place", "top left corner"), ("word", "love")]);
        assert_eq!(s.fill("SPELL {WORD} AT THE {PLACE}").unwrap(), "SPELL LOVE AT THE TOP LEFT CORNER");
        assert_eq!(s.fill("Spell {Word} At The {Place}").unwrap(), "Spell Love At The Top Left Corner");
        assert_eq!(s.fill("{pLACE}").unwrap_err().to_string(), "{pLACE} is not a slot of this task (its slots: {place}, {word})");
        assert!(check("GO TO THE {PLACE}", &["place"]).is_ok() && check("Go To The {Place}", &["place"]).is_ok());
        assert!(check("{PlAcE}", &["place"]).is_err());
        // Names whose small letters are longer than their capitals are no trouble.
        assert!(s.fill("{İx}").is_err() && check("{İ}", &["i"]).is_err());
    }

    #[test]
    fn every_episode_fills_every_slot_its_task_names() {
        for t in &crate::tabletop::TASKS {
            for seed in 0..5 {
                let slots = crate::tabletop::generate(t, seed).slots();
                let names: Vec<&str> = slots.names().collect();
                assert_eq!(names, t.slot_names(), "{}", t.id);
            }
        }
        for level in crate::grid::Level::ALL {
            for seed in 0..5 {
                let ep = crate::grid::episode(level, seed);
                assert_eq!(ep.slots.names().collect::<Vec<_>>(), level.slot_names(), "{}", level.id());
                // The level's own instruction is its slots filled into a wording.
                for name in level.slot_names() {
                    assert!(ep.instruction.contains(ep.slots.get(name).unwrap()), "{}: {}", level.id(), ep.instruction);
                }
            }
        }
    }
}
