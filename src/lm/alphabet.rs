//! The characters a model learned: ASCII, and every other character some token of its
//! vocabulary holds whole. A byte-level vocabulary holds every byte, so it can write any
//! character, but one its corpus never held appears in none of its merged tokens, only as
//! bytes the model never saw (the shipped model's alphabet: ASCII and the curly
//! apostrophe). `crate::prompt`'s reading of an instruction puts the rest in their nearest
//! learned form.

use std::collections::BTreeSet;

/// The characters beyond ASCII a model's tokens hold whole (none by default: ASCII alone).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Alphabet(BTreeSet<char>);

impl Alphabet {
    /// From the texts of a model's tokens (a token of part of a character's bytes decodes to
    /// U+FFFD, which is not one).
    pub fn new<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        Self(texts.into_iter().flat_map(str::chars).filter(|&c| !c.is_ascii() && c != char::REPLACEMENT_CHARACTER).collect())
    }

    /// Whether the model learned `c`.
    pub fn learned(&self, c: char) -> bool {
        c.is_ascii() || self.0.contains(&c)
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
}
