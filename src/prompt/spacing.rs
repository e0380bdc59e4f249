//! Spaces around separators, as the model learned them.
//!
//! People typing fast, or a speech recogniser's punctuation, leave out the space after a
//! comma: "put A,E and I on the left", "robot:stack the blocks". A corpus writes one after
//! every comma, semicolon and colon, so a model reads ",E" as text it never saw (the shipped
//! tokenizer: "E" without the space every letter name has there), and "A,E,I" reads as one
//! word to the case rules. Each comma, semicolon, colon, exclamation or question mark
//! directly followed by a letter is read with a space after it. A full stop is not (it ends
//! abbreviations: "e.g.", "U.S."), nor is a separator before a digit ("1,000", "10:30").
//! Others put a space before one ("the blocks , please", "ready ?"), which no corpus line
//! has: a space between a letter or digit and a separator or full stop is left out.
//! Form only: no word is read for its meaning.

/// The separators read with a space after them when a letter follows directly.
const SEPARATORS: [char; 5] = [',', ';', ':', '!', '?'];

/// `text` with a space after each of [`SEPARATORS`] that a letter follows directly, and
/// without the spaces between a letter or digit and a separator or full stop after it.
pub fn spaced(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_whitespace() && out.chars().next_back().is_some_and(char::is_alphanumeric) {
            let mut gap = String::from(c);
            while let Some(&w) = chars.peek().filter(|w| w.is_whitespace()) {
                gap.push(w);
                chars.next();
            }
            if !chars.peek().is_some_and(|&n| SEPARATORS.contains(&n) || n == '.') {
                out.push_str(&gap);
            }
            continue;
        }
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
    fn a_space_before_a_separator_is_left_out() {
        assert_eq!(spaced("stack the blocks , please ."), "stack the blocks, please.");
        assert_eq!(spaced("ready ? then put A ,E and I  ; on the left !"), "ready? then put A, E and I; on the left!");
        assert_eq!(spaced("wait ... then stop"), "wait... then stop");
    }

    #[test]
    fn spaced_text_digits_and_full_stops_are_kept() {
        for kept in [
            "put A, E and I on the left",
            "1,000 blocks at 10:30",
            "e.g. the red one",
            "the U.S. flag",
            "wait, ",
            ",",
            "stack them,",
            " , then",
            "the blocks \" , \" please",
            "- then",
        ] {
            assert_eq!(spaced(kept), kept);
        }
    }
}
