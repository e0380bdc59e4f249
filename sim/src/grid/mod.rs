//! The grid maze: MiniGrid's levels (seeded), an episode's world, and success by each
//! level's own rule.
//!
//! | level | MiniGrid / BabyAI original | mission | success |
//! |---|---|---|---|
//! | `open-doors` (easy) | BabyAI OpenDoorsOrder | open the X door, then open the Y door | X opened, then Y (Y first fails) |
//! | `put-next` (easy) | BabyAI PutNextLocal | put the X next to the Y | X on the floor beside Y |
//! | `locked-room` (medium) | MiniGrid LockedRoom | get the key, unlock the door, go to the goal | the goal reached |
//! | `multi-room` (hard) | MiniGrid MultiRoom | go through the rooms to the goal | the goal reached |
//! | `blocked-unlock-pickup` (hard) | MiniGrid BlockedUnlockPickup | pick up the X box | the box carried |
//!
//! Entering lava ends an episode as a failure, as does the level's step limit.

mod levels;

pub use levels::generate;

use crate::rng::Rng;
use protocol::grid::{Action, Cell, Colour, Event, GridState, Object, Target};
use protocol::{Domain, Observation, RobotState};

/// A grid level, named as in the corpus and the CLI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    OpenDoors,
    PutNext,
    LockedRoom,
    MultiRoom,
    BlockedUnlockPickup,
}

/// The rows of the paper's grid table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Difficulty {
    Easy,
    Medium,
    Hard,
}

impl Difficulty {
    pub const ALL: [Difficulty; 3] = [Difficulty::Easy, Difficulty::Medium, Difficulty::Hard];

    /// The row label of the paper's table.
    pub fn label(self) -> &'static str {
        match self {
            Difficulty::Easy => "easy (OpenDoors, PutNext)",
            Difficulty::Medium => "medium (LockedRoom)",
            Difficulty::Hard => "hard (MultiRoom, BlockedUnlockPickup)",
        }
    }
}

impl Level {
    pub const ALL: [Level; 5] = [Level::OpenDoors, Level::PutNext, Level::LockedRoom, Level::MultiRoom, Level::BlockedUnlockPickup];

    pub fn id(self) -> &'static str {
        match self {
            Level::OpenDoors => "open-doors",
            Level::PutNext => "put-next",
            Level::LockedRoom => "locked-room",
            Level::MultiRoom => "multi-room",
            Level::BlockedUnlockPickup => "blocked-unlock-pickup",
        }
    }

    pub fn named(id: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.id() == id)
    }

    pub fn difficulty(self) -> Difficulty {
        match self {
            Level::OpenDoors | Level::PutNext => Difficulty::Easy,
            Level::LockedRoom => Difficulty::Medium,
            Level::MultiRoom | Level::BlockedUnlockPickup => Difficulty::Hard,
        }
    }

    /// The slots an instruction for this level may name, filled from each episode.
    pub fn slot_names(self) -> &'static [&'static str] {
        match self {
            Level::OpenDoors => &["first", "second"],
            Level::PutNext => &["object", "target"],
            Level::LockedRoom => &["colour", "room"],
            Level::MultiRoom => &[],
            Level::BlockedUnlockPickup => &["object"],
        }
    }

    /// The most primitive steps an episode may take (MiniGrid's limits, or BabyAI's).
    pub fn max_steps(self) -> u32 {
        match self {
            Level::OpenDoors => 20 * 36,
            Level::PutNext => 8 * 36,
            Level::LockedRoom => 10 * 19 * 19,
            Level::MultiRoom => 400,
            Level::BlockedUnlockPickup => 16 * 36,
        }
    }
}

/// The level ids, for error messages.
pub fn level_ids() -> String {
    Level::ALL.iter().map(|l| l.id()).collect::<Vec<_>>().join(", ")
}

/// What the mission asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Goal {
    /// Open the first door, then the second.
    OpenInOrder { first: Colour, second: Colour },
    /// The object on the floor, beside the target.
    PutNext { object: Object, target: Target },
    /// Step onto the goal square.
    ReachGoal,
    /// Be carrying the object.
    PickUp { object: Object },
}

/// One seeded episode: the level, its mission and its starting maze.
#[derive(Clone, Debug)]
pub struct GridEpisode {
    pub level: Level,
    pub seed: u64,
    pub instruction: String,
    pub start: GridState,
    pub goal: Goal,
    /// What the mission names, by slot (see [`Level::slot_names`]).
    pub slots: crate::wording::Slots,
}

/// Why an episode ended early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    ReachedGoal,
    EnteredLava,
    StepLimit,
}

/// The maze an episode plays in: the state, every event so far, the step count.
#[derive(Clone, Debug)]
pub struct GridWorld {
    pub state: GridState,
    pub events: Vec<Event>,
    pub steps: u32,
    pub max_steps: u32,
    pub ended: Option<Ending>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GridWorldError {
    #[error("the episode has ended ({0:?}); no more actions are taken")]
    Ended(Ending),
}

impl GridWorld {
    pub fn new(episode: &GridEpisode) -> Self {
        Self { state: episode.start.clone(), events: Vec::new(), steps: 0, max_steps: episode.level.max_steps(), ended: None }
    }

    /// Take one primitive action.
    pub fn act(&mut self, action: Action) -> Result<Event, GridWorldError> {
        if let Some(e) = self.ended {
            return Err(GridWorldError::Ended(e));
        }
        let event = self.state.apply(action);
        self.steps += 1;
        self.events.push(event);
        self.ended = match event {
            Event::ReachedGoal => Some(Ending::ReachedGoal),
            Event::EnteredLava => Some(Ending::EnteredLava),
            _ if self.steps >= self.max_steps => Some(Ending::StepLimit),
            _ => None,
        };
        Ok(event)
    }

    /// What the agent observes: the whole maze (fully observed), and its clock in steps.
    pub fn observe(&self) -> Observation {
        let mut obs = Observation::new(Domain::GRID, Vec::new());
        obs.grid = Some(self.state.clone());
        obs.robot = Some(RobotState {
            time_s: f64::from(self.steps),
            gripper: [f64::from(self.state.agent.0), f64::from(self.state.agent.1), 0.0],
            holding: self.state.carrying.map(|o| o.to_string()),
        });
        obs
    }
}

/// Did the episode succeed, by its level's rule? `Err` says what is missing.
pub fn judge(episode: &GridEpisode, world: &GridWorld) -> Result<(), String> {
    if world.ended == Some(Ending::EnteredLava) {
        return Err("the agent entered lava".into());
    }
    let g = &world.state;
    match episode.goal {
        Goal::OpenInOrder { first, second } => {
            let opened: Vec<Colour> = world.events.iter().filter_map(|e| if let Event::DoorOpened { colour } = e { Some(*colour) } else { None }).collect();
            let i = opened.iter().position(|c| *c == first);
            let j = opened.iter().position(|c| *c == second);
            match (i, j) {
                (Some(i), Some(j)) if i < j => Ok(()),
                (_, Some(_)) => Err(format!("the {} door was opened before the {} door", second.name(), first.name())),
                (None, None) => Err(format!("the {} door was never opened", first.name())),
                (Some(_), None) => Err(format!("the {} door was never opened", second.name())),
            }
        }
        Goal::PutNext { object, target } => {
            let at = g.find(|c| c == Cell::Object { object });
            let targets = g.positions_of(&target);
            let beside = at.iter().any(|a| targets.iter().any(|t| a.0.abs_diff(t.0) + a.1.abs_diff(t.1) == 1));
            if beside {
                Ok(())
            } else if g.carrying == Some(object) {
                Err(format!("the {object} is still carried"))
            } else {
                Err(format!("the {object} is not next to the {target}"))
            }
        }
        Goal::ReachGoal => {
            if world.ended == Some(Ending::ReachedGoal) {
                Ok(())
            } else {
                Err("the goal was not reached".into())
            }
        }
        Goal::PickUp { object } => {
            if g.carrying == Some(object) {
                Ok(())
            } else {
                Err(format!("the {object} is not carried"))
            }
        }
    }
}

/// An episode of a level: its maze and mission, fixed by the seed.
pub fn episode(level: Level, seed: u64) -> GridEpisode {
    let mut rng = Rng::new(seed ^ 0x6772_6964_0000_0000 ^ (level as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    generate(level, seed, &mut rng)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_generates_a_valid_maze_with_its_mission() {
        for level in Level::ALL {
            for seed in 0..30 {
                let e = episode(level, seed);
                e.start.validate().unwrap_or_else(|err| panic!("{} seed {seed}: {err}", level.id()));
                assert!(e.start.get(e.start.agent).is_safe_to_enter());
                let w = GridWorld::new(&e);
                assert!(judge(&e, &w).is_err(), "{} seed {seed} succeeds before any action", level.id());
                assert_eq!(episode(level, seed).start, e.start, "seeded");
                // Names are unique where skills need them.
                let targets = e.start.targets();
                for t in &targets {
                    if let Target::Object(o) = t {
                        assert_eq!(e.start.positions_of(t).len(), 1, "{} seed {seed}: two {o}s", level.id());
                    }
                }
            }
        }
    }

    #[test]
    fn open_doors_in_the_wrong_order_fails() {
        let e = episode(Level::OpenDoors, 3);
        let Goal::OpenInOrder { first, second } = e.goal else { panic!("{:?}", e.goal) };
        let mut w = GridWorld::new(&e);
        w.events.push(Event::DoorOpened { colour: second });
        w.events.push(Event::DoorOpened { colour: first });
        assert!(judge(&e, &w).unwrap_err().contains("before"));
        let mut w = GridWorld::new(&e);
        w.events.push(Event::DoorOpened { colour: first });
        w.events.push(Event::DoorOpened { colour: second });
        assert_eq!(judge(&e, &w), Ok(()));
    }
}
