//! The plan text the language model reads and extends.
//!
//! ```text
//! Instruction: put the blocks in the bowls with matching colours.
//! 1. pick up the red block and place it in the red bowl.
//! 2. done.
//! ```
//!
//! The model never sees the scene: only the instruction and the steps so far (as in the
//! paper, and as tools/train/corpus.py writes its corpus).

mod alphabet;
mod case;
mod spacing;
pub use case::{in_vocabulary, normal_case};

/// The longest instruction accepted, in characters.
pub const MAX_INSTRUCTION_CHARS: usize = 1000;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InstructionError {
    #[error("the instruction is empty: say what the robot should do, e.g. \"put the blocks in the bowls with matching colours\"")]
    Empty,
    #[error("the instruction is {0} characters long; at most {MAX_INSTRUCTION_CHARS} are accepted")]
    TooLong(usize),
    /// A character that is not text: a control character (a terminal's escape sequence, a
    /// NUL) or one that reorders what is shown (a bidirectional override), so that what an
    /// operator reads would not be what the robot was told.
    #[error("the instruction holds a control character (U+{code:04X} at character {at}): send plain text")]
    Control { code: u32, at: usize },
    /// Letters or digits the model never learned and that have no plain form it did (another
    /// script's): left out, the instruction would be another one.
    #[error("the planner's model never learned the characters {0}: say it in the language and letters of the corpus it was trained on (the shipped model's: English), or train one on yours (grounded train)")]
    Unreadable(String),
    /// Nothing but signs the model never learned (emoji, symbols).
    #[error("the instruction holds only signs the planner's model never learned ({0}): say in words what the robot should do")]
    OnlySigns(String),
}

/// Whether `c` is a bidirectional embedding, override or isolate: a character that changes
/// the order in which the text around it is shown.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether `c` is a control character (other than whitespace, which is read as a space) or
/// a bidirectional control.
fn is_hidden_control(c: char) -> bool {
    (c.is_control() && !c.is_whitespace()) || is_bidi_control(c)
}

/// A validated instruction: one line, single-spaced, non-empty, bounded, its words in the
/// case the model learned them in ([`normal_case`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instruction(String);

impl Instruction {
    /// `text` validated, as any model reads it ([`Instruction::in_alphabet`] with every
    /// character learned).
    pub fn new(text: &str) -> Result<Self, InstructionError> {
        Self::in_alphabet(text, |_| true)
    }

    /// `text` validated and as a model reads it that learned the characters `learned` says
    /// (besides ASCII letters, digits and whitespace, which every model learned): characters
    /// it did not learn in their nearest learned form or left out if signs
    /// ([`alphabet::readable`]), separators spaced as the corpus writes them
    /// ([`spacing::spaced`]), whitespace a single space, quotes around the whole taken off,
    /// words in the case it learned ([`normal_case`]).
    pub fn in_alphabet(text: &str, learned: impl Fn(char) -> bool) -> Result<Self, InstructionError> {
        let chars = text.chars().count();
        if chars > MAX_INSTRUCTION_CHARS {
            return Err(InstructionError::TooLong(chars));
        }
        if let Some((at, c)) = text.chars().enumerate().find(|&(_, c)| is_hidden_control(c)) {
            return Err(InstructionError::Control { code: c as u32, at: at + 1 });
        }
        let readable = spacing::spaced(&alphabet::readable(text, learned)?);
        let single = readable.split_whitespace().collect::<Vec<_>>().join(" ");
        let words: Vec<&str> = alphabet::unquoted(&single).split(' ').filter(|w| !w.is_empty()).collect();
        if words.is_empty() {
            return Err(InstructionError::Empty);
        }
        Ok(Self(normal_case(&words)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The instruction as a model reads it whose vocabulary `holds` some words whole: a lone
    /// word in capitals it lacks in small letters ([`in_vocabulary`]).
    pub fn in_vocabulary(&self, holds: impl Fn(&str) -> bool) -> Self {
        Self(in_vocabulary(&self.0.split(' ').collect::<Vec<_>>(), holds))
    }

    /// The plan text's first line, ending in a full stop unless it ends in `.`, `?` or `!`.
    pub fn line(&self) -> String {
        let t = &self.0;
        if t.ends_with(['.', '?', '!']) {
            format!("Instruction: {t}")
        } else {
            format!("Instruction: {t}.")
        }
    }
}

/// The most a prompt prefix may hold, in bytes (the model's context bounds it further).
pub const MAX_PREFIX_BYTES: usize = 64 * 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PrefixError {
    #[error("the prompt is empty: write worked examples in the plan format (docs/skills.md)")]
    Empty,
    #[error("the prompt is {0} bytes; at most {MAX_PREFIX_BYTES} are read")]
    TooLong(usize),
    #[error("the prompt holds no example in the plan format: each starts with a line `Instruction: ...` and numbered steps `1. ...`")]
    NoExample,
}

/// A few-shot prompt prefix: worked examples in the plan format, read before each plan.
/// It ends with a blank line, so that the plan's first line starts a new example.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PromptPrefix(String);

impl PromptPrefix {
    pub fn new(text: &str) -> Result<Self, PrefixError> {
        if text.len() > MAX_PREFIX_BYTES {
            return Err(PrefixError::TooLong(text.len()));
        }
        let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
        let body = lines.join("\n");
        let body = body.trim();
        if body.is_empty() {
            return Err(PrefixError::Empty);
        }
        if !(body.starts_with("Instruction: ") && body.contains("\n1. ")) {
            return Err(PrefixError::NoExample);
        }
        Ok(Self(format!("{body}\n\n")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The prompt before step 1: the instruction line and `1.`.
pub fn plan_start(instruction: &Instruction) -> String {
    format!("{}\n1.", instruction.line())
}

/// The text that closes a step's skill and opens the next step.
pub fn step_end(next_step: usize, failed: bool) -> String {
    if failed {
        format!(". (failed)\n{next_step}.")
    } else {
        format!(".\n{next_step}.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instruction_with_control_characters_is_refused_and_whitespace_is_a_space() {
        assert_eq!(Instruction::new("put\tthe blocks\r\nin the bowls").unwrap().as_str(), "put the blocks in the bowls");
        assert_eq!(Instruction::new("put the \u{1b}[2Jblocks"), Err(InstructionError::Control { code: 0x1b, at: 9 }));
        assert_eq!(Instruction::new("a\0b"), Err(InstructionError::Control { code: 0, at: 2 }));
        assert_eq!(Instruction::new("stack \u{202E}skcolb"), Err(InstructionError::Control { code: 0x202E, at: 7 }));
        let said = Instruction::new("\u{7f}").unwrap_err().to_string();
        assert!(said.contains("U+007F at character 1"), "{said}");
        // Text in any script is fine where the model is not known; a model reads it in the
        // characters it learned.
        assert!(Instruction::new("mets les blocs dans les bols, s'il te plaît 🙂").is_ok());
        let ascii = Instruction::in_alphabet("“mets les blocs dans les bols, s’il te plaît” 🙂", |c| c.is_ascii()).unwrap();
        assert_eq!(ascii.as_str(), "mets les blocs dans les bols, s'il te plait");
        assert!(matches!(Instruction::in_alphabet("🙂 🙂", |c| c.is_ascii()), Err(InstructionError::OnlySigns(_))));
        assert_eq!(Instruction::in_alphabet(" \"\" ", |c| c.is_ascii()), Err(InstructionError::Empty));
        // Without a sign's form the model learned, letters and spaces are still read.
        assert_eq!(Instruction::in_alphabet("stack, the blocks!", |_| false).unwrap().as_str(), "stack the blocks");
    }

    #[test]
    fn a_prefix_holds_examples_in_the_plan_format_and_ends_with_a_blank_line() {
        let p = PromptPrefix::new("Instruction: go home.\r\n1. go to the dock.  \n2. done.\n\n\n").unwrap();
        assert_eq!(p.as_str(), "Instruction: go home.\n1. go to the dock.\n2. done.\n\n");
        assert_eq!(PromptPrefix::new(" \n"), Err(PrefixError::Empty));
        assert_eq!(PromptPrefix::new("go home then stop"), Err(PrefixError::NoExample));
        assert!(matches!(PromptPrefix::new(&"x".repeat(MAX_PREFIX_BYTES + 1)), Err(PrefixError::TooLong(_))));
    }

    #[test]
    fn instructions_are_normalised_and_bounded() {
        let i = Instruction::new("  put the blocks\n in the bowls  ").unwrap();
        assert_eq!(i.line(), "Instruction: put the blocks in the bowls.");
        assert_eq!(Instruction::new("help?").unwrap().line(), "Instruction: help?");
        assert_eq!(Instruction::new(" \n "), Err(InstructionError::Empty));
        assert_eq!(Instruction::new(&"x".repeat(10_000)), Err(InstructionError::TooLong(10_000)));
        assert_eq!(plan_start(&i), "Instruction: put the blocks in the bowls.\n1.");
        assert_eq!(step_end(3, false), ".\n3.");
    }
}
