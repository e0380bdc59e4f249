//! `grounded bench --objects 5,10,20,40`: how plan cost grows with the scene.
//!
//! The paper's claim: SayCan scores every admissible skill, so its cost grows with the skill
//! space, and grounded decoding's does not (it reads the language model once per token of
//! the chosen skill, whatever the number of alternatives). Each scene holds blocks and bowls
//! of matching colours (half each, up to the 11 colours), then box-packing items; the
//! instruction is the matching-bowls one. For each size: the admissible skills at the first
//! step, and per method the LM tokens, forward passes, steps and plan latency (median).

use super::{median, ms, plan_in_turns, BenchError, Variant};
use crate::decoder::Search;
use crate::planner::{Method, Planner};
use protocol::{Domain, ObjectKind, Observation, SceneObject};
use sim::tabletop::catalog::{COLOURS, ITEMS};
use std::fmt::Write;

/// The most objects a sweep scene may hold (11 blocks, 11 bowls, 20 items).
pub const MAX_OBJECTS: usize = 2 * COLOURS.len() + ITEMS.len();

/// A tabletop scene of `n` objects (at most [`MAX_OBJECTS`]): blocks and bowls of matching
/// colours, then items, on a grid across the table.
pub fn scene_with(n: usize) -> Observation {
    let pairs = (n / 2).min(COLOURS.len());
    let mut named: Vec<(String, ObjectKind)> = Vec::new();
    for (colour, _) in COLOURS.iter().take(pairs) {
        named.push((format!("{colour} block"), ObjectKind::Block));
        named.push((format!("{colour} bowl"), ObjectKind::Bowl));
    }
    named.extend(ITEMS.iter().take(n.saturating_sub(named.len())).map(|i| (i.name.to_string(), ObjectKind::Item)));
    named.truncate(n);
    let objects = named
        .into_iter()
        .enumerate()
        .map(|(i, (name, kind))| {
            let (col, row) = ((i % 8) as f64, (i / 8) as f64);
            SceneObject::new(format!("o{i}"), name, kind, [-0.35 + 0.1 * col, -0.2 + 0.1 * row, 0.0])
        })
        .collect();
    Observation::new(Domain::TABLETOP, objects)
}

/// One method on one scene size.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ObjectsCell {
    pub method: Method,
    pub search: Option<Search>,
    pub latency_ms: f64,
    pub lm_tokens: usize,
    pub forward_passes: usize,
    pub steps: usize,
}

/// One scene size.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ObjectsRow {
    pub objects: usize,
    /// Admissible skills at the first step (`done` included).
    pub admissible: usize,
    pub methods: Vec<ObjectsCell>,
}

/// Plan the matching-bowls instruction on scenes of each size with gd-greedy, gd-beam and
/// SayCan, `repeats` times each, the methods taking turns.
pub fn sweep(planner: &mut Planner, sizes: &[usize], instruction: &str, repeats: usize) -> Result<Vec<ObjectsRow>, BenchError> {
    let search = planner.config.search;
    let variants = [
        Variant { method: Method::GdGreedy, search: None },
        Variant { method: Method::GdBeam, search: Some(search) },
        Variant { method: Method::Saycan, search: None },
    ];
    let mut rows = Vec::new();
    for &n in sizes {
        if n == 0 || n > MAX_OBJECTS {
            return Err(BenchError::Usage(format!("--objects {n}: a sweep scene holds 1 to {MAX_OBJECTS} objects")));
        }
        let scene = scene_with(n);
        let admissible = planner.affordance.space().admissible(&scene).map_err(|e| BenchError::Plan(crate::planner::PlanError::Decode(e.into())))?.len();
        let runs = plan_in_turns(planner, &variants, instruction, &scene, repeats)?;
        let methods = variants
            .iter()
            .zip(runs)
            .filter_map(|(v, plans)| {
                let last = plans.last()?.clone();
                Some(ObjectsCell {
                    method: v.method,
                    search: v.search,
                    latency_ms: ms(median(plans.iter().map(|p| p.elapsed).collect())),
                    lm_tokens: last.tokens.total(),
                    forward_passes: last.tokens.forward_passes,
                    steps: last.steps.len(),
                })
            })
            .collect();
        rows.push(ObjectsRow { objects: n, admissible, methods });
    }
    Ok(rows)
}

/// The sweep as a Markdown table: per size, each method's tokens and latency, and both per
/// plan step (plans of different lengths compare fairly only per step).
pub fn markdown(rows: &[ObjectsRow], instruction: &str, repeats: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## `grounded bench --objects`\n");
    let _ = writeln!(out, "- machine: {}", super::machine());
    let _ = writeln!(out, "- instruction: \"{instruction}\"; blocks and bowls of matching colours, then items; median of {repeats} plans\n");
    let _ = writeln!(
        out,
        "| objects | admissible skills (first step) | method | steps | LM tokens per plan | per step | forward passes | plan latency (ms) | per step (ms) |"
    );
    let _ = writeln!(out, "|---:|---:|---|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        for c in &r.methods {
            let label = match c.search {
                Some(s) => format!("{} ({s})", c.method),
                None => c.method.to_string(),
            };
            let steps = c.steps.max(1) as f64;
            let _ = writeln!(
                out,
                "| {} | {} | {label} | {} | {} | {:.0} | {} | {:.1} | {:.1} |",
                r.objects,
                r.admissible,
                c.steps,
                c.lm_tokens,
                c.lm_tokens as f64 / steps,
                c.forward_passes,
                c.latency_ms,
                c.latency_ms / steps
            );
        }
    }
    out
}
