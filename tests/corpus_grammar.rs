//! The shipped model's corpus and the Rust skill grammars must agree: every tabletop step the
//! corpus generator writes parses with `protocol::tabletop`, every grid step with
//! `protocol::grid`.

use protocol::grid::GridSkill;
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
    let (mut tabletop, mut grid) = (0, 0);
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
        } else if skill.starts_with("open the ") || skill.starts_with("drop the ") || skill.contains(" next to the ") || skill == "go to the goal" || skill.ends_with(" door") {
            // Steps only the grid maze has.
            GridSkill::parse(skill).unwrap_or_else(|e| panic!("corpus line {line:?}: {e}"));
            grid += 1;
        } else if GridSkill::parse(skill).is_ok() {
            grid += 1;
        }
    }
    assert!(tabletop > 500, "only {tabletop} tabletop steps in the sample");
    assert!(grid > 100, "only {grid} grid steps in the sample");
}
