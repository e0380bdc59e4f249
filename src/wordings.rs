//! `grounded eval --instructions FILE`: a user's own wordings of the tasks, evaluated on the
//! same scenes as each task's own wording.
//!
//! The file is tab-separated, one wording per line: a task id, a tab, the instruction.
//! Whole-line comments start with `#`; blank lines are skipped. A wording may name the
//! episode's own values as slots (`{place}`, `{word}`; the grid's `{first}`, `{object}`, ...),
//! filled from each episode:
//!
//! ```text
//! # task id        instruction
//! matching-bowls	each block goes into the bowl of its colour
//! blocks-on-place	could you put each of the blocks on the {place}?
//! ```
// The example is the file's own syntax, tabs and all.
#![allow(clippy::tabs_in_doc_comments)]

use crate::lm::Alphabet;
use crate::prompt::{Instruction, MAX_INSTRUCTION_CHARS};
use std::path::{Path, PathBuf};

/// One wording of a task, from one line of the file.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Wording {
    /// The line of the file it came from (1-based).
    pub line: usize,
    /// The task it words.
    pub task: String,
    /// The instruction, its slots not yet filled.
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum WordingError {
    #[error("cannot read {}: {error}", path.display())]
    Read { path: PathBuf, error: std::io::Error },
    #[error("{}:{line}: {reason}", path.display())]
    Line { path: PathBuf, line: usize, reason: String },
    #[error("{} holds no instructions: write one per line as `task id<TAB>instruction`", path.display())]
    Empty { path: PathBuf },
}

/// What the parser needs to know of the tasks: the slots of a task by its id, or why there
/// is no such task.
pub trait TaskLookup {
    fn slots_of(&self, task: &str) -> Result<&'static [&'static str], String>;
}

/// Read and check a wordings file for a model that learned `alphabet`
/// (`LanguageModel::alphabet_of`): an instruction it cannot read is refused here, with its
/// line, not in the middle of the evaluation.
pub fn load(path: &Path, tasks: &dyn TaskLookup, alphabet: &Alphabet) -> Result<Vec<Wording>, WordingError> {
    let text = std::fs::read_to_string(path).map_err(|error| WordingError::Read { path: path.to_path_buf(), error })?;
    parse(&text, path, tasks, alphabet)
}

/// Parse a wordings file's text; `path` names it in errors.
pub fn parse(text: &str, path: &Path, tasks: &dyn TaskLookup, alphabet: &Alphabet) -> Result<Vec<Wording>, WordingError> {
    let mut out = Vec::new();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let fail = |reason: String| WordingError::Line { path: path.to_path_buf(), line, reason };
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let Some((task, instruction)) = raw.split_once('\t') else {
            return Err(fail(format!("no tab in {trimmed:?}: write the task id, a tab, then the instruction")));
        };
        let (task, instruction) = (task.trim(), instruction.trim());
        if instruction.contains('\t') {
            return Err(fail("more than one tab: write the task id, one tab, then the instruction".into()));
        }
        if task.is_empty() {
            return Err(fail("the task id before the tab is empty".into()));
        }
        let slots = tasks.slots_of(task).map_err(fail)?;
        if instruction.is_empty() {
            return Err(fail(format!("the instruction for {task} is empty: write it after the tab")));
        }
        if instruction.chars().count() > MAX_INSTRUCTION_CHARS {
            return Err(fail(format!("the instruction is longer than {MAX_INSTRUCTION_CHARS} characters")));
        }
        sim::wording::check(instruction, slots).map_err(|e| fail(format!("{e} (task {task})")))?;
        Instruction::in_alphabet(instruction, |c| alphabet.learned(c)).map_err(|e| fail(e.to_string()))?;
        out.push(Wording { line, task: task.to_string(), text: instruction.to_string() });
    }
    if out.is_empty() {
        return Err(WordingError::Empty { path: path.to_path_buf() });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Two;
    impl TaskLookup for Two {
        fn slots_of(&self, task: &str) -> Result<&'static [&'static str], String> {
            match task {
                "blocks-on-place" => Ok(&["place"]),
                "matching-bowls" => Ok(&[]),
                other => Err(format!("unknown task {other:?}; tasks: blocks-on-place, matching-bowls")),
            }
        }
    }

    fn err(text: &str) -> String {
        parse(text, Path::new("w.tsv"), &Two, &Alphabet::default()).unwrap_err().to_string()
    }

    #[test]
    fn a_file_of_wordings_with_comments_and_slots() {
        let text = "# mine\n\nmatching-bowls\teach block goes into the bowl of its colour\n  # indented comment\nblocks-on-place\t move them to the {place} \n";
        let w = parse(text, Path::new("w.tsv"), &Two, &Alphabet::default()).unwrap();
        assert_eq!(w.len(), 2);
        assert_eq!((w[0].line, w[0].task.as_str()), (3, "matching-bowls"));
        assert_eq!((w[1].line, w[1].text.as_str()), (5, "move them to the {place}"));
    }

    #[test]
    fn bad_lines_are_refused_with_their_number_and_reason() {
        assert_eq!(err("matching-bowls\tok\nstack-all\tstack them\n"), "w.tsv:2: unknown task \"stack-all\"; tasks: blocks-on-place, matching-bowls");
        assert_eq!(err("matching-bowls\t  \n"), "w.tsv:1: the instruction for matching-bowls is empty: write it after the tab");
        assert_eq!(
            err("# c\nmatching-bowls put them in bowls\n"),
            "w.tsv:2: no tab in \"matching-bowls put them in bowls\": write the task id, a tab, then the instruction"
        );
        assert_eq!(err("matching-bowls\tput the blocks on the {place}\n"), "w.tsv:1: {place} is not a slot of this task (it has none) (task matching-bowls)");
        assert_eq!(err("blocks-on-place\tspell {word}\n"), "w.tsv:1: {word} is not a slot of this task (its slots: {place}) (task blocks-on-place)");
        assert_eq!(err("blocks-on-place\tto the {place\n"), "w.tsv:1: a '{' without its '}': write a slot as {name} (task blocks-on-place)");
        assert_eq!(err("\tput\n"), "w.tsv:1: the task id before the tab is empty");
        assert_eq!(err("matching-bowls\tput them\tin bowls\n"), "w.tsv:1: more than one tab: write the task id, one tab, then the instruction");
        // A byte-order mark and Windows line ends are read past.
        let w = parse("\u{feff}matching-bowls\tput them in bowls\r\n", Path::new("w.tsv"), &Two, &Alphabet::default()).unwrap();
        assert_eq!(w[0].text, "put them in bowls");
        assert!(err("# only comments\n").contains("holds no instructions"));
        assert!(err(&format!("matching-bowls\t{}\n", "x".repeat(MAX_INSTRUCTION_CHARS + 1))).contains("longer than"));
        // Letters the model never learned are refused with the line; signs are read past.
        assert!(err("matching-bowls\tok\nmatching-bowls\t\u{8D64}\u{3044}\n").starts_with("w.tsv:2: the planner's model never learned the characters"));
        assert_eq!(parse("matching-bowls\t\u{201C}put them in bowls\u{201D} \u{1F642}\n", Path::new("w.tsv"), &Two, &Alphabet::default()).unwrap().len(), 1);
    }
}
