//! Word-level matching of phrases in (partial) skill texts.

/// The lower-cased words of a text.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// Does `text` mention the phrase (given as its lower-cased words), as whole words?
///
/// The last word of a partial text may still grow ("re" may become "red"): it counts as the
/// phrase's last word only once it equals it. This is conservative for hard constraints:
/// "red" matches as soon as it is typed, even if it were to become "reddish".
pub fn mentions(text_words: &[String], phrase: &[String]) -> bool {
    !phrase.is_empty() && text_words.windows(phrase.len()).any(|w| w == phrase)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Vec<String> {
        words(s)
    }

    #[test]
    fn whole_words_only() {
        assert!(mentions(&p("pick up the red block"), &p("red")));
        assert!(mentions(&p("pick up the red"), &p("red")));
        assert!(!mentions(&p("pick up the re"), &p("red")));
        assert!(!mentions(&p("pick up the bored cat"), &p("red")));
        assert!(mentions(&p("place it in the brown box"), &p("brown box")));
        assert!(!mentions(&p("place it in the brown bowl"), &p("brown box")));
        assert!(mentions(&p("Pick up the KNIFE."), &p("knife")));
    }
}
