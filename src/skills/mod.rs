//! A robot's own skills, declared in a file (`--skills FILE.toml`, docs/skills.md): skill
//! templates with typed slots filled from the observation, optional preconditions and
//! effects on what the robot holds, and `done`. [`SkillLibrary::admissible`] turns an
//! observation into every skill the file allows there.

mod file;

pub use file::{load, parse, SkillFileError};

use protocol::{Observation, SceneObject};
use std::path::PathBuf;

/// The most admissible skills a scene may give unless the file says otherwise: every
/// decoding step scores the prefixes of each, so the set must stay small enough to search.
pub const DEFAULT_MAX_ADMISSIBLE: usize = 4096;

/// The most a file may allow.
pub const MAX_ADMISSIBLE_LIMIT: usize = 100_000;

/// The longest goal a task may send its robot.
pub const MAX_GOAL_BYTES: usize = 1024;

/// A task to evaluate or demonstrate on the robot (`[[task]]`): the instruction the planner
/// is given, and the goal the robot's `episode` key is reset to and judges.
#[derive(Clone, Debug, PartialEq)]
pub struct SkillTask {
    pub id: String,
    pub instruction: String,
    /// What the robot is told at reset (`{"kind": "reset", "task": goal, "seed": ...}`);
    /// the task's id unless the file says.
    pub goal: String,
    /// Where it is declared in the file (1-based).
    pub line: usize,
}

/// What a slot is filled with.
#[derive(Clone, Debug, PartialEq)]
pub enum SlotFill {
    /// An object of the observation whose kind or one of whose tags is listed.
    Objects { kinds: Vec<String> },
    /// One of these words (locations, speeds, ...).
    Values(Vec<String>),
}

/// One typed slot of a template.
#[derive(Clone, Debug, PartialEq)]
pub struct Slot {
    pub name: String,
    pub fill: SlotFill,
}

/// What the robot holds, before (a precondition) or after (an effect) a skill.
#[derive(Clone, Debug, PartialEq)]
pub enum Holding {
    Nothing,
    /// Something, whatever it is (precondition only).
    Anything,
    /// The object filling this slot (index into the skill's slots).
    Slot(usize),
}

/// A piece of a template: literal text or a slot.
#[derive(Clone, Debug, PartialEq)]
enum Part {
    Text(String),
    Slot(usize),
}

/// One skill of the file.
#[derive(Clone, Debug, PartialEq)]
pub struct SkillTemplate {
    pub template: String,
    parts: Vec<Part>,
    pub slots: Vec<Slot>,
    pub requires: Option<Holding>,
    pub then: Option<Holding>,
    /// Where it is declared in the file (1-based).
    pub line: usize,
}

/// One skill text filled in from an observation.
#[derive(Clone, Debug, PartialEq)]
pub struct FilledSkill {
    pub text: String,
    /// What the robot holds after it, where the file says.
    pub then: Option<Option<String>>,
}

/// A robot's skills, as a file declares them.
#[derive(Clone, Debug, PartialEq)]
pub struct SkillLibrary {
    /// The observation's domain the file plans for.
    pub domain: protocol::Domain,
    pub skills: Vec<SkillTemplate>,
    pub max_admissible: usize,
    /// Tasks to run on the robot (`grounded eval` and `demo` with `--skills`).
    pub tasks: Vec<SkillTask>,
    pub source: PathBuf,
}

/// Why a scene's skills cannot be listed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AdmissibleError {
    #[error(
        "this scene gives more than {limit} admissible skills ({file}: max_admissible): every decoding step scores the prefixes of each; give the slots narrower kinds, split a skill, or raise max_admissible"
    )]
    TooMany { limit: usize, file: String },
    #[error("the observation is of domain {found}; {file} plans for {expected}")]
    OtherDomain { found: protocol::Domain, expected: protocol::Domain, file: String },
}

impl SkillTemplate {
    /// The candidates of each slot in `obs`: object names, or the slot's values.
    fn candidates<'a>(&'a self, obs: &'a Observation) -> Vec<Vec<(&'a str, Option<&'a SceneObject>)>> {
        self.slots
            .iter()
            .map(|slot| match &slot.fill {
                SlotFill::Objects { kinds } => obs.objects.iter().filter(|o| kinds.iter().any(|k| o.is_a(k))).map(|o| (o.name.as_str(), Some(o))).collect(),
                SlotFill::Values(values) => values.iter().map(|v| (v.as_str(), None)).collect(),
            })
            .collect()
    }

    fn fill(&self, names: &[&str]) -> String {
        let mut text = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => text.push_str(t),
                Part::Slot(i) => text.push_str(names[*i]),
            }
        }
        text
    }

    fn holds(&self, holding: &Holding, names: &[&str], held: Option<&str>) -> bool {
        match holding {
            Holding::Nothing => held.is_none(),
            Holding::Anything => held.is_some(),
            Holding::Slot(i) => held == Some(names[*i]),
        }
    }
}

/// Match `parts` against `text`, each slot taking one or more characters; the slots' words.
fn match_parts<'t>(parts: &[Part], text: &'t str, out: &mut Vec<&'t str>) -> bool {
    match parts.split_first() {
        None => text.is_empty(),
        Some((Part::Text(t), rest)) => text.strip_prefix(t.as_str()).is_some_and(|after| match_parts(rest, after, out)),
        Some((Part::Slot(_), rest)) => {
            for end in (1..=text.len()).filter(|e| text.is_char_boundary(*e)) {
                out.push(&text[..end]);
                if match_parts(rest, &text[end..], out) {
                    return true;
                }
                out.pop();
            }
            false
        }
    }
}

/// The next combination of slot candidates (an odometer, last slot fastest); false after
/// the last.
fn advance<T>(at: &mut [usize], candidates: &[Vec<T>]) -> bool {
    for k in (0..at.len()).rev() {
        at[k] += 1;
        if at[k] < candidates[k].len() {
            return true;
        }
        at[k] = 0;
    }
    false
}

impl SkillLibrary {
    /// The template a skill text fills and each slot's words, in the template's order (the
    /// first template that fits); `None` for a text none fills (`done` among them).
    pub fn parts_of(&self, text: &str) -> Option<(&str, Vec<(String, String)>)> {
        self.skills.iter().find_map(|skill| {
            let mut words = Vec::new();
            if !match_parts(&skill.parts, text, &mut words) {
                return None;
            }
            let slots = skill.parts.iter().filter_map(|p| if let Part::Slot(i) = p { Some(skill.slots[*i].name.clone()) } else { None });
            Some((skill.template.as_str(), slots.zip(words.into_iter().map(String::from)).collect()))
        })
    }

    /// Check that the model whose tokens `spelling` holds can write every skill and end it:
    /// each template with each of its slots' values (object slots take the words of their
    /// kinds, as names mostly hold them), the other slots at their first. `Err` names the
    /// template's line and what cannot be written.
    pub fn check_spelling(&self, spelling: &crate::lm::Spelling, model: &std::path::Path) -> Result<(), SkillFileError> {
        use crate::lm::Unspellable;
        for (i, skill) in self.skills.iter().enumerate() {
            let words: Vec<&[String]> = skill
                .slots
                .iter()
                .map(|s| match &s.fill {
                    SlotFill::Objects { kinds } => kinds.as_slice(),
                    SlotFill::Values(values) => values.as_slice(),
                })
                .collect();
            let first: Vec<&str> = words.iter().map(|w| w[0].as_str()).collect();
            let mut samples = vec![skill.fill(&first)];
            for (k, options) in words.iter().enumerate() {
                for option in options.iter().skip(1) {
                    let mut names = first.clone();
                    names[k] = option;
                    samples.push(skill.fill(&names));
                }
            }
            for text in samples {
                let why = match spelling.check(&text) {
                    Ok(()) => continue,
                    Err(Unspellable::At(at)) => format!("no sequence of its tokens writes {:?} from {:?} on", text, &text[at..]),
                    Err(Unspellable::NoEnd) => format!("it can write {text:?} but no token ends it with '.' or a line break"),
                };
                return Err(SkillFileError {
                    path: self.source.display().to_string(),
                    line: Some(skill.line),
                    key: format!("skill[{}].template", i + 1),
                    message: format!(
                        "the tokenizer of {} cannot end this skill: {why}; use words the model writes, or a model whose tokenizer covers them",
                        model.display()
                    ),
                });
            }
        }
        Ok(())
    }

    /// Check that the model that learned the characters `alphabet` holds can read every
    /// task's instruction (`crate::prompt::Instruction::in_alphabet`). `Err` names the task's
    /// line and the characters.
    pub fn check_instructions(&self, alphabet: &crate::lm::Alphabet, model: &std::path::Path) -> Result<(), SkillFileError> {
        for (i, task) in self.tasks.iter().enumerate() {
            if let Err(e) = crate::prompt::Instruction::in_alphabet(&task.instruction, |c| alphabet.learned(c)) {
                return Err(SkillFileError {
                    path: self.source.display().to_string(),
                    line: Some(task.line),
                    key: format!("task[{}].instruction", i + 1),
                    message: format!("{e} (the model: {})", model.display()),
                });
            }
        }
        Ok(())
    }

    /// Every skill the file allows in `obs` whose precondition holds, `done` last. Two
    /// object slots of one skill never name the same object.
    pub fn admissible(&self, obs: &Observation) -> Result<Vec<FilledSkill>, AdmissibleError> {
        if obs.domain != self.domain {
            return Err(AdmissibleError::OtherDomain { found: obs.domain, expected: self.domain, file: self.source.display().to_string() });
        }
        let held = obs.robot.as_ref().and_then(|r| r.holding.as_deref());
        let too_many = || AdmissibleError::TooMany { limit: self.max_admissible, file: self.source.display().to_string() };
        let mut out: Vec<FilledSkill> = Vec::new();
        for skill in &self.skills {
            let candidates = skill.candidates(obs);
            if candidates.iter().any(Vec::is_empty) {
                continue;
            }
            // Odometer over the slots' candidates.
            let mut at = vec![0usize; candidates.len()];
            loop {
                let chosen: Vec<(&str, Option<&SceneObject>)> = at.iter().zip(&candidates).map(|(i, c)| c[*i]).collect();
                let names: Vec<&str> = chosen.iter().map(|(n, _)| *n).collect();
                let objects: Vec<&str> = chosen.iter().filter(|(_, o)| o.is_some()).map(|(n, _)| *n).collect();
                let distinct = objects.iter().enumerate().all(|(i, a)| !objects[..i].contains(a));
                let text = skill.fill(&names);
                let fits = text.len() <= protocol::skill::MAX_SKILL_LEN;
                if distinct && fits && skill.requires.as_ref().is_none_or(|r| skill.holds(r, &names, held)) {
                    if out.len() >= self.max_admissible {
                        return Err(too_many());
                    }
                    let then = skill.then.as_ref().map(|h| match h {
                        Holding::Slot(i) => Some(names[*i].to_string()),
                        Holding::Nothing | Holding::Anything => None,
                    });
                    out.push(FilledSkill { text, then });
                }
                if !advance(&mut at, &candidates) {
                    break;
                }
            }
        }
        if !out.iter().any(|s| s.text == "done") {
            out.push(FilledSkill { text: "done".into(), then: None });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{ObjectKind, RobotState};

    const FILE: &str = r#"
domain = "skills-test"

[[skill]]
template = "pick up the {thing}"
slots.thing = { kinds = ["item", "parcel"] }
requires = { holding = "nothing" }
then = { holding = "thing" }

[[skill]]
template = "put the {thing} on the {shelf}"
slots.thing = { kinds = ["item", "parcel"] }
slots.shelf = { kinds = ["shelf"] }
requires = { holding = "thing" }
then = { holding = "nothing" }

[[skill]]
template = "go to the {place}"
slots.place = { values = ["dock", "charger"] }
"#;

    fn scene(holding: Option<&str>) -> Observation {
        let domain = protocol::Domain::register("skills-test").unwrap();
        let mut shelf = SceneObject::new("s", "top shelf", ObjectKind::Box, [0.0; 3]);
        shelf.tags = vec!["shelf".into()];
        let mut parcel = SceneObject::new("p", "red parcel", ObjectKind::Box, [0.0; 3]);
        parcel.tags = vec!["parcel".into()];
        let objects = vec![SceneObject::new("a", "apple", ObjectKind::Item, [0.0; 3]), parcel, shelf];
        let robot = Some(RobotState { time_s: 0.0, gripper: [0.0; 3], holding: holding.map(String::from) });
        Observation { schema: protocol::SCHEMA_VERSION, domain, objects, robot, grid: None, kitchen: None }
    }

    fn texts(lib: &SkillLibrary, obs: &Observation) -> Vec<String> {
        lib.admissible(obs).unwrap().into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn slots_take_objects_by_kind_or_tag_and_preconditions_hold() {
        let lib = parse(FILE, "skills.toml".as_ref()).unwrap();
        assert_eq!(
            texts(&lib, &scene(None)),
            ["pick up the apple", "pick up the red parcel", "go to the dock", "go to the charger", "done"],
            "holding nothing: nothing to put down"
        );
        assert_eq!(
            texts(&lib, &scene(Some("apple"))),
            ["put the apple on the top shelf", "go to the dock", "go to the charger", "done"],
            "holding the apple: only it can be put down"
        );
        let filled = lib.admissible(&scene(None)).unwrap();
        assert_eq!(filled[0].then, Some(Some("apple".to_string())));
    }

    #[test]
    fn a_template_the_models_tokens_cannot_write_or_end_is_refused_with_its_line() {
        let lib = parse(FILE, "skills.toml".as_ref()).unwrap();
        let pieces = ["pick", " up", " the", " put", " on", " go", " to", " item", " parcel", " shelf", " dock", " charger", "go", "pick", "put", "."];
        assert_eq!(lib.check_spelling(&crate::lm::Spelling::new(pieces), "m".as_ref()), Ok(()));
        let no_charger = pieces.map(|p| if p == " charger" { " chair" } else { p });
        let e = lib.check_spelling(&crate::lm::Spelling::new(no_charger), "m".as_ref()).unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (Some(17), "skill[3].template"), "{e}");
        assert!(e.message.contains("writes \"go to the charger\" from \" charger\" on"), "{e}");
        let no_end = pieces.map(|p| if p == "." { "!" } else { p });
        let e = lib.check_spelling(&crate::lm::Spelling::new(no_end), "m".as_ref()).unwrap_err();
        assert!(e.message.contains("no token ends it"), "{e}");
    }

    #[test]
    fn a_task_instruction_the_model_cannot_read_is_refused_with_its_line() {
        let with_task =
            |instruction: &str| parse(&format!("{FILE}\n[[task]]\nid = \"ship\"\ninstruction = \"{instruction}\"\n"), "skills.toml".as_ref()).unwrap();
        let ascii = crate::lm::Alphabet::new(["a"]);
        assert_eq!(with_task("ship the \u{201C}red parcel\u{201D} \u{1F4E6}").check_instructions(&ascii, "m".as_ref()), Ok(()));
        let lib = with_task("ship the \u{8377}\u{7269}");
        let e = lib.check_instructions(&ascii, "m".as_ref()).unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (Some(lib.tasks[0].line), "task[1].instruction"), "{e}");
        assert!(e.message.contains("never learned the characters '\u{8377}'"), "{e}");
        // A model that learned them reads them.
        assert_eq!(lib.check_instructions(&crate::lm::Alphabet::new(["\u{8377}\u{7269}"]), "m".as_ref()), Ok(()));
    }

    #[test]
    fn a_skill_text_is_split_into_its_template_and_slot_words() {
        let lib = parse(FILE, "skills.toml".as_ref()).unwrap();
        let (template, slots) = lib.parts_of("put the red parcel on the top shelf").unwrap();
        assert_eq!(template, "put the {thing} on the {shelf}");
        assert_eq!(slots, [("thing".to_string(), "red parcel".to_string()), ("shelf".to_string(), "top shelf".to_string())]);
        assert_eq!(lib.parts_of("go to the dock").map(|(t, _)| t), Some("go to the {place}"));
        assert_eq!(lib.parts_of("juggle"), None);
    }

    #[test]
    fn a_scene_with_too_many_skills_is_refused_with_the_limit() {
        let small = FILE.replace("domain = \"skills-test\"", "domain = \"skills-test\"\nmax_admissible = 3");
        let lib = parse(&small, "skills.toml".as_ref()).unwrap();
        let err = lib.admissible(&scene(None)).unwrap_err();
        assert!(err.to_string().contains("more than 3 admissible skills"), "{err}");
    }
}
