//! The tabletop in rigid-body physics (rapier3d): a table, the scene's objects, and a
//! suction arm whose cup moves in straight lines and grips what it touches.
//!
//! Blocks, letters and items are dynamic bodies; bowls and boxes are fixed open containers
//! (a base and walls). A gripped object follows the cup kinematically and becomes dynamic
//! again when released, so it falls, slides, topples a stack or lands in a bowl by physics.

use super::catalog;
use crate::rng::Rng;
use crate::stop::StopSignal;
use protocol::limits::{MAX_ARM_SPEED, MAX_WAIT_SECONDS, MIN_ARM_SPEED};
use protocol::tabletop::geometry::{BLOCK_SIZE, BOX_HALF, TABLE_HALF_X, TABLE_HALF_Y};
use protocol::{ObjectKind, Observation, SceneObject};
use rapier3d::na::{Isometry3, Translation3, UnitQuaternion, Vector3};
use rapier3d::prelude::*;
use std::sync::Arc;

/// Settings of a world.
#[derive(Clone, Debug, PartialEq)]
pub struct WorldConfig {
    /// Physics time step (s).
    pub dt: f64,
    /// Standard deviation of the noise added to observed positions (m); 0 = exact.
    pub observation_noise: f64,
    /// Seed of the observation noise.
    pub noise_seed: u64,
    /// Pace the physics to the wall clock, as a real arm moves (false: as fast as it runs).
    pub real_time: bool,
}

impl Default for WorldConfig {
    fn default() -> Self {
        Self { dt: 1.0 / 240.0, observation_noise: 0.0, noise_seed: 0, real_time: false }
    }
}

/// The arm after a command.
#[derive(Clone, Debug, PartialEq)]
pub struct ArmState {
    pub tip: [f64; 3],
    pub holding: Option<String>,
    pub sim_seconds: f64,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum ArmError {
    #[error("target {0:?} is outside the arm's reach (x within ±0.55 m, y within ±0.4 m, z from 0 to 0.5 m)")]
    OutOfReach([f64; 3]),
    #[error("speed {0} m/s is not in [{MIN_ARM_SPEED}, {MAX_ARM_SPEED}] m/s")]
    BadSpeed(f64),
    #[error("suction found nothing to grip under the cup at {0:?}")]
    NothingToGrip([f64; 3]),
    #[error("wait of {0} s is not in [0, {MAX_WAIT_SECONDS}] s")]
    BadWait(f64),
    #[error("emergency stop engaged: the arm stopped at {0:?}")]
    Stopped([f64; 3]),
}

struct Body {
    meta: SceneObject,
    handle: RigidBodyHandle,
    half: [f64; 3],
}

/// The simulated tabletop.
pub struct World {
    bodies: RigidBodySet,
    colliders: ColliderSet,
    impulse_joints: ImpulseJointSet,
    multibody_joints: MultibodyJointSet,
    pipeline: PhysicsPipeline,
    islands: IslandManager,
    broad_phase: DefaultBroadPhase,
    narrow_phase: NarrowPhase,
    ccd: CCDSolver,
    params: IntegrationParameters,
    objects: Vec<Body>,
    tip: Vector3<f32>,
    /// Held object's index and its centre relative to the cup tip.
    held: Option<(usize, Vector3<f32>)>,
    time: f64,
    steps: u64,
    config: WorldConfig,
    noise: Rng,
    /// The emergency stop, looked at before every physics step of a motion.
    stop: Option<Arc<StopSignal>>,
    /// The last motion halted by the stop: the simulated seconds it moved after the stop.
    halted_after: Option<f64>,
    /// In real time: the wall clock and the simulated time the current primitive began at.
    pace: Option<(std::time::Instant, f64)>,
}

/// Half extents of an object's body.
pub fn half_extents(o: &SceneObject) -> [f64; 3] {
    match o.kind {
        ObjectKind::Block | ObjectKind::Letter => [BLOCK_SIZE / 2.0; 3],
        ObjectKind::Item => catalog::item_named(&o.name).map_or([0.025; 3], |i| i.half),
        ObjectKind::Bowl => [0.075, 0.075, 0.02],
        ObjectKind::Box => [BOX_HALF[0] + 0.01, BOX_HALF[1] + 0.01, 0.03],
    }
}

/// Where the cup rests when it is out of the way.
pub const HOME: [f64; 3] = [0.0, -0.3, 0.3];

fn v(a: [f64; 3]) -> Vector3<f32> {
    Vector3::new(a[0] as f32, a[1] as f32, a[2] as f32)
}

fn a(v: &Vector3<f32>) -> [f64; 3] {
    [f64::from(v.x), f64::from(v.y), f64::from(v.z)]
}

fn container_shapes(o: &SceneObject) -> Vec<(Isometry3<f32>, SharedShape)> {
    let iso = |x: f32, y: f32, z: f32, yaw: f32| Isometry3::from_parts(Translation3::new(x, y, z), UnitQuaternion::from_euler_angles(0.0, 0.0, yaw));
    let mut shapes = Vec::new();
    match o.kind {
        ObjectKind::Bowl => {
            shapes.push((iso(0.0, 0.0, 0.005, 0.0), SharedShape::cuboid(0.07, 0.07, 0.005)));
            let n = 12;
            for i in 0..n {
                let angle = i as f32 * std::f32::consts::TAU / n as f32;
                let r = 0.07;
                shapes.push((iso(r * angle.cos(), r * angle.sin(), 0.025, angle), SharedShape::cuboid(0.004, 0.02, 0.02)));
            }
        }
        ObjectKind::Box => {
            let (hx, hy) = (BOX_HALF[0] as f32 + 0.005, BOX_HALF[1] as f32 + 0.005);
            shapes.push((iso(0.0, 0.0, 0.005, 0.0), SharedShape::cuboid(hx, hy, 0.005)));
            shapes.push((iso(hx, 0.0, 0.03, 0.0), SharedShape::cuboid(0.005, hy, 0.03)));
            shapes.push((iso(-hx, 0.0, 0.03, 0.0), SharedShape::cuboid(0.005, hy, 0.03)));
            shapes.push((iso(0.0, hy, 0.03, 0.0), SharedShape::cuboid(hx, 0.005, 0.03)));
            shapes.push((iso(0.0, -hy, 0.03, 0.0), SharedShape::cuboid(hx, 0.005, 0.03)));
        }
        _ => {}
    }
    shapes
}

impl World {
    /// Build the world for a scene: every object at its position, resting on the table.
    pub fn new(scene: &Observation, config: WorldConfig) -> Self {
        let mut bodies = RigidBodySet::new();
        let mut colliders = ColliderSet::new();
        let table = bodies.insert(RigidBodyBuilder::fixed().translation(vector![0.0, 0.0, -0.05]));
        colliders.insert_with_parent(
            ColliderBuilder::cuboid(TABLE_HALF_X as f32 + 0.05, TABLE_HALF_Y as f32 + 0.05, 0.05).friction(0.8).build(),
            table,
            &mut bodies,
        );
        let mut objects = Vec::new();
        for o in &scene.objects {
            let half = half_extents(o);
            let handle = if o.kind.is_container() {
                let h = bodies.insert(RigidBodyBuilder::fixed().translation(vector![o.position[0] as f32, o.position[1] as f32, o.position[2] as f32]));
                colliders.insert_with_parent(ColliderBuilder::compound(container_shapes(o)).friction(0.8).build(), h, &mut bodies);
                h
            } else {
                let centre = vector![o.position[0] as f32, o.position[1] as f32, (o.position[2] + half[2]) as f32];
                let h = bodies.insert(RigidBodyBuilder::dynamic().translation(centre).linear_damping(0.1).angular_damping(0.1).ccd_enabled(true));
                colliders.insert_with_parent(
                    ColliderBuilder::cuboid(half[0] as f32, half[1] as f32, half[2] as f32).density(600.0).friction(0.8).restitution(0.0).build(),
                    h,
                    &mut bodies,
                );
                h
            };
            objects.push(Body { meta: o.clone(), handle, half });
        }
        let params = IntegrationParameters { dt: config.dt as f32, ..IntegrationParameters::default() };
        let noise = Rng::new(config.noise_seed);
        let mut world = Self {
            bodies,
            colliders,
            impulse_joints: ImpulseJointSet::new(),
            multibody_joints: MultibodyJointSet::new(),
            pipeline: PhysicsPipeline::new(),
            islands: IslandManager::new(),
            broad_phase: DefaultBroadPhase::new(),
            narrow_phase: NarrowPhase::new(),
            ccd: CCDSolver::new(),
            params,
            objects,
            tip: v(HOME),
            held: None,
            time: 0.0,
            steps: 0,
            config,
            noise,
            stop: None,
            halted_after: None,
            pace: None,
        };
        world.settle(0.2);
        world
    }

    /// One physics step; a held object follows the cup.
    pub fn step(&mut self) {
        if let Some((i, offset)) = self.held {
            if let Some(body) = self.bodies.get_mut(self.objects[i].handle) {
                body.set_next_kinematic_translation(self.tip + offset);
            }
        }
        let gravity = vector![0.0, 0.0, -9.81];
        self.pipeline.step(
            &gravity,
            &self.params,
            &mut self.islands,
            &mut self.broad_phase,
            &mut self.narrow_phase,
            &mut self.bodies,
            &mut self.colliders,
            &mut self.impulse_joints,
            &mut self.multibody_joints,
            &mut self.ccd,
            &(),
            &(),
        );
        self.time += self.config.dt;
        self.steps += 1;
        if let Some((wall, sim)) = self.pace {
            let ahead = (self.time - sim) - wall.elapsed().as_secs_f64();
            if ahead > 0.0 {
                std::thread::sleep(std::time::Duration::from_secs_f64(ahead));
            }
        }
        if let Some(stop) = &self.stop {
            stop.tick(self.time);
        }
    }

    fn settle(&mut self, seconds: f64) {
        let n = (seconds / self.config.dt).ceil() as usize;
        for _ in 0..n {
            self.step();
        }
    }

    pub fn sim_seconds(&self) -> f64 {
        self.time
    }

    pub fn steps(&self) -> u64 {
        self.steps
    }

    pub fn arm(&self) -> ArmState {
        ArmState { tip: a(&self.tip), holding: self.held.map(|(i, _)| self.objects[i].meta.name.clone()), sim_seconds: self.time }
    }

    /// The true state: every object's base centre.
    pub fn ground_truth(&self) -> Observation {
        let objects = self
            .objects
            .iter()
            .map(|b| {
                let mut o = b.meta.clone();
                if let Some(body) = self.bodies.get(b.handle) {
                    let t = body.translation();
                    let base = if o.kind.is_container() { 0.0 } else { b.half[2] };
                    o.position = [f64::from(t.x), f64::from(t.y), f64::from(t.z) - base];
                    o.yaw = f64::from(body.rotation().euler_angles().2);
                }
                o
            })
            .collect();
        let mut obs = Observation::new(protocol::Domain::TABLETOP, objects);
        let arm = self.arm();
        obs.robot = Some(protocol::RobotState { time_s: arm.sim_seconds, gripper: arm.tip, holding: arm.holding });
        obs
    }

    /// What the robot observes: the true state plus the configured noise.
    pub fn observe(&mut self) -> Observation {
        let mut obs = self.ground_truth();
        if self.config.observation_noise > 0.0 {
            for o in &mut obs.objects {
                o.position[0] += self.config.observation_noise * self.noise.normal();
                o.position[1] += self.config.observation_noise * self.noise.normal();
            }
        }
        obs
    }

    /// In real time, a primitive's physics keeps pace with the wall clock from its start.
    fn pace_from_now(&mut self) {
        self.pace = self.config.real_time.then(|| (std::time::Instant::now(), self.time));
    }

    /// Move the cup's tip in a straight line to `target` at `speed` (m/s).
    pub fn move_to(&mut self, target: [f64; 3], speed: f64) -> Result<ArmState, ArmError> {
        self.pace_from_now();
        if !(target[0].abs() <= 0.55 && target[1].abs() <= 0.4 && (0.0..=0.5).contains(&target[2])) || target.iter().any(|c| !c.is_finite()) {
            return Err(ArmError::OutOfReach(target));
        }
        if !(MIN_ARM_SPEED..=MAX_ARM_SPEED).contains(&speed) {
            return Err(ArmError::BadSpeed(speed));
        }
        let goal = v(target);
        let per_step = (speed * self.config.dt) as f32;
        // The number of physics steps is fixed before the motion starts, so that no speed or
        // rounding can make the loop run on.
        let steps = ((goal - self.tip).norm() / per_step).ceil() as usize;
        self.halted_after = None;
        for _ in 0..steps {
            if self.stopped() {
                // The arm halts where it is, holding what it holds; time goes on one step.
                if let Some(stop) = &self.stop {
                    self.halted_after = stop.motion_after_stop(self.time);
                    stop.halted();
                }
                self.step();
                return Err(ArmError::Stopped(a(&self.tip)));
            }
            let delta = goal - self.tip;
            let d = delta.norm();
            if d <= per_step {
                break;
            }
            self.tip += delta / d * per_step;
            self.step();
        }
        self.tip = goal;
        self.step();
        Ok(self.arm())
    }

    /// Motions look at `stop` before each physics step and halt while it is set.
    pub fn set_stop(&mut self, stop: Arc<StopSignal>) {
        stop.tick(self.time);
        self.stop = Some(stop);
    }

    fn stopped(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| s.is_stopped())
    }

    /// The last motion halted by the stop: the simulated seconds it moved after the stop
    /// was set (at most one physics step; None: the last motion was not halted).
    pub fn motion_after_stop(&self) -> Option<f64> {
        self.halted_after
    }

    /// Switch suction on (grip the object under the cup) or off (release it).
    pub fn suction(&mut self, on: bool) -> Result<ArmState, ArmError> {
        self.pace_from_now();
        if on {
            if self.held.is_some() {
                return Ok(self.arm());
            }
            let tip = self.tip;
            let found = self.objects.iter().enumerate().filter(|(_, b)| b.meta.kind.is_pickable()).find_map(|(i, b)| {
                let body = self.bodies.get(b.handle)?;
                let c = body.translation();
                let top = c.z + b.half[2] as f32;
                let reach = (b.half[0].max(b.half[1]) as f32).max(0.015);
                let planar = ((c.x - tip.x).powi(2) + (c.y - tip.y).powi(2)).sqrt();
                (planar < reach && (tip.z - top) < 0.015 && (tip.z - top) > -0.02).then_some((i, c - tip))
            });
            let Some((i, offset)) = found else {
                return Err(ArmError::NothingToGrip(a(&tip)));
            };
            if let Some(body) = self.bodies.get_mut(self.objects[i].handle) {
                body.set_body_type(RigidBodyType::KinematicPositionBased, true);
            }
            self.held = Some((i, offset));
        } else if let Some((i, _)) = self.held.take() {
            if let Some(body) = self.bodies.get_mut(self.objects[i].handle) {
                body.set_body_type(RigidBodyType::Dynamic, true);
                body.set_linvel(vector![0.0, 0.0, 0.0], true);
                body.set_angvel(vector![0.0, 0.0, 0.0], true);
            }
        }
        self.step();
        Ok(self.arm())
    }

    /// Let the world run for `seconds`.
    pub fn wait(&mut self, seconds: f64) -> Result<ArmState, ArmError> {
        if !(0.0..=MAX_WAIT_SECONDS).contains(&seconds) {
            return Err(ArmError::BadWait(seconds));
        }
        self.pace_from_now();
        self.settle(seconds);
        Ok(self.arm())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::tabletop::geometry::{inside, location_of};
    use protocol::tabletop::Placement;
    use protocol::Domain;

    fn obj(id: &str, name: &str, kind: ObjectKind, x: f64, y: f64) -> SceneObject {
        SceneObject::new(id, name, kind, [x, y, 0.0])
    }

    fn scene() -> Observation {
        Observation::new(
            Domain::TABLETOP,
            vec![
                obj("a", "red block", ObjectKind::Block, -0.2, 0.0),
                obj("b", "blue block", ObjectKind::Block, 0.0, 0.0),
                obj("c", "blue bowl", ObjectKind::Bowl, 0.2, 0.0),
            ],
        )
    }

    #[test]
    fn objects_rest_where_the_scene_put_them() {
        let w = World::new(&scene(), WorldConfig::default());
        for (o, s) in w.ground_truth().objects.iter().zip(&scene().objects) {
            for k in 0..3 {
                assert!((o.position[k] - s.position[k]).abs() < 0.005, "{} {:?} vs {:?}", o.name, o.position, s.position);
            }
        }
    }

    /// The emergency stop: looked at before every physics step of a motion. Set before a
    /// motion, the arm takes one step of time and does not move; set while a slow motion
    /// runs (128 simulated seconds), the arm halts on its way, holding what it holds.
    #[test]
    fn a_motion_halts_on_the_stop() {
        let mut w = World::new(&scene(), WorldConfig::default());
        w.move_to([-0.2, 0.0, 0.1], 0.5).unwrap();
        w.move_to([-0.2, 0.0, 0.04], 0.2).unwrap();
        w.suction(true).unwrap();
        let stop = Arc::new(StopSignal::default());
        stop.stop();
        w.set_stop(stop.clone());
        let before = w.arm();
        let err = w.move_to([0.5, 0.35, 0.45], 2.0).unwrap_err();
        assert!(matches!(err, ArmError::Stopped(tip) if tip == before.tip), "{err:?}");
        let after = w.arm();
        assert!((after.sim_seconds - before.sim_seconds - WorldConfig::default().dt).abs() < 1e-9, "{before:?} {after:?}");
        assert_eq!(after.holding.as_deref(), Some("red block"));

        stop.clear();
        w.move_to([-0.5, -0.35, 0.05], 2.0).unwrap();
        let start = w.arm();
        let flag = stop.clone();
        let setter = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(2));
            flag.stop();
        });
        let target = [0.5, 0.35, 0.45];
        let err = w.move_to(target, MIN_ARM_SPEED).unwrap_err();
        setter.join().unwrap();
        let ArmError::Stopped(tip) = err else { panic!("{err:?}") };
        let after = w.motion_after_stop().expect("stopped");
        assert!(after <= WorldConfig::default().dt + 1e-9, "the arm moved {after} s after the stop: at most one physics step");
        let dist = |p: [f64; 3], q: [f64; 3]| p.iter().zip(q).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt();
        let whole = dist(start.tip, target);
        assert!(dist(tip, target) > 0.01 && dist(start.tip, tip) + dist(tip, target) < whole + 1e-3, "halted at {tip:?}");
        assert_eq!(w.arm().holding.as_deref(), Some("red block"));
    }

    #[test]
    fn a_gripped_block_dropped_over_a_bowl_lands_in_it() {
        let mut w = World::new(&scene(), WorldConfig::default());
        w.move_to([-0.2, 0.0, 0.1], 0.5).unwrap();
        w.move_to([-0.2, 0.0, 0.04], 0.2).unwrap();
        assert_eq!(w.suction(true).unwrap().holding.as_deref(), Some("red block"));
        w.move_to([-0.2, 0.0, 0.15], 0.5).unwrap();
        w.move_to([0.2, 0.0, 0.15], 0.5).unwrap();
        w.move_to([0.2, 0.0, 0.08], 0.2).unwrap();
        w.suction(false).unwrap();
        w.wait(0.8).unwrap();
        let truth = w.ground_truth();
        let red = truth.object("red block").unwrap();
        assert!(inside(truth.object("blue bowl").unwrap(), red.position), "{:?}", red.position);
        assert_eq!(location_of(&truth, red), Some(Placement::In("blue bowl".into())));
    }

    #[test]
    fn stacking_and_bad_commands() {
        let mut w = World::new(&scene(), WorldConfig::default());
        w.move_to([-0.2, 0.0, 0.04], 0.5).unwrap();
        w.suction(true).unwrap();
        w.move_to([-0.2, 0.0, 0.15], 0.5).unwrap();
        w.move_to([0.0, 0.0, 0.15], 0.5).unwrap();
        w.move_to([0.0, 0.0, 0.085], 0.2).unwrap();
        w.suction(false).unwrap();
        w.wait(0.8).unwrap();
        let truth = w.ground_truth();
        assert_eq!(location_of(&truth, truth.object("red block").unwrap()), Some(Placement::On("blue block".into())));
        assert!(matches!(w.move_to([2.0, 0.0, 0.1], 0.5), Err(ArmError::OutOfReach(_))));
        assert!(matches!(w.move_to([0.0, 0.0, 0.1], 0.0), Err(ArmError::BadSpeed(_))));
        w.move_to([0.3, -0.3, 0.1], 1.0).unwrap();
        assert!(matches!(w.suction(true), Err(ArmError::NothingToGrip(_))));
    }

    #[test]
    fn physics_is_deterministic() {
        let run = || {
            let mut w = World::new(&scene(), WorldConfig::default());
            w.move_to([-0.2, 0.0, 0.04], 0.5).unwrap();
            w.suction(true).unwrap();
            w.move_to([0.0, 0.0, 0.2], 0.5).unwrap();
            w.suction(false).unwrap();
            w.wait(1.0).unwrap();
            w.ground_truth()
        };
        assert_eq!(run(), run());
    }
}
