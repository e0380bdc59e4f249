//! The simulated kitchen: the instruction sets (unambiguous and ambiguous, each with its own
//! success rule), seeded scenes, and a world that keeps the ground truth apart from what the
//! robot has seen. The robot sees a surface's objects only when it is there (each with a
//! detector box score, low for an object partly hidden), and a grasp can slip.

use crate::rng::Rng;
use protocol::kitchen::{entry, Detection, KitchenState, Location, Tag, CATALOGUE};
use protocol::{Domain, Observation, RobotState};

/// Which half of the paper's kitchen table an instruction counts in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Split {
    /// The instruction names the object.
    Unambiguous,
    /// The instruction says what is wanted, not which object ("something healthy").
    Ambiguous,
    /// The user means one object the instruction does not name ("bring me my drink" with two
    /// drinks in the kitchen): only asking finds out which.
    Intent,
}

impl Split {
    /// The rows of the paper's table (`Intent` is for asking for help, [`ASKING_TASKS`]).
    pub const ALL: [Split; 2] = [Split::Unambiguous, Split::Ambiguous];

    pub fn label(self) -> &'static str {
        match self {
            Split::Unambiguous => "unambiguous",
            Split::Ambiguous => "ambiguous",
            Split::Intent => "one object meant",
        }
    }
}

/// Which objects satisfy an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wanted {
    /// This one object.
    Object(&'static str),
    /// Any object with this tag.
    Any(Tag),
    /// One object with this tag, the one the user means (chosen per episode among the two
    /// in the kitchen, [`KitchenEpisode::meant`]).
    Meant(Tag),
}

impl Wanted {
    pub fn accepts(self, name: &str) -> bool {
        match self {
            Wanted::Object(o) => o == name,
            Wanted::Any(tag) | Wanted::Meant(tag) => entry(name).is_some_and(|e| e.has(tag)),
        }
    }

    /// Every catalogue object that satisfies it.
    pub fn objects(self) -> Vec<&'static str> {
        CATALOGUE.iter().map(|e| e.name).filter(|n| self.accepts(n)).collect()
    }
}

/// One instruction of the kitchen's instruction sets, and its success rule: a wanted object
/// ends at `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KitchenTask {
    pub id: &'static str,
    pub split: Split,
    pub instruction: &'static str,
    pub wanted: Wanted,
    pub to: Location,
    /// Where the wanted object starts, when the instruction says so.
    pub from: Option<Location>,
}

const fn task(id: &'static str, split: Split, instruction: &'static str, wanted: Wanted, to: Location, from: Option<Location>) -> KitchenTask {
    KitchenTask { id, split, instruction, wanted, to, from }
}

use Location::*;
use Split::*;
use Wanted::*;

/// The instruction sets: 8 unambiguous, 10 ambiguous (the paper's kitchen has at least 7 and 10).
pub const TASKS: [KitchenTask; 18] = [
    task("bring-apple", Unambiguous, "bring me the apple", Object("apple"), User, None),
    task("bring-coke-far-counter", Unambiguous, "bring me the coke can from the far counter", Object("coke can"), User, Some(FarCounter)),
    task("fetch-rice-chips", Unambiguous, "fetch the rice chips for me", Object("rice chips"), User, None),
    task("want-energy-bar", Unambiguous, "I want the energy bar", Object("energy bar"), User, None),
    task("sponge-to-table", Unambiguous, "put the sponge on the table", Object("sponge"), Table, None),
    task("water-to-near-counter", Unambiguous, "move the water bottle to the near counter", Object("water bottle"), NearCounter, None),
    task("throw-away-pepsi", Unambiguous, "throw away the pepsi can", Object("pepsi can"), TrashCan, None),
    task("banana-to-table", Unambiguous, "take the banana to the table", Object("banana"), Table, None),
    task("spill", Ambiguous, "I spilled my drink, can you help?", Any(Tag::Cleaning), User, None),
    task("healthy", Ambiguous, "bring me something healthy", Any(Tag::Healthy), User, None),
    task("thirsty", Ambiguous, "I am thirsty", Any(Tag::Drink), User, None),
    task("salty", Ambiguous, "bring me something salty", Any(Tag::Salty), User, None),
    task("caffeine", Ambiguous, "I need some caffeine", Any(Tag::Caffeine), User, None),
    task("fruit", Ambiguous, "bring me a fruit", Any(Tag::Fruit), User, None),
    task("soda", Ambiguous, "bring me a soda", Any(Tag::Soda), User, None),
    task("energy", Ambiguous, "I need energy for my workout", Any(Tag::Energy), User, None),
    task("wipe-table", Ambiguous, "please wipe the table", Any(Tag::Cleaning), Table, None),
    task("recycle", Ambiguous, "recycle a can", Any(Tag::Can), TrashCan, None),
];

/// Instructions for asking for help, not the paper's: the user means one object the words do
/// not name (`grounded calibrate`, `grounded eval --ask-for-help`).
pub const ASKING_TASKS: [KitchenTask; 2] = [
    task("my-drink", Intent, "bring me my drink", Meant(Tag::Drink), User, None),
    task("the-fruit", Intent, "bring me the fruit", Meant(Tag::Fruit), User, None),
];

pub fn task_named(id: &str) -> Option<KitchenTask> {
    TASKS.iter().chain(ASKING_TASKS.iter()).find(|t| t.id == id).copied()
}

/// The task ids, for messages.
pub fn task_ids() -> String {
    TASKS.iter().map(|t| t.id).collect::<Vec<_>>().join(", ")
}

/// Where an object is, in truth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    At(Location),
    Held,
    /// Knocked off by a slipping grasp: out of the robot's reach.
    Floor,
}

/// An object of the scene: where it stands, and the box score the detector gives it there.
#[derive(Clone, Debug, PartialEq)]
pub struct Placed {
    pub name: String,
    pub place: Place,
    /// The detector's box score for this object (fixed for the episode): 0.55-0.95 in plain
    /// view, 0.2-0.45 partly hidden.
    pub score: f64,
}

/// One seeded episode: the instruction and the kitchen it starts in.
#[derive(Clone, Debug)]
pub struct KitchenEpisode {
    pub task: KitchenTask,
    pub seed: u64,
    pub instruction: String,
    pub objects: Vec<Placed>,
    /// The robot starts at the user, having looked at every surface but this one.
    pub unlooked: Location,
    /// The object the user means, for an instruction that does not name it ([`Wanted::Meant`]).
    pub meant: Option<String>,
}

/// Objects in plain view get a box score in this range.
pub const VISIBLE_SCORE: (f64, f64) = (0.55, 0.95);
/// Objects partly hidden get a box score in this range (below the detection threshold).
pub const HIDDEN_SCORE: (f64, f64) = (0.2, 0.45);
/// The share of objects partly hidden.
pub const HIDDEN_SHARE: f64 = 0.25;

/// An episode of a task, fixed by the seed: the wanted object (unambiguous) or one or two of
/// the wanted kind (ambiguous; the others absent), four to six distractors, one surface
/// the robot has not looked at yet.
pub fn episode(task: KitchenTask, seed: u64) -> KitchenEpisode {
    let mut rng = Rng::new(seed ^ 0x6b69_7463_6865_6e00 ^ task_salt(task));
    let surfaces: Vec<Location> = Location::SURFACES.into_iter().filter(|l| *l != task.to).collect();
    let wanted = task.wanted.objects();
    let present: Vec<&str> = match task.wanted {
        Wanted::Object(o) => vec![o],
        Wanted::Any(_) => {
            let k = rng.int(1, 2).min(wanted.len());
            rng.sample(&wanted, k)
        }
        Wanted::Meant(_) => rng.sample(&wanted, 2.min(wanted.len())),
    };
    let meant = match task.wanted {
        Wanted::Meant(_) => present.first().map(|m| m.to_string()),
        _ => None,
    };
    let others: Vec<&str> = CATALOGUE.iter().map(|e| e.name).filter(|n| !wanted.contains(n)).collect();
    let n = rng.int(4, 6);
    let distractors = rng.sample(&others, n);
    let mut objects = Vec::new();
    for name in present {
        let at = task.from.unwrap_or_else(|| *rng.pick(&surfaces));
        objects.push(placed(&mut rng, name, at));
    }
    for name in distractors {
        let at = *rng.pick(&Location::SURFACES);
        objects.push(placed(&mut rng, name, at));
    }
    let unlooked = *rng.pick(&Location::SURFACES);
    KitchenEpisode { task, seed, instruction: task.instruction.to_string(), objects, unlooked, meant }
}

/// A number of the task's own, so that two tasks' episodes of one seed differ.
fn task_salt(task: KitchenTask) -> u64 {
    let index = match TASKS.iter().position(|t| t.id == task.id) {
        Some(i) => i as u64,
        None => 100 + ASKING_TASKS.iter().position(|t| t.id == task.id).unwrap_or(0) as u64,
    };
    (index + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

fn placed(rng: &mut Rng, name: &str, at: Location) -> Placed {
    let (lo, hi) = if rng.unit() < HIDDEN_SHARE { HIDDEN_SCORE } else { VISIBLE_SCORE };
    // Two decimals, as a person reads a detector's score.
    Placed { name: name.to_string(), place: Place::At(at), score: (rng.range(lo, hi) * 100.0).round() / 100.0 }
}

/// How the simulated robot's skills go wrong.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KitchenConfig {
    /// The chance that a grasp slips.
    pub grasp_failure: f64,
    /// Of the slips, the share that knock the object to the floor, out of reach (the rest
    /// leave it standing, to be tried again).
    pub knocked_off: f64,
}

impl Default for KitchenConfig {
    fn default() -> Self {
        Self { grasp_failure: 0.15, knocked_off: 0.5 }
    }
}

impl KitchenConfig {
    /// Policies that never fail: what planning success is measured with.
    pub const PERFECT: KitchenConfig = KitchenConfig { grasp_failure: 0.0, knocked_off: 0.0 };
}

/// Driving speed between locations, m/s.
pub const DRIVE_SPEED: f64 = 0.5;
/// Seconds to look over a location, grasp, and place.
pub const LOOK_SECONDS: f64 = 2.0;
pub const GRASP_SECONDS: f64 = 8.0;
pub const PLACE_SECONDS: f64 = 5.0;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KitchenActionError {
    #[error("the robot already holds the {0}; put it down first")]
    HandsFull(String),
    #[error("there is no {object} at the {at}")]
    NotHere { object: String, at: Location },
    #[error("the grasp slipped off the {0}")]
    Slipped(String),
    #[error("the grasp slipped and knocked the {0} to the floor, out of reach")]
    KnockedOff(String),
    #[error("the robot holds nothing to put down")]
    HandsEmpty,
}

/// The kitchen an episode plays in: the truth, the robot's view, and its clock.
#[derive(Clone, Debug)]
pub struct KitchenWorld {
    pub objects: Vec<Placed>,
    pub view: KitchenState,
    pub config: KitchenConfig,
    pub sim_seconds: f64,
    /// Primitives taken (drives, grasps, places).
    pub actions: u32,
    rng: Rng,
}

impl KitchenWorld {
    pub fn new(episode: &KitchenEpisode, config: KitchenConfig) -> Self {
        let view = KitchenState { robot_at: Location::User, holding: None, looked: Vec::new(), detections: Vec::new() };
        let mut w = Self {
            objects: episode.objects.clone(),
            view,
            config,
            sim_seconds: 0.0,
            actions: 0,
            rng: Rng::new(episode.seed ^ 0x6772_6173_7000 ^ task_salt(episode.task).rotate_left(17)),
        };
        for l in Location::SURFACES.into_iter().filter(|l| *l != episode.unlooked) {
            w.look(l);
        }
        w
    }

    /// The robot's view after looking at `at`: what is there now replaces what it remembered.
    fn look(&mut self, at: Location) {
        if !Location::SURFACES.contains(&at) {
            return;
        }
        if !self.view.looked.contains(&at) {
            self.view.looked.push(at);
            self.view.looked.sort();
        }
        self.view.detections.retain(|d| d.location != at);
        for o in &self.objects {
            if o.place == Place::At(at) {
                self.view.detections.push(Detection { name: o.name.clone(), location: at, score: o.score });
            }
        }
    }

    /// Drive to a location and look at it.
    pub fn navigate(&mut self, to: Location) {
        self.actions += 1;
        self.sim_seconds += self.view.robot_at.distance(to) / DRIVE_SPEED + LOOK_SECONDS;
        self.view.robot_at = to;
        self.look(to);
    }

    /// Grasp `object` where the robot is; it may slip.
    pub fn grasp(&mut self, object: &str) -> Result<(), KitchenActionError> {
        self.actions += 1;
        if let Some(h) = &self.view.holding {
            return Err(KitchenActionError::HandsFull(h.clone()));
        }
        let at = self.view.robot_at;
        let Some(i) = self.objects.iter().position(|o| o.name == object && o.place == Place::At(at)) else {
            return Err(KitchenActionError::NotHere { object: object.to_string(), at });
        };
        self.sim_seconds += GRASP_SECONDS;
        if self.rng.unit() < self.config.grasp_failure {
            if self.rng.unit() < self.config.knocked_off {
                self.objects[i].place = Place::Floor;
                self.view.detections.retain(|d| d.name != object);
                return Err(KitchenActionError::KnockedOff(object.to_string()));
            }
            return Err(KitchenActionError::Slipped(object.to_string()));
        }
        self.objects[i].place = Place::Held;
        self.view.holding = Some(object.to_string());
        self.view.detections.retain(|d| d.name != object);
        Ok(())
    }

    /// Put the held object down where the robot is.
    pub fn place(&mut self) -> Result<String, KitchenActionError> {
        self.actions += 1;
        let Some(held) = self.view.holding.take() else {
            return Err(KitchenActionError::HandsEmpty);
        };
        self.sim_seconds += PLACE_SECONDS;
        let at = self.view.robot_at;
        if let Some(o) = self.objects.iter_mut().find(|o| o.name == held) {
            o.place = Place::At(at);
        }
        self.look(at);
        Ok(held)
    }

    /// Where an object is, in truth.
    pub fn place_of(&self, name: &str) -> Option<Place> {
        self.objects.iter().find(|o| o.name == name).map(|o| o.place)
    }

    /// What the robot observes: its view, never the truth.
    pub fn observe(&self) -> Observation {
        let mut obs = Observation::new(Domain::KITCHEN, Vec::new());
        let p = self.view.robot_at.map_position();
        obs.robot = Some(RobotState { time_s: self.sim_seconds, gripper: [p[0], p[1], 0.0], holding: self.view.holding.clone() });
        obs.kitchen = Some(self.view.clone());
        obs
    }
}

/// Did the episode succeed? A wanted object must end at the task's location (put down).
pub fn judge(episode: &KitchenEpisode, world: &KitchenWorld) -> Result<(), String> {
    let t = episode.task;
    let accepts = |name: &str| match &episode.meant {
        Some(meant) => name == meant,
        None => t.wanted.accepts(name),
    };
    if world.objects.iter().any(|o| accepts(&o.name) && o.place == Place::At(t.to)) {
        return Ok(());
    }
    let missing = match (&episode.meant, t.wanted) {
        (Some(meant), _) => format!("the {meant} (the one meant) is not at the {}", t.to),
        (None, Wanted::Object(o)) => format!("the {o} is not at the {}", t.to),
        (None, _) => format!("none of {} is at the {}", t.wanted.objects().join(", "), t.to),
    };
    match &world.view.holding {
        Some(h) if accepts(h) => Err(format!("the {h} is still held, not put down at the {}", t.to)),
        _ => Err(missing),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_task_has_a_seeded_solvable_scene() {
        assert_eq!(TASKS.iter().filter(|t| t.split == Split::Unambiguous).count(), 8);
        assert_eq!(TASKS.iter().filter(|t| t.split == Split::Ambiguous).count(), 10);
        for t in TASKS.into_iter().chain(ASKING_TASKS) {
            for seed in 0..20 {
                let e = episode(t, seed);
                let present = e.objects.iter().filter(|o| t.wanted.accepts(&o.name)).count();
                assert!(present >= 1, "{} seed {seed}: nothing wanted in the scene", t.id);
                let mut names: Vec<&str> = e.objects.iter().map(|o| o.name.as_str()).collect();
                names.sort();
                names.dedup();
                assert_eq!(names.len(), e.objects.len(), "{} seed {seed}: an object twice", t.id);
                let w = KitchenWorld::new(&e, KitchenConfig::default());
                assert!(judge(&e, &w).is_err(), "{} seed {seed} succeeds before the robot moves", t.id);
                w.observe().validate().unwrap();
                assert_eq!(episode(t, seed).objects, e.objects, "seeded");
                if let Some(from) = t.from {
                    assert!(e.objects.iter().any(|o| t.wanted.accepts(&o.name) && o.place == Place::At(from)));
                }
            }
        }
    }

    #[test]
    fn the_robot_sees_only_where_it_has_looked() {
        let e = episode(task_named("bring-apple").unwrap(), 3);
        let mut w = KitchenWorld::new(&e, KitchenConfig::PERFECT);
        assert!(!w.view.looked.contains(&e.unlooked));
        let hidden: Vec<&Placed> = e.objects.iter().filter(|o| o.place == Place::At(e.unlooked)).collect();
        for o in &hidden {
            assert!(w.view.detection(&o.name).is_none(), "{} seen before looking", o.name);
        }
        w.navigate(e.unlooked);
        for o in &hidden {
            assert_eq!(w.view.detection(&o.name).map(|d| d.score), Some(o.score));
        }
        assert!(w.sim_seconds > LOOK_SECONDS);
    }

    #[test]
    fn bringing_the_object_succeeds_and_grasps_can_slip() {
        let t = task_named("bring-coke-far-counter").unwrap();
        let e = episode(t, 1);
        let mut w = KitchenWorld::new(&e, KitchenConfig::PERFECT);
        assert_eq!(w.grasp("coke can"), Err(KitchenActionError::NotHere { object: "coke can".into(), at: Location::User }));
        w.navigate(Location::FarCounter);
        w.grasp("coke can").unwrap();
        assert_eq!(w.grasp("apple"), Err(KitchenActionError::HandsFull("coke can".into())));
        assert!(judge(&e, &w).unwrap_err().contains("still held"));
        w.navigate(Location::User);
        assert_eq!(w.place().unwrap(), "coke can");
        assert_eq!(judge(&e, &w), Ok(()));
        assert_eq!(w.place(), Err(KitchenActionError::HandsEmpty));
        // Always slipping: the object stays, or falls out of reach.
        let mut w = KitchenWorld::new(&e, KitchenConfig { grasp_failure: 1.0, knocked_off: 0.0 });
        w.navigate(Location::FarCounter);
        assert_eq!(w.grasp("coke can"), Err(KitchenActionError::Slipped("coke can".into())));
        assert_eq!(w.place_of("coke can"), Some(Place::At(Location::FarCounter)));
        let mut w = KitchenWorld::new(&e, KitchenConfig { grasp_failure: 1.0, knocked_off: 1.0 });
        w.navigate(Location::FarCounter);
        assert_eq!(w.grasp("coke can"), Err(KitchenActionError::KnockedOff("coke can".into())));
        assert_eq!(w.place_of("coke can"), Some(Place::Floor));
        assert!(w.view.detection("coke can").is_none(), "the robot saw it fall");
    }

    #[test]
    fn any_wanted_object_satisfies_an_ambiguous_instruction() {
        let t = task_named("healthy").unwrap();
        assert!(t.wanted.accepts("banana") && !t.wanted.accepts("kettle chips"));
        assert_eq!(t.wanted.objects(), vec!["water bottle", "apple", "orange", "banana", "energy bar"]);
    }

    #[test]
    fn only_the_object_meant_satisfies_an_instruction_that_does_not_name_it() {
        let t = task_named("my-drink").unwrap();
        for seed in 0..20 {
            let e = episode(t, seed);
            let drinks: Vec<&Placed> = e.objects.iter().filter(|o| t.wanted.accepts(&o.name)).collect();
            assert_eq!(drinks.len(), 2, "seed {seed}: two drinks, one meant");
            let meant = e.meant.clone().expect("an object is meant");
            assert!(drinks.iter().any(|d| d.name == meant));
            for d in drinks {
                let Place::At(at) = d.place else { panic!("on a surface") };
                let mut w = KitchenWorld::new(&e, KitchenConfig { grasp_failure: 0.0, knocked_off: 0.0 });
                w.navigate(at);
                w.grasp(&d.name).unwrap();
                w.navigate(Location::User);
                w.place().unwrap();
                assert_eq!(judge(&e, &w).is_ok(), d.name == meant, "seed {seed}: {} brought, {meant} meant", d.name);
            }
        }
    }
}
