//! The grid maze (MiniGrid's rules, fully observed): its state, its primitive actions and
//! their effects, and the skill grammar that planner, grounded models and policies share.
//!
//! ```text
//! skill  := "go to the " target | "pick up the " object | "drop the " object
//!         | "open the " COLOUR " door" | "put the " object " next to the " target | "done"
//! target := object | COLOUR " door" | "goal"
//! object := COLOUR " " ("key" | "ball" | "box")
//! COLOUR := red | green | blue | purple | yellow | grey
//! ```
//!
//! The rules follow MiniGrid: the agent turns left or right, moves forward onto an empty
//! cell, the goal, lava or an open door; picks up the key, ball or box in front of it (one at
//! a time); drops what it carries onto the empty cell in front; toggles the door in front
//! (a locked door opens only while the agent carries the key of its colour). Walls, closed
//! doors and objects block the way; entering lava ends the episode.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The largest grid accepted, per side.
pub const MAX_SIDE: u32 = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Colour {
    Red,
    Green,
    Blue,
    Purple,
    Yellow,
    Grey,
}

impl Colour {
    pub const ALL: [Colour; 6] = [Colour::Red, Colour::Green, Colour::Blue, Colour::Purple, Colour::Yellow, Colour::Grey];

    pub fn name(self) -> &'static str {
        match self {
            Colour::Red => "red",
            Colour::Green => "green",
            Colour::Blue => "blue",
            Colour::Purple => "purple",
            Colour::Yellow => "yellow",
            Colour::Grey => "grey",
        }
    }

    pub fn named(name: &str) -> Option<Colour> {
        Colour::ALL.into_iter().find(|c| c.name() == name)
    }

    /// MiniGrid's palette.
    pub fn rgb(self) -> [u8; 3] {
        match self {
            Colour::Red => [255, 0, 0],
            Colour::Green => [0, 255, 0],
            Colour::Blue => [0, 0, 255],
            Colour::Purple => [112, 39, 195],
            Colour::Yellow => [255, 255, 0],
            Colour::Grey => [100, 100, 100],
        }
    }
}

/// What can be carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectKind {
    Key,
    Ball,
    Box,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 3] = [ObjectKind::Key, ObjectKind::Ball, ObjectKind::Box];

    pub fn name(self) -> &'static str {
        match self {
            ObjectKind::Key => "key",
            ObjectKind::Ball => "ball",
            ObjectKind::Box => "box",
        }
    }
}

/// A carriable object: its colour and kind ("red key").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Object {
    pub colour: Colour,
    pub kind: ObjectKind,
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.colour.name(), self.kind.name())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DoorState {
    Open,
    Closed,
    Locked,
}

/// One cell of the grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Cell {
    Empty,
    Wall,
    Lava,
    Goal,
    Door { colour: Colour, state: DoorState },
    Object { object: Object },
}

impl Cell {
    /// Can the agent stand here?
    pub fn can_enter(self) -> bool {
        matches!(self, Cell::Empty | Cell::Goal | Cell::Lava | Cell::Door { state: DoorState::Open, .. })
    }

    /// Can the agent stand here without ending the episode badly?
    pub fn is_safe_to_enter(self) -> bool {
        self.can_enter() && self != Cell::Lava
    }
}

/// Where the agent faces, in MiniGrid's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dir {
    Right,
    Down,
    Left,
    Up,
}

impl Dir {
    pub const ALL: [Dir; 4] = [Dir::Right, Dir::Down, Dir::Left, Dir::Up];

    /// The step one cell forward: x right, y down.
    pub fn delta(self) -> (i32, i32) {
        match self {
            Dir::Right => (1, 0),
            Dir::Down => (0, 1),
            Dir::Left => (-1, 0),
            Dir::Up => (0, -1),
        }
    }

    pub fn left(self) -> Dir {
        Dir::ALL[(self as usize + 3) % 4]
    }

    pub fn right(self) -> Dir {
        Dir::ALL[(self as usize + 1) % 4]
    }
}

/// A primitive action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Left,
    Right,
    Forward,
    Pickup,
    Drop,
    Toggle,
    Done,
}

/// What an action did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Event {
    Turned,
    Moved,
    /// The action was not possible here and changed nothing.
    Blocked,
    PickedUp {
        object: Object,
    },
    Dropped {
        object: Object,
    },
    DoorOpened {
        colour: Colour,
    },
    DoorClosed {
        colour: Colour,
    },
    ReachedGoal,
    EnteredLava,
    Done,
}

/// A position: x to the right, y down, from the top-left corner.
pub type Pos = (u32, u32);

/// The whole maze as the agent observes it (fully observed, as in the paper).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridState {
    pub width: u32,
    pub height: u32,
    /// Row-major: the cell at (x, y) is `cells[y * width + x]`.
    pub cells: Vec<Cell>,
    pub agent: Pos,
    pub dir: Dir,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrying: Option<Object>,
    /// Cells the operator has forbidden: policies never enter them, as they never enter lava
    /// (the grid's safety grounding).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forbidden: Vec<Pos>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GridError {
    #[error("a grid is 3 to {MAX_SIDE} cells per side; this one is {0} x {1}")]
    Size(u32, u32),
    #[error("the grid has {found} cells; {width} x {height} needs {expected}")]
    CellCount { width: u32, height: u32, found: usize, expected: usize },
    #[error("the agent at {0:?} is outside the grid or on a cell it cannot stand on")]
    Agent(Pos),
}

impl GridState {
    /// An empty room: walls around, nothing inside; the agent in the top-left corner facing right.
    pub fn room(width: u32, height: u32) -> Self {
        let mut g = GridState {
            width,
            height,
            cells: vec![Cell::Empty; (width * height) as usize],
            agent: (1, 1),
            dir: Dir::Right,
            carrying: None,
            forbidden: Vec::new(),
        };
        for x in 0..width {
            g.set((x, 0), Cell::Wall);
            g.set((x, height - 1), Cell::Wall);
        }
        for y in 0..height {
            g.set((0, y), Cell::Wall);
            g.set((width - 1, y), Cell::Wall);
        }
        g
    }

    pub fn validate(&self) -> Result<(), GridError> {
        if !(3..=MAX_SIDE).contains(&self.width) || !(3..=MAX_SIDE).contains(&self.height) {
            return Err(GridError::Size(self.width, self.height));
        }
        let expected = (self.width * self.height) as usize;
        if self.cells.len() != expected {
            return Err(GridError::CellCount { width: self.width, height: self.height, found: self.cells.len(), expected });
        }
        if !self.inside(self.agent) || !self.get(self.agent).can_enter() {
            return Err(GridError::Agent(self.agent));
        }
        Ok(())
    }

    /// May a policy step onto `p`? Not into walls, closed doors, objects, lava or forbidden cells.
    pub fn safe(&self, p: Pos) -> bool {
        self.get(p).is_safe_to_enter() && !self.forbidden.contains(&p)
    }

    pub fn inside(&self, (x, y): Pos) -> bool {
        x < self.width && y < self.height
    }

    /// Where the cell at `p` (inside the grid) is in `cells`, row by row.
    pub fn cell_index(&self, p: Pos) -> usize {
        (p.1 * self.width + p.0) as usize
    }

    /// The cell at `p` (a wall outside the grid).
    pub fn get(&self, p: Pos) -> Cell {
        if self.inside(p) {
            self.cells[self.cell_index(p)]
        } else {
            Cell::Wall
        }
    }

    pub fn set(&mut self, p: Pos, cell: Cell) {
        if self.inside(p) {
            let i = self.cell_index(p);
            self.cells[i] = cell;
        }
    }

    /// The neighbour of `p` in direction `d`, if inside the grid.
    pub fn step_from(&self, p: Pos, d: Dir) -> Option<Pos> {
        let (dx, dy) = d.delta();
        let (x, y) = (p.0 as i64 + i64::from(dx), p.1 as i64 + i64::from(dy));
        (x >= 0 && y >= 0 && (x as u32) < self.width && (y as u32) < self.height).then_some((x as u32, y as u32))
    }

    /// The cell in front of the agent.
    pub fn front(&self) -> Option<Pos> {
        self.step_from(self.agent, self.dir)
    }

    /// Every position holding `cell`-like things, by a predicate.
    pub fn find(&self, mut pred: impl FnMut(Cell) -> bool) -> Vec<Pos> {
        let mut out = Vec::new();
        for y in 0..self.height {
            for x in 0..self.width {
                if pred(self.get((x, y))) {
                    out.push((x, y));
                }
            }
        }
        out
    }

    /// Where the things a target names are.
    pub fn positions_of(&self, target: &Target) -> Vec<Pos> {
        match target {
            Target::Goal => self.find(|c| c == Cell::Goal),
            Target::Door(colour) => self.find(|c| matches!(c, Cell::Door { colour: k, .. } if k == *colour)),
            Target::Object(o) => self.find(|c| c == Cell::Object { object: *o }),
        }
    }

    /// Apply one primitive action by MiniGrid's rules.
    pub fn apply(&mut self, action: Action) -> Event {
        match action {
            Action::Left => {
                self.dir = self.dir.left();
                Event::Turned
            }
            Action::Right => {
                self.dir = self.dir.right();
                Event::Turned
            }
            Action::Done => Event::Done,
            Action::Forward => {
                let Some(f) = self.front() else { return Event::Blocked };
                let cell = self.get(f);
                if !cell.can_enter() {
                    return Event::Blocked;
                }
                self.agent = f;
                match cell {
                    Cell::Goal => Event::ReachedGoal,
                    Cell::Lava => Event::EnteredLava,
                    _ => Event::Moved,
                }
            }
            Action::Pickup => {
                let Some(f) = self.front() else { return Event::Blocked };
                match (self.get(f), self.carrying) {
                    (Cell::Object { object }, None) => {
                        self.carrying = Some(object);
                        self.set(f, Cell::Empty);
                        Event::PickedUp { object }
                    }
                    _ => Event::Blocked,
                }
            }
            Action::Drop => {
                let Some(f) = self.front() else { return Event::Blocked };
                match (self.get(f), self.carrying) {
                    (Cell::Empty, Some(object)) => {
                        self.set(f, Cell::Object { object });
                        self.carrying = None;
                        Event::Dropped { object }
                    }
                    _ => Event::Blocked,
                }
            }
            Action::Toggle => {
                let Some(f) = self.front() else { return Event::Blocked };
                match self.get(f) {
                    Cell::Door { colour, state: DoorState::Locked } => {
                        if self.carrying == Some(Object { colour, kind: ObjectKind::Key }) {
                            self.set(f, Cell::Door { colour, state: DoorState::Open });
                            Event::DoorOpened { colour }
                        } else {
                            Event::Blocked
                        }
                    }
                    Cell::Door { colour, state: DoorState::Closed } => {
                        self.set(f, Cell::Door { colour, state: DoorState::Open });
                        Event::DoorOpened { colour }
                    }
                    Cell::Door { colour, state: DoorState::Open } => {
                        self.set(f, Cell::Door { colour, state: DoorState::Closed });
                        Event::DoorClosed { colour }
                    }
                    _ => Event::Blocked,
                }
            }
        }
    }

    /// Every distinct thing a skill can name here: objects on the floor or carried, doors, the goal.
    pub fn targets(&self) -> Vec<Target> {
        let mut out = std::collections::BTreeSet::new();
        for c in &self.cells {
            match *c {
                Cell::Goal => {
                    out.insert(Target::Goal);
                }
                Cell::Door { colour, .. } => {
                    out.insert(Target::Door(colour));
                }
                Cell::Object { object } => {
                    out.insert(Target::Object(object));
                }
                _ => {}
            }
        }
        out.into_iter().collect()
    }
}

impl GridState {
    /// The maze as text, two characters a cell: `##` wall, `GG` goal, `~~` lava, `xx` a
    /// forbidden cell, doors `D`
    /// (closed), `L` (locked) or `d` (open) and objects `K` (key), `B` (ball), `X` (box),
    /// each followed by its colour's initial (`e` for grey); the agent `>>`, `vv`, `<<`, `^^`.
    pub fn render(&self) -> String {
        let initial = |c: Colour| if c == Colour::Grey { 'e' } else { c.name().chars().next().unwrap_or('?') };
        let mut out = String::new();
        for y in 0..self.height {
            for x in 0..self.width {
                let cell = if (x, y) == self.agent {
                    match self.dir {
                        Dir::Right => ">>".to_string(),
                        Dir::Down => "vv".to_string(),
                        Dir::Left => "<<".to_string(),
                        Dir::Up => "^^".to_string(),
                    }
                } else {
                    match self.get((x, y)) {
                        Cell::Empty if self.forbidden.contains(&(x, y)) => "xx".to_string(),
                        Cell::Empty => "  ".to_string(),
                        Cell::Wall => "##".to_string(),
                        Cell::Lava => "~~".to_string(),
                        Cell::Goal => "GG".to_string(),
                        Cell::Door { colour, state } => {
                            let k = match state {
                                DoorState::Open => 'd',
                                DoorState::Closed => 'D',
                                DoorState::Locked => 'L',
                            };
                            format!("{k}{}", initial(colour))
                        }
                        Cell::Object { object } => {
                            let k = match object.kind {
                                ObjectKind::Key => 'K',
                                ObjectKind::Ball => 'B',
                                ObjectKind::Box => 'X',
                            };
                            format!("{k}{}", initial(object.colour))
                        }
                    }
                };
                out.push_str(&cell);
            }
            out.push('\n');
        }
        out
    }
}

/// What "go to" and "next to" can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Object(Object),
    Door(Colour),
    Goal,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Object(o) => write!(f, "{o}"),
            Target::Door(c) => write!(f, "{} door", c.name()),
            Target::Goal => f.write_str("goal"),
        }
    }
}

/// A grid skill.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GridSkill {
    GoTo(Target),
    PickUp(Object),
    Drop(Object),
    Open(Colour),
    PutNext(Object, Target),
    Done,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not a grid skill: expected \"go to the <object, colour door or goal>\", \"pick up the <colour> <key, ball or box>\", \"drop the <object>\", \"open the <colour> door\", \"put the <object> next to the <object, door or goal>\" or \"done\"")]
pub struct GridSkillError(pub String);

fn parse_object(text: &str) -> Option<Object> {
    let (colour, kind) = text.split_once(' ')?;
    let kind = ObjectKind::ALL.into_iter().find(|k| k.name() == kind)?;
    Some(Object { colour: Colour::named(colour)?, kind })
}

fn parse_target(text: &str) -> Option<Target> {
    if text == "goal" {
        return Some(Target::Goal);
    }
    if let Some(colour) = text.strip_suffix(" door") {
        return Colour::named(colour).map(Target::Door);
    }
    parse_object(text).map(Target::Object)
}

impl GridSkill {
    pub fn parse(text: &str) -> Result<Self, GridSkillError> {
        let t = text.trim();
        let bad = || GridSkillError(t.to_string());
        if t == "done" {
            return Ok(GridSkill::Done);
        }
        if let Some(rest) = t.strip_prefix("go to the ") {
            return parse_target(rest).map(GridSkill::GoTo).ok_or_else(bad);
        }
        if let Some(rest) = t.strip_prefix("pick up the ") {
            return parse_object(rest).map(GridSkill::PickUp).ok_or_else(bad);
        }
        if let Some(rest) = t.strip_prefix("drop the ") {
            return parse_object(rest).map(GridSkill::Drop).ok_or_else(bad);
        }
        if let Some(rest) = t.strip_prefix("open the ").and_then(|r| r.strip_suffix(" door")) {
            return Colour::named(rest).map(GridSkill::Open).ok_or_else(bad);
        }
        if let Some((x, y)) = t.strip_prefix("put the ").and_then(|r| r.split_once(" next to the ")) {
            return match (parse_object(x), parse_target(y)) {
                (Some(x), Some(y)) => Ok(GridSkill::PutNext(x, y)),
                _ => Err(bad()),
            };
        }
        Err(bad())
    }
}

impl fmt::Display for GridSkill {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GridSkill::GoTo(t) => write!(f, "go to the {t}"),
            GridSkill::PickUp(o) => write!(f, "pick up the {o}"),
            GridSkill::Drop(o) => write!(f, "drop the {o}"),
            GridSkill::Open(c) => write!(f, "open the {} door", c.name()),
            GridSkill::PutNext(o, t) => write!(f, "put the {o} next to the {t}"),
            GridSkill::Done => f.write_str("done"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: Colour) -> Cell {
        Cell::Object { object: Object { colour: c, kind: ObjectKind::Key } }
    }

    #[test]
    fn skills_parse_and_print_the_same() {
        for text in [
            "go to the red key",
            "go to the blue door",
            "go to the goal",
            "pick up the grey box",
            "drop the yellow ball",
            "open the purple door",
            "put the red ball next to the green box",
            "put the red ball next to the goal",
            "done",
        ] {
            let s = GridSkill::parse(text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(s.to_string(), text);
        }
        for bad in ["go to the pink key", "open the red key", "pick up the goal", "put the red key next to", "jump", "pick up the red door"] {
            assert!(GridSkill::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn minigrid_rules() {
        let mut g = GridState::room(5, 5);
        g.set((3, 1), key(Colour::Red));
        g.set((2, 2), Cell::Door { colour: Colour::Red, state: DoorState::Locked });
        assert_eq!(g.apply(Action::Forward), Event::Moved);
        assert_eq!(g.agent, (2, 1));
        assert_eq!(g.apply(Action::Forward), Event::Blocked, "objects block the way");
        assert_eq!(g.apply(Action::Drop), Event::Blocked, "nothing carried");
        let red_key = Object { colour: Colour::Red, kind: ObjectKind::Key };
        assert_eq!(g.apply(Action::Pickup), Event::PickedUp { object: red_key });
        assert_eq!(g.get((3, 1)), Cell::Empty);
        assert_eq!(g.apply(Action::Right), Event::Turned);
        assert_eq!(g.dir, Dir::Down);
        assert_eq!(g.apply(Action::Forward), Event::Blocked, "a locked door blocks");
        assert_eq!(g.apply(Action::Toggle), Event::DoorOpened { colour: Colour::Red }, "the red key opens it");
        assert_eq!(g.apply(Action::Forward), Event::Moved);
        assert_eq!(g.apply(Action::Drop), Event::Dropped { object: red_key });
        assert_eq!(g.get((2, 3)), key(Colour::Red));
        g.set((1, 2), Cell::Lava);
        g.dir = Dir::Left;
        assert_eq!(g.apply(Action::Forward), Event::EnteredLava);
        assert!(g.validate().is_ok());
        g.agent = (0, 0);
        assert_eq!(g.validate(), Err(GridError::Agent((0, 0))));
    }

    #[test]
    fn a_locked_door_needs_the_key_of_its_colour() {
        let mut g = GridState::room(5, 5);
        g.set((2, 1), Cell::Door { colour: Colour::Blue, state: DoorState::Locked });
        g.carrying = Some(Object { colour: Colour::Red, kind: ObjectKind::Key });
        assert_eq!(g.apply(Action::Toggle), Event::Blocked);
        g.carrying = Some(Object { colour: Colour::Blue, kind: ObjectKind::Key });
        assert_eq!(g.apply(Action::Toggle), Event::DoorOpened { colour: Colour::Blue });
        assert_eq!(g.apply(Action::Toggle), Event::DoorClosed { colour: Colour::Blue });
    }
}
