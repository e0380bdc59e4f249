//! Why each token was chosen: for every decoded token, its candidates with the LM's
//! log-probability, each grounded model's score and the combined score, as a table and as
//! bar charts on the `decode_step` timeline.

use super::{paths, Dashboard};
use crate::decoder::score_text as score;
use crate::planner::{Proposal, StepExplanation};
use std::fmt::Write as _;

/// The candidates shown per token.
const SHOWN: usize = 8;

/// How many `decode_step` ticks a step's explanation takes (one per token; one for SayCan).
pub(super) fn token_count(e: &StepExplanation) -> usize {
    match e {
        StepExplanation::Tokens(t) => t.len(),
        StepExplanation::Skills(_) => 1,
    }
}

/// A finite stand-in for minus infinity in the bar charts (a bar must have a height).
fn bar(v: f32) -> f64 {
    f64::from(v).max(-50.0)
}

/// A token as it reads in a Markdown table cell: quoted, escapes visible (`" blue"`, `"\n"`).
fn token_text(token: &str) -> String {
    format!("{token:?}").replace('|', "\\|").replace('`', "'")
}

/// Markdown table of one token's candidates, the chosen one in bold.
pub(super) fn token_table(p: &Proposal, token: usize) -> Option<String> {
    let StepExplanation::Tokens(choices) = &p.explanation else { return None };
    let c = choices.get(token)?;
    let mut t = format!(
        "### Step {}, token {} of {}: chose `{}`\n\nskill so far: `{}`\n\n| candidate | LM log p |",
        p.index,
        token + 1,
        choices.len(),
        token_text(&c.chosen),
        choices[..=token].iter().map(|c| &*c.chosen).collect::<String>().trim_start()
    );
    for m in &p.models {
        let _ = write!(t, " {m} |");
    }
    t.push_str(" combined |\n|---|---:|");
    for _ in &p.models {
        t.push_str("---:|");
    }
    t.push_str("---:|\n");
    for cand in c.candidates.iter().take(SHOWN) {
        let beyond = if cand.beyond_top_k { " (beyond top-k)" } else { "" };
        let name = format!("`{}`{beyond}", token_text(&cand.token));
        let chosen = cand.token == c.chosen;
        let b = |s: String| if chosen { format!("**{s}**") } else { s };
        let _ = write!(t, "| {} | {} |", b(name), b(score(cand.lm)));
        for g in cand.grounded.iter().take(p.models.len()) {
            let _ = write!(t, " {} |", b(score(*g)));
        }
        let _ = writeln!(t, " {} |", b(score(cand.total)));
    }
    if c.normaliser != 0.0 {
        let _ = write!(t, "\nbeam normaliser subtracted: {}", score(c.normaliser));
    }
    if let Some(d) = &p.departure {
        let _ = write!(t, "\n\n**departure from what the model wanted:** {d}");
    }
    if let Some(d) = &p.deferred {
        let _ = write!(t, "\n\n**allowed only later:** {}", d.as_deferred());
    }
    if let Some(d) = &p.done_instead {
        let _ = write!(t, "\n\n**why `done`:** {d}");
    }
    Some(t)
}

fn skills_table(p: &Proposal) -> Option<String> {
    let StepExplanation::Skills(skills) = &p.explanation else { return None };
    let mut t =
        format!("### Step {}: chose `{}` (whole skills, SayCan)\n\n| skill | LM log p | grounded | combined |\n|---|---:|---:|---:|\n", p.index, p.skill);
    for s in skills.iter().take(SHOWN) {
        let g: Vec<String> = s.grounded.iter().map(|v| score(*v)).collect();
        let _ = writeln!(t, "| `{}` | {} | {} | {} |", s.skill, score(s.lm), g.join(" / "), score(s.total));
    }
    Some(t)
}

pub(super) fn log_explanation(d: &Dashboard, p: &Proposal, first_step: i64) {
    match &p.explanation {
        StepExplanation::Tokens(choices) => {
            for (i, c) in choices.iter().enumerate() {
                d.at(Some(first_step + i as i64));
                if let Some(table) = token_table(p, i) {
                    d.log(paths::CANDIDATES, &rerun::TextDocument::from_markdown(table));
                }
                let shown = &c.candidates[..c.candidates.len().min(SHOWN)];
                let totals: Vec<f64> = shown.iter().map(|c| bar(c.total)).collect();
                let lm: Vec<f64> = shown.iter().map(|c| bar(c.lm)).collect();
                d.log(paths::COMBINED, &rerun::BarChart::new(totals).with_color(rerun::Color::from_rgb(230, 120, 30)));
                d.log(paths::LM, &rerun::BarChart::new(lm).with_color(rerun::Color::from_rgb(60, 120, 220)));
            }
        }
        StepExplanation::Skills(skills) => {
            d.at(Some(first_step));
            if let Some(table) = skills_table(p) {
                d.log(paths::CANDIDATES, &rerun::TextDocument::from_markdown(table));
            }
            let shown = &skills[..skills.len().min(SHOWN)];
            d.log(paths::COMBINED, &rerun::BarChart::new(shown.iter().map(|s| bar(s.total)).collect::<Vec<_>>()));
            d.log(paths::LM, &rerun::BarChart::new(shown.iter().map(|s| bar(s.lm)).collect::<Vec<_>>()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decoder::{CandidateScore, TokenChoice};

    #[test]
    fn the_table_shows_why_green_lost_to_blue() {
        let cand = |token: &str, lm: f32, aff: f32, total: f32| CandidateScore { token: token.into(), lm, grounded: vec![aff], total, beyond_top_k: false };
        let choice = TokenChoice {
            chosen: " blue".into(),
            normaliser: 0.0,
            candidates: vec![cand(" blue", -1.2, -0.1, -1.3), cand(" green", -0.4, f32::NEG_INFINITY, f32::NEG_INFINITY)],
        };
        let p = Proposal {
            index: 1,
            skill: "pick up the blue block".into(),
            score: -1.3,
            lm_score: -1.2,
            models: vec!["affordance".into()],
            explanation: StepExplanation::Tokens(vec![choice]),
            departure: None,
            deferred: None,
            done_instead: None,
        };
        let t = token_table(&p, 0).expect("a table");
        assert!(!t.contains("departure"), "{t}");
        assert!(t.contains("| candidate | LM log p | affordance | combined |"), "{t}");
        assert!(t.contains("| **`\" blue\"`** | **-1.20** | **-0.10** | **-1.30** |"), "{t}");
        assert!(t.contains("| `\" green\"` | -0.40 | -inf | -inf |"), "{t}");
        assert_eq!(token_table(&p, 1), None);
        assert_eq!(token_count(&p.explanation), 1);
        // A wish the world allows only later is shown as such, not as a departure.
        let wish =
            crate::decoder::Departure { before: " pick up the".into(), wanted: " green".into(), chosen: " blue".into(), token_nats: 0.8, tokens: 1, nats: 0.8 };
        let later = Proposal { deferred: Some(wish.clone()), ..p.clone() };
        let t = token_table(&later, 0).expect("a table");
        assert!(t.contains("**allowed only later:** after \"pick up the\" the model wanted \" green\"") && !t.contains("departure from"), "{t}");
        // A `done` said in place of a departing skill says so, at each of its tokens.
        let far = crate::decoder::Departure { token_nats: 9.0, nats: 9.0, ..wish };
        let instead = crate::planner::DoneInstead { unfinished: "pick up the blue".into(), departure: far };
        let done = Proposal { skill: "done".into(), done_instead: Some(instead), ..p };
        let t = token_table(&done, 0).expect("a table");
        assert!(
            t.contains("**why `done`:** said \"done\" in place of \"pick up the blue\", which departs: after \"pick up the\" the model wanted \" green\""),
            "{t}"
        );
    }
}
