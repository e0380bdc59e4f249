//! `grounded bench`: the numbers behind BENCHMARKS.md.
//!
//! * model load time (ONNX Runtime start-up separately);
//! * per decode step, the decoder's own time (candidate scoring, grounded models, beam
//!   bookkeeping, cache gathers) next to the LM forward pass, at the configured B and k;
//! * plan latency and LM tokens per plan for every method on one scene (median of repeats),
//!   gd-beam with each of its two searches;
//! * peak resident memory of the process.

pub mod estop;
pub mod objects;
pub mod prefix_cache;
pub mod top_k_kernel;

use crate::decoder::Search;
use crate::lm::LanguageModel;
use crate::planner::{Method, PlanResult, Planner};
use crate::setup::{build_planner, PlannerOptions, SetupError};
use protocol::Observation;
use std::fmt::Write;
use std::path::Path;
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error(transparent)]
    Plan(#[from] crate::planner::PlanError),
    #[error("{0}")]
    Usage(String),
}

/// What one row of the benchmark runs: a method, and for gd-beam its search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Variant {
    pub method: Method,
    pub search: Option<Search>,
}

impl Variant {
    /// Each of `methods` with the configured search, then gd-beam with the other search.
    fn all(methods: &[Method], configured: Search) -> Vec<Variant> {
        let mut all: Vec<Variant> = methods.iter().map(|&method| Variant { method, search: (method == Method::GdBeam).then_some(configured) }).collect();
        if methods.contains(&Method::GdBeam) {
            all.push(Variant { method: Method::GdBeam, search: Some(other(configured)) });
        }
        all
    }

    fn label(&self) -> String {
        match self.search {
            Some(search) => format!("{} ({search})", self.method),
            None => self.method.to_string(),
        }
    }
}

/// The search that is not `search`.
fn other(search: Search) -> Search {
    match search {
        Search::BestFirst => Search::LockStep,
        Search::LockStep => Search::BestFirst,
    }
}

/// One variant's measurements (medians over the repeats).
#[derive(Clone, Debug)]
pub struct MethodBench {
    pub variant: Variant,
    pub latency: Duration,
    pub steps: usize,
    pub tokens: usize,
    pub forward_passes: usize,
    /// Decoder time outside the LM per forward pass made while choosing skills.
    pub overhead_per_step: Duration,
    /// Binding grounded models to each new state, per plan step.
    pub binding_per_step: Duration,
    /// LM forward time per pass.
    pub lm_per_step: Duration,
    pub skills: Vec<String>,
}

fn median<T: Copy + Ord>(mut v: Vec<T>) -> T {
    v.sort_unstable();
    v[v.len() / 2]
}

/// The benchmark's results: the Markdown report, and the same numbers as JSON.
#[derive(Clone, Debug)]
pub struct BenchReport {
    pub markdown: String,
    pub json: serde_json::Value,
}

/// What `grounded bench` plans, and how much of it.
pub struct BenchRun<'a> {
    pub scene: &'a Observation,
    pub scene_path: &'a Path,
    pub instruction: &'a str,
    /// Plans per method (the median is reported).
    pub repeats: usize,
    /// The methods to plan with (gd-beam with both searches).
    pub methods: Vec<Method>,
    /// The one scene only: no tabletop suite, physics or grid timing (for large models).
    pub scene_only: bool,
}

/// Run every method `repeats` times and report.
pub fn run(options: &PlannerOptions, bench: &BenchRun<'_>) -> Result<BenchReport, BenchError> {
    let BenchRun { scene, scene_path, instruction, repeats, .. } = *bench;
    let t0 = Instant::now();
    crate::lm::start_runtime(options.device).map_err(SetupError::Lm)?;
    let runtime_start = t0.elapsed();
    let t1 = Instant::now();
    let lm = LanguageModel::load_on(&options.model, options.threads, options.device).map_err(SetupError::from)?;
    let load = t1.elapsed();
    drop(lm);
    let mut planner = build_planner(options)?;
    // Warm up ONNX Runtime's allocations once.
    planner.plan(instruction, scene, Method::GdGreedy)?;
    let variants = Variant::all(&bench.methods, options.config.search);
    let runs = plan_in_turns(&mut planner, &variants, instruction, scene, repeats)?;
    let mut results = Vec::new();
    for (variant, plans) in variants.into_iter().zip(runs) {
        let Some(last) = plans.last() else { continue };
        results.push(MethodBench {
            variant,
            latency: median(plans.iter().map(|p| p.elapsed).collect()),
            steps: last.steps.len(),
            tokens: last.tokens.total(),
            forward_passes: last.tokens.forward_passes,
            overhead_per_step: median(plans.iter().map(|p| p.timing.overhead_per_pass()).collect()),
            lm_per_step: median(plans.iter().map(|p| p.timing.lm_per_pass()).collect()),
            binding_per_step: median(plans.iter().map(|p| p.timing.binding / p.steps.len().max(1) as u32).collect()),
            skills: last.skills().iter().map(|s| s.to_string()).collect(),
        });
    }
    let mut out = report(options, scene_path, scene, instruction, repeats, runtime_start, load, &results);
    let mut extra = serde_json::Map::new();
    if !bench.scene_only {
        let suite = tabletop_suite(&mut planner, repeats.min(5))?;
        write_suite(&mut out, &suite);
        let (simulated, wall) = physics_speed();
        let _ = writeln!(
            out,
            "\nPhysics (rapier3d, 240 Hz, a matching-bowls scene, three pick-and-place skills): {simulated:.1} s simulated in {:.3} s, {:.0}x faster than real time.",
            wall,
            simulated / wall.max(1e-9)
        );
        let grid = grid_speed();
        let _ = writeln!(
            out,
            "\nGrid maze (multi-room, 50 episodes carried out by the skill policy, one primitive step counted as one second of robot time): {} steps in {:.4} s, {:.0}x faster than real time.",
            grid.0,
            grid.1,
            grid.0 as f64 / grid.1.max(1e-9)
        );
        extra.insert(
            "tabletop_suite".into(),
            suite
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "method": r.variant.method,
                        "search": r.variant.search,
                        "latency_ms": ms(r.latency),
                        "lm_tokens": r.tokens,
                        "forward_passes": r.forward_passes,
                    })
                })
                .collect(),
        );
        extra.insert("physics".into(), serde_json::json!({"simulated_s": simulated, "wall_s": wall, "speedup": simulated / wall.max(1e-9)}));
        extra.insert("grid".into(), serde_json::json!({"steps": grid.0, "wall_s": grid.1, "speedup": grid.0 as f64 / grid.1.max(1e-9)}));
    }
    let mut json = serde_json::json!({
        "machine": machine(),
        "model": options.model,
        "threads": options.threads,
        "device": options.device,
        "scene": scene_path,
        "instruction": instruction,
        "decoder": options.config,
        "repeats": repeats,
        "vocab": planner.lm.vocab(),
        "onnxruntime_start_ms": ms(runtime_start),
        "model_load_ms": ms(load),
        "peak_memory_mib": peak_memory_mib(),
        "methods": method_json(&results),
    });
    if let Some(object) = json.as_object_mut() {
        object.extend(extra);
    }
    Ok(BenchReport { markdown: out, json })
}

/// Each variant's measurements as JSON.
fn method_json(results: &[MethodBench]) -> Vec<serde_json::Value> {
    results
        .iter()
        .map(|r| {
            serde_json::json!({
                "method": r.variant.method,
                "search": r.variant.search,
                "latency_ms": ms(r.latency),
                "steps": r.steps,
                "lm_tokens": r.tokens,
                "forward_passes": r.forward_passes,
                "lm_ms_per_pass": ms(r.lm_per_step),
                "decoder_ms_per_pass": ms(r.overhead_per_step),
                "decoder_share_of_lm": r.overhead_per_step.as_secs_f64() / r.lm_per_step.as_secs_f64().max(1e-12),
                "binding_ms_per_step": ms(r.binding_per_step),
                "plan": r.skills,
            })
        })
        .collect()
}

/// One variant's totals over the tabletop suite.
#[derive(Clone, Debug)]
pub struct SuiteBench {
    pub variant: Variant,
    /// Sum over the templates of each plan's median latency.
    pub latency: Duration,
    pub tokens: usize,
    pub forward_passes: usize,
}

/// gd-greedy and both gd-beam searches, planning open-loop for every tabletop template's
/// seed-0 scene: the one-scene numbers above can flatter one search, this sum cannot.
fn tabletop_suite(planner: &mut Planner, repeats: usize) -> Result<Vec<SuiteBench>, BenchError> {
    let configured = planner.config.search;
    let variants = [
        Variant { method: Method::GdGreedy, search: None },
        Variant { method: Method::GdBeam, search: Some(configured) },
        Variant { method: Method::GdBeam, search: Some(other(configured)) },
    ];
    let mut totals: Vec<SuiteBench> = variants.iter().map(|&variant| SuiteBench { variant, latency: Duration::ZERO, tokens: 0, forward_passes: 0 }).collect();
    for task in sim::tabletop::TASKS.iter() {
        let episode = sim::tabletop::generate(task, 0);
        let runs = plan_in_turns(planner, &variants, &episode.instruction, &episode.scene, repeats.max(1))?;
        for (total, plans) in totals.iter_mut().zip(runs) {
            let Some(last) = plans.last() else { continue };
            total.latency += median(plans.iter().map(|p| p.elapsed).collect());
            total.tokens += last.tokens.total();
            total.forward_passes += last.tokens.forward_passes;
        }
    }
    Ok(totals)
}

/// `repeats` plans of `instruction` in `scene` by each variant, the variants taking turns so
/// that the machine's changing load spreads over all of them. The planner's search is as it
/// was when this returns its plans (after an error the benchmark stops anyway).
fn plan_in_turns(
    planner: &mut Planner,
    variants: &[Variant],
    instruction: &str,
    scene: &Observation,
    repeats: usize,
) -> Result<Vec<Vec<PlanResult>>, BenchError> {
    let configured = planner.config.search;
    let mut runs: Vec<Vec<PlanResult>> = vec![Vec::new(); variants.len()];
    for _ in 0..repeats {
        for (i, v) in variants.iter().enumerate() {
            planner.config.search = v.search.unwrap_or(configured);
            runs[i].push(planner.plan(instruction, scene, v.method)?);
        }
    }
    planner.config.search = configured;
    Ok(runs)
}

fn write_suite(out: &mut String, suite: &[SuiteBench]) {
    let Some(greedy) = suite.first() else { return };
    let _ = writeln!(
        out,
        "\nEvery tabletop template ({} of them), seed 0, open-loop plans, same decoder settings (latency: sum of each plan's median):\n",
        sim::tabletop::TASKS.len()
    );
    let _ = writeln!(out, "| method | plan latency, all templates (ms) | relative to gd-greedy | LM tokens | forward passes |");
    let _ = writeln!(out, "|---|---:|---:|---:|---:|");
    for r in suite {
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:.2}x | {} | {} |",
            r.variant.label(),
            ms(r.latency),
            ms(r.latency) / ms(greedy.latency).max(1e-9),
            r.tokens,
            r.forward_passes
        );
    }
}

/// Simulated seconds and wall seconds of three pick-and-place skills in the physics world.
pub fn physics_speed() -> (f64, f64) {
    use policies::PickPlace;
    let Some(task) = sim::tabletop::task_named("matching-bowls") else { return (0.0, 1.0) };
    let episode = sim::tabletop::generate(task, 0);
    let started = Instant::now();
    let mut world = sim::tabletop::World::new(&episode.scene, sim::tabletop::WorldConfig::default());
    let policy = PickPlace::default();
    for o in episode.scene.objects.iter().filter(|o| o.kind == protocol::ObjectKind::Block) {
        let colour = o.name.split(' ').next().unwrap_or_default();
        let _ = policy.execute(&format!("pick up the {} and place it in the {colour} bowl", o.name), &mut world, &mut |_| {});
    }
    (world.sim_seconds(), started.elapsed().as_secs_f64())
}

/// Primitive steps and wall seconds of 50 multi-room episodes, each carried out by the grid
/// skill policy (planning included): open whichever door can be opened, then go to the goal.
pub fn grid_speed() -> (u64, f64) {
    use policies::grid::{admissible, execute};
    use protocol::grid::{GridSkill, Target};
    let started = Instant::now();
    let mut steps = 0u64;
    for seed in 0..50 {
        let e = sim::grid::episode(sim::grid::Level::MultiRoom, seed);
        let mut w = sim::grid::GridWorld::new(&e);
        for _ in 0..12 {
            let options = admissible(&w.state);
            let next =
                options.iter().find(|(s, _)| *s == GridSkill::GoTo(Target::Goal)).or_else(|| options.iter().find(|(s, _)| matches!(s, GridSkill::Open(_))));
            let Some((skill, _)) = next else { break };
            execute(&skill.to_string(), &mut w);
            if w.ended.is_some() {
                break;
            }
        }
        steps += u64::from(w.steps);
    }
    (steps, started.elapsed().as_secs_f64())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| t.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1)).map(|s| s.trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    format!("{cpu}, {cores} cores available, {} {}", std::env::consts::OS, std::env::consts::ARCH)
}

/// Peak resident memory of this process, from /proc (Linux).
fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[allow(clippy::too_many_arguments)]
fn report(
    options: &PlannerOptions,
    scene_path: &Path,
    scene: &Observation,
    instruction: &str,
    repeats: usize,
    runtime_start: Duration,
    load: Duration,
    results: &[MethodBench],
) -> String {
    let mut out = String::new();
    let c = &options.config;
    let _ = writeln!(out, "## `grounded bench`\n");
    let _ = writeln!(out, "- machine: {}", machine());
    let cwd = std::env::current_dir().unwrap_or_default();
    let model = options.model.strip_prefix(&cwd).unwrap_or(&options.model);
    let on = if options.device.is_cuda() { format!(", on {} through ONNX Runtime's CUDA provider", options.device) } else { String::new() };
    let _ = writeln!(out, "- model: {} ({} ONNX Runtime thread(s){on})", model.display(), options.threads);
    let _ = writeln!(out, "- scene: {} ({} objects); instruction: \"{instruction}\"", scene_path.display(), scene.objects.len());
    let _ = writeln!(
        out,
        "- decoder: B = {}, k = {}, floor = {}, renorm_floor = {}, beam_margin = {}, search = {}; median of {repeats} plans per method, methods taking turns\n",
        c.beam_width, c.top_k, c.floor, c.renorm_floor, c.beam_margin, c.search
    );
    let _ = writeln!(out, "| method | plan latency (ms) | steps | LM tokens per plan | forward passes | LM time per pass (ms) | decoder time per pass, outside the LM (ms) | decoder / LM | binding grounded models, per plan step (ms) |");
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    // (columns 6-8 cover the time spent choosing skills; prompt extension between steps is in the latency only)
    for r in results {
        let ratio = r.overhead_per_step.as_secs_f64() / r.lm_per_step.as_secs_f64().max(1e-12);
        let _ = writeln!(
            out,
            "| {} | {:.1} | {} | {} | {} | {:.3} | {:.3} | {:.1}% | {:.3} |",
            r.variant.label(),
            ms(r.latency),
            r.steps,
            r.tokens,
            r.forward_passes,
            ms(r.lm_per_step),
            ms(r.overhead_per_step),
            100.0 * ratio,
            ms(r.binding_per_step)
        );
    }
    let find = |m: Method, search: Option<Search>| results.iter().find(|r| r.variant == Variant { method: m, search });
    let beam = |search: Search| find(Method::GdBeam, Some(search));
    if let (Some(g), Some(s)) = (find(Method::GdGreedy, None), find(Method::Saycan, None)) {
        let _ = writeln!(out);
        let _ = writeln!(out, "- LM tokens per plan relative to gd-greedy: saycan {:.1}x (paper: 113.7x)", s.tokens as f64 / g.tokens as f64);
        let _ = writeln!(out, "- plan latency relative to gd-greedy: saycan {:.1}x", ms(s.latency) / ms(g.latency));
        for b in [beam(c.search), beam(other(c.search))].into_iter().flatten() {
            let _ = writeln!(
                out,
                "- {} relative to gd-greedy: {:.1}x the LM tokens (paper, lock-step: 4.3x), {:.2}x the plan latency, {:.2}x the latency per plan step",
                b.variant.label(),
                b.tokens as f64 / g.tokens as f64,
                ms(b.latency) / ms(g.latency),
                (ms(b.latency) / b.steps as f64) / (ms(g.latency) / g.steps as f64)
            );
        }
    }
    let _ = writeln!(out, "- ONNX Runtime start-up: {:.0} ms; model load: {:.0} ms", ms(runtime_start), ms(load));
    if let Some(peak) = peak_memory_mib() {
        let _ = writeln!(out, "- peak resident memory of the whole run: {peak:.0} MiB");
    }
    let _ = writeln!(out, "\nPlans:\n");
    for r in results {
        let _ = writeln!(out, "- {}: {}", r.variant.label(), r.skills.join("; "));
    }
    out
}
