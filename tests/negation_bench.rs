//! bench/negation/run.py reads its requests before it plans anything, and refuses a bad line
//! with the file, the line number and what was wrong; a request forbidding an object its
//! scene lacks (which would measure nothing) is refused naming what the scene has.

mod common;

use std::path::PathBuf;
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("grounded-negation-bench-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
}

fn run_with(name: &str, requests: &str, grounded: &str) -> (Option<i32>, String, String) {
    let dir = scratch(name);
    let file = dir.join("requests.tsv");
    std::fs::write(&file, requests).expect("write the requests");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/negation/run.py");
    let out = Command::new("python3")
        .args([script, "--grounded", grounded, "--methods", "gd-beam", "--requests", file.to_str().expect("utf-8"), "--out", dir.to_str().expect("utf-8")])
        .output()
        .expect("python3 runs run.py");
    let _ = std::fs::remove_dir_all(&dir);
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_malformed_line_is_refused_with_its_number() {
    // No grounded binary is needed: the file is refused before any scene is made.
    for bad in ["matching-bowls\t-\tnever mind\n", "matching-bowls:x\t-\tnever mind\n", "matching-bowls:0\tred block\t  \n", "matching-bowls:0\tnever mind\n"] {
        let (code, _, stderr) = run_with("malformed", &format!("# a comment\n\n{bad}"), "/nonexistent/grounded");
        assert_eq!(code, Some(1), "{bad:?}: {stderr}");
        assert!(stderr.contains(":3:") && stderr.contains("task:seed<TAB>"), "{bad:?}: {stderr}");
    }
}

#[test]
fn a_request_forbidding_what_the_scene_lacks_is_refused_and_the_rest_is_planned() {
    let grounded = env!("CARGO_BIN_EXE_grounded");
    // matching-bowls seed 0 has a red block and no blue one (examples: `grounded scene`).
    let (code, _, stderr) = run_with("absent", "matching-bowls:0\tblue block\tdon't touch the blue block\n", grounded);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains(":1:") && stderr.contains("has no 'blue block'") && stderr.contains("red block"), "{stderr}");
    // Doors and keys of the grid and the kitchen's detections are names a request may forbid.
    let (code, stdout, stderr) = run_with(
        "present",
        "matching-bowls:0\tred block\tdon't touch the red block\nlocked-room:0\tgrey key\tleave the grey key\nbring-apple:0\tapple\tno apple\n",
        grounded,
    );
    assert_eq!(code, Some(0), "{stderr}");
    for domain in ["tabletop", "grid", "kitchen", "all"] {
        assert!(stdout.contains(&format!("| gd-beam | {domain} |")), "{stdout}");
    }
}

/// The requests are held out from the training corpus (version 5 on), and a document that
/// quotes one invites a corpus written to it: none of the documents, nor the corpus's own
/// grammar of requests for nothing, holds one word for word.
#[test]
fn no_document_quotes_a_request() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let lines: Vec<String> = common::nothing_requests("bench/negation/requests.tsv").into_iter().map(|r| r.text.to_lowercase()).collect();
    assert!(lines.len() >= 30, "only {} requests", lines.len());
    let mut documents = vec![
        root.join("README.md"),
        root.join("BENCHMARKS.md"),
        root.join("models/planner-gpt2/README.md"),
        root.join("tools/train/README.md"),
        root.join("tools/train/nothing.py"),
        root.join("tools/train/corpus.py"),
    ];
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/") {
        let path = entry.expect("a docs/ entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            documents.push(path);
        }
    }
    for doc in documents {
        let text = std::fs::read_to_string(&doc).expect("a document").to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ");
        for line in &lines {
            assert!(!text.contains(line.as_str()), "{} quotes the held-out request {line:?}", doc.display());
        }
    }
}

/// The words of each request of a requests file (`common::words_of`).
fn request_words(path: &str) -> Vec<Vec<String>> {
    common::nothing_requests(path).iter().map(|r| common::words_of(&r.text)).collect()
}

/// The first `n` words in a row (fewer if `b` is shorter) that `b` shares with `d`.
fn shared_run<'a>(d: &[String], b: &'a [String], n: usize) -> Option<&'a [String]> {
    let n = n.min(b.len());
    b.windows(n).find(|w| d.windows(n).any(|x| x == *w))
}

/// The development requests (tools/train/dev/negation/, which choose among candidate models)
/// are apart from the bench's: none shares 4 words in a row with a bench request, nor holds a
/// shorter one whole, so that choosing by them is not choosing by the bench.
#[test]
fn the_development_requests_are_apart_from_the_bench() {
    const RUN: usize = 4;
    let bench = request_words("bench/negation/requests.tsv");
    let dev = request_words("tools/train/dev/negation/requests.tsv");
    assert!(dev.len() >= 30, "only {} development requests", dev.len());
    for d in &dev {
        for b in &bench {
            let shared = shared_run(d, b, RUN);
            assert!(shared.is_none(), "the development request {:?} shares {:?} with the bench's {:?}", d.join(" "), shared, b.join(" "));
        }
    }
    // The comparison finds what is there: a run inside, and a short request whole.
    let words = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
    assert!(shared_run(&words("you should leave the lemon alone"), &words("leave the lemon alone please"), RUN).is_some());
    assert!(shared_run(&words("please stay put now"), &words("stay put"), RUN).is_some());
    assert!(shared_run(&words("stay here"), &words("stay put"), RUN).is_none());
}
