//! `grounded bench --estop`: how fast the emergency stop halts the arm, over real zenoh
//! sessions on loopback.
//!
//! A robot session serves the tabletop sim (and, with a flood, a daemon with the shipped
//! model); an operator session starts a slow arm motion, engages the stop after a seeded
//! delay, and measures from the stop's put to the halted motion's reply (wall clock, an
//! upper bound of the halt itself) and the simulated motion the arm made after the stop
//! reached the sim. Under a flood, a third session puts instructions at the daemon as fast
//! as it can for the whole run.

use crate::nodes::common::{query_one, urgent_put, CommonArgs, NetError};
use crate::nodes::latch::await_robot;
use crate::nodes::{client, daemon, sim, timeouts};
use crate::setup::{PlannerOptions, SetupError};
use ::sim::stop::StopSignal;
use protocol::keys::{Component, RobotId, RobotKeys};
use protocol::messages::{encode, EStop, InstructionMsg, Primitive, PrimitiveCommand, PrimitiveReply};
use protocol::SCHEMA_VERSION;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zenoh::Wait;

#[derive(Debug, thiserror::Error)]
pub enum EStopBenchError {
    #[error(transparent)]
    Net(#[from] NetError),
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error("{0}")]
    Run(String),
}

/// What to measure.
#[derive(Clone, Debug)]
pub struct EStopBench {
    /// Stops measured per condition (quiet, and under a flood).
    pub tries: usize,
    /// Seeds the delays between starting a motion and stopping it.
    pub seed: u64,
    /// Also measure under instruction floods at these rates (instructions per second; 0:
    /// as fast as one thread can put them). Loads the shipped model for the daemon.
    pub flood_rates: Vec<u64>,
}

/// One condition's numbers, in milliseconds: from the stop's put to the arm halted in the
/// sim (`halt_*`), to the halted motion's reply back at the operator (`wall_*`), and the
/// simulated motion after the stop reached the sim (`motion_*`).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Percentiles {
    pub condition: String,
    pub tries: usize,
    pub halt_p50_ms: f64,
    pub halt_p99_ms: f64,
    pub halt_max_ms: f64,
    pub wall_p50_ms: f64,
    pub wall_p99_ms: f64,
    pub wall_max_ms: f64,
    pub motion_p50_ms: f64,
    pub motion_p99_ms: f64,
    pub motion_max_ms: f64,
    /// Instructions put during the condition (flood only).
    pub instructions_sent: usize,
    /// The flood's rate, instructions per second (None: no flood; Some(0): unthrottled).
    pub flood_rate: Option<u64>,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// The measurements of one condition's stops, in milliseconds.
#[derive(Clone, Debug, Default)]
struct Samples {
    halt: Vec<f64>,
    wall: Vec<f64>,
    motion: Vec<f64>,
}

fn summarise(condition: &str, samples: Samples, instructions_sent: usize, flood_rate: Option<u64>) -> Percentiles {
    let Samples { mut halt, mut wall, mut motion } = samples;
    halt.sort_by(f64::total_cmp);
    wall.sort_by(f64::total_cmp);
    motion.sort_by(f64::total_cmp);
    Percentiles {
        condition: condition.to_string(),
        tries: wall.len(),
        halt_p50_ms: percentile(&halt, 0.5),
        halt_p99_ms: percentile(&halt, 0.99),
        halt_max_ms: halt.last().copied().unwrap_or(f64::NAN),
        wall_p50_ms: percentile(&wall, 0.5),
        wall_p99_ms: percentile(&wall, 0.99),
        wall_max_ms: wall.last().copied().unwrap_or(f64::NAN),
        motion_p50_ms: percentile(&motion, 0.5),
        motion_p99_ms: percentile(&motion, 0.99),
        motion_max_ms: motion.last().copied().unwrap_or(f64::NAN),
        instructions_sent,
        flood_rate,
    }
}

/// A loopback port free now.
fn free_port() -> Result<u16, EStopBenchError> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| EStopBenchError::Run(format!("no free loopback port: {e}")))?;
    l.local_addr().map(|a| a.port()).map_err(|e| EStopBenchError::Run(e.to_string()))
}

async fn session(listen: Option<String>, connect: Option<String>) -> Result<zenoh::Session, NetError> {
    CommonArgs { mode: Some("peer".into()), listen: listen.into_iter().collect(), connect: connect.into_iter().collect(), zenoh_config: None }.open().await
}

fn stop_message(engaged: bool) -> Vec<u8> {
    encode(&EStop { schema: SCHEMA_VERSION, engaged, reason: Some("bench".into()) })
}

/// Put a stop as `grounded estop` does: real-time priority, never dropped.
fn put_stop(session: &zenoh::Session, keys: &RobotKeys, engaged: bool) -> Result<(), EStopBenchError> {
    urgent_put(session, &keys.estop(), stop_message(engaged)).wait().map_err(|e| EStopBenchError::Run(format!("putting the stop: {e}")))
}

/// Release, and wait until the robot says so.
fn release(session: &zenoh::Session, keys: &RobotKeys) -> Result<(), EStopBenchError> {
    put_stop(session, keys, false)?;
    match await_robot(session, keys, false, timeouts::ESTOP_CONFIRM) {
        Some(_) => Ok(()),
        None => Err(EStopBenchError::Run("the sim did not confirm the release".into())),
    }
}

fn arm(session: &zenoh::Session, keys: &RobotKeys, body: Primitive) -> Result<PrimitiveReply, EStopBenchError> {
    query_one::<PrimitiveCommand, PrimitiveReply>(session, &keys.primitives(), &PrimitiveCommand { schema: SCHEMA_VERSION, body }, timeouts::SKILL)?
        .map_err(EStopBenchError::Run)
}

/// `tries` stops: each releases, homes the arm, starts a slow motion, stops it.
fn measure(operator: &zenoh::Session, keys: &RobotKeys, signal: &StopSignal, tries: usize, rng: &mut ::sim::rng::Rng) -> Result<Samples, EStopBenchError> {
    let mut samples = Samples::default();
    let mut attempts = 0;
    while samples.wall.len() < tries {
        attempts += 1;
        if attempts > tries * 10 {
            return Err(EStopBenchError::Run(format!("only {} of {attempts} motions were still under way when stopped", samples.wall.len())));
        }
        release(operator, keys)?;
        let _ = signal.take_halted_at();
        arm(operator, keys, Primitive::MoveTo { position: [-0.4, -0.3, 0.3], speed: protocol::limits::MAX_ARM_SPEED })?;
        // 0.8 m at the slowest speed: 80 simulated seconds, far longer than any delay below.
        let (s, k) = (operator.clone(), keys.clone());
        let motion_reply = std::thread::spawn(move || arm(&s, &k, Primitive::MoveTo { position: [0.4, 0.3, 0.3], speed: protocol::limits::MIN_ARM_SPEED }));
        std::thread::sleep(Duration::from_micros(2000 + (rng.unit() * 8000.0) as u64));
        let t0 = Instant::now();
        put_stop(operator, keys, true)?;
        let reply = motion_reply.join().map_err(|_| EStopBenchError::Run("the motion thread panicked".into()))??;
        let elapsed = t0.elapsed();
        match (reply.ok, reply.halted_after) {
            (false, Some(after)) => {
                let halted = signal.take_halted_at().ok_or_else(|| EStopBenchError::Run("the sim reported a halt it did not record".into()))?;
                samples.halt.push(halted.saturating_duration_since(t0).as_secs_f64() * 1e3);
                samples.wall.push(elapsed.as_secs_f64() * 1e3);
                samples.motion.push(after * 1e3);
            }
            // Finished before the stop, or reached the sim after it (refused): not a stop of a
            // motion under way.
            (true, _) => {}
            (false, None) if reply.reason.as_deref().is_some_and(|r| r.contains("emergency stop engaged")) => {}
            (false, None) => return Err(EStopBenchError::Run(format!("the motion failed without a halt: {:?}", reply.reason))),
        }
    }
    Ok(samples)
}

/// Run the benchmark.
pub fn run(options: &PlannerOptions, bench: &EStopBench) -> Result<Vec<Percentiles>, EStopBenchError> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| EStopBenchError::Run(e.to_string()))?;
    let keys = RobotKeys::new(RobotId::new("estop-bench").map_err(|e| EStopBenchError::Run(e.to_string()))?);
    let endpoint = format!("tcp/127.0.0.1:{}", free_port()?);
    let robot = runtime.block_on(session(Some(endpoint.clone()), None))?;
    let operator = runtime.block_on(session(None, Some(endpoint.clone())))?;
    let state = sim::SimState::new("matching-bowls", bench.seed, 0.0).map_err(EStopBenchError::Run)?;
    let signal = state.estop().signal();
    runtime.spawn(sim::run(robot.clone(), keys.clone(), state));
    runtime.block_on(client::wait_for(&operator, &keys, &[Component::Sim], timeouts::COMPONENTS_UP)).map_err(|e| EStopBenchError::Run(e.to_string()))?;
    let mut rng = ::sim::rng::Rng::new(bench.seed);
    let quiet = measure(&operator, &keys, &signal, bench.tries, &mut rng)?;
    let mut rows = vec![summarise("quiet", quiet, 0, None)];
    if !bench.flood_rates.is_empty() {
        let space = crate::nodes::remote::RemoteSkillSpace { session: robot.clone(), keys: keys.clone(), timeout: timeouts::AFFORDANCE };
        let planner = options.build(Some(grounding::Affordance::new(space, options.config.floor)), false)?;
        let config = daemon::DaemonConfig {
            method: crate::planner::Method::GdBeam,
            skill_timeout: timeouts::SKILL,
            observe_timeout: timeouts::OBSERVE,
            journal: None,
            ask: None,
        };
        runtime.spawn(daemon::run(robot.clone(), keys.clone(), planner, config, crate::dashboard::Dashboard::disabled()));
        runtime.block_on(client::wait_for(&operator, &keys, &[Component::Daemon], timeouts::COMPONENTS_UP)).map_err(|e| EStopBenchError::Run(e.to_string()))?;
        let flooder = runtime.block_on(session(None, Some(endpoint)))?;
        for &rate in &bench.flood_rates {
            let (stop, sent) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
            let (st, se, k, f) = (stop.clone(), sent.clone(), keys.clone(), flooder.clone());
            let flood = std::thread::spawn(move || {
                let started = Instant::now();
                while !st.load(Ordering::SeqCst) {
                    let n = se.fetch_add(1, Ordering::SeqCst);
                    let msg = InstructionMsg { schema: SCHEMA_VERSION, id: format!("flood-{n}"), text: "put the red block in the blue bowl".into() };
                    let _ = f.put(k.instruction(), encode(&msg)).wait();
                    if rate > 0 {
                        // Keep to the rate: the n-th instruction goes at n / rate seconds.
                        let due = Duration::from_secs_f64((n + 1) as f64 / rate as f64);
                        if let Some(wait) = due.checked_sub(started.elapsed()) {
                            std::thread::sleep(wait);
                        }
                    }
                }
            });
            let measured = measure(&operator, &keys, &signal, bench.tries, &mut rng);
            stop.store(true, Ordering::SeqCst);
            let _ = flood.join();
            let measured = measured?;
            let label = if rate == 0 { "instruction flood, unthrottled".to_string() } else { format!("instruction flood, {rate}/s") };
            rows.push(summarise(&label, measured, sent.load(Ordering::SeqCst), Some(rate)));
        }
    }
    let _ = put_stop(&operator, &keys, true);
    Ok(rows)
}

/// The rows as a Markdown table.
pub fn markdown(rows: &[Percentiles]) -> String {
    let mut out = String::from(
        "| condition | stops | put to halted p50 / p99 / max (ms) | put to halted reply p50 / p99 / max (ms) | simulated motion after the stop p50 / p99 / max (ms) | instructions sent |\n|---|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {:.2} / {:.2} / {:.2} | {:.2} / {:.2} / {:.2} | {:.2} / {:.2} / {:.2} | {} |\n",
            r.condition,
            r.tries,
            r.halt_p50_ms,
            r.halt_p99_ms,
            r.halt_max_ms,
            r.wall_p50_ms,
            r.wall_p99_ms,
            r.wall_max_ms,
            r.motion_p50_ms,
            r.motion_p99_ms,
            r.motion_max_ms,
            r.instructions_sent
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_ranks() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 51.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert!(percentile(&[], 0.5).is_nan());
        let s = summarise("x", Samples { halt: vec![1.0, 0.5, 0.2], wall: vec![3.0, 1.0, 2.0], motion: vec![0.0, 4.0, 1.0] }, 0, None);
        assert_eq!((s.halt_p50_ms, s.wall_p50_ms, s.wall_max_ms, s.motion_max_ms), (0.5, 2.0, 3.0, 4.0));
    }
}
