//! The held-out paraphrases in bench/paraphrases/ are a fair test of the shipped model:
//! every line names a real task and real slots, every task has its share of wordings, and
//! no paraphrase, nor any 5-word window of one, occurs in an instruction of the training
//! corpus, regenerated here from tools/train/corpus.py with the seed and size
//! models/planner-gpt2/training.json records, and checked against the hash it records; nor
//! does a request for nothing of bench/negation/ or tools/train/dev/negation/ in a corpus of
//! version 5 or later (those that hold requests for nothing).

mod common;

use common::words_of;
use grounded::eval::{DomainTasks, EvalTask};
use grounded::wordings::{load, Wording};
use protocol::Domain;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A wordings file, checked as `grounded eval` checks it for the shipped model.
fn wordings(path: &Path, domain: Domain) -> Vec<Wording> {
    let alphabet = grounded::lm::LanguageModel::alphabet_of(&grounded::default_model_dir()).expect("the shipped model's tokenizer");
    load(path, &DomainTasks(domain), &alphabet).unwrap_or_else(|e| panic!("{e}"))
}

fn paraphrases(domain: Domain) -> Vec<Wording> {
    wordings(&repo().join("bench/paraphrases").join(format!("{domain}.tsv")), domain)
}

#[test]
fn every_task_has_its_share_of_paraphrases() {
    for (domain, least) in [(Domain::TABLETOP, 6), (Domain::GRID, 4), (Domain::KITCHEN, 4)] {
        let lines = paraphrases(domain);
        for task in EvalTask::all(domain) {
            let n = lines.iter().filter(|w| w.task == task.id()).count();
            assert!(n >= least, "{domain} task {} has {n} paraphrases, fewer than {least}", task.id());
        }
        let mut seen = HashSet::new();
        for w in &lines {
            assert!(seen.insert(w.text.to_lowercase()), "{domain}: line {} repeats {:?}", w.line, w.text);
            // A paraphrase is not the task's own wording.
            let own = own_wording(domain, &w.task);
            assert_ne!(w.text.to_lowercase(), own.to_lowercase(), "{domain}: line {}", w.line);
        }
    }
}

fn own_wording(domain: Domain, task: &str) -> String {
    grounded::domains::domain(domain).expect("a domain").summary(task, 0).expect("a task").instruction
}

const WINDOW: usize = 5;

/// Every value a slot takes in the simulated episodes.
fn slot_values(name: &str) -> Vec<String> {
    let colours: Vec<String> = protocol::grid::Colour::ALL.iter().map(|c| c.name().to_string()).collect();
    match name {
        "place" => protocol::tabletop::CORNERS.iter().chain(protocol::tabletop::SIDES.iter()).map(|s| s.to_string()).collect(),
        "word" => sim::tabletop::catalog::WORDS.iter().map(|s| s.to_string()).collect(),
        "first" | "second" | "colour" | "room" => colours,
        "object" | "target" => colours.iter().flat_map(|c| protocol::grid::ObjectKind::ALL.iter().map(move |k| format!("{c} {}", k.name()))).collect(),
        other => panic!("no values known for slot {{{other}}}"),
    }
}

/// A wording with its slots filled every way the episodes can fill them.
fn filled(text: &str) -> Vec<String> {
    sim::wording::slots_in(text).fold(vec![String::new()], |partial, part| match part.expect("a well-formed slot") {
        sim::wording::Part::Text(t) => partial.into_iter().map(|p| p + t).collect(),
        sim::wording::Part::Slot(name) => partial.iter().flat_map(|p| slot_values(name).into_iter().map(move |v| format!("{p}{v}"))).collect(),
    })
}

/// A corpus the shipped model was trained on, as its training.json records it
/// (tools/train/train.py writes the record).
struct CorpusRecord {
    /// The generator's version (tools/train/corpus.py `VERSIONS`); none recorded means 1.
    version: u64,
    plans: u64,
    seed: u64,
    sha256: String,
    /// The characters its instructions hold, which grounded reads as what the model learned
    /// to read in one (src/lm/alphabet.rs).
    characters: Option<String>,
    /// How its letter orders were drawn (corpus.py `--orders`); none recorded means uniform.
    orders: String,
}

/// Every corpus the shipped model saw: its own run's and, for a run that went on from
/// another's model (`train.py --init-from`), that run's, and so on.
fn corpora_to_check() -> Vec<CorpusRecord> {
    let mut training: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("models/planner-gpt2/training.json")).expect("training.json")).expect("json");
    let mut out = Vec::new();
    loop {
        let corpus = &training["corpus"];
        assert!(!corpus.is_null(), "the shipped model's training.json records no corpus: export it with tools/train/train.py, which writes the record");
        let plans = corpus["train_plans"].as_u64().expect("corpus.train_plans in training.json");
        let seed = corpus["seed"].as_u64().expect("corpus.seed in training.json");
        let sha = corpus["corpus_sha256"].as_str().expect("corpus.corpus_sha256 in training.json");
        let version = if corpus["version"].is_null() { 1 } else { corpus["version"].as_u64().expect("corpus.version in training.json is a whole number") };
        let characters = corpus["instruction_characters"].as_str().map(str::to_string);
        let orders = if corpus["orders"].is_null() { "uniform" } else { corpus["orders"].as_str().expect("corpus.orders in training.json is text") };
        out.push(CorpusRecord { version, plans, seed, sha256: sha.to_string(), characters, orders: orders.to_string() });
        let before = training["init_from"].take();
        if before.is_null() {
            return out;
        }
        training = before;
    }
}

/// The corpus generator fills each slot of a paraphrase with the same values as the
/// simulated episodes do, so that its own held-out check (it redraws an instruction that
/// shares a window with a filled paraphrase) misses none: a word, place or colour added to
/// the simulator and not to tools/train/corpus.py fails here.
#[test]
fn the_corpus_generator_fills_the_slots_as_the_episodes_do() {
    let out = Command::new("python3").arg(repo().join("tools/train/corpus.py")).arg("--slot-values").output().expect("python3 runs tools/train/corpus.py");
    assert!(out.status.success(), "corpus.py --slot-values failed: {}", String::from_utf8_lossy(&out.stderr));
    let theirs: std::collections::BTreeMap<String, Vec<String>> =
        serde_json::from_slice(&out.stdout).expect("corpus.py --slot-values prints a JSON object of lists");
    let mut used = std::collections::BTreeSet::new();
    for domain in [Domain::TABLETOP, Domain::GRID, Domain::KITCHEN] {
        for p in paraphrases(domain) {
            for part in sim::wording::slots_in(&p.text) {
                if let sim::wording::Part::Slot(name) = part.expect("a well-formed slot") {
                    used.insert(name.to_string());
                }
            }
        }
    }
    assert!(used.len() >= 2, "the paraphrases use only the slots {used:?}");
    for name in used.iter().chain(theirs.keys()) {
        let mut ours = slot_values(name);
        ours.sort();
        let mut corpus = theirs.get(name).unwrap_or_else(|| panic!("corpus.py has no values for the slot {{{name}}}")).clone();
        corpus.sort();
        assert_eq!(corpus, ours, "tools/train/corpus.py fills {{{name}}} otherwise than the simulated episodes");
    }
}

/// The training corpora (see `corpora_to_check`), regenerated: each one's generator version
/// and its plans; `None` when WordNet (which the corpus generator reads) is not installed and
/// the run does not require it.
fn training_corpora() -> Option<Vec<(u64, String)>> {
    if !common::wordnet_here("the held-out check regenerates the training corpus") {
        return None;
    }
    // Every corpus regenerated at once, one process each: they take minutes one after the other.
    // Each one's errors go to a file, so that none waits on a full pipe while another is read.
    let runs: Vec<(CorpusRecord, PathBuf, std::process::Child)> = corpora_to_check()
        .into_iter()
        .enumerate()
        .map(|(i, record)| {
            let dir = std::env::temp_dir().join(format!("grounded-corpus-{}-{i}", std::process::id()));
            let errors = std::fs::File::create(dir.with_extension("stderr")).expect("create a file for corpus.py's errors");
            let child = Command::new("python3")
                .arg(repo().join("tools/train/corpus.py"))
                .args(["--write", dir.to_str().expect("utf-8 path"), "--plans", &record.plans.to_string(), "--heldout-plans", "10"])
                .args(["--seed", &record.seed.to_string(), "--version", &record.version.to_string(), "--orders", &record.orders])
                .stdout(std::process::Stdio::null())
                .stderr(errors)
                .spawn()
                .expect("python3 runs tools/train/corpus.py");
            (record, dir, child)
        })
        .collect();
    let mut corpora = Vec::new();
    for (CorpusRecord { version, plans, seed, sha256: sha, characters, .. }, dir, mut child) in runs {
        let status = child.wait().expect("wait for tools/train/corpus.py");
        let errors = std::fs::read_to_string(dir.with_extension("stderr")).unwrap_or_default();
        let _ = std::fs::remove_file(dir.with_extension("stderr"));
        assert!(status.success(), "corpus.py (version {version}) failed: {errors}");
        let info: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("corpus.json")).expect("corpus.json")).expect("json");
        assert_eq!(
            info["corpus_sha256"].as_str(),
            Some(sha.as_str()),
            "the regenerated corpus (version {version}, {plans} plans, seed {seed}) is not the one the shipped model was trained on: retrain (tools/train/README.md), or restore the generator"
        );
        assert_eq!(
            info["instruction_characters"].as_str(),
            characters.as_deref(),
            "the instruction characters training.json records of corpus version {version} are not the corpus's"
        );
        corpora.push((version, std::fs::read_to_string(dir.join("corpus-train.txt")).expect("corpus")));
        let _ = std::fs::remove_dir_all(&dir);
    }
    Some(corpora)
}

/// The instructions of `corpora`, each as its words.
fn instructions_of<'a>(corpora: impl Iterator<Item = &'a String>) -> Vec<Vec<String>> {
    corpora.flat_map(|c| c.lines()).filter_map(|l| l.strip_prefix("Instruction: ")).map(words_of).collect()
}

/// Every `WINDOW`-word window of a corpus's instructions (each as its words).
fn windows_of(instructions: &[Vec<String>]) -> HashSet<&[String]> {
    instructions.iter().flat_map(|ws| ws.windows(WINDOW)).collect()
}

/// Where a text (its words `ws`) is in a corpus: the first of its `WINDOW`-word windows among
/// the corpus's `windows`, or, for a text shorter than that, the corpus instruction that holds
/// it whole; `None` where it is not. A text without words cannot be checked, and says so.
fn in_corpus(ws: &[String], windows: &HashSet<&[String]>, instructions: &[Vec<String>]) -> Option<String> {
    if ws.is_empty() {
        Some("it has no words to compare".to_string())
    } else if ws.len() >= WINDOW {
        ws.windows(WINDOW).find(|w| windows.contains(w)).map(|w| format!("{:?} is in a training corpus", w.join(" ")))
    } else {
        instructions.iter().find(|i| i.windows(ws.len()).any(|x| x == ws)).map(|i| format!("{:?} occurs in a training corpus: {:?}", ws.join(" "), i.join(" ")))
    }
}

#[test]
fn no_paraphrase_nor_any_five_word_window_of_one_is_in_the_training_corpus() {
    let Some(corpora) = training_corpora() else { return };
    let instructions = instructions_of(corpora.iter().map(|(_, text)| text));
    assert!(instructions.len() > 10_000, "only {} instructions in the corpus", instructions.len());
    let windows = windows_of(&instructions);
    let mut checked = 0;
    for domain in [Domain::TABLETOP, Domain::GRID, Domain::KITCHEN] {
        for p in paraphrases(domain) {
            for text in filled(&p.text) {
                checked += 1;
                if let Some(found) = in_corpus(&words_of(&text), &windows, &instructions) {
                    panic!("{domain} line {}: {text:?}: {found}", p.line);
                }
            }
        }
    }
    assert!(checked > 255, "only {checked} filled paraphrases checked");
    // The requests for nothing: bench/negation/'s and the development set that chooses among
    // candidate models (tools/train/dev/negation/), against the corpora from version 5 on,
    // which hold such requests (the earlier ones, made before the requests were written, hold
    // none, and may share an everyday phrase with one by chance).
    let later = instructions_of(corpora.iter().filter(|(version, _)| *version >= 5).map(|(_, text)| text));
    assert!(later.len() > 10_000, "only {} instructions in the corpora from version 5 on", later.len());
    let later_windows = windows_of(&later);
    let mut requests = 0;
    for file in ["bench/negation/requests.tsv", "tools/train/dev/negation/requests.tsv"] {
        for r in common::nothing_requests(file) {
            requests += 1;
            if let Some(found) = in_corpus(&words_of(&r.text), &later_windows, &later) {
                panic!("{file}:{}: {:?}: {found}, of version 5 or later", r.line, r.text);
            }
        }
    }
    assert!(requests >= 60, "only {requests} requests for nothing checked");
}

#[test]
fn the_check_finds_a_window_that_is_there() {
    // The same comparison, on texts that share a window with a corpus line or lie whole
    // inside one: each must be found, and a text that does neither must not.
    let corpus = vec![words_of("please, line the letters up from A to Z now")];
    let windows = windows_of(&corpus);
    let found = in_corpus(&words_of("Could you line the letters up from A through Z?"), &windows, &corpus);
    assert!(found.as_deref().is_some_and(|f| f.contains("line the letters up from")), "{found:?}");
    let found = in_corpus(&words_of("from A to Z"), &windows, &corpus);
    assert!(found.as_deref().is_some_and(|f| f.contains("please line the letters")), "{found:?}");
    assert_eq!(in_corpus(&words_of("Could you sort the letters from A through Z?"), &windows, &corpus), None);
    assert_eq!(in_corpus(&words_of("from Z to A"), &windows, &corpus), None);
    assert_eq!(words_of("I\u{2019}d like it, OK?"), vec!["i'd", "like", "it", "ok"]);
    assert_eq!(filled("to the {place}").len(), 8);
}

/// Words in a row that a development wording may not share with a paraphrase: one more than
/// the corpus check's window, since both sets are plain requests about the same tasks and
/// share short phrases ("the red key from the") by nature.
const DEV_WINDOW: usize = WINDOW + 1;

/// The development wordings in tools/train/dev/ (written to choose corpus changes) are real
/// instruction files, none shares a 6-word window with a paraphrase here, and none holds a
/// shorter paraphrase whole: choosing by them is not choosing by the test set.
#[test]
fn the_development_wordings_are_apart_from_the_paraphrases() {
    let mut test_windows: HashSet<Vec<String>> = HashSet::new();
    let mut test_texts: Vec<Vec<String>> = Vec::new();
    for domain in [Domain::TABLETOP, Domain::GRID, Domain::KITCHEN] {
        for p in paraphrases(domain) {
            for text in filled(&p.text) {
                let ws = words_of(&text);
                test_windows.extend(ws.windows(DEV_WINDOW).map(<[String]>::to_vec));
                test_texts.push(ws);
            }
        }
    }
    let mut checked = 0;
    for domain in [Domain::TABLETOP, Domain::GRID] {
        let path = repo().join("tools/train/dev").join(format!("{domain}.tsv"));
        let dev = wordings(&path, domain);
        assert!(dev.len() >= 20, "{}: only {} wordings", path.display(), dev.len());
        for d in dev {
            for text in filled(&d.text) {
                let ws = words_of(&text);
                checked += 1;
                if let Some(w) = ws.windows(DEV_WINDOW).find(|w| test_windows.contains(*w)) {
                    panic!("{} line {}: {:?} is also in a paraphrase of bench/paraphrases/", path.display(), d.line, w.join(" "));
                }
                // A short paraphrase (fewer words than the window) must not be inside it whole.
                if let Some(t) = test_texts.iter().find(|t| t.len() < DEV_WINDOW && ws.windows(t.len()).any(|x| x == t.as_slice())) {
                    panic!("{} line {}: {text:?} holds the whole paraphrase {:?}", path.display(), d.line, t.join(" "));
                }
            }
        }
    }
    assert!(checked > 70, "only {checked} filled development wordings checked");
}

/// The longest part of a paraphrase between its slots, lower case, single-spaced, without
/// the punctuation around it: what a document quoting the paraphrase would hold.
fn quotable_part(text: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        parts.push(rest[..start].to_string());
        rest = rest[start..].find('}').map_or("", |end| &rest[start + end + 1..]);
    }
    parts.push(rest.to_string());
    parts
        .into_iter()
        .map(|p| p.to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ").trim_matches(|c: char| c.is_ascii_punctuation() || c == ' ').to_string())
        .max_by_key(String::len)
        .unwrap_or_default()
}

/// The paraphrases of `lines` (one file's) that `docs` quotes: those whose quotable part,
/// of 4 words or more, occurs in it.
fn quoted_in<'a>(docs: &str, lines: &'a [Wording]) -> Vec<&'a Wording> {
    lines
        .iter()
        .filter(|w| {
            let part = quotable_part(&w.text);
            part.split(' ').count() >= 4 && docs.contains(&part)
        })
        .collect()
}

/// Every paraphrase a document quotes is listed in bench/paraphrases/quoted.txt (so that
/// bench/paraphrases/unquoted.py can give each family without what corpus design may have
/// read), and every line listed there is a paraphrase.
#[test]
fn every_paraphrase_a_document_quotes_is_listed_as_quoted() {
    let listed: Vec<String> = std::fs::read_to_string(repo().join("bench/paraphrases/quoted.txt"))
        .expect("bench/paraphrases/quoted.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    let mut files: Vec<PathBuf> =
        ["README.md", "BENCHMARKS.md", "models/planner-gpt2/README.md", "tools/train/README.md"].iter().map(|f| repo().join(f)).collect();
    for entry in std::fs::read_dir(repo().join("docs")).expect("docs/") {
        let path = entry.expect("a docs/ entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    let docs = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap_or_else(|e| panic!("{}: {e}", f.display())))
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let mut all = Vec::new();
    for domain in [Domain::TABLETOP, Domain::GRID, Domain::KITCHEN] {
        let lines = paraphrases(domain);
        for w in quoted_in(&docs, &lines) {
            assert!(listed.contains(&w.text), "{domain} line {}: {:?} is quoted in a document but not listed in bench/paraphrases/quoted.txt", w.line, w.text);
        }
        all.extend(lines.into_iter().map(|w| w.text));
    }
    for l in &listed {
        assert!(all.contains(l), "bench/paraphrases/quoted.txt lists {l:?}, which no paraphrase file holds");
    }
    // The check finds a quotation that is there.
    let tabletop = paraphrases(Domain::TABLETOP);
    let one = &tabletop[0];
    let doc = format!("as the model card says, \"{}\" fails", quotable_part(&one.text));
    assert_eq!(quoted_in(&doc, &tabletop).first().map(|w| &w.text), Some(&one.text));
    assert_eq!(quotable_part("Move the {object}, then stop by the {target}!"), "then stop by the");
}
