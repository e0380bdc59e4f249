//! An instruction's words in the case the model learned them in. The shipped model learned
//! from instructions in small letters but for a sentence's first, and reads a word written
//! otherwise as another word: an instruction in capitals ("PUT THE BLOCKS IN THE BOWLS", as
//! some speech recognisers write every transcript) or with every word capitalised ("Put The
//! Blocks In The Bowls") planned few episodes (README.md, "In your own words"), and a word
//! capitalised inside a sentence could change the plan ("put the yellow block in the Red
//! bowl" put it in the yellow bowl; "bring me a Coke" brought a red bull), and so could a
//! lone word in capitals it reads as letters ("the RED bowl": R, E, D). It learned letters'
//! names in capitals, and read "put b and d on the left" as moving B only. Only how words
//! are written changes, never which words: none is read for its meaning.

/// How a word is written.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Written {
    /// Two capitals or more and no small letter: "BLOCKS", "I'D", "ABC".
    Capitals,
    /// A capital first and a small letter after it: "Put", "I'd", "Coca-Cola".
    Capitalised,
    /// A small letter first: "put", "iPhone".
    Small,
    /// One capital and nothing else cased ("A", "I", "B2", which may name a letter or a
    /// place), or nothing cased (digits, signs, scripts without case).
    Neither,
}

fn written(word: &str) -> Written {
    let mut cased = word.chars().filter(|c| c.is_uppercase() || c.is_lowercase());
    let Some(first) = cased.next() else { return Written::Neither };
    let (capitals, small) = cased.fold((usize::from(first.is_uppercase()), 0), |(c, s), x| if x.is_uppercase() { (c + 1, s) } else { (c, s + 1) });
    match (first.is_uppercase(), capitals, small) {
        (false, _, _) => Written::Small,
        (true, _, 0) if capitals >= 2 => Written::Capitals,
        (true, _, 0) => Written::Neither,
        (true, _, _) => Written::Capitalised,
    }
}

/// Whether a word is written as with caps lock on: a small letter first and only capitals
/// after it ("pUT", "tHE", "iN"; "pUT THE BLOCKS AWAY" is what a sentence typed so gives).
fn caps_locked(word: &str) -> bool {
    let mut cased = word.chars().filter(|c| c.is_uppercase() || c.is_lowercase());
    matches!(cased.next(), Some(c) if c.is_lowercase()) && {
        let mut rest = cased.peekable();
        rest.peek().is_some() && rest.all(char::is_uppercase)
    }
}

/// Whether the word at `i` starts a sentence: it is the first, or the word before it ends
/// one (in '.', '!', '?' or ':', perhaps inside a closing quote or bracket).
fn starts_sentence(words: &[&str], i: usize) -> bool {
    i == 0 || words[i - 1].trim_end_matches(['"', '\'', '’', '”', ')', ']']).ends_with(['.', '!', '?', ':'])
}

/// Whether a word's capital stands alone before an apostrophe or a hyphen: "I'd", "I’m",
/// "A-to-Z", "O'Brien". Such a capital is not a capitalised word's first letter, but a
/// word of its own (the model learned "I'd" as written).
fn lone_capital_first(word: &str) -> bool {
    let first = word.trim_start_matches(|c: char| !c.is_alphanumeric()).split(['\'', '’', '-']).next().unwrap_or_default();
    let mut cased = first.chars().filter(|c| c.is_uppercase() || c.is_lowercase());
    matches!((cased.next(), cased.next()), (Some(c), None) if c.is_uppercase())
}

/// The letter a word is when it is one Latin letter, in either case, with nothing but signs
/// around it ("b", "D,", "(c)").
fn lone_letter(word: &str) -> Option<char> {
    let mut chars = word.trim_matches(|c: char| !c.is_alphanumeric()).chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii_alphabetic() => Some(c),
        _ => None,
    }
}

/// Whether the small letter at `i` names a letter, written as the model learned letters: in
/// capitals. "i" is a capital whether it is the pronoun or the letter. "a" (the article) and
/// "u" (typed for "you") name letters only where those words cannot stand: last, before a
/// sign ("back to a", "a, e, i"), before another letter ("a b c"), or joined to one by
/// "and", "or", "to" or "through" ("from a to z", "o and u"); not merely after one ("move b
/// a little"). Any other is a letter ("put b and d on the left").
fn names_a_letter(words: &[&str], i: usize) -> bool {
    // How people type a letter's name in small letters.
    let Some(letter) = lone_letter(words[i]).filter(char::is_ascii_lowercase) else { return false };
    if !matches!(letter, 'a' | 'u') {
        return true;
    }
    let at = |k: isize| i.checked_add_signed(k).and_then(|j| words.get(j)).copied();
    let joins = |k: isize| at(k).is_some_and(|w| ["and", "or", "to", "through"].contains(&w.to_lowercase().as_str()));
    let letter_at = |k: isize| at(k).and_then(lone_letter).is_some();
    let before_sign = !words[i].ends_with(|c: char| c.is_alphanumeric());
    before_sign || at(1).is_none() || letter_at(1) || (joins(1) && letter_at(2)) || (joins(-1) && letter_at(-2))
}

/// `words` joined by single spaces, in the case the model learned them in:
/// - an instruction whose every word with a small letter starts with a capital (two such
///   words at least: "Put The Blocks In The Bowls") has those words in small letters;
/// - a capitalised word that does not start a sentence ("put the yellow block in the Red
///   bowl", "Put the Blocks in the Bowls", "bring me a Coke") is put in small letters;
/// - words in capitals two or more in a row ("PUT THE BLOCKS IN THE BOWLS", "put THE RED
///   BLOCK in the bowl") are put in small letters;
/// - a word written as with caps lock on ("pUT", "tHE") is put in small letters;
/// - a letter named in small letters ("put b and d on the left", "from a to z") is put in
///   capitals, as the model learned letters ([`names_a_letter`] says which "a" and "u" do).
///
/// A word of one capital ("A", "I", "B2") may name a letter or a place, and is kept without
/// breaking a run; so is a capital alone before an apostrophe or a hyphen ("I'd",
/// "A-to-Z"), and a lone word in capitals ("ABC order"), which the planner then reads
/// against its model's vocabulary ([`in_vocabulary`]). Anything else is kept as written.
pub fn normal_case(words: &[&str]) -> String {
    let unlocked: Vec<String> = words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            if caps_locked(w) {
                w.to_lowercase()
            } else if names_a_letter(words, i) {
                w.to_uppercase()
            } else {
                w.to_string()
            }
        })
        .collect();
    let words: Vec<&str> = unlocked.iter().map(String::as_str).collect();
    let how: Vec<Written> = words.iter().map(|w| written(w)).collect();
    let title = !how.contains(&Written::Small) && how.iter().filter(|h| **h == Written::Capitalised).nth(1).is_some();
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        if how[i] == Written::Small || how[i] == Written::Capitalised {
            let inside = how[i] == Written::Capitalised && !starts_sentence(&words, i) && !lone_capital_first(words[i]);
            out.push(if title || inside { words[i].to_lowercase() } else { words[i].to_string() });
            i += 1;
            continue;
        }
        // A run of words in capitals, and of words of one capital between them.
        let end = how[i..].iter().position(|h| matches!(h, Written::Small | Written::Capitalised)).map_or(words.len(), |n| i + n);
        let fold = how[i..end].iter().filter(|h| **h == Written::Capitals).nth(1).is_some();
        for j in i..end {
            out.push(if fold && how[j] == Written::Capitals { words[j].to_lowercase() } else { words[j].to_string() });
        }
        i = end;
    }
    out.join(" ")
}

/// `words` joined by single spaces, each lone word in capitals whose whole the model's
/// vocabulary lacks (`holds` says, given the word without the signs around it) in small
/// letters: the model never learned it so, and reads it letter by letter ("RED" as R, E, D;
/// "LOVE" as letters to spell). One it learned whole ("ABC" in "ABC order") is kept, and so
/// is a capital alone before an apostrophe or a hyphen ("A-Z"). Words in capitals two or
/// more in a row are [`normal_case`]'s; run this on what it gives.
pub fn in_vocabulary(words: &[&str], holds: impl Fn(&str) -> bool) -> String {
    let read = |word: &&str| {
        let core = word.trim_matches(|c: char| !c.is_alphanumeric());
        if written(word) == Written::Capitals && !lone_capital_first(word) && !holds(core) {
            word.to_lowercase()
        } else {
            word.to_string()
        }
    };
    words.iter().map(read).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> String {
        normal_case(&text.split(' ').collect::<Vec<_>>())
    }

    #[test]
    fn words_are_told_by_how_they_are_written() {
        let cases = [
            ("BLOCKS", Written::Capitals),
            ("I'D", Written::Capitals),
            ("Put", Written::Capitalised),
            ("Coca-Cola", Written::Capitalised),
            ("put", Written::Small),
            ("iPhone", Written::Small),
            ("A,", Written::Neither),
            ("B2", Written::Neither),
            ("2", Written::Neither),
            ("积木", Written::Neither),
        ];
        for (word, how) in cases {
            assert_eq!(written(word), how, "{word}");
        }
    }

    #[test]
    fn words_in_capitals_two_or_more_in_a_row_are_read_in_small_letters() {
        assert_eq!(read("PUT THE BLOCKS IN THE BOWLS WITH MATCHING COLOURS"), "put the blocks in the bowls with matching colours");
        assert_eq!(read("I'D LIKE THE VOWELS ON THE LEFT"), "i'd like the vowels on the left");
        // A word of one capital may name a letter: kept, and it does not end the run.
        assert_eq!(read("TAKE A, E AND I TO THE LEFT"), "take A, E and I to the left");
        assert_eq!(read("I AM THIRSTY"), "I am thirsty");
        assert_eq!(read("put THE RED BLOCK in the bowl"), "put the red block in the bowl");
        assert_eq!(read("PUT the letters in ABC order"), "PUT the letters in ABC order");
        assert_eq!(read("ΒΆΛΕ ΤΑ ΜΠΛΟΚ"), "βάλε τα μπλοκ");
    }

    #[test]
    fn an_instruction_with_every_word_capitalised_is_read_in_small_letters() {
        assert_eq!(read("Put The Blocks In The Bowls With Matching Colours"), "put the blocks in the bowls with matching colours");
        assert_eq!(read("I'd Like The Letters In ABC Order"), "i'd like the letters in ABC order");
        assert_eq!(read("Move M And U To The Top Side"), "move M and U to the top side");
        assert_eq!(read("Put The Parcel On Shelf B2"), "put the parcel on shelf B2");
        // One capitalised word is a sentence's first, or a name.
        assert_eq!(read("Stack A"), "Stack A");
    }

    #[test]
    fn a_capitalised_word_inside_a_sentence_is_read_in_small_letters() {
        assert_eq!(read("put the yellow block in the Red bowl"), "put the yellow block in the red bowl");
        assert_eq!(read("Put the Blocks in the Bowls with Matching Colours"), "Put the blocks in the bowls with matching colours");
        assert_eq!(read("Bring me a Red Bull"), "Bring me a red bull");
        assert_eq!(read("I want an iPhone Case"), "I want an iPhone case");
        assert_eq!(read("(Robot) Stack the Blocks"), "(Robot) stack the blocks");
        // A sentence's first word keeps its capital, wherever the sentence starts.
        assert_eq!(read("Okay. Put the blocks away! Then: Stack them"), "Okay. Put the blocks away! Then: Stack them");
        assert_eq!(read("he said \"done.\" Now stack"), "he said \"done.\" Now stack");
        // A capital alone before an apostrophe or a hyphen is a word of its own.
        assert_eq!(read("so I'd like, I’m sure, the letters in A-to-Z Order"), "so I'd like, I’m sure, the letters in A-to-Z order");
        assert_eq!(read("give it to O'Brien"), "give it to O'Brien");
    }

    #[test]
    fn a_lone_word_in_capitals_the_vocabulary_lacks_is_read_in_small_letters() {
        let holds = |w: &str| ["ABC", "NASA"].contains(&w);
        let read = |text: &str| in_vocabulary(&text.split(' ').collect::<Vec<_>>(), holds);
        assert_eq!(read("put the yellow block in the RED bowl"), "put the yellow block in the red bowl");
        assert_eq!(read("spell as much of the word LOVE, please"), "spell as much of the word love, please");
        assert_eq!(read("bring me a \"COKE\""), "bring me a \"coke\"");
        // Learned whole, a word of one capital, a capital before a hyphen: kept.
        for kept in ["put the letters in ABC order", "the NASA mug", "move M and U up", "sort them A-Z", "I'D like it", "Put the blocks away"] {
            assert_eq!(read(kept), kept);
        }
    }

    #[test]
    fn a_word_typed_with_caps_lock_on_is_read_in_small_letters() {
        assert_eq!(read("pUT THE BLOCKS IN THE BOWLS"), "put the blocks in the bowls");
        assert_eq!(read("pUT tHE bLOCKS iN tHE bOWLS"), "put the blocks in the bowls");
        assert_eq!(read("put the blocks in the bowls, pLEASE"), "put the blocks in the bowls, please");
        for kept in ["put the iPhone away", "move M and U up", "A b C"] {
            assert_eq!(read(kept).to_lowercase(), kept.to_lowercase());
        }
        assert_eq!(read("A b C"), "A B C");
    }

    #[test]
    fn a_letter_named_in_small_letters_is_read_in_capitals() {
        assert_eq!(read("put b and d on the left side"), "put B and D on the left side");
        assert_eq!(read("put a, e, i and u on the left"), "put A, E, I and U on the left");
        assert_eq!(read("line them up from a to z"), "line them up from A to Z");
        assert_eq!(read("from z back to a"), "from Z back to A");
        assert_eq!(read("spell (c) then a b"), "spell (C) then A B");
        assert_eq!(read("can i have the letters before d?"), "can I have the letters before D?");
        // The article, "you" typed as "u", and letters inside words stay as written.
        for kept in ["put a block in a bowl", "can u put the letters in order", "bring me a red bull", "sort them a-z", "rock'n'roll"] {
            assert_eq!(read(kept), kept);
        }
        assert_eq!(read("move b a little up"), "move B a little up");
    }

    #[test]
    fn anything_else_is_kept_as_written() {
        for kept in
            ["Put the blocks in the bowls", "spell the word love", "move M and U to the top side", "go to shelf B2", "把积木放进碗里", "I'd like an iPhone"]
        {
            assert_eq!(read(kept), kept);
        }
        assert_eq!(normal_case(&[]), "");
    }
}
