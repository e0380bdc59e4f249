//! The characters a model learned: ASCII letters, digits and spaces; the other ASCII
//! characters the instructions of its training corpora held, where its training.json says
//! which (else all of them); and every other character some token of its vocabulary holds
//! whole. A byte-level vocabulary holds every byte, so it can write any character, but one
//! its corpus never held appears in none of its merged tokens, only as bytes the model never
//! saw (the shipped model's alphabet: ASCII and the curly apostrophe). An ASCII sign is one
//! byte, a token of every byte-level vocabulary whatever the corpus held, so for those only
//! the corpus can tell: the shipped model's instructions never held `*`, `@`, `#`, `_`, `/`,
//! brackets, braces or parentheses (its plans write "(failed)", but a sign learned in a plan
//! is not learned in an instruction, where "(please)" confused it). `crate::prompt`'s
//! reading of an instruction puts the rest in their nearest learned form.

use std::collections::BTreeSet;
use std::path::Path;

/// The characters a model learned beyond ASCII letters, digits and spaces.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Alphabet {
    /// Characters beyond ASCII that its tokens hold whole.
    beyond_ascii: BTreeSet<char>,
    /// The ASCII signs its corpora's instructions held; `None`: not known, every one counts
    /// as learned.
    ascii_signs: Option<BTreeSet<char>>,
}

impl Alphabet {
    /// From the texts of a model's tokens (a token of part of a character's bytes decodes to
    /// U+FFFD, which is not one), every ASCII character learned.
    pub fn new<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let beyond_ascii = texts.into_iter().flat_map(str::chars).filter(|&c| !c.is_ascii() && c != char::REPLACEMENT_CHARACTER).collect();
        Self { beyond_ascii, ascii_signs: None }
    }

    /// The alphabet of the model in `dir` whose tokens write `texts`: [`Alphabet::new`], then
    /// of the ASCII signs only those its training.json records ([`instruction_characters`]).
    pub fn of_model<'a>(texts: impl IntoIterator<Item = &'a str>, dir: &Path) -> Self {
        Self::new(texts).with_corpus(instruction_characters(dir))
    }

    /// This alphabet with, of the ASCII signs, only those of `corpus` learned (the
    /// characters its training corpora's instructions held: [`instruction_characters`]);
    /// `None` leaves it as it is.
    fn with_corpus(self, corpus: Option<BTreeSet<char>>) -> Self {
        match corpus {
            Some(chars) => Self { ascii_signs: Some(chars.into_iter().filter(|c| is_sign(*c)).collect()), ..self },
            None => self,
        }
    }

    /// Whether the model learned `c`.
    pub fn learned(&self, c: char) -> bool {
        if is_sign(c) {
            self.ascii_signs.as_ref().is_none_or(|signs| signs.contains(&c))
        } else {
            c.is_ascii() || self.beyond_ascii.contains(&c)
        }
    }
}

/// An ASCII character that is not a letter, digit, whitespace or control.
fn is_sign(c: char) -> bool {
    c.is_ascii_punctuation()
}

/// The characters the instructions of the model in `dir`'s training corpora held, as its
/// training.json records them (`corpus.instruction_characters`, written by tools/train: for
/// a model trained on from another, `init_from` records that one's, and so on). `None` where
/// that is not known: no training.json (a model trained elsewhere), or a run in its chain
/// that records none.
fn instruction_characters(dir: &Path) -> Option<BTreeSet<char>> {
    let text = std::fs::read_to_string(dir.join("training.json")).ok()?;
    let mut run: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!("{}: not JSON ({e}); every ASCII sign counts as learned", dir.join("training.json").display());
            return None;
        }
    };
    let mut chars = BTreeSet::new();
    loop {
        chars.extend(run["corpus"]["instruction_characters"].as_str()?.chars());
        match run.get_mut("init_from").map(serde_json::Value::take) {
            Some(before) if !before.is_null() => run = before,
            _ => return Some(chars),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_and_the_characters_whole_in_a_token_are_learned() {
        let a = Alphabet::new(["put", " caf\u{E9}", "\u{FFFD}", "\u{2019}s"]);
        assert!(a.learned('p') && a.learned('~') && a.learned('\u{E9}') && a.learned('\u{2019}'));
        assert!(!a.learned('\u{FFFD}') && !a.learned('\u{1F642}') && !a.learned('\u{E8}'));
    }

    #[test]
    fn of_the_ascii_signs_only_the_corpus_ones_are_learned_where_it_is_known() {
        let a = Alphabet::new(["put", "\u{2019}s"]).with_corpus(Some("robot: put it there, A-to-Z. \u{2019}".chars().collect()));
        for c in [':', ',', '-', '.', 'p', 'q', 'Z', '7', ' ', '\u{2019}'] {
            assert!(a.learned(c), "{c:?}");
        }
        for c in ['*', '@', '#', '_', '/', '[', '{', '~', '(', ')', '\u{E9}'] {
            assert!(!a.learned(c), "{c:?}");
        }
        assert_eq!(Alphabet::new(["put"]).with_corpus(None), Alphabet::new(["put"]));
    }

    #[test]
    fn the_instruction_characters_are_those_of_every_run_in_the_chain() {
        let dir = std::env::temp_dir().join(format!("grounded-alphabet-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let write = |json: &str| std::fs::write(dir.join("training.json"), json).unwrap();
        write(r#"{"corpus": {"instruction_characters": "ab:"}, "init_from": {"corpus": {"instruction_characters": "b("}}}"#);
        assert_eq!(instruction_characters(&dir), Some("ab:(".chars().collect()));
        // As `grounded train` (tools/train/skills.py) writes it: one run.
        write(r#"{"skills": "skills.toml", "steps": 10, "corpus": {"instruction_characters": " .ab"}}"#);
        assert_eq!(instruction_characters(&dir), Some(" .ab".chars().collect()));
        write(r#"{"corpus": {"instruction_characters": "ab:"}, "init_from": {"corpus": {"version": 1}}}"#);
        assert_eq!(instruction_characters(&dir), None, "a run that records none: not known");
        write(r#"{"corpus": {"instruction_characters": "ab:"}"#);
        assert_eq!(instruction_characters(&dir), None, "not JSON");
        std::fs::remove_file(dir.join("training.json")).unwrap();
        assert_eq!(instruction_characters(&dir), None, "no training.json");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
