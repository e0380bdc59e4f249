//! Spaces after separators, as the model learned them.
//!
//! People typing fast, or a speech recogniser's punctuation, leave out the space after a
//! comma: "put A,E and I on the left", "robot:stack the blocks". A corpus writes one after
//! every comma, semicolon and colon, so a model reads ",E" as text it never saw (the shipped
//! tokenizer: "E" without the space every letter name has there), and "A,E,I" reads as one
//! word to the case rules. Each comma, semicolon, colon, exclamation or question mark
//! directly followed by a letter is read with a space after it. A full stop is not (it ends
//! abbreviations: "e.g.", "U.S."), nor is a separator before a digit ("1,000", "10:30").
//! Form only: no word is read for its meaning.

/// The separators read with a space after them when a letter follows directly.
const SEPARATORS: [char; 5] = [',', ';', ':', '!', '?'];

/// `text` with a space after each of [`SEPARATORS`] that a letter follows directly.
pub fn spaced(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if SEPARATORS.contains(&c) && chars.peek().is_some_and(|n| n.is_alphabetic()) {
            out.push(' ');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::spaced;

    #[test]
    fn a_letter_right_after_a_separator_is_spaced_from_it() {
        assert_eq!(spaced("put A,E,I and O on the left"), "put A, E, I and O on the left");
        assert_eq!(spaced("robot:stack the blocks;then stop"), "robot: stack the blocks; then stop");
        assert_eq!(spaced("done?no,not yet!go on"), "done? no, not yet! go on");
        assert_eq!(spaced("sort them,\u{E9}tag\u{E8}re first"), "sort them, \u{E9}tag\u{E8}re first");
    }

    #[test]
    fn spaced_text_digits_and_full_stops_are_kept() {
        for kept in ["put A, E and I on the left", "1,000 blocks at 10:30", "e.g. the red one", "the U.S. flag", "wait, ", ",", "stack them,"] {
            assert_eq!(spaced(kept), kept);
        }
    }
}
