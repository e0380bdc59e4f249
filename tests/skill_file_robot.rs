//! A robot of the user's own, planned for from its skill file alone: the robot (here a
//! zenoh session of the test, as a user's robot would be one of its own) publishes its
//! observation, holds the emergency stop, answers `affordance` for the daemon's batched
//! query and carries out `skill`; `grounded daemon --skills` plans for it.

use grounded::decoder::DecodeConfig;
use grounded::domains::skill_file;
use grounded::lm::LanguageModel;
use grounded::nodes::common::CommonArgs;
use grounded::nodes::daemon::{self, DaemonConfig};
use grounded::nodes::{client, timeouts};
use grounded::planner::{Method, Planner};
use protocol::keys::{Component, RobotId, RobotKeys};
use protocol::messages::{decode, encode, AffordanceReply, AffordanceRequest, EStopState, PlanStatus, SkillReply, SkillReplyBody, SkillRequest};
use protocol::{Observation, SCHEMA_VERSION};
use std::sync::{Arc, Mutex};
use zenoh::Wait;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_plans_for_a_robot_from_its_skill_file_and_asks_it_for_affordances() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/warehouse/skills.toml");
    let library = grounded::skills::load(&path).expect("the example skill file");
    let domain = skill_file::register(library.clone()).expect("registers");
    let scene: Observation = serde_json::from_str(&std::fs::read_to_string(path.with_file_name("scene.json")).unwrap()).unwrap();
    let keys = RobotKeys::new(RobotId::new("warehouse-1").unwrap());
    let session = CommonArgs { mode: Some("peer".into()), ..CommonArgs::default() }.open().await.unwrap();

    // The robot: its state, its stop (released), its affordances (it cannot reach the top
    // shelf), its skills (it records each one).
    let state = Arc::new(Mutex::new(scene));
    let asked = Arc::new(Mutex::new(Vec::<Vec<String>>::new()));
    let done = Arc::new(Mutex::new(Vec::<String>::new()));
    let s = state.clone();
    let _state = session.declare_queryable(keys.state()).callback(move |q| {
        let _ = q.reply(q.key_expr().clone(), encode(&*s.lock().unwrap())).wait();
    });
    let _state = _state.await.unwrap();
    let _stop = session
        .declare_queryable(keys.estop_state())
        .callback(|q| {
            let _ = q.reply(q.key_expr().clone(), encode(&EStopState { schema: SCHEMA_VERSION, engaged: false, reason: None, epoch: 0 })).wait();
        })
        .await
        .unwrap();
    let a = asked.clone();
    let _affordance = session
        .declare_queryable(keys.affordance())
        .callback(move |q| {
            let req: AffordanceRequest = decode(&q.payload().unwrap().to_bytes()).unwrap();
            let texts: Vec<String> = req.texts.iter().map(|t| t.text.clone()).collect();
            let scores = texts.iter().map(|t| if t.contains("top shelf") { 0.0 } else { 1.0 }).collect();
            a.lock().unwrap().push(texts);
            let _ = q.reply(q.key_expr().clone(), encode(&AffordanceReply { schema: SCHEMA_VERSION, skills: Vec::new(), scores })).wait();
        })
        .await
        .unwrap();
    let (st, d, lib) = (state.clone(), done.clone(), library.clone());
    let _skill = session
        .declare_queryable(keys.skill())
        .callback(move |q| {
            let req: SkillRequest = decode(&q.payload().unwrap().to_bytes()).unwrap();
            let skill = req.skill.as_str().to_string();
            let mut obs = st.lock().unwrap();
            let filled = lib.admissible(&obs).unwrap();
            let reply = match filled.iter().find(|f| f.text == skill) {
                Some(f) => {
                    if let (Some(robot), Some(h)) = (obs.robot.as_mut(), &f.then) {
                        robot.holding = h.clone();
                    }
                    d.lock().unwrap().push(skill);
                    SkillReplyBody::Result { success: true, reason: None, sim_seconds: 0.0 }
                }
                None => SkillReplyBody::Result { success: false, reason: Some(format!("{skill:?} is not admissible")), sim_seconds: 0.0 },
            };
            let _ = q.reply(q.key_expr().clone(), encode(&SkillReply { schema: SCHEMA_VERSION, body: reply })).wait();
        })
        .await
        .unwrap();
    let _sim = session.liveliness().declare_token(keys.alive(Component::Sim)).await.unwrap();
    let _policy = session.liveliness().declare_token(keys.alive(Component::Policy)).await.unwrap();

    let lm = LanguageModel::load(&grounded::default_model_dir(), 1).expect("the shipped model");
    let space = grounded::domains::Domain::robot_skills(domain, &session, &keys);
    let planner = Planner::with_affordance(lm, DecodeConfig::default(), grounding::Affordance::new(space, 1e-6));
    let config = DaemonConfig { method: Method::GdBeam, skill_timeout: timeouts::SKILL, observe_timeout: timeouts::OBSERVE, journal: None, ask: None };
    tokio::spawn(daemon::run(session.clone(), keys.clone(), planner, config, grounded::dashboard::Dashboard::disabled()));
    client::wait_for(&session, &keys, &Component::ALL, timeouts::COMPONENTS_UP).await.unwrap();

    let plan = client::send_instruction(&session, &keys, "w-1", "put the red parcel on the top shelf").await.unwrap();
    let mut decoded = Vec::new();
    let end = plan
        .follow(timeouts::DEMO_PLAN, |p| {
            if p.status == PlanStatus::Decoded {
                decoded.push(p.skill.clone().unwrap_or_default());
            }
        })
        .await
        .unwrap();
    // The shipped model does not know the warehouse's words (docs/skills.md): the plan may
    // end, or stop having found no skill the robot allows; never with one it does not.
    let found_none = end.status == PlanStatus::Aborted && end.reason.as_deref() == Some("no admissible skill could be decoded");
    assert!(matches!(end.status, PlanStatus::Done | PlanStatus::StepLimit) || found_none, "{end:?}");
    // One batched query per plan step, holding exactly the file's admissible skills of the
    // state the step was planned on.
    let asked = asked.lock().unwrap().clone();
    assert!(!asked.is_empty(), "the robot was asked for affordances");
    let first: Vec<String> = library
        .admissible(&serde_json::from_str(&std::fs::read_to_string(path.with_file_name("scene.json")).unwrap()).unwrap())
        .unwrap()
        .into_iter()
        .map(|s| s.text)
        .collect();
    assert_eq!(asked[0], first);
    // Every skill decoded was admissible, and none the robot scored 0.
    for skill in &decoded {
        assert!(skill == "done" || asked.iter().any(|a| a.contains(skill)), "{skill:?} was never admissible");
        assert!(!skill.contains("top shelf"), "{skill:?}: the robot scored it 0");
    }
    let _ = done;
}
