//! `grounded bench --prefix-cache`: what the shared-prefix cache saves when prompts share a
//! long start (a few-shot prefix), measured with it and without it on the same planner.
//!
//! Four cases, each after a first plan that fills the cache (or, without the cache, does
//! nothing for the next), each planned `repeats` times, median reported:
//!
//! * another instruction after the first (they share the few-shot prefix);
//! * the same instruction again;
//! * a replan after a failed skill: the first plan's instruction planned anew on the scene a
//!   failed skill left (a block knocked elsewhere), as when a robot's run is aborted and
//!   the instruction sent again;
//! * the operator's clarification ("none of these", with words): the prompt re-read with
//!   the words after the instruction.
//!
//! Prefill: the prompt tokens the language model ran before the first skill (or before the
//! skill after the clarification), and the wall time of that prefill. Plan: the whole
//! open-loop plan's latency. The plans are compared between the two settings.

use super::{median, ms, BenchError};
use crate::planner::{Method, Planner};
use crate::setup::PlannerOptions;
use protocol::Observation;
use std::fmt::Write;
use std::time::Instant;

/// What to plan: a first instruction, another, and the scene before and after a failure.
pub struct PrefixCacheBench<'a> {
    pub scene: &'a Observation,
    /// The scene a failed skill left.
    pub after_failure: &'a Observation,
    pub first: &'a str,
    pub second: &'a str,
    pub clarification: &'a str,
    pub repeats: usize,
}

/// One case, measured one way.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Measured {
    pub prefill_tokens: usize,
    pub prefill_ms: f64,
    pub plan_ms: f64,
    pub plan: Vec<String>,
}

/// One case, both ways.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CaseResult {
    pub case: &'static str,
    pub without: Measured,
    pub with: Measured,
}

impl CaseResult {
    pub fn same_plan(&self) -> bool {
        self.without.plan == self.with.plan
    }
}

/// One case, `repeats` times: the cache emptied and filled by the warm-up plan (as a
/// daemon's would be after it), then the prompt's prefill, and the whole plan from there.
fn measure(planner: &mut Planner, warm: &str, case: &Case<'_>, repeats: usize) -> Result<Measured, BenchError> {
    let mut prefills = Vec::new();
    let mut plans = Vec::new();
    let mut tokens = 0;
    let mut plan = Vec::new();
    for _ in 0..repeats.max(1) {
        planner.lm.clear_prefix_cache();
        planner.plan(warm, case.scene, Method::GdBeam)?;
        let started = Instant::now();
        let mut session = planner.start(case.instruction, Method::GdBeam)?;
        let mut prefill = started.elapsed();
        tokens = session.tokens().prompt_tokens;
        if let Some(words) = case.clarification {
            let before = session.tokens();
            let started = Instant::now();
            session.clarify(words)?;
            prefill = started.elapsed();
            tokens = session.tokens().since(&before).prompt_tokens;
        }
        let result = session.open_loop(case.scene)?;
        plans.push(started.elapsed());
        prefills.push(prefill);
        plan = result.skills().iter().map(|s| s.to_string()).collect();
    }
    Ok(Measured { prefill_tokens: tokens, prefill_ms: ms(median(prefills)), plan_ms: ms(median(plans)), plan })
}

/// A case: what is planned after the warm-up plan.
struct Case<'a> {
    name: &'static str,
    instruction: &'a str,
    scene: &'a Observation,
    clarification: Option<&'a str>,
}

/// Every case with the cache off, then on; and the few-shot prefix's length in tokens.
pub fn run(options: &PlannerOptions, bench: &PrefixCacheBench<'_>) -> Result<(usize, Vec<CaseResult>), BenchError> {
    let mut planner = crate::setup::build_planner(options)?;
    let Some(prefix) = planner.prompt_prefix.clone() else {
        return Err(BenchError::Usage("the prefix cache benchmark needs a few-shot prompt: pass --prompt FILE (bench/prefix-cache/few-shot.txt)".into()));
    };
    let prefix_tokens = planner.lm.encode(prefix.as_str()).map_err(|e| BenchError::Setup(e.into()))?.len();
    let budget = options.prefix_cache_mib.max(1);
    let cases = [
        Case { name: "another instruction, same few-shot prefix", instruction: bench.second, scene: bench.scene, clarification: None },
        Case { name: "the same instruction again", instruction: bench.first, scene: bench.scene, clarification: None },
        Case { name: "a replan after a failed skill", instruction: bench.first, scene: bench.after_failure, clarification: None },
        Case { name: "the operator's clarification", instruction: bench.first, scene: bench.scene, clarification: Some(bench.clarification) },
    ];
    let mut results = Vec::new();
    for case in &cases {
        planner.lm.set_prefix_cache_mib(0);
        let without = measure(&mut planner, bench.first, case, bench.repeats)?;
        planner.lm.set_prefix_cache_mib(budget);
        let with = measure(&mut planner, bench.first, case, bench.repeats)?;
        results.push(CaseResult { case: case.name, without, with });
    }
    Ok((prefix_tokens, results))
}

/// The results as a Markdown table.
pub fn markdown(options: &PlannerOptions, prefix_tokens: usize, repeats: usize, results: &[CaseResult]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## `grounded bench --prefix-cache`\n");
    let _ = writeln!(out, "- machine: {}", super::machine());
    let _ = writeln!(
        out,
        "- model: {} ({} thread(s)); few-shot prefix: {prefix_tokens} tokens; cache budget {} MiB; median of {repeats}\n",
        options.model.display(),
        options.threads,
        options.prefix_cache_mib.max(1)
    );
    let _ = writeln!(out, "| case | prefill tokens, without | with | prefill ms, without | with | plan ms, without | with | same plan |");
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---|");
    for r in results {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.2} | {:.2} | {:.1} | {:.1} | {} |",
            r.case,
            r.without.prefill_tokens,
            r.with.prefill_tokens,
            r.without.prefill_ms,
            r.with.prefill_ms,
            r.without.plan_ms,
            r.with.plan_ms,
            if r.same_plan() { "yes" } else { "no" }
        );
    }
    out
}
