//! A domain added through the registry alone (docs/architecture.md, "Adding a domain"): this
//! file is the whole of it. Blocks and a bin, without physics: the robot's `move-to` onto a
//! block takes it, onto the bin drops what it holds in, and a block in the bin stands at the
//! bin's place raised to z = 0.1 m in the observation. Its tasks plan open-loop, and run
//! closed-loop in evaluation both in-process and over zenoh (sim and policy nodes), with
//! nothing of it in the library.

use grounded::domains::{self, Domain, EpisodeSummary, Primitives, TaskInfo, World, WorldOptions};
use grounded::eval::{run, EvalConfig, EvalTask, Transport};
use grounded::planner::Method;
use grounding::{GroundingError, ScoredSkill, SkillSpace};
use policies::SkillOutcome;
use protocol::messages::{Primitive, PrimitiveReply};
use protocol::{ObjectKind, Observation, SceneObject, SCHEMA_VERSION};
use std::sync::OnceLock;

const COLOURS: [&str; 3] = ["red", "green", "blue"];
const BIN: &str = "brown box";
const BIN_AT: [f64; 3] = [0.3, 0.2, 0.0];
const IN_BIN_Z: f64 = 0.1;

fn id() -> protocol::Domain {
    static ID: OnceLock<protocol::Domain> = OnceLock::new();
    *ID.get_or_init(|| protocol::Domain::register("bins").expect("a valid name"))
}

fn in_bin(o: &SceneObject) -> bool {
    o.position[2] > IN_BIN_Z / 2.0
}

fn put_away(block: &str) -> String {
    format!("pick up the {block} and place it in the {BIN}")
}

struct BinSkills;

impl SkillSpace for BinSkills {
    fn admissible(&self, obs: &Observation) -> Result<Vec<ScoredSkill>, GroundingError> {
        let mut out = vec![ScoredSkill { text: "done".into(), feasibility: 1.0 }];
        out.extend(obs.objects.iter().filter(|o| o.kind == ObjectKind::Block && !in_bin(o)).map(|o| ScoredSkill { text: put_away(&o.name), feasibility: 1.0 }));
        Ok(out)
    }
}

struct Bins;

impl Domain for Bins {
    fn id(&self) -> protocol::Domain {
        id()
    }
    fn about(&self) -> &'static str {
        "blocks to put in a bin, without physics (a test's own domain)"
    }
    fn tasks(&self) -> Vec<TaskInfo> {
        vec![TaskInfo { id: "bin-all", row: "bins", slot_names: &[] }, TaskInfo { id: "bin-red", row: "bins", slot_names: &[] }]
    }
    fn default_task(&self) -> &'static str {
        "bin-all"
    }
    fn skills(&self) -> &'static dyn SkillSpace {
        &BinSkills
    }
    fn apply(&self, state: &Observation, skill: &str) -> Result<Observation, String> {
        let mut next = state.clone();
        let block =
            next.objects.iter_mut().find(|o| put_away(&o.name) == skill && !in_bin(o)).ok_or_else(|| format!("no block outside the bin for {skill:?}"))?;
        block.position = [BIN_AT[0], BIN_AT[1], IN_BIN_Z];
        Ok(next)
    }
    fn execute(&self, skill: &str, robot: &mut dyn Primitives, progress: &mut dyn FnMut(&str)) -> SkillOutcome {
        let fail = |reason: String| SkillOutcome { success: false, reason: Some(reason) };
        let obs = match robot.observe() {
            Ok(o) => o,
            Err(e) => return fail(e),
        };
        let Some(block) = obs.objects.iter().find(|o| put_away(&o.name) == skill) else { return fail(format!("{skill:?} names no block here")) };
        for (phase, at) in [("take", block.position), ("drop", BIN_AT)] {
            progress(phase);
            if let Err(e) = robot.primitive(Primitive::MoveTo { position: at, speed: 0.5 }) {
                return fail(e);
            }
        }
        SkillOutcome { success: true, reason: None }
    }
    fn world(&self, task: &str, seed: u64, _options: &WorldOptions) -> Result<Box<dyn World>, String> {
        let task = self.tasks().into_iter().find(|t| t.id == task).map(|t| t.id).ok_or_else(|| format!("unknown bins task {task:?}"))?;
        // The seed decides the blocks' order along the table.
        let mut colours = COLOURS.to_vec();
        colours.rotate_left((seed % 3) as usize);
        let mut objects: Vec<SceneObject> = colours
            .iter()
            .enumerate()
            .map(|(i, c)| SceneObject::new(format!("b{i}"), format!("{c} block"), ObjectKind::Block, [-0.2 + 0.15 * i as f64, -0.1, 0.0]))
            .collect();
        objects.push(SceneObject::new("bin", BIN, ObjectKind::Box, BIN_AT));
        Ok(Box::new(BinWorld { task, seed, start: Observation::new(id(), objects.clone()), now: Observation::new(id(), objects), holding: None, clock: 0.0 }))
    }
    fn describe(&self, scene: &Observation) -> String {
        format!("scene: {}\n", scene.objects.iter().map(|o| o.name.as_str()).collect::<Vec<_>>().join(", "))
    }
}

struct BinWorld {
    task: &'static str,
    seed: u64,
    start: Observation,
    now: Observation,
    holding: Option<String>,
    clock: f64,
}

impl World for BinWorld {
    fn summary(&self) -> EpisodeSummary {
        let instruction = if self.task == "bin-red" { "put the red block in the brown box" } else { "put all the blocks in the brown box" };
        EpisodeSummary {
            domain: id(),
            task: self.task.into(),
            seed: self.seed,
            instruction: instruction.into(),
            start: self.start.clone(),
            grounding: None,
            slots: Default::default(),
        }
    }
    fn observe(&mut self) -> Observation {
        self.now.clone()
    }
    fn primitive(&mut self, primitive: &Primitive) -> PrimitiveReply {
        let mut reply = PrimitiveReply {
            schema: SCHEMA_VERSION,
            ok: true,
            reason: None,
            holding: None,
            tip: [0.0; 3],
            sim_seconds: self.clock,
            event: None,
            halted_after: None,
        };
        let near = |a: [f64; 3], b: [f64; 3]| (a[0] - b[0]).abs() < 0.01 && (a[1] - b[1]).abs() < 0.01;
        match primitive {
            Primitive::MoveTo { position, .. } => {
                self.clock += 1.0;
                reply.tip = *position;
                if near(*position, BIN_AT) {
                    match self.holding.take().and_then(|h| self.now.objects.iter_mut().find(|o| o.name == h)) {
                        Some(block) => block.position = [BIN_AT[0], BIN_AT[1], IN_BIN_Z],
                        None => (reply.ok, reply.reason) = (false, Some("nothing held to drop".into())),
                    }
                } else {
                    match self.now.objects.iter().find(|o| o.kind == ObjectKind::Block && !in_bin(o) && near(o.position, *position)) {
                        Some(block) if self.holding.is_none() => self.holding = Some(block.name.clone()),
                        _ => (reply.ok, reply.reason) = (false, Some("no block to take there".into())),
                    }
                }
            }
            Primitive::Wait { .. } => {}
            _ => (reply.ok, reply.reason) = (false, Some("bins take move-to and wait only".into())),
        }
        reply.holding = self.holding.clone();
        reply.sim_seconds = self.clock;
        reply
    }
    fn sim_seconds(&self) -> f64 {
        self.clock
    }
    fn judge(&self) -> Result<(), String> {
        let wrong: Vec<&str> = self
            .now
            .objects
            .iter()
            .filter(|o| o.kind == ObjectKind::Block && in_bin(o) != (self.task == "bin-all" || o.name == "red block"))
            .map(|o| o.name.as_str())
            .collect();
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(format!("in the wrong place: {}", wrong.join(", ")))
        }
    }
}

fn register() {
    domains::register(&Bins).expect("the bins domain registers");
}

#[test]
fn a_domain_from_outside_the_library_registers_once_and_clashes_are_refused() {
    register();
    register();
    assert!(domains::registry().iter().any(|d| d.id() == id()));
    assert_eq!(domains::domain_of_task("bin-red").map(|d| d.id()), Some(id()));
    struct Clash;
    impl Domain for Clash {
        fn id(&self) -> protocol::Domain {
            protocol::Domain::register("clash").expect("a valid name")
        }
        fn about(&self) -> &'static str {
            "takes a tabletop task's id"
        }
        fn tasks(&self) -> Vec<TaskInfo> {
            vec![TaskInfo { id: "matching-bowls", row: "x", slot_names: &[] }]
        }
        fn default_task(&self) -> &'static str {
            "matching-bowls"
        }
        fn skills(&self) -> &'static dyn SkillSpace {
            &BinSkills
        }
        fn apply(&self, state: &Observation, _skill: &str) -> Result<Observation, String> {
            Ok(state.clone())
        }
        fn execute(&self, _skill: &str, _robot: &mut dyn Primitives, _progress: &mut dyn FnMut(&str)) -> SkillOutcome {
            SkillOutcome { success: false, reason: None }
        }
        fn world(&self, _task: &str, _seed: u64, _options: &WorldOptions) -> Result<Box<dyn World>, String> {
            Err("none".into())
        }
        fn describe(&self, _scene: &Observation) -> String {
            String::new()
        }
    }
    let err = domains::register(&Clash).unwrap_err();
    assert!(err.contains("matching-bowls") && err.contains("tabletop task already"), "{err}");
}

#[test]
fn the_planner_plans_open_loop_in_a_registered_domain_with_its_skills_only() {
    register();
    let world = Bins.world("bin-all", 1, &WorldOptions::default()).unwrap();
    let summary = world.summary();
    let mut planner = grounded::setup::build_planner(&grounded::setup::PlannerOptions::new(grounded::default_model_dir())).expect("the shipped model");
    let plan = planner.plan(&summary.instruction, &summary.start, Method::GdBeam).expect("a plan");
    let skills: Vec<String> = plan.skills().iter().map(|s| s.to_string()).collect();
    let all: Vec<String> = COLOURS.iter().map(|c| put_away(&format!("{c} block"))).collect();
    // Only the domain's skills, a block at most once (its effect took the block out of the
    // admissible skills), at least one, then done.
    let (last, moved) = skills.split_last().expect("a plan");
    assert_eq!(last, "done", "{skills:?}");
    assert!(!moved.is_empty() && moved.iter().all(|m| all.contains(m)), "{skills:?}");
    assert!(moved.iter().enumerate().all(|(i, m)| !moved[..i].contains(m)), "a block moved twice: {skills:?}");
}

#[test]
fn a_registered_domain_runs_closed_loop_in_process_and_over_zenoh_alike() {
    register();
    let tasks = EvalTask::all(id());
    assert_eq!(tasks.iter().map(|t| t.id()).collect::<Vec<_>>(), ["bin-all", "bin-red"]);
    let config = |transport| EvalConfig {
        planner: grounded::setup::PlannerOptions::new(grounded::default_model_dir()),
        methods: vec![Method::GdBeam, Method::Llm],
        tasks: tasks.clone(),
        episodes: 2,
        seed: 3,
        workers: 2,
        observation_noise: 0.0,
        transport,
        dashboard: grounded::dashboard::Dashboard::disabled(),
        wordings: Vec::new(),
    };
    let local = run(&config(Transport::Local), &|_, _, _| {}).expect("in-process evaluation");
    let zenoh = run(&config(Transport::Zenoh), &|_, _, _| {}).expect("evaluation over zenoh");
    assert_eq!(local.len(), 8);
    let steps = |r: &grounded::eval::EpisodeRecord| r.steps.iter().map(|s| (s.skill.clone(), s.success)).collect::<Vec<_>>();
    for (l, z) in local.iter().zip(&zenoh) {
        assert_eq!((&l.task, l.seed, l.method, l.success, steps(l)), (&z.task, z.seed, z.method, z.success, steps(z)));
        assert_eq!(l.row, "bins");
    }
    // Grounded decoding carries out only the domain's skills, each of which its policy
    // completes, and the world's verdict follows from them.
    for r in local.iter().filter(|r| r.method == Method::GdBeam) {
        let moved: Vec<&str> = r.steps.iter().filter(|s| s.skill != "done").map(|s| s.skill.as_str()).collect();
        assert!(r.steps.iter().all(|s| s.success), "{:?}", r.steps);
        assert!(!moved.is_empty(), "{} seed {}: nothing was put away: {:?}", r.task, r.seed, r.steps);
        let wanted: Vec<String> =
            if r.task == "bin-all" { COLOURS.iter().map(|c| put_away(&format!("{c} block"))).collect() } else { vec![put_away("red block")] };
        let exact = moved.len() == wanted.len() && wanted.iter().all(|w| moved.contains(&w.as_str()));
        assert_eq!(r.success, exact, "{} seed {}: {:?}", r.task, r.seed, r.steps);
    }
}

#[test]
fn an_observation_of_an_unregistered_domain_is_refused_with_the_known_ones() {
    let err = serde_json::from_str::<Observation>(r#"{"schema": 1, "domain": "submarine", "objects": []}"#).unwrap_err().to_string();
    assert!(err.contains("unknown domain \"submarine\"") && err.contains("tabletop, grid, kitchen"), "{err}");
}
