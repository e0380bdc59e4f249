//! Text from outside, as an error message quotes it: never longer than a line.
//!
//! An error names the value it refuses, so that whoever reads it can find and fix it. A
//! peer's message may be a megabyte, and a refusal that repeats all of it floods the log and
//! the journal, and grows a reply past what its receiver accepts, so the reason is lost with
//! it. [`Quoted`] shows a value whole when it is short and its beginning and length when not;
//! [`clip`] shortens a whole message, keeping its beginning and its end (where a parser says
//! where it stopped).

use std::borrow::Cow;
use std::fmt;

/// The most characters of a value an error message quotes.
pub const MAX_QUOTED_CHARS: usize = 80;

/// The most characters of a message [`clip`] keeps.
pub const MAX_MESSAGE_CHARS: usize = 400;

/// A value quoted as `Debug` quotes a string (`"red block"`), cut after
/// [`MAX_QUOTED_CHARS`] characters with its length in bytes added:
/// `"xxxx…" (100000 bytes)`.
pub struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.char_indices().nth(MAX_QUOTED_CHARS) {
            None => write!(f, "{:?}", self.0),
            Some((end, _)) => write!(f, "{:?}… ({} bytes)", &self.0[..end], self.0.len()),
        }
    }
}

impl fmt::Debug for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `message` as it is when at most [`MAX_MESSAGE_CHARS`] characters long; otherwise its first
/// and last characters with what was left out between them counted.
pub fn clip(message: &str) -> Cow<'_, str> {
    let chars = message.chars().count();
    if chars <= MAX_MESSAGE_CHARS {
        return Cow::Borrowed(message);
    }
    let (head, tail) = (MAX_MESSAGE_CHARS * 3 / 4, MAX_MESSAGE_CHARS / 4);
    let head_end = message.char_indices().nth(head).map_or(message.len(), |(i, _)| i);
    let tail_start = message.char_indices().nth(chars - tail).map_or(message.len(), |(i, _)| i);
    let left_out = chars - head - tail;
    Cow::Owned(format!("{}…[{left_out} characters left out]…{}", &message[..head_end], &message[tail_start..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_value_is_quoted_whole() {
        assert_eq!(Quoted("red block").to_string(), "\"red block\"");
        assert_eq!(Quoted("line\nbreak").to_string(), "\"line\\nbreak\"");
        let exactly = "x".repeat(MAX_QUOTED_CHARS);
        assert_eq!(Quoted(&exactly).to_string(), format!("{exactly:?}"));
    }

    #[test]
    fn a_long_value_is_cut_with_its_length() {
        let long = "é".repeat(100_000);
        let shown = Quoted(&long).to_string();
        assert!(shown.starts_with(&format!("\"{}\"…", "é".repeat(MAX_QUOTED_CHARS))), "{shown}");
        assert!(shown.ends_with("(200000 bytes)"), "{shown}");
        assert!(shown.chars().count() < MAX_QUOTED_CHARS + 30, "{shown}");
    }

    #[test]
    fn a_long_message_keeps_its_beginning_and_end() {
        assert_eq!(clip("short"), "short");
        let long = format!("unknown variant `{}`, expected one of `block` at line 1 column 9", "ü".repeat(5000));
        let clipped = clip(&long);
        assert!(clipped.starts_with("unknown variant `üü"), "{clipped}");
        assert!(clipped.ends_with("at line 1 column 9"), "{clipped}");
        assert!(clipped.contains("characters left out"), "{clipped}");
        assert!(clipped.chars().count() < MAX_MESSAGE_CHARS + 40, "{clipped}");
        let exactly = "y".repeat(MAX_MESSAGE_CHARS);
        assert_eq!(clip(&exactly), exactly.as_str());
    }
}
