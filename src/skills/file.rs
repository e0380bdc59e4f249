//! Reading a skill file, with errors that name the line and the key.

use super::{Holding, Part, SkillLibrary, SkillTask, SkillTemplate, Slot, SlotFill, DEFAULT_MAX_ADMISSIBLE, MAX_ADMISSIBLE_LIMIT, MAX_GOAL_BYTES};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use toml::Spanned;

/// What is wrong with a skill file, and where.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{path}{}: {key}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct SkillFileError {
    pub path: String,
    /// 1-based, where known.
    pub line: Option<usize>,
    /// The key at fault, e.g. `skill[2].slots.shelf`.
    pub key: String,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    domain: Spanned<String>,
    #[serde(default)]
    max_admissible: Option<Spanned<usize>>,
    #[serde(default, rename = "skill")]
    skills: Vec<Spanned<RawSkill>>,
    #[serde(default, rename = "task")]
    tasks: Vec<Spanned<RawTask>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTask {
    id: String,
    instruction: String,
    #[serde(default)]
    goal: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSkill {
    template: String,
    #[serde(default)]
    slots: BTreeMap<String, RawSlot>,
    #[serde(default)]
    requires: Option<RawHolding>,
    #[serde(default)]
    then: Option<RawHolding>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlot {
    #[serde(default)]
    kinds: Vec<String>,
    #[serde(default)]
    values: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHolding {
    holding: String,
}

/// The line (1-based) of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// A word a skill text may hold: lower-case letters, digits and single spaces (as object
/// names are).
fn is_words(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(' ')
        && !s.ends_with(' ')
        && !s.contains("  ")
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == ' ')
}

/// Split a template into text and slot names; `Err` says what is malformed.
fn split(template: &str) -> Result<Vec<Result<String, String>>, String> {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err("a '}' without its '{'".into());
        }
        if open > 0 {
            parts.push(Ok(rest[..open].to_string()));
        }
        let close = rest[open..].find('}').ok_or("a '{' without its '}'")? + open;
        let name = &rest[open + 1..close];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            return Err(format!("slot {{{name}}}: a slot's name is lower-case letters, digits and '_'"));
        }
        parts.push(Err(name.to_string()));
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        parts.push(Ok(rest.to_string()));
    }
    Ok(parts)
}

/// Read and check a skill file.
pub fn load(path: &Path) -> Result<SkillLibrary, SkillFileError> {
    let text = std::fs::read_to_string(path).map_err(|e| SkillFileError {
        path: path.display().to_string(),
        line: None,
        key: "file".into(),
        message: format!("cannot be read: {e}"),
    })?;
    parse(&text, path)
}

/// Check a skill file's text (`path` names it in errors).
pub fn parse(text: &str, path: &Path) -> Result<SkillLibrary, SkillFileError> {
    let err = |line: Option<usize>, key: &str, message: String| SkillFileError { path: path.display().to_string(), line, key: key.to_string(), message };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start));
        err(line, "file", e.message().trim().to_string())
    })?;
    let domain_line = line_of(text, raw.domain.span().start);
    let name = raw.domain.get_ref();
    if [protocol::Domain::TABLETOP, protocol::Domain::GRID, protocol::Domain::KITCHEN].iter().any(|d| d.name() == name) {
        return Err(err(Some(domain_line), "domain", format!("{name:?} is a built-in domain: name your robot's own (e.g. \"warehouse\")")));
    }
    let domain = protocol::Domain::register(name).map_err(|e| err(Some(domain_line), "domain", e.to_string()))?;
    let max_admissible = match &raw.max_admissible {
        None => DEFAULT_MAX_ADMISSIBLE,
        Some(m) if (1..=MAX_ADMISSIBLE_LIMIT).contains(m.get_ref()) => *m.get_ref(),
        Some(m) => {
            return Err(err(Some(line_of(text, m.span().start)), "max_admissible", format!("{} is not in 1..={MAX_ADMISSIBLE_LIMIT}", m.get_ref())));
        }
    };
    if raw.skills.is_empty() {
        return Err(err(None, "skill", "the file declares no skill: add [[skill]] tables with a template each (docs/skills.md)".into()));
    }
    let mut skills: Vec<SkillTemplate> = Vec::new();
    for (i, spanned) in raw.skills.iter().enumerate() {
        let line = line_of(text, spanned.span().start);
        let key = format!("skill[{}]", i + 1);
        let raw = spanned.get_ref();
        let at = |k: &str, message: String| err(Some(line), &format!("{key}{k}"), message);
        let template = raw.template.trim();
        if template.is_empty() {
            return Err(at(".template", "empty: a skill needs its words".into()));
        }
        if template.contains(['.', '\n', '\r']) {
            return Err(at(".template", format!("{template:?}: a '.' or a line break ends a skill in a plan, so a template cannot hold one")));
        }
        if let Some(other) = skills.iter().find(|s| s.template == template) {
            return Err(at(".template", format!("{template:?} is declared already, at line {}", other.line)));
        }
        let pieces = split(template).map_err(|m| at(".template", format!("{template:?}: {m}")))?;
        let mut slots: Vec<Slot> = Vec::new();
        let mut parts = Vec::new();
        for piece in pieces {
            match piece {
                Ok(words) => {
                    if !words.split(' ').all(|w| w.is_empty() || is_words(w)) {
                        return Err(at(".template", format!("{template:?}: write its words in lower-case letters and digits")));
                    }
                    parts.push(Part::Text(words));
                }
                Err(name) => {
                    if slots.iter().any(|s| s.name == name) {
                        return Err(at(".template", format!("{template:?} names the slot {{{name}}} twice")));
                    }
                    let Some(raw_slot) = raw.slots.get(&name) else {
                        return Err(at(&format!(".slots.{name}"), format!("unknown slot: the template names {{{name}}}, but slots.{name} is not declared")));
                    };
                    let fill = match (raw_slot.kinds.is_empty(), raw_slot.values.is_empty()) {
                        (true, true) => {
                            return Err(at(
                                &format!(".slots.{name}"),
                                "the slot takes nothing: give kinds = [...] (object kinds or tags it takes) or values = [...] (the words it takes)".into(),
                            ))
                        }
                        (false, false) => return Err(at(&format!(".slots.{name}"), "give kinds or values, not both".into())),
                        (false, true) => SlotFill::Objects { kinds: raw_slot.kinds.clone() },
                        (true, false) => SlotFill::Values(raw_slot.values.clone()),
                    };
                    let words = match &fill {
                        SlotFill::Objects { kinds } => kinds,
                        SlotFill::Values(values) => values,
                    };
                    if let Some(bad) = words.iter().find(|w| !is_words(w)) {
                        return Err(at(
                            &format!(".slots.{name}"),
                            format!("{bad:?}: kinds, tags and values are lower-case words (letters, digits, single spaces)"),
                        ));
                    }
                    parts.push(Part::Slot(slots.len()));
                    slots.push(Slot { name, fill });
                }
            }
        }
        if let Some(unused) = raw.slots.keys().find(|k| !slots.iter().any(|s| &s.name == *k)) {
            return Err(at(&format!(".slots.{unused}"), format!("declared, but the template {template:?} never names {{{unused}}}")));
        }
        let holding = |which: &str, h: &Option<RawHolding>| -> Result<Option<Holding>, SkillFileError> {
            let Some(h) = h else { return Ok(None) };
            match h.holding.as_str() {
                "nothing" => Ok(Some(Holding::Nothing)),
                "anything" if which == "requires" => Ok(Some(Holding::Anything)),
                name => match slots.iter().position(|s| s.name == name) {
                    Some(i) if matches!(slots[i].fill, SlotFill::Objects { .. }) => Ok(Some(Holding::Slot(i))),
                    Some(_) => Err(at(&format!(".{which}.holding"), format!("{name:?} is a slot of values, not of objects: the robot holds objects"))),
                    None => Err(at(
                        &format!(".{which}.holding"),
                        format!(
                            "{name:?}: say \"nothing\"{}, or name one of the skill's object slots",
                            if which == "requires" { ", \"anything\"" } else { "" }
                        ),
                    )),
                },
            }
        };
        let requires = holding("requires", &raw.requires)?;
        let then = holding("then", &raw.then)?;
        if template.len() > protocol::skill::MAX_SKILL_LEN {
            return Err(at(".template", format!("{} bytes: a skill is at most {} bytes once filled", template.len(), protocol::skill::MAX_SKILL_LEN)));
        }
        skills.push(SkillTemplate { template: template.to_string(), parts, slots, requires, then, line });
    }
    let tasks = tasks(&raw.tasks, text, &err)?;
    Ok(SkillLibrary { domain, skills, max_admissible, tasks, source: path.to_path_buf() })
}

/// A task id: lower-case letters, digits and '-', as the built-in tasks are named.
fn is_task_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && !s.starts_with('-') && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Check the file's `[[task]]` tables.
fn tasks(raw: &[Spanned<RawTask>], text: &str, err: &dyn Fn(Option<usize>, &str, String) -> SkillFileError) -> Result<Vec<SkillTask>, SkillFileError> {
    let mut tasks: Vec<SkillTask> = Vec::new();
    for (i, spanned) in raw.iter().enumerate() {
        let line = line_of(text, spanned.span().start);
        let key = format!("task[{}]", i + 1);
        let at = |k: &str, message: String| err(Some(line), &format!("{key}{k}"), message);
        let raw = spanned.get_ref();
        let id = raw.id.trim();
        if !is_task_id(id) {
            return Err(at(".id", format!("{id:?}: a task id is lower-case letters, digits and '-' (at most 64), e.g. \"shelve-red\"")));
        }
        if let Some(other) = tasks.iter().find(|t| t.id == id) {
            return Err(at(".id", format!("{id:?} is declared already, at line {}", other.line)));
        }
        let instruction = crate::prompt::Instruction::new(&raw.instruction).map_err(|e| at(".instruction", e.to_string()))?.as_str().to_string();
        let goal = match raw.goal.as_deref().map(str::trim) {
            None => id.to_string(),
            Some("") => return Err(at(".goal", "empty: leave goal out to send the task's id to the robot".into())),
            Some(g) if g.len() > MAX_GOAL_BYTES => return Err(at(".goal", format!("{} bytes: a goal is at most {MAX_GOAL_BYTES}", g.len()))),
            Some(g) => g.to_string(),
        };
        tasks.push(SkillTask { id: id.to_string(), instruction, goal, line });
    }
    Ok(tasks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str, needle: &str) -> SkillFileError {
        let e = parse(text, "s.toml".as_ref()).unwrap_err();
        assert!(e.to_string().contains(needle), "{e}");
        e
    }

    #[test]
    fn bad_files_are_refused_with_line_and_key() {
        let e = refused("domain = \"w1\"\n[[skill]]\ntemplate = \"pick up the {box}\"\n", "unknown slot");
        assert_eq!((e.line, e.key.as_str()), (Some(2), "skill[1].slots.box"), "{e}");
        let e = refused("domain = \"w1\"\n[[skill]]\ntemplate = \"pick up the {box}\"\nslots.box = {}\n", "takes nothing");
        assert_eq!(e.key, "skill[1].slots.box");
        refused("domain = \"w1\"\n[[skill]]\ntemplate = \"go\"\n[[skill]]\ntemplate = \"go\"\n", "declared already, at line 2");
        refused("domain = \"w1\"\n[[skill]]\ntemplate = \"go. now\"\n", "'.' or a line break");
        refused("domain = \"w1\"\n[[skill]]\ntemplate = \"go {to\"\n", "without its '}'");
        refused("domain = \"w1\"\n[[skill]]\ntemplate = \"go\"\nslots.x = { values = [\"a\"] }\n", "never names {x}");
        refused("domain = \"w1\"\n[[skill]]\ntemplate = \"go\"\nrequires = { holding = \"box\" }\n", "name one of the skill's object slots");
        refused("domain = \"tabletop\"\n[[skill]]\ntemplate = \"go\"\n", "built-in domain");
        refused("domain = \"w1\"\n", "declares no skill");
        refused("domain = \"w1\"\n[[skill]]\ntemplat = \"go\"\n", "s.toml:3: file: unknown field `templat`");
        refused("domain = \"w1\"\nmax_admissible = 0\n[[skill]]\ntemplate = \"go\"\n", "max_admissible");
        refused("domain = \"w1\"\n[[skill]]\ntemplate = \"Go Home\"\n", "lower-case");
        let go = "domain = \"w1\"\n[[skill]]\ntemplate = \"go\"\n";
        let e = refused(&format!("{go}[[task]]\nid = \"Go Home\"\ninstruction = \"go\"\n"), "a task id is lower-case");
        assert_eq!((e.line, e.key.as_str()), (Some(4), "task[1].id"), "{e}");
        refused(&format!("{go}[[task]]\nid = \"a\"\ninstruction = \"go\"\n[[task]]\nid = \"a\"\ninstruction = \"go\"\n"), "declared already, at line 4");
        let e = refused(&format!("{go}[[task]]\nid = \"a\"\ninstruction = \"  \"\n"), "task[1].instruction");
        assert!(e.message.contains("empty"), "{e}");
        refused(&format!("{go}[[task]]\nid = \"a\"\ninstruction = \"go\"\ngoal = \"\"\n"), "leave goal out");
        refused(&format!("{go}[[task]]\nid = \"a\"\n"), "missing field `instruction`");
    }

    #[test]
    fn tasks_carry_their_instruction_and_the_goal_the_robot_is_reset_to() {
        let text = "domain = \"w1\"\n[[skill]]\ntemplate = \"go\"\n[[task]]\nid = \"home\"\ninstruction = \" go   home \"\n[[task]]\nid = \"shelve-red\"\ninstruction = \"shelve it\"\ngoal = \"red parcel=top shelf\"\n";
        let lib = parse(text, "s.toml".as_ref()).unwrap();
        let t: Vec<(&str, &str, &str, usize)> = lib.tasks.iter().map(|t| (t.id.as_str(), t.instruction.as_str(), t.goal.as_str(), t.line)).collect();
        assert_eq!(t, [("home", "go home", "home", 4), ("shelve-red", "shelve it", "red parcel=top shelf", 7)]);
    }
}
