//! What the decoder reads about a token at every step, laid out for the few cache lines a
//! step can afford: right after a forward pass has swept the model's weights through the
//! caches, each lookup that touches a new line is a miss. A token's text and where it holds
//! a skill terminator come from one small record and one text buffer (not a pointer to a
//! heap string and a second table), and whether the decoder may choose it from one bit.

use std::sync::Arc;

/// Where one token's text lies in [`TokenTable`]'s buffer, and where it ends a skill.
#[derive(Clone, Copy, Debug)]
struct TokenRecord {
    start: u32,
    len: u32,
    /// Byte offset of the first skill terminator in the text; [`NO_TERMINATOR`]: none.
    terminator: u32,
}

const NO_TERMINATOR: u32 = u32::MAX;

/// The texts of a vocabulary, which tokens end a skill, and which the decoder may choose
/// (those with a text: not special, not empty).
#[derive(Debug)]
pub struct TokenTable {
    text: String,
    records: Vec<TokenRecord>,
    /// Bit `id % 64` of word `id / 64`: the decoder may choose token `id`.
    choosable: Vec<u64>,
    /// Tokens the decoder may not choose.
    unchoosable: usize,
}

/// A vocabulary's texts do not fit the table's 32-bit offsets (over 4 GiB of text).
#[derive(Debug, thiserror::Error)]
#[error("the tokenizer's token texts take over 4 GiB together: not a vocabulary this decoder can hold")]
pub struct TooLarge;

impl TokenTable {
    /// A table of `texts` (by token id); a skill ends at the first of `terminators` in a text.
    pub fn new(texts: &[String], terminators: &[char]) -> Result<Self, TooLarge> {
        let mut text = String::with_capacity(texts.iter().map(String::len).sum());
        let mut records = Vec::with_capacity(texts.len());
        let mut choosable = vec![0u64; texts.len().div_ceil(64)];
        for (id, t) in texts.iter().enumerate() {
            let start = u32::try_from(text.len()).map_err(|_| TooLarge)?;
            let len = u32::try_from(t.len()).map_err(|_| TooLarge)?;
            let terminator = t.find(terminators).map_or(Ok(NO_TERMINATOR), u32::try_from).map_err(|_| TooLarge)?;
            text.push_str(t);
            u32::try_from(text.len()).map_err(|_| TooLarge)?;
            records.push(TokenRecord { start, len, terminator });
            if !t.is_empty() {
                choosable[id / 64] |= 1 << (id % 64);
            }
        }
        let unchoosable = texts.iter().filter(|t| t.is_empty()).count();
        Ok(Self { text, records, choosable, unchoosable })
    }

    /// Tokens in the table.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The token's text; "" for an id outside the table.
    pub fn text(&self, id: u32) -> &str {
        self.text_and_terminator(id).0
    }

    /// The token's text and where it holds a skill terminator (byte offset of the first).
    pub fn text_and_terminator(&self, id: u32) -> (&str, Option<usize>) {
        match self.records.get(id as usize) {
            Some(r) => (&self.text[r.start as usize..(r.start + r.len) as usize], (r.terminator != NO_TERMINATOR).then_some(r.terminator as usize)),
            None => ("", None),
        }
    }

    /// The token's text, for what outlives a step (explanations): it reads the text from
    /// `table` when asked, so that keeping it touches neither the text nor a count of its own.
    pub fn shared(table: &Arc<Self>, id: u32) -> TokenText {
        TokenText(Text::InTable(Arc::clone(table), id))
    }

    /// Whether the decoder may choose the token (one bit a token; none past the table).
    #[inline]
    pub fn is_choosable(&self, id: u32) -> bool {
        self.choosable.get(id as usize / 64).is_some_and(|w| w >> (id % 64) & 1 == 1)
    }

    /// How many tokens the decoder may not choose.
    pub fn unchoosable(&self) -> usize {
        self.unchoosable
    }
}

/// A token's text as explanations keep it: read from the model's [`TokenTable`] (cloning it
/// costs one count on the table, shared by every token), or a text of its own (one read back
/// from JSON, or written by hand). Reads as a `str`; JSON writes it as a string.
#[derive(Clone)]
pub struct TokenText(Text);

#[derive(Clone)]
enum Text {
    InTable(Arc<TokenTable>, u32),
    Own(Arc<str>),
}

impl std::ops::Deref for TokenText {
    type Target = str;

    fn deref(&self) -> &str {
        match &self.0 {
            Text::InTable(table, id) => table.text(*id),
            Text::Own(text) => text,
        }
    }
}

impl AsRef<str> for TokenText {
    fn as_ref(&self) -> &str {
        self
    }
}

impl From<&str> for TokenText {
    fn from(text: &str) -> Self {
        Self(Text::Own(Arc::from(text)))
    }
}

impl From<String> for TokenText {
    fn from(text: String) -> Self {
        Self(Text::Own(Arc::from(text)))
    }
}

impl PartialEq for TokenText {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for TokenText {}

impl PartialEq<str> for TokenText {
    fn eq(&self, other: &str) -> bool {
        &**self == other
    }
}

impl PartialEq<&str> for TokenText {
    fn eq(&self, other: &&str) -> bool {
        &**self == *other
    }
}

impl std::fmt::Debug for TokenText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

impl std::fmt::Display for TokenText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

impl serde::Serialize for TokenText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for TokenText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> TokenTable {
        let texts: Vec<String> =
            ["", " pick", " up", ".", " bowl.\n", "é", ""].iter().map(|s| s.to_string()).chain((0..70).map(|i| format!(" t{i}"))).collect();
        TokenTable::new(&texts, &['.', '\n']).expect("a small table")
    }

    #[test]
    fn texts_and_terminators_read_back_as_given() {
        let t = table();
        assert_eq!(t.len(), 77);
        assert_eq!(t.text_and_terminator(1), (" pick", None));
        assert_eq!(t.text_and_terminator(3), (".", Some(0)));
        assert_eq!(t.text_and_terminator(4), (" bowl.\n", Some(5)));
        assert_eq!(t.text(5), "é");
        assert_eq!(t.text(76), " t69");
        assert_eq!(t.text_and_terminator(77), ("", None));
        let t = Arc::new(t);
        assert_eq!(&*TokenTable::shared(&t, 2), " up");
        assert_eq!(&*TokenTable::shared(&t, 1000), "");
    }

    #[test]
    fn only_tokens_with_a_text_are_choosable_across_words() {
        let t = table();
        let chosen: Vec<u32> = (0..80).filter(|&id| t.is_choosable(id)).collect();
        let expected: Vec<u32> = (1..6).chain(7..77).collect();
        assert_eq!(chosen, expected);
        assert_eq!(t.unchoosable(), 2);
    }

    #[test]
    fn a_shared_token_text_reads_and_writes_as_its_string() {
        let t = Arc::new(table());
        let pick = TokenTable::shared(&t, 1);
        assert_eq!(pick, " pick");
        assert_eq!(pick, TokenText::from(" pick"));
        assert_ne!(pick, TokenTable::shared(&t, 2));
        assert_eq!(format!("{pick:?} {pick}"), "\" pick\"  pick");
        let json = serde_json::to_string(&vec![pick, TokenTable::shared(&t, 4)]).expect("as JSON");
        assert_eq!(json, r#"[" pick"," bowl.\n"]"#);
        let back: Vec<TokenText> = serde_json::from_str(&json).expect("from JSON");
        assert_eq!(back, vec![TokenText::from(" pick"), TokenText::from(" bowl.\n")]);
    }
}
