//! The controller daemon: takes instructions over zenoh and carries each out closed-loop
//! (decode the next skill on the latest state, have the policy execute it, decode again),
//! publishing its progress. Bad messages and lost components end the instruction with a
//! record of why; the daemon keeps running.

use super::common::{put, NetError};
use super::remote::ZenohRobot;
use crate::controller::{run_closed_loop, ControlEvent};
use crate::dashboard::{Dashboard, Watched};
use crate::planner::{Method, PlanEnd, Planner, StepOutcome};
use protocol::keys::{Component, RobotKeys};
use protocol::messages::{decode, EStop, InstructionMsg, PlanProgress, PlanStatus};
use protocol::SCHEMA_VERSION;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Settings of a daemon.
#[derive(Clone, Debug)]
pub struct DaemonConfig {
    pub method: Method,
    pub skill_timeout: Duration,
    pub observe_timeout: Duration,
}

fn progress(id: &str, step: usize, status: PlanStatus) -> PlanProgress {
    PlanProgress {
        schema: SCHEMA_VERSION,
        instruction_id: id.to_string(),
        step,
        skill: None,
        status,
        reason: None,
        score: None,
        lm_score: None,
        plan: String::new(),
    }
}

/// Carry out one instruction; publishes progress on the plan key.
pub fn handle_instruction(
    session: &zenoh::Session,
    keys: &RobotKeys,
    planner: &mut Planner,
    config: &DaemonConfig,
    msg: &InstructionMsg,
    estop: &Arc<AtomicBool>,
    dashboard: &Dashboard,
) -> PlanProgress {
    let plan_key = keys.plan();
    let id = msg.id.clone();
    let _ = put(session, &plan_key, &progress(&id, 0, PlanStatus::Started));
    let mut robot = ZenohRobot {
        session: session.clone(),
        keys: keys.clone(),
        skill_timeout: config.skill_timeout,
        observe_timeout: config.observe_timeout,
        estop: Some(estop.clone()),
    };
    let mut last_step = 0;
    dashboard.instruction(&msg.text);
    let mut publish = |event: ControlEvent<'_>| match event {
        ControlEvent::Decoded(p) => {
            last_step = p.index;
            let mut m = progress(&id, p.index, PlanStatus::Decoded);
            m.skill = Some(p.skill.clone());
            m.score = Some(p.score);
            m.lm_score = Some(p.lm_score);
            let _ = put(session, &plan_key, &m);
        }
        ControlEvent::Executed { outcome: StepOutcome::Done, .. } => {}
        ControlEvent::Executed { index, skill, outcome } => {
            let mut m = progress(&id, index, if matches!(outcome, StepOutcome::Failed(_)) { PlanStatus::Failed } else { PlanStatus::Succeeded });
            m.skill = Some(skill.to_string());
            if let StepOutcome::Failed(r) = outcome {
                m.reason = Some(r.clone());
            }
            let _ = put(session, &plan_key, &m);
        }
        ControlEvent::Phase { .. } | ControlEvent::Ended { .. } => {}
    };
    let mut events = |event: ControlEvent<'_>| {
        dashboard.event(&event);
        publish(event)
    };
    if estop.load(Ordering::SeqCst) {
        let mut m = progress(&id, 0, PlanStatus::Aborted);
        m.reason = Some("emergency stop engaged".into());
        let _ = put(session, &plan_key, &m);
        return m;
    }
    let outcome = run_closed_loop(planner, &mut Watched { robot: &mut robot, dashboard }, &msg.text, config.method, &mut events);
    let mut last = match outcome {
        Ok((result, abort)) => {
            let status = match (&abort, &result.end) {
                (Some(_), _) => PlanStatus::Aborted,
                (None, PlanEnd::Done) => PlanStatus::Done,
                (None, PlanEnd::StepLimit | PlanEnd::ContextFull) => PlanStatus::StepLimit,
                (None, PlanEnd::NoSkill) => PlanStatus::Aborted,
            };
            let mut m = progress(&id, result.steps.len(), status);
            m.reason = abort.or_else(|| match result.end {
                PlanEnd::NoSkill => Some("no admissible skill could be decoded".to_string()),
                PlanEnd::ContextFull => Some("the plan filled the language model's context".to_string()),
                PlanEnd::Done | PlanEnd::StepLimit => None,
            });
            m.plan = result.text;
            m
        }
        Err(e) => {
            let mut m = progress(&id, last_step, PlanStatus::Aborted);
            m.reason = Some(e.to_string());
            m
        }
    };
    if last.status != PlanStatus::Aborted && estop.load(Ordering::SeqCst) {
        last.status = PlanStatus::Aborted;
        last.reason = Some("emergency stop engaged".into());
    }
    if last.status == PlanStatus::Aborted {
        dashboard.plan_ended("aborted", last.reason.as_deref());
    }
    let _ = put(session, &plan_key, &last);
    last
}

/// Serve instructions until the session closes.
pub async fn run(session: zenoh::Session, keys: RobotKeys, planner: Planner, config: DaemonConfig, dashboard: Dashboard) -> Result<(), NetError> {
    let z = |e: zenoh::Error| NetError::Zenoh(e.to_string());
    if dashboard.is_enabled() {
        // Every state the simulator (or robot) publishes, also while a skill runs.
        let states = session.declare_subscriber(keys.state()).await.map_err(z)?;
        let d = dashboard.clone();
        tokio::spawn(async move {
            while let Ok(s) = states.recv_async().await {
                if let Ok(obs) = decode::<protocol::Observation>(&s.payload().to_bytes()) {
                    d.observation(&obs);
                }
            }
        });
    }
    let instructions = session.declare_subscriber(keys.instruction()).await.map_err(z)?;
    let estops = session.declare_subscriber(keys.estop()).await.map_err(z)?;
    // Alive only once it listens: an instruction sent on seeing the token is not lost.
    let _token = session.liveliness().declare_token(keys.alive(Component::Daemon)).await.map_err(z)?;
    let estop = Arc::new(AtomicBool::new(false));
    // The emergency stop is heard while a plan runs: the robot client checks it before every
    // observation and skill.
    let flag = estop.clone();
    tokio::spawn(async move {
        while let Ok(s) = estops.recv_async().await {
            match decode::<EStop>(&s.payload().to_bytes()) {
                Ok(stop) => {
                    tracing::warn!("daemon: emergency stop {}", if stop.engaged { "engaged" } else { "released" });
                    flag.store(stop.engaged, Ordering::SeqCst);
                }
                Err(e) => tracing::warn!("daemon: ignored a malformed emergency stop: {e}"),
            }
        }
    });
    let mut planner = Some(planner);
    while let Ok(s) = instructions.recv_async().await {
        let bytes = s.payload().to_bytes().into_owned();
        let msg = match decode::<InstructionMsg>(&bytes) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!("daemon: refused an instruction: {e}");
                let mut m = progress("", 0, PlanStatus::Aborted);
                m.reason = Some(e.to_string());
                let _ = put(&session, &keys.plan(), &m);
                continue;
            }
        };
        let Some(mut p) = planner.take() else { break };
        let (session2, keys2, config2, estop2, dash2) = (session.clone(), keys.clone(), config.clone(), estop.clone(), dashboard.clone());
        let joined = tokio::task::spawn_blocking(move || {
            handle_instruction(&session2, &keys2, &mut p, &config2, &msg, &estop2, &dash2);
            p
        })
        .await;
        match joined {
            Ok(p) => planner = Some(p),
            Err(e) => return Err(NetError::Zenoh(format!("the planner task failed: {e}"))),
        }
    }
    Ok(())
}
