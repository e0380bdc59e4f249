//! The emergency stop fails safe, over real zenoh sessions: the robot side holds it latched;
//! a policy that starts while it is engaged stays stopped until the robot says released; a
//! release by anyone but the robot is not believed; the policy's dead-man switch stops a
//! skill whose daemon went away; the policy's own safety rules refuse a forbidden skill
//! whoever sends it.
mod common;

use common::free_port;

use grounded::nodes::common::{query_all, CommonArgs};
use grounded::nodes::latch::ask_robot;
use grounded::nodes::policy::{self, PolicyNode};
use grounded::nodes::sim::SimState;
use grounded::nodes::{client, sim as sim_node, timeouts};
use protocol::keys::{Component, RobotId, RobotKeys};
use protocol::messages::{decode, encode, EStop, EStopState, SkillReply, SkillReplyBody, SkillRequest};
use protocol::{SkillText, SCHEMA_VERSION};
use std::time::Duration;
use zenoh::Wait;

/// Sessions that meet on one loopback port: the first listens, the others connect.
async fn session(listen: Option<u16>, connect: Option<u16>) -> zenoh::Session {
    CommonArgs {
        mode: Some("peer".into()),
        listen: listen.map(|p| format!("tcp/127.0.0.1:{p}")).into_iter().collect(),
        connect: connect.map(|p| format!("tcp/127.0.0.1:{p}")).into_iter().collect(),
        zenoh_config: None,
    }
    .open()
    .await
    .expect("a zenoh session")
}

fn keys(name: &str) -> RobotKeys {
    RobotKeys::new(RobotId::new(name).unwrap())
}

fn stop(engaged: bool) -> Vec<u8> {
    encode(&EStop { schema: SCHEMA_VERSION, engaged, reason: Some("test".into()) })
}

/// Send a skill as `sender` and return its result (success, reason).
async fn skill(session: &zenoh::Session, keys: &RobotKeys, text: &str, sender: Option<String>) -> (bool, String) {
    let req = SkillRequest { schema: SCHEMA_VERSION, skill: SkillText::new(text).unwrap(), sender };
    let (s, k) = (session.clone(), keys.skill());
    let replies = tokio::task::spawn_blocking(move || query_all(&s, &k, encode(&req), timeouts::SKILL)).await.unwrap().unwrap();
    for r in replies.into_iter().flatten() {
        if let Ok(SkillReply { body: SkillReplyBody::Result { success, reason, .. }, .. }) = decode::<SkillReply>(&r) {
            return (success, reason.unwrap_or_default());
        }
    }
    panic!("no result for {text:?}");
}

async fn robot_stop(session: &zenoh::Session, keys: &RobotKeys) -> EStopState {
    let (s, k) = (session.clone(), keys.clone());
    let answers = tokio::task::spawn_blocking(move || ask_robot(&s, &k, timeouts::OBSERVE)).await.unwrap();
    answers.into_iter().next().expect("the robot answers its stop state")
}

const PICK: &str = "pick up the red block and place it in the gray bowl";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_started_while_stopped_stays_stopped_until_the_robot_releases() {
    let port = free_port();
    let robot = session(Some(port), None).await;
    let keys = keys("estop-latched");
    tokio::spawn(sim_node::run(robot.clone(), keys.clone(), SimState::new("matching-bowls", 0, 0.0).unwrap().start_stopped()));
    let operator = session(None, Some(port)).await;
    client::wait_for(&operator, &keys, &[Component::Sim], timeouts::COMPONENTS_UP).await.unwrap();
    let policy_session = session(None, Some(port)).await;
    tokio::spawn(policy::run(policy_session, keys.clone(), timeouts::PRIMITIVE));
    client::wait_for(&operator, &keys, &[Component::Policy], timeouts::COMPONENTS_UP).await.unwrap();
    assert!(robot_stop(&operator, &keys).await.engaged);
    let (ok, why) = skill(&operator, &keys, PICK, None).await;
    assert!(!ok && why.contains("emergency stop engaged"), "{why}");
    // A release heard by the policy but not applied by the robot is not believed: a robot
    // whose stop stays engaged (here: engaged again at once) keeps the policy stopped.
    operator.put(keys.estop(), stop(false)).await.unwrap();
    operator.put(keys.estop(), stop(true)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (ok, why) = skill(&operator, &keys, PICK, None).await;
    assert!(!ok && why.contains("emergency stop engaged"), "{why}");
    // The explicit release, applied by the robot: the policy moves again.
    operator.put(keys.estop(), stop(false)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!robot_stop(&operator, &keys).await.engaged);
    let (ok, why) = skill(&operator, &keys, PICK, None).await;
    assert!(ok, "{why}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_that_loses_the_robot_stops_until_it_reads_the_robot_again() {
    let port = free_port();
    let operator = session(Some(port), None).await;
    let keys = keys("estop-lost");
    let sim_session = session(None, Some(port)).await;
    let sim = tokio::spawn(sim_node::run(sim_session.clone(), keys.clone(), SimState::new("matching-bowls", 0, 0.0).unwrap()));
    tokio::spawn(policy::run(session(None, Some(port)).await, keys.clone(), timeouts::PRIMITIVE));
    client::wait_for(&operator, &keys, &[Component::Sim, Component::Policy], timeouts::COMPONENTS_UP).await.unwrap();
    // A robot that goes away while the operator engages the stop, and comes back (released,
    // as a restarted sim starts): the policy heard the engage, so only a release the robot
    // publishes lets it move.
    sim.abort();
    let _ = sim.await;
    sim_session.close().await.unwrap();
    operator.put(keys.estop(), stop(true)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    tokio::spawn(sim_node::run(session(None, Some(port)).await, keys.clone(), SimState::new("matching-bowls", 0, 0.0).unwrap()));
    client::wait_for(&operator, &keys, &[Component::Sim], timeouts::COMPONENTS_UP).await.unwrap();
    assert!(!robot_stop(&operator, &keys).await.engaged, "the new sim starts released");
    let (ok, why) = skill(&operator, &keys, PICK, None).await;
    assert!(!ok && why.contains("emergency stop engaged"), "{why}");
    operator.put(keys.estop(), stop(false)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (ok, why) = skill(&operator, &keys, PICK, None).await;
    assert!(ok, "{why}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dead_man_stops_a_skill_whose_daemon_went_away() {
    let port = free_port();
    let robot = session(Some(port), None).await;
    let keys = keys("estop-deadman");
    // In real time, as a real arm moves: the skill takes seconds, and the daemon goes away
    // during it.
    let state = SimState::new("matching-bowls", 0, 0.0).unwrap().real_time().unwrap();
    tokio::spawn(sim_node::run(robot.clone(), keys.clone(), state));
    tokio::spawn(policy::run(robot.clone(), keys.clone(), timeouts::PRIMITIVE));
    let observer = session(None, Some(port)).await;
    client::wait_for(&observer, &keys, &[Component::Sim, Component::Policy], timeouts::COMPONENTS_UP).await.unwrap();
    // A sender that names a daemon instance that is not there is refused.
    let (ok, why) = skill(&observer, &keys, PICK, Some("abc123".into())).await;
    assert!(!ok && why.contains("is not running"), "{why}");
    // A "daemon" with its instance token sends a skill, and goes away when it starts.
    let daemon = session(None, Some(port)).await;
    let zid = daemon.zid().to_string();
    let _token = daemon.liveliness().declare_token(keys.alive_instance(Component::Daemon, &zid)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let req = SkillRequest { schema: SCHEMA_VERSION, skill: SkillText::new(PICK).unwrap(), sender: Some(zid) };
    let replies = daemon.get(keys.skill()).payload(encode(&req)).consolidation(zenoh::query::ConsolidationMode::None).timeout(timeouts::SKILL).await.unwrap();
    let first = tokio::time::timeout(timeouts::SKILL, replies.recv_async()).await.unwrap().unwrap();
    let progress = decode::<SkillReply>(&first.result().unwrap().payload().to_bytes()).unwrap();
    assert!(matches!(progress.body, SkillReplyBody::Progress { .. }), "{progress:?}");
    daemon.close().await.unwrap();
    // The policy is free again once the skill has ended (halted, or, were there no
    // dead-man, finished seconds later)...
    let started = std::time::Instant::now();
    loop {
        let (ok, why) = skill(&observer, &keys, "done", None).await;
        if ok {
            break;
        }
        assert!(why.contains("busy") && started.elapsed() < timeouts::SKILL, "{why}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // ... and the skill stopped where it was: the red block is not in the bowl.
    let (s, k) = (observer.clone(), keys.clone());
    let obs = tokio::task::spawn_blocking(move || grounded::nodes::remote::observe(&s, &k, timeouts::OBSERVE)).await.unwrap().unwrap();
    let red = obs.objects.iter().find(|o| o.name == "red block").unwrap();
    let bowl = obs.objects.iter().find(|o| o.name == "gray bowl").unwrap();
    let apart = ((red.position[0] - bowl.position[0]).powi(2) + (red.position[1] - bowl.position[1]).powi(2)).sqrt();
    assert!(apart > 0.05, "the red block reached the gray bowl ({apart:.3} m) after its daemon went away");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policys_safety_rules_refuse_a_forbidden_skill_whoever_sends_it() {
    let session = session(None, None).await;
    let keys = keys("estop-safety");
    tokio::spawn(sim_node::run(session.clone(), keys.clone(), SimState::new("matching-bowls", 0, 0.0).unwrap()));
    let rules = grounding::SafetyConfig { forbidden: vec!["red".into()], mode: grounding::SafetyMode::Soft, epsilon: 0.5 };
    let node = PolicyNode::new(keys.clone(), timeouts::PRIMITIVE).with_safety(&rules).unwrap();
    tokio::spawn(policy::run_node(session.clone(), node));
    client::wait_for(&session, &keys, &[Component::Sim, Component::Policy], timeouts::COMPONENTS_UP).await.unwrap();
    let (ok, why) = skill(&session, &keys, PICK, None).await;
    assert!(!ok && why.contains("safety rules"), "{why}");
    let (ok, why) = skill(&session, &keys, "pick up the gray block and place it in the purple bowl", None).await;
    assert!(ok, "{why}");
    // Its affordances leave the forbidden skills out.
    let (s, k) = (session.clone(), keys.affordance());
    let req = encode(&protocol::messages::AffordanceRequest { schema: SCHEMA_VERSION, texts: Vec::new(), observation: None });
    let replies = tokio::task::spawn_blocking(move || query_all(&s, &k, req, timeouts::AFFORDANCE)).await.unwrap().unwrap();
    let reply: protocol::messages::AffordanceReply = decode(replies[0].as_ref().unwrap()).unwrap();
    assert!(!reply.skills.is_empty());
    assert!(reply.skills.iter().all(|(t, _)| !t.contains("red")), "{:?}", reply.skills);
    let _ = session.liveliness().get(keys.alive_any()).wait();
}
