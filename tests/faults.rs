//! Faults over a real zenoh session: bad messages, a policy that never answers, a sim that
//! goes away, skills for objects that are not there. Each ends with a clear record, and the
//! daemon keeps running.

use grounded::controller::{Robot, RobotError};
use grounded::decoder::DecodeConfig;
use grounded::lm::LanguageModel;
use grounded::nodes::common::{put, CommonArgs};
use grounded::nodes::daemon::{self, DaemonConfig};
use grounded::nodes::remote::{RemoteSkillSpace, ZenohRobot};
use grounded::nodes::sim::SimState;
use grounded::nodes::{client, policy, sim as sim_node, timeouts};
use grounded::planner::{Method, Planner};
use protocol::keys::{Component, RobotId, RobotKeys};
use protocol::messages::{decode, InstructionMsg, PlanProgress, PlanStatus, MAX_MESSAGE_BYTES};
use protocol::SCHEMA_VERSION;
use std::time::Duration;
use zenoh::Wait;

async fn session() -> zenoh::Session {
    CommonArgs { mode: Some("peer".into()), ..CommonArgs::default() }.open().await.expect("open a zenoh session")
}

fn keys(name: &str) -> RobotKeys {
    RobotKeys::new(RobotId::new(name).unwrap())
}

fn planner(session: &zenoh::Session, keys: &RobotKeys) -> Planner {
    let lm = LanguageModel::load(&grounded::default_model_dir(), 1).expect("load the shipped model");
    let space = RemoteSkillSpace { session: session.clone(), keys: keys.clone(), timeout: Duration::from_secs(5) };
    Planner::with_affordance(lm, DecodeConfig::default(), grounding::Affordance::new(space, 1e-6))
}

fn daemon_config() -> DaemonConfig {
    DaemonConfig { method: Method::GdBeam, skill_timeout: Duration::from_secs(30), observe_timeout: Duration::from_secs(3), journal: None, ask: None }
}

/// Wait for the next plan progress of `id` whose status ends a plan.
async fn final_progress(sub: &zenoh::pubsub::Subscriber<zenoh::handlers::FifoChannelHandler<zenoh::sample::Sample>>, id: &str) -> PlanProgress {
    loop {
        let sample = tokio::time::timeout(Duration::from_secs(60), sub.recv_async()).await.expect("progress in time").expect("a sample");
        let p: PlanProgress = decode(&sample.payload().to_bytes()).expect("valid progress");
        if p.instruction_id == id && client::ends_plan(p.status) {
            return p;
        }
    }
}

async fn wait_alive(session: &zenoh::Session, keys: &RobotKeys, components: &[Component]) {
    client::wait_for(session, keys, components, timeouts::COMPONENTS_UP).await.expect("the components come up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_instructions_are_recorded_and_the_daemon_keeps_running() {
    let session = session().await;
    let keys = keys("faults-bad");
    tokio::spawn(sim_node::run(session.clone(), keys.clone(), SimState::new("matching-bowls", 2, 0.0).unwrap()));
    tokio::spawn(policy::run(session.clone(), keys.clone(), Duration::from_secs(10)));
    tokio::spawn(daemon::run(session.clone(), keys.clone(), planner(&session, &keys), daemon_config(), grounded::dashboard::Dashboard::disabled()));
    wait_alive(&session, &keys, &Component::ALL).await;
    let sub = session.declare_subscriber(keys.plan()).await.unwrap();

    session.put(keys.instruction(), b"{not json".to_vec()).await.unwrap();
    let p = final_progress(&sub, "").await;
    assert_eq!(p.status, PlanStatus::Aborted);
    assert!(p.reason.as_deref().unwrap().contains("malformed instruction message"), "{p:?}");

    session.put(keys.instruction(), vec![b' '; MAX_MESSAGE_BYTES + 10]).await.unwrap();
    let p = final_progress(&sub, "").await;
    assert!(p.reason.as_deref().unwrap().contains("at most"), "{p:?}");

    // An instruction the daemon refuses: aborted with `why`, nothing planned.
    let refused = |id: &'static str, text: &'static str, why: &'static str| {
        let (session, keys, sub) = (&session, &keys, &sub);
        async move {
            let msg = InstructionMsg { schema: SCHEMA_VERSION, id: id.into(), text: text.into() };
            let (s, k) = (session.clone(), keys.instruction());
            tokio::task::spawn_blocking(move || put(&s, &k, &msg)).await.unwrap().unwrap();
            let p = final_progress(sub, id).await;
            assert_eq!(p.status, PlanStatus::Aborted);
            assert!(p.reason.as_deref().unwrap().contains(why), "{p:?}");
            assert!(p.plan.is_empty(), "nothing was planned: {p:?}");
        }
    };
    refused("empty", "  ", "instruction is empty").await;
    // A terminal's escape sequence in the text.
    refused("escape", "stack the blocks\u{1b}]0;owned\u{7}", "control character (U+001B").await;

    // Still serving: a good instruction succeeds.
    let follower = client::send_instruction(&session, &keys, "good", "put the blocks in the bowls with matching colours").await.unwrap();
    let p = follower.follow(Duration::from_secs(60), |_| {}).await.unwrap();
    assert_eq!(p.status, PlanStatus::Done, "{p:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_that_never_answers_times_out_and_a_missing_object_fails_with_a_reason() {
    let session = session().await;
    // A "policy" that announces itself and swallows every skill request.
    let silent = keys("faults-silent");
    let _token = session.liveliness().declare_token(silent.alive(Component::Policy)).await.unwrap();
    let _sim_token = session.liveliness().declare_token(silent.alive(Component::Sim)).await.unwrap();
    let queryable = session.declare_queryable(silent.skill()).await.unwrap();
    let held = tokio::spawn(async move {
        let mut kept = Vec::new();
        while let Ok(q) = queryable.recv_async().await {
            kept.push(q);
        }
    });
    let (s, k) = (session.clone(), silent.clone());
    let result = tokio::task::spawn_blocking(move || {
        let mut robot =
            ZenohRobot { session: s, keys: k, skill_timeout: Duration::from_millis(800), observe_timeout: Duration::from_secs(1), estop: None, sender: None };
        robot.execute("pick up the red block and place it in the red bowl", &mut |_| {})
    })
    .await
    .unwrap();
    assert!(matches!(result, Err(RobotError::Timeout { component: "policy", .. })), "{result:?}");
    held.abort();

    // A real policy and sim: a skill naming an object that is not there fails, with why.
    let keys = keys("faults-missing");
    tokio::spawn(sim_node::run(session.clone(), keys.clone(), SimState::new("matching-bowls", 2, 0.0).unwrap()));
    tokio::spawn(policy::run(session.clone(), keys.clone(), Duration::from_secs(10)));
    wait_alive(&session, &keys, &[Component::Policy, Component::Sim]).await;
    let (s, k) = (session.clone(), keys.clone());
    let outcome = tokio::task::spawn_blocking(move || {
        let mut robot =
            ZenohRobot { session: s, keys: k, skill_timeout: Duration::from_secs(30), observe_timeout: Duration::from_secs(3), estop: None, sender: None };
        let mut phases = Vec::new();
        let missing = robot.execute("pick up the purple elephant and place it in the red bowl", &mut |p| phases.push(p.to_string()));
        let garbage = robot.execute("dance a little", &mut |_| {});
        (missing, garbage, phases)
    })
    .await
    .unwrap();
    let (missing, garbage, phases) = outcome;
    let missing = missing.unwrap();
    assert!(!missing.success && missing.reason.as_deref().unwrap().contains("no purple elephant"), "{missing:?}");
    assert!(phases.is_empty());
    let garbage = garbage.unwrap();
    assert!(garbage.reason.as_deref().unwrap().contains("cannot parse"), "{garbage:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sim_that_goes_away_ends_the_plan_with_a_record() {
    let session = session().await;
    let keys = keys("faults-gone");
    let sim = tokio::spawn(sim_node::run(session.clone(), keys.clone(), SimState::new("matching-bowls", 4, 0.0).unwrap()));
    tokio::spawn(policy::run(session.clone(), keys.clone(), Duration::from_secs(2)));
    tokio::spawn(daemon::run(session.clone(), keys.clone(), planner(&session, &keys), daemon_config(), grounded::dashboard::Dashboard::disabled()));
    wait_alive(&session, &keys, &Component::ALL).await;
    // The sim goes away: its task ends and its liveliness token with it.
    sim.abort();
    let _ = sim.await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sub = session.declare_subscriber(keys.plan()).await.unwrap();
    let msg = InstructionMsg { schema: SCHEMA_VERSION, id: "orphan".into(), text: "stack all the blocks".into() };
    let (s, k) = (session.clone(), keys.instruction());
    tokio::task::spawn_blocking(move || put(&s, &k, &msg)).await.unwrap().unwrap();
    let p = final_progress(&sub, "orphan").await;
    assert_eq!(p.status, PlanStatus::Aborted, "{p:?}");
    // Refused before planning (the emergency stop is not known without the robot), or
    // ended when the plan found the sim gone.
    assert!(p.reason.as_deref().is_some_and(|r| r.contains("went away")), "{p:?}");
    // The daemon is still there.
    let (s, k) = (session.clone(), keys.alive(Component::Daemon));
    assert!(tokio::task::spawn_blocking(move || grounded::nodes::common::alive(&s, &k)).await.unwrap());
    let _ = session.liveliness().get(keys.alive_any()).wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_queryable_answers_a_malformed_request_with_the_reason() {
    use grounded::nodes::common::query_all;
    let session = session().await;
    let keys = keys("faults-malformed");
    tokio::spawn(sim_node::run(session.clone(), keys.clone(), SimState::new("matching-bowls", 2, 0.0).unwrap()));
    tokio::spawn(policy::run(session.clone(), keys.clone(), Duration::from_secs(10)));
    wait_alive(&session, &keys, &[Component::Sim, Component::Policy]).await;
    let cases: Vec<(String, Vec<u8>, &str)> = vec![
        (keys.primitives(), br#"{"kind": "teleport"}"#.to_vec(), "malformed primitive command message"),
        (keys.primitives(), br#"{"kind": "move-to", "position": [9, 9, 9], "speed": 0.5}"#.to_vec(), "outside the arm's reach"),
        (keys.episode(), br#"{"kind": "reset", "task": "juggle", "seed": 1}"#.to_vec(), "unknown task \"juggle\""),
        (keys.episode(), b"[]".to_vec(), "malformed episode request message"),
        (keys.affordance(), br#"{"texts": 3}"#.to_vec(), "malformed affordance request message"),
        (keys.skill(), b"\xff".to_vec(), "malformed skill request message"),
        (keys.skill(), br#"{"skill": "  "}"#.to_vec(), "a skill text is empty"),
        (keys.skill(), br#"{"skill": "pick up the red block. then drop it"}"#.to_vec(), "may not contain '.'"),
        (keys.primitives(), vec![b'{'; MAX_MESSAGE_BYTES + 1], "at most"),
    ];
    for (key, payload, needle) in cases {
        let s = session.clone();
        let k = key.clone();
        let replies = tokio::task::spawn_blocking(move || query_all(&s, &k, payload, Duration::from_secs(5))).await.unwrap().unwrap();
        let text: Vec<String> = replies
            .into_iter()
            .map(|r| match r {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(e) => e,
            })
            .collect();
        assert!(text.iter().any(|t| t.contains(needle)), "{key}: expected {needle:?} in {text:?}");
    }
    // A malformed emergency stop is ignored: the policy still works.
    session.put(keys.estop(), b"stop!".to_vec()).await.unwrap();
    let (s, k) = (session.clone(), keys.clone());
    let outcome = tokio::task::spawn_blocking(move || {
        let mut robot =
            ZenohRobot { session: s, keys: k, skill_timeout: Duration::from_secs(30), observe_timeout: Duration::from_secs(3), estop: None, sender: None };
        robot.execute("done", &mut |_| {})
    })
    .await
    .unwrap()
    .unwrap();
    assert!(outcome.success);

    // An engaged emergency stop: the policy refuses to move the arm, and says why.
    let stop = protocol::messages::EStop { schema: SCHEMA_VERSION, engaged: true, reason: Some("test".into()) };
    let (s, k) = (session.clone(), keys.estop());
    tokio::task::spawn_blocking(move || put(&s, &k, &stop)).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (s, k) = (session.clone(), keys.clone());
    let stopped = tokio::task::spawn_blocking(move || {
        let mut robot =
            ZenohRobot { session: s, keys: k, skill_timeout: Duration::from_secs(30), observe_timeout: Duration::from_secs(3), estop: None, sender: None };
        let state = robot.observe().unwrap();
        let block = state.objects.iter().find(|o| o.kind == protocol::ObjectKind::Block).unwrap().name.clone();
        robot.execute(&format!("pick up the {block} and place it on the top left corner"), &mut |_| {})
    })
    .await
    .unwrap()
    .unwrap();
    assert!(!stopped.success && stopped.reason.as_deref().unwrap().contains("emergency stop engaged"), "{stopped:?}");
}

/// Part of the one-round-trip affordance query: the policy answers on the observation the
/// query carries (the state the daemon plans on), not on one it fetches again, and refuses
/// an invalid one with why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_answers_affordances_on_the_observation_the_query_carries() {
    use grounded::nodes::common::query_one;
    use protocol::messages::{AffordanceReply, AffordanceRequest};
    let session = session().await;
    let keys = keys("faults-affordance-observation");
    tokio::spawn(sim_node::run(session.clone(), keys.clone(), SimState::new("matching-bowls", 2, 0.0).unwrap()));
    tokio::spawn(policy::run(session.clone(), keys.clone(), Duration::from_secs(10)));
    wait_alive(&session, &keys, &[Component::Sim, Component::Policy]).await;
    // A scene the sim is not running: its skills can only come from the query's observation.
    let scene = grounded::setup::load_scene(std::path::Path::new(&format!("{}/examples/scenes/box-packing.json", env!("CARGO_MANIFEST_DIR")))).unwrap();
    let box_name = scene.objects.iter().find(|o| o.kind == protocol::ObjectKind::Box).map(|o| o.name.clone()).expect("the scene has a box");
    let ask = |observation: Option<protocol::Observation>| {
        let (s, k) = (session.clone(), keys.affordance());
        let req = AffordanceRequest { schema: SCHEMA_VERSION, texts: Vec::new(), observation };
        tokio::task::spawn_blocking(move || query_one::<_, AffordanceReply>(&s, &k, &req, Duration::from_secs(5)).expect("an answer"))
    };
    let carried = ask(Some(scene.clone())).await.unwrap().expect("skills for the carried scene");
    assert!(carried.skills.iter().any(|(text, _)| text.contains(&box_name)), "no skill names the {box_name}: {:?}", carried.skills);
    let own = ask(None).await.unwrap().expect("skills for the sim's own scene");
    assert!(!own.skills.iter().any(|(text, _)| text.contains(&box_name)), "the sim's scene has no {box_name}: {:?}", own.skills);
    let mut bad = scene;
    bad.objects[1].id = bad.objects[0].id.clone();
    let err = ask(Some(bad)).await.unwrap().expect_err("an invalid observation is refused");
    assert!(err.contains("affordance request") && err.contains("observation") && err.contains("appears twice"), "{err}");
}

/// The daemon hears the emergency stop while a plan runs (the plan is aborted before its
/// next skill), queues an instruction sent meanwhile (and refuses to start it while the stop
/// is engaged), and carries out instructions again once the stop is released.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_hears_the_emergency_stop_while_a_plan_runs() {
    use protocol::messages::EStop;
    let session = session().await;
    let keys = keys("faults-estop");
    tokio::spawn(sim_node::run(session.clone(), keys.clone(), SimState::new("matching-bowls", 2, 0.0).unwrap()));
    tokio::spawn(policy::run(session.clone(), keys.clone(), timeouts::PRIMITIVE));
    tokio::spawn(daemon::run(session.clone(), keys.clone(), planner(&session, &keys), daemon_config(), grounded::dashboard::Dashboard::disabled()));
    wait_alive(&session, &keys, &Component::ALL).await;
    let sub = session.declare_subscriber(keys.plan()).await.unwrap();
    let estop = |engaged: bool| {
        let stop = EStop { schema: SCHEMA_VERSION, engaged, reason: Some("test".into()) };
        let (s, k) = (session.clone(), keys.estop());
        tokio::task::spawn_blocking(move || put(&s, &k, &stop))
    };

    let first = client::send_instruction(&session, &keys, "first", "put the blocks in the bowls with matching colours").await.unwrap();
    // Once its first skill is decoded, a second instruction waits behind it; then the stop.
    let mut stopped = false;
    let p = first
        .follow(Duration::from_secs(60), |p| {
            if p.status == PlanStatus::Decoded && !stopped {
                stopped = true;
                let second = InstructionMsg { schema: SCHEMA_VERSION, id: "second".into(), text: "put the blocks in the bowls with matching colours".into() };
                let (s, instruction, stop_key) = (session.clone(), keys.instruction(), keys.estop());
                std::thread::spawn(move || {
                    put(&s, &instruction, &second).unwrap();
                    put(&s, &stop_key, &EStop { schema: SCHEMA_VERSION, engaged: true, reason: Some("test".into()) }).unwrap();
                });
            }
        })
        .await
        .unwrap();
    assert!(stopped, "the plan decoded no skill");
    assert_eq!(p.status, PlanStatus::Aborted, "{p:?}");
    assert!(p.reason.as_deref().unwrap().contains("emergency stop"), "{p:?}");
    // The second waited behind the first (a `queued` progress), then was refused a start.
    let mut statuses = Vec::new();
    let second = loop {
        let sample = tokio::time::timeout(Duration::from_secs(60), sub.recv_async()).await.expect("progress in time").expect("a sample");
        let p: PlanProgress = decode(&sample.payload().to_bytes()).expect("valid progress");
        if p.instruction_id == "second" {
            statuses.push(p.status);
            if client::ends_plan(p.status) {
                break p;
            }
        }
    };
    assert_eq!(statuses.first(), Some(&PlanStatus::Queued), "{statuses:?}");
    assert_eq!(second.status, PlanStatus::Aborted, "{second:?}");
    assert!(second.reason.as_deref().unwrap().contains("emergency stop engaged"), "{second:?}");

    estop(false).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let third = client::send_instruction(&session, &keys, "third", "put the blocks in the bowls with matching colours").await.unwrap();
    let p = third.follow(Duration::from_secs(60), |_| {}).await.unwrap();
    assert_eq!(p.status, PlanStatus::Done, "{p:?}");
}

/// Every progress reply of a skill reaches the daemon's robot client as it is sent, before
/// the result (docs/protocol.md: several `progress`, then one `result`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_skills_progress_replies_all_arrive() {
    let session = session().await;
    let keys = keys("faults-progress");
    tokio::spawn(sim_node::run(session.clone(), keys.clone(), SimState::new("matching-bowls", 2, 0.0).unwrap()));
    tokio::spawn(policy::run(session.clone(), keys.clone(), timeouts::PRIMITIVE));
    wait_alive(&session, &keys, &[Component::Policy, Component::Sim]).await;
    let (s, k) = (session.clone(), keys.clone());
    let (outcome, phases) = tokio::task::spawn_blocking(move || {
        let mut robot = ZenohRobot { session: s, keys: k, skill_timeout: timeouts::SKILL, observe_timeout: timeouts::OBSERVE, estop: None, sender: None };
        let state = robot.observe().unwrap();
        let block = state.objects.iter().find(|o| o.kind == protocol::ObjectKind::Block).unwrap().name.clone();
        let mut phases = Vec::new();
        let outcome = robot.execute(&format!("pick up the {block} and place it on the top left corner"), &mut |p| phases.push(p.to_string()));
        (outcome, phases)
    })
    .await
    .unwrap();
    assert!(outcome.unwrap().success);
    assert!(phases.len() >= 3 && phases.first().is_some_and(|p| p == "approach"), "{phases:?}");
}

/// The sim obeys the emergency stop, heard on its own path: while it is engaged every
/// primitive but a wait is refused (the arm stays where it is, holding what it holds), and
/// motions work again once it is released. (A motion under way halts within one physics
/// step: the arm looks at the stop before each; sim/src/tabletop/world.rs tests it, since
/// simulated motions run far faster than a message travels.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sim_obeys_the_emergency_stop() {
    use grounded::nodes::common::query_one;
    use protocol::messages::{EStop, Primitive, PrimitiveCommand, PrimitiveReply};
    let session = session().await;
    let keys = keys("faults-sim-estop");
    tokio::spawn(sim_node::run(session.clone(), keys.clone(), SimState::new("matching-bowls", 2, 0.0).unwrap()));
    wait_alive(&session, &keys, &[Component::Sim]).await;
    let command = |body: Primitive| {
        let (s, k) = (session.clone(), keys.primitives());
        let cmd = PrimitiveCommand { schema: SCHEMA_VERSION, body };
        tokio::task::spawn_blocking(move || query_one::<_, PrimitiveReply>(&s, &k, &cmd, Duration::from_secs(60)).unwrap().unwrap())
    };
    let stop = |engaged: bool| {
        let (s, k) = (session.clone(), keys.estop());
        let msg = protocol::messages::encode(&EStop { schema: SCHEMA_VERSION, engaged, reason: Some("test".into()) });
        async move {
            s.put(k, msg).priority(zenoh::qos::Priority::RealTime).congestion_control(zenoh::qos::CongestionControl::Block).await.unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let before = command(Primitive::MoveTo { position: [-0.3, -0.2, 0.1], speed: 2.0 }).await.unwrap();
    assert!(before.ok, "{before:?}");
    stop(true).await;
    for body in [Primitive::MoveTo { position: [0.3, 0.2, 0.3], speed: 1.0 }, Primitive::Suction { on: true }] {
        let refused = command(body).await.unwrap();
        assert!(!refused.ok && refused.reason.as_deref().unwrap_or_default().contains("emergency stop engaged"), "{refused:?}");
    }
    let waited = command(Primitive::Wait { seconds: 0.1 }).await.unwrap();
    assert!(waited.ok && waited.tip == before.tip, "the arm moved while stopped: {waited:?}");
    stop(false).await;
    let again = command(Primitive::MoveTo { position: [0.0, 0.0, 0.3], speed: 2.0 }).await.unwrap();
    assert!(again.ok, "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_ends_the_plan_only_when_its_daemon_stays_gone() {
    // A daemon that is only its instance token, withdrawn and declared again as a link
    // closed and re-made would (one session: its peers need not meet first).
    let daemon = session().await;
    let operator = daemon.clone();
    let keys = keys("faults-blink");
    let instance = daemon.zid().to_string();
    let token = || daemon.liveliness().declare_token(keys.alive_instance(Component::Daemon, &instance));
    let first = token().await.unwrap();
    let done = PlanProgress {
        schema: SCHEMA_VERSION,
        daemon: Some(instance.clone()),
        instruction_id: "blink".into(),
        step: 1,
        skill: None,
        status: PlanStatus::Done,
        reason: None,
        score: None,
        lm_score: None,
        plan: String::new(),
    };
    // Withdrawn and declared again at once while the follower follows, then the plan ends:
    // the follower sees it end.
    let plan = client::send_instruction(&operator, &keys, "blink", "stack the blocks").await.expect("sent");
    let blink = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        first.undeclare().await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let second = token().await.unwrap();
        tokio::time::sleep(timeouts::DAEMON_GONE_CONFIRM + Duration::from_millis(500)).await;
        let (s, k, done) = (daemon.clone(), keys.plan(), done.clone());
        tokio::task::spawn_blocking(move || put(&s, &k, &done)).await.unwrap().unwrap();
        second
    };
    let (end, second) = tokio::join!(plan.follow(Duration::from_secs(30), |_| {}), blink);
    let end = end.expect("the plan ends");
    assert_eq!(end.status, PlanStatus::Done, "a token withdrawn and declared again ended the plan: {end:?}");
    // Withdrawn for good: the follower reports the plan aborted, naming the daemon.
    let plan = client::send_instruction(&operator, &keys, "gone", "stack the blocks").await.expect("sent");
    tokio::time::sleep(Duration::from_millis(300)).await;
    second.undeclare().await.unwrap();
    let end = plan.follow(Duration::from_secs(30), |_| {}).await.expect("the plan ends");
    assert_eq!(end.status, PlanStatus::Aborted, "{end:?}");
    assert!(end.reason.as_deref().is_some_and(|r| r.contains("went away") && r.contains(&instance)), "{end:?}");
}
