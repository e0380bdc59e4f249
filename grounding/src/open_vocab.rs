//! Open-vocabulary naming: how well a text span names an object, given the object's name and
//! aliases. A stand-in for an open-vocabulary detector's text side: word-level matching that
//! tolerates word order, plurals, accents, joined words ("redbull"), typos and extra words,
//! and scores a span still being typed (its last word a prefix) by its best completion.

/// A complete phrase names an object at or above this similarity.
pub const NAMING_THRESHOLD: f64 = 0.6;

use std::collections::HashMap;
use std::sync::Arc;

const STOP_WORDS: [&str; 9] = ["the", "a", "an", "some", "of", "my", "me", "please", "that"];

/// A text span, normalised into words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phrase {
    words: Vec<String>,
    /// The last word may be cut short (a span being decoded).
    last_partial: bool,
    /// More words may follow: only what was said so far counts.
    open: bool,
}

impl Phrase {
    /// A finished span.
    pub fn complete(text: &str) -> Self {
        let words = words(text).into_iter().filter(|w| !STOP_WORDS.contains(&w.as_str())).map(|w| stem(&w)).collect();
        Self { words, last_partial: false, open: false }
    }

    /// A span still being written: unless it ends in a space, its last word is a prefix.
    pub fn partial(text: &str) -> Self {
        let ends_word = text.ends_with(|c: char| !c.is_alphanumeric());
        let mut all = words(text);
        let last = if ends_word { None } else { all.pop() };
        let mut words: Vec<String> = all.into_iter().filter(|w| !STOP_WORDS.contains(&w.as_str())).map(|w| stem(&w)).collect();
        let last_partial = last.is_some();
        words.extend(last);
        Self { words, last_partial, open: true }
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
}

/// How much each word tells objects apart: words many objects share ("can", "chips") weigh
/// less than words one object has ("coke"); a word no object has weighs most.
#[derive(Clone, Debug, Default)]
pub struct Vocabulary {
    weights: HashMap<String, f64>,
    unknown: f64,
}

impl Vocabulary {
    /// From every object's name and aliases.
    pub fn new<'a>(objects: impl IntoIterator<Item = (&'a str, &'a [&'a str])>) -> Self {
        let mut df: HashMap<String, usize> = HashMap::new();
        let mut n = 0usize;
        for (name, aliases) in objects {
            n += 1;
            let mut words: Vec<String> = std::iter::once(name).chain(aliases.iter().copied()).flat_map(|t| Phrase::complete(t).words).collect();
            words.sort();
            words.dedup();
            for w in words {
                *df.entry(w).or_default() += 1;
            }
        }
        let idf = |d: usize| (1.0 + n as f64 / d as f64).ln();
        Self { weights: df.into_iter().map(|(w, d)| (w, idf(d))).collect(), unknown: idf(1) }
    }

    fn weight(&self, word: &str) -> f64 {
        self.weights.get(word).copied().unwrap_or(self.unknown).max(1e-3)
    }

    /// An object's names, weighted by this vocabulary.
    pub fn names<'a>(self: &Arc<Self>, name: &'a str, aliases: impl IntoIterator<Item = &'a str>) -> Names {
        let forms = std::iter::once(name).chain(aliases).map(|t| Phrase::complete(t).words).filter(|w| !w.is_empty()).collect();
        Names { forms, vocabulary: self.clone() }
    }
}

/// An object's name and aliases, normalised once.
#[derive(Clone, Debug)]
pub struct Names {
    forms: Vec<Vec<String>>,
    vocabulary: Arc<Vocabulary>,
}

impl Names {
    /// Names with every word weighing the same.
    pub fn new<'a>(name: &'a str, aliases: impl IntoIterator<Item = &'a str>) -> Self {
        Arc::new(Vocabulary::default()).names(name, aliases)
    }

    /// How well `phrase` names this object, in [0, 1]; an empty phrase names anything (1).
    pub fn similarity(&self, phrase: &Phrase) -> f64 {
        if phrase.is_empty() {
            return 1.0;
        }
        self.forms.iter().map(|f| form_similarity(phrase, f, &self.vocabulary)).fold(0.0, f64::max)
    }
}

fn form_similarity(phrase: &Phrase, name: &[String], vocabulary: &Vocabulary) -> f64 {
    let n = phrase.words.len();
    if !phrase.open && phrase.words.concat() == name.concat() {
        return 1.0;
    }
    let matched = |i: usize, w: &str| -> f64 {
        let p = &phrase.words[i];
        if phrase.last_partial && i == n - 1 {
            if w.starts_with(p.as_str()) || (p.len() > w.len() && p.starts_with(w) && stem(p) == *w) {
                1.0
            } else {
                0.0
            }
        } else {
            word_match(p, w)
        }
    };
    let weight = |w: &str| vocabulary.weight(w);
    let span_weight: f64 = phrase.words.iter().map(|w| weight(w)).sum();
    let span: f64 = (0..n).map(|i| weight(&phrase.words[i]) * name.iter().map(|w| matched(i, w)).fold(0.0, f64::max)).sum::<f64>() / span_weight;
    if phrase.open {
        // The rest of the name may still come: only what was said counts.
        return span;
    }
    let name_weight: f64 = name.iter().map(|w| weight(w)).sum();
    let covered: f64 = name.iter().map(|w| weight(w) * (0..n).map(|i| matched(i, w)).fold(0.0, f64::max)).sum::<f64>() / name_weight;
    0.7 * span + 0.3 * covered
}

fn word_match(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    if (a.len() >= 4 && b.starts_with(a)) || (b.len() >= 4 && a.starts_with(b)) {
        return 0.8;
    }
    let d = trigram_dice(a, b);
    if d >= 0.5 {
        d
    } else {
        0.0
    }
}

fn trigram_dice(a: &str, b: &str) -> f64 {
    let grams = |s: &str| -> Vec<[char; 3]> {
        let c: Vec<char> = format!("  {s} ").chars().collect();
        c.windows(3).map(|w| [w[0], w[1], w[2]]).collect()
    };
    let (ga, gb) = (grams(a), grams(b));
    let mut used = vec![false; gb.len()];
    let mut common = 0;
    for g in &ga {
        if let Some(j) = gb.iter().enumerate().position(|(j, h)| !used[j] && h == g) {
            used[j] = true;
            common += 1;
        }
    }
    2.0 * common as f64 / (ga.len() + gb.len()) as f64
}

fn words(text: &str) -> Vec<String> {
    let folded: String = text
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            c if c.is_alphanumeric() => c,
            _ => ' ',
        })
        .collect();
    folded.split_whitespace().map(str::to_string).collect()
}

fn stem(w: &str) -> String {
    if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") {
        w[..w.len() - 1].to_string()
    } else {
        w.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(name: &str, aliases: &[&'static str]) -> Names {
        Names::new(name, aliases.iter().copied())
    }

    #[test]
    fn a_name_and_its_aliases_match_fully() {
        let coke = names("coke can", &["coca cola"]);
        assert_eq!(coke.similarity(&Phrase::complete("coke can")), 1.0);
        assert_eq!(coke.similarity(&Phrase::complete("the Coca-Cola")), 1.0);
        assert_eq!(coke.similarity(&Phrase::partial("")), 1.0);
    }

    #[test]
    fn partial_spans_score_by_their_best_completion() {
        let coke = names("coke can", &[]);
        assert_eq!(coke.similarity(&Phrase::partial("co")), 1.0);
        assert_eq!(coke.similarity(&Phrase::partial("coke c")), 1.0);
        assert_eq!(coke.similarity(&Phrase::partial("pe")), 0.0);
        assert_eq!(coke.similarity(&Phrase::partial("coke ")), 1.0);
        assert_eq!(names("kettle chips", &[]).similarity(&Phrase::partial("kettle chips")), 1.0);
    }

    #[test]
    fn unrelated_words_do_not_name_an_object() {
        let apple = names("apple", &["green apple"]);
        for phrase in ["hammer", "coke can", "table", "orange"] {
            assert!(apple.similarity(&Phrase::complete(phrase)) < NAMING_THRESHOLD, "{phrase}");
        }
    }
}

#[cfg(test)]
mod unseen_phrases {
    use super::*;
    use protocol::kitchen::CATALOGUE;

    /// The best-named catalogue object for `phrase`, its score and the runner-up's.
    fn best(phrase: &str) -> (&'static str, f64, f64) {
        let p = Phrase::complete(phrase);
        let vocabulary = Arc::new(Vocabulary::new(CATALOGUE.iter().map(|e| (e.name, e.aliases))));
        let mut scored: Vec<(&'static str, f64)> =
            CATALOGUE.iter().map(|e| (e.name, vocabulary.names(e.name, e.aliases.iter().copied()).similarity(&p))).collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        (scored[0].0, scored[0].1, scored[1].1)
    }

    /// Phrases written for this test: none is a catalogue name or alias.
    #[test]
    fn phrases_the_scorer_was_not_built_from_name_the_right_object() {
        let cases = [
            ("can of coca-cola", "coke can"),
            ("kettle chip bag", "kettle chips"),
            ("jalapeño chips", "jalapeno chips"),
            ("redbull", "red bull can"),
            ("bottled water", "water bottle"),
            ("the water", "water bottle"),
            ("banan", "banana"),
            ("a kitchen sponge", "sponge"),
            ("grapefruit soda cans", "grapefruit soda can"),
            ("multi grain chips", "multigrain chips"),
            ("pepsi can please", "pepsi can"),
            ("rice chip", "rice chips"),
            ("paper towels", "towel"),
            ("energy bars", "energy bar"),
        ];
        for (phrase, want) in cases {
            assert!(CATALOGUE.iter().all(|e| e.name != phrase && !e.aliases.contains(&phrase)), "{phrase} is in the catalogue");
            let (got, score, runner_up) = best(phrase);
            assert_eq!(got, want, "{phrase:?}: score {score:.2}, runner-up {runner_up:.2}");
            assert!(score >= NAMING_THRESHOLD, "{phrase:?} names {want} only at {score:.2}");
            assert!(score > runner_up, "{phrase:?}: a tie with the runner-up at {score:.2}");
        }
    }

    #[test]
    fn another_object_of_the_same_kind_is_not_named() {
        for (phrase, other) in
            [("pepsi can", "coke can"), ("lime soda can", "grapefruit soda can"), ("rice chips", "kettle chips"), ("red bull can", "tea can")]
        {
            let vocabulary = Arc::new(Vocabulary::new(CATALOGUE.iter().map(|e| (e.name, e.aliases))));
            let e = protocol::kitchen::entry(other).unwrap();
            let s = vocabulary.names(e.name, e.aliases.iter().copied()).similarity(&Phrase::complete(phrase));
            assert!(s < NAMING_THRESHOLD, "{phrase:?} names the {other} at {s:.2}");
        }
    }

    #[test]
    fn phrases_that_name_nothing_in_the_kitchen_stay_below_the_threshold() {
        for phrase in ["hammer", "screwdriver", "laptop", "fork", "car keys"] {
            let (got, score, _) = best(phrase);
            assert!(score < NAMING_THRESHOLD, "{phrase:?} named {got} at {score:.2}");
        }
    }
}
