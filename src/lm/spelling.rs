//! Whether a model can write a text: its tokens' texts, concatenated, must spell the text and
//! then a terminator (`.` or a line break) must end it, as the decoder finishes a skill. A
//! skill file's template that its model cannot write is refused at start (docs/skills.md),
//! rather than never decoded.

use protocol::skill::TERMINATORS;
use std::collections::HashSet;

/// The texts a model's tokens write, indexed for spelling checks.
pub struct Spelling {
    /// Every token's text (as the decoder sees it after another token).
    pieces: HashSet<String>,
    /// For each token holding a terminator, its text before the first one.
    before_end: HashSet<String>,
    /// The longest piece, in bytes.
    longest: usize,
}

/// Why a text cannot be written.
#[derive(Debug, PartialEq, Eq)]
pub enum Unspellable {
    /// No sequence of tokens writes the text from this byte on.
    At(usize),
    /// The text can be written, but no token ends it.
    NoEnd,
}

impl Spelling {
    /// From the texts of a model's tokens.
    pub fn new<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut pieces = HashSet::new();
        let mut before_end = HashSet::new();
        for t in texts.into_iter().filter(|t| !t.is_empty()) {
            if let Some(i) = t.find(TERMINATORS) {
                before_end.insert(t[..i].to_string());
            }
            pieces.insert(t.to_string());
        }
        let longest = pieces.iter().map(String::len).max().unwrap_or(0);
        Self { pieces, before_end, longest }
    }

    /// Check that tokens write `text` and that one then ends it (its last word may share the
    /// token that holds the terminator).
    pub fn check(&self, text: &str) -> Result<(), Unspellable> {
        let n = text.len();
        // reachable[i]: tokens write text[..i] exactly.
        let mut reachable = vec![false; n + 1];
        reachable[0] = true;
        let mut furthest = 0;
        for i in 0..n {
            if !reachable[i] || !text.is_char_boundary(i) {
                continue;
            }
            furthest = furthest.max(i);
            for end in (i + 1)..=n.min(i + self.longest) {
                if text.is_char_boundary(end) && self.pieces.contains(&text[i..end]) {
                    reachable[end] = true;
                }
            }
        }
        if reachable[n] {
            furthest = n;
        }
        let ends = (0..=n).any(|i| reachable[i] && text.is_char_boundary(i) && self.before_end.contains(&text[i..]));
        match (ends, reachable[n]) {
            (true, _) => Ok(()),
            (false, true) => Err(Unspellable::NoEnd),
            (false, false) => Err(Unspellable::At(furthest)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_must_write_the_text_and_one_must_end_it() {
        let s = Spelling::new(["go", " to", " the", " d", "ock", ".", "\n", " shelf.", "x"]);
        assert_eq!(s.check("go to the dock"), Ok(()), "then the '.' token");
        assert_eq!(s.check("go to the shelf"), Ok(()), "the last word shares the terminator's token");
        assert_eq!(s.check("go to the barn"), Err(Unspellable::At(9)), "no token writes ' b': stuck at the space before it");
        let no_end = Spelling::new(["go", " home"]);
        assert_eq!(no_end.check("go home"), Err(Unspellable::NoEnd));
        assert_eq!(Spelling::new(["a", "é", "."]).check("aéa"), Ok(()), "multi-byte characters");
    }
}
