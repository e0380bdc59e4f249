//! bench/explicit/run.py reads its requests file before it plans anything: a bad line is
//! refused with the file, the line number and what was wrong.

use std::process::Command;

fn run_with(requests: &str) -> (Option<i32>, String) {
    let dir = std::env::temp_dir().join(format!("grounded-explicit-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    let file = dir.join(format!("requests-{}.tsv", requests.len()));
    std::fs::write(&file, requests).expect("write the requests");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/explicit/run.py");
    // No grounded binary is needed: the file is refused before any scene is asked for.
    let out = Command::new("python3")
        .args([script, "--grounded", "/nonexistent/grounded", "--requests", file.to_str().expect("utf-8"), "--out", dir.to_str().expect("utf-8")])
        .output()
        .expect("python3 runs run.py");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn an_unknown_kind_or_slot_is_refused_with_the_line() {
    let (code, stderr) = run_with("# a comment\nblock-in-bowl\tput the {block1} in the {bowl1}\nblock-in-cup\tput the {block1} in the cup\n");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains(":3:") && stderr.contains("block-in-cup") && stderr.contains("block-in-bowl"), "{stderr}");
    let (code, stderr) = run_with("block-in-bowl\tput the {block1} in the {bowl9}\n");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains(":1:") && stderr.contains("unknown slot(s) bowl9") && stderr.contains("bowl1"), "{stderr}");
    let (code, stderr) = run_with("block-in-bowl\t   \n");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains(":1:") && stderr.contains("kind<TAB>wording"), "{stderr}");
    let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!("grounded-explicit-bench-{}", std::process::id())));
}
