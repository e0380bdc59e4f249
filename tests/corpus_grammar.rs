//! The shipped model's corpus and the Rust skill grammar must agree: every tabletop step the
//! corpus generator writes parses with `protocol::tabletop`.

use protocol::tabletop::TabletopSkill;
use std::process::Command;

#[test]
fn corpus_sample_parses() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/train/corpus.py");
    let out = match Command::new("python3").args([script, "400"]).output() {
        Ok(out) => out,
        Err(e) => panic!("python3 is needed to run {script}: {e}"),
    };
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut tabletop = 0;
    for line in text.lines() {
        // "N. <skill>." or "N. <skill>. (failed)"
        let Some((number, rest)) = line.split_once(". ") else { continue };
        if number.parse::<u32>().is_err() {
            continue;
        }
        let skill = rest.trim_end_matches(" (failed)").trim_end_matches('.');
        if skill.starts_with("pick up the ") && skill.contains(" and place it ") || skill == "done" {
            TabletopSkill::parse(skill).unwrap_or_else(|e| panic!("corpus line {line:?}: {e}"));
            tabletop += 1;
        }
    }
    assert!(tabletop > 500, "only {tabletop} tabletop steps in the sample");
}
