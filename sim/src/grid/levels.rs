//! The level generators, after MiniGrid's and BabyAI's (layouts, door and key rules,
//! missions), seeded by our own generator.

use super::{Goal, GridEpisode, Level};
use crate::rng::Rng;
use crate::wording::Slots;
use protocol::grid::{Cell, Colour, Dir, DoorState, GridState, Object, ObjectKind, Pos, Target};

/// A rectangle of interior cells, inclusive.
#[derive(Clone, Copy, Debug)]
struct Rect {
    x0: u32,
    y0: u32,
    x1: u32,
    y1: u32,
}

impl Rect {
    fn cells(self) -> impl Iterator<Item = Pos> {
        (self.y0..=self.y1).flat_map(move |y| (self.x0..=self.x1).map(move |x| (x, y)))
    }
}

/// A random empty cell of `r`, not under the agent.
fn free_cell(g: &GridState, rng: &mut Rng, r: Rect) -> Pos {
    let free: Vec<Pos> = r.cells().filter(|p| g.get(*p) == Cell::Empty && *p != g.agent).collect();
    *rng.pick(&free)
}

fn place_agent(g: &mut GridState, rng: &mut Rng, r: Rect) {
    let free: Vec<Pos> = r.cells().filter(|p| g.get(*p) == Cell::Empty).collect();
    g.agent = *rng.pick(&free);
    g.dir = *rng.pick(&Dir::ALL);
}

fn random_object(rng: &mut Rng, taken: &[Object]) -> Object {
    loop {
        let o = Object { colour: *rng.pick(&Colour::ALL), kind: *rng.pick(&ObjectKind::ALL) };
        if !taken.contains(&o) {
            return o;
        }
    }
}

fn wall_line(g: &mut GridState, from: Pos, to: Pos) {
    for x in from.0.min(to.0)..=from.0.max(to.0) {
        for y in from.1.min(to.1)..=from.1.max(to.1) {
            g.set((x, y), Cell::Wall);
        }
    }
}

fn door(colour: Colour, state: DoorState) -> Cell {
    Cell::Door { colour, state }
}

pub fn generate(level: Level, seed: u64, rng: &mut Rng) -> GridEpisode {
    let (start, instruction, goal, slots) = match level {
        Level::OpenDoors => open_doors(rng),
        Level::PutNext => put_next(rng),
        Level::LockedRoom => locked_room(rng),
        Level::MultiRoom => multi_room(rng),
        Level::BlockedUnlockPickup => blocked_unlock_pickup(rng),
    };
    GridEpisode { level, seed, instruction, start, goal, slots }
}

/// BabyAI OpenDoorsOrder (N = 2): one room, doors of distinct colours in its walls.
fn open_doors(rng: &mut Rng) -> (GridState, String, Goal, Slots) {
    let mut g = GridState::room(8, 8);
    let colours = rng.sample(&Colour::ALL, 2);
    let mut used_walls = Vec::new();
    for &c in &colours {
        // A door in a wall not used yet, away from the corners.
        let wall = loop {
            let w = rng.int(0, 3);
            if !used_walls.contains(&w) {
                break w;
            }
        };
        used_walls.push(wall);
        let k = rng.int(1, 6) as u32;
        let p = match wall {
            0 => (k, 0),
            1 => (7, k),
            2 => (k, 7),
            _ => (0, k),
        };
        g.set(p, door(c, DoorState::Closed));
    }
    place_agent(&mut g, rng, Rect { x0: 1, y0: 1, x1: 6, y1: 6 });
    let (a, b) = (colours[0], colours[1]);
    let text = format!("open the {} door, then open the {} door", a.name(), b.name());
    let slots = Slots::of(&[("first", a.name()), ("second", b.name())]);
    (g, text, Goal::OpenInOrder { first: a, second: b }, slots)
}

/// The cells the agent can walk to (doors passable only when open).
fn walkable_from(g: &GridState) -> Vec<Pos> {
    let mut seen = vec![g.agent];
    let mut i = 0;
    while i < seen.len() {
        let p = seen[i];
        i += 1;
        for d in Dir::ALL {
            if let Some(q) = g.step_from(p, d) {
                if g.get(q).is_safe_to_enter() && !seen.contains(&q) {
                    seen.push(q);
                }
            }
        }
    }
    seen
}

/// BabyAI PutNextLocal: one room, eight objects, put one next to another. As BabyAI does,
/// placements that wall an object off from the agent are drawn again.
fn put_next(rng: &mut Rng) -> (GridState, String, Goal, Slots) {
    let inside = Rect { x0: 1, y0: 1, x1: 6, y1: 6 };
    let (g, objects) = loop {
        let mut g = GridState::room(8, 8);
        place_agent(&mut g, rng, inside);
        let mut objects = Vec::new();
        for _ in 0..8 {
            let o = random_object(rng, &objects);
            let p = free_cell(&g, rng, inside);
            g.set(p, Cell::Object { object: o });
            objects.push(o);
        }
        let walk = walkable_from(&g);
        let reachable = |p: Pos| Dir::ALL.iter().any(|d| g.step_from(p, *d).is_some_and(|q| walk.contains(&q)));
        if objects.iter().all(|o| reachable(g.positions_of(&Target::Object(*o))[0])) && walk.len() > 8 {
            break (g, objects);
        }
    };
    // The two must not start side by side.
    loop {
        let pair = rng.sample(&objects, 2);
        let (x, y) = (pair[0], pair[1]);
        let (px, py) = (g.positions_of(&Target::Object(x))[0], g.positions_of(&Target::Object(y))[0]);
        if px.0.abs_diff(py.0) + px.1.abs_diff(py.1) > 1 {
            let text = format!("put the {x} next to the {y}");
            let slots = Slots::of(&[("object", &x.to_string()), ("target", &y.to_string())]);
            return (g, text, Goal::PutNext { object: x, target: Target::Object(y) }, slots);
        }
    }
}

/// MiniGrid LockedRoom: 19 x 19, a hallway between six rooms, each behind a door of its own
/// colour; one is locked with the goal inside, and the key is in another.
fn locked_room(rng: &mut Rng) -> (GridState, String, Goal, Slots) {
    let (w, h) = (19, 19);
    let mut g = GridState::room(w, h);
    let (l, r) = (w / 2 - 2, w / 2 + 2);
    wall_line(&mut g, (l, 0), (l, h - 1));
    wall_line(&mut g, (r, 0), (r, h - 1));
    let mut rooms = Vec::new();
    for n in 0..3 {
        let j = n * (h / 3);
        wall_line(&mut g, (0, j), (l, j));
        wall_line(&mut g, (r, j), (w - 1, j));
        rooms.push((Rect { x0: 1, y0: j + 1, x1: l - 1, y1: j + 5 }, (l, j + 3)));
        rooms.push((Rect { x0: r + 1, y0: j + 1, x1: w - 2, y1: j + 5 }, (r, j + 3)));
    }
    let colours = rng.sample(&Colour::ALL, 6);
    let locked = rng.int(0, 5);
    let key_room = loop {
        let k = rng.int(0, 5);
        if k != locked {
            break k;
        }
    };
    for (i, (_, d)) in rooms.iter().enumerate() {
        g.set(*d, door(colours[i], if i == locked { DoorState::Locked } else { DoorState::Closed }));
    }
    let goal = free_cell(&g, rng, rooms[locked].0);
    g.set(goal, Cell::Goal);
    let key = Object { colour: colours[locked], kind: ObjectKind::Key };
    let kp = free_cell(&g, rng, rooms[key_room].0);
    g.set(kp, Cell::Object { object: key });
    place_agent(&mut g, rng, Rect { x0: l + 1, y0: 1, x1: r - 1, y1: h - 2 });
    let text = format!(
        "get the {} key from the {} room, unlock the {} door and go to the goal",
        colours[locked].name(),
        colours[key_room].name(),
        colours[locked].name()
    );
    let slots = Slots::of(&[("colour", colours[locked].name()), ("room", colours[key_room].name())]);
    (g, text, Goal::ReachGoal, slots)
}

/// MiniGrid MultiRoom: a chain of four to six rooms joined by closed doors; the goal is in
/// the last. Rooms here follow a snake over a 3 x 2 layout of 8 x 8 blocks.
fn multi_room(rng: &mut Rng) -> (GridState, String, Goal, Slots) {
    const B: u32 = 7; // block pitch: walls shared between neighbours
    let (w, h) = (3 * B + 1, 2 * B + 1);
    let mut g = GridState::room(w, h);
    for k in 1..3 {
        wall_line(&mut g, (k * B, 0), (k * B, h - 1));
    }
    wall_line(&mut g, (0, B), (w - 1, B));
    let snake = [(0u32, 0u32), (1, 0), (2, 0), (2, 1), (1, 1), (0, 1)];
    // Start anywhere along the snake so that the direction through the rooms varies.
    let n = rng.int(4, 6);
    let first = rng.int(0, 6 - n);
    let chain = &snake[first..first + n];
    let colours = rng.sample(&Colour::ALL, n - 1);
    let rect = |(bx, by): (u32, u32)| Rect { x0: bx * B + 1, y0: by * B + 1, x1: bx * B + B - 1, y1: by * B + B - 1 };
    for (i, pair) in chain.windows(2).enumerate() {
        let (a, b) = (pair[0], pair[1]);
        let k = rng.int(1, (B - 1) as usize) as u32;
        let p = if a.1 == b.1 { (a.0.max(b.0) * B, a.1 * B + k) } else { (a.0 * B + k, B) };
        g.set(p, door(colours[i], DoorState::Closed));
    }
    place_agent(&mut g, rng, rect(chain[0]));
    let goal = free_cell(&g, rng, rect(chain[n - 1]));
    g.set(goal, Cell::Goal);
    (g, "go through the rooms to the goal".to_string(), Goal::ReachGoal, Slots::default())
}

/// MiniGrid BlockedUnlockPickup: two rooms; the door between them is locked, a ball blocks
/// it, the key is in the agent's room, the box to pick up in the other.
fn blocked_unlock_pickup(rng: &mut Rng) -> (GridState, String, Goal, Slots) {
    let (w, h) = (11, 6);
    let mut g = GridState::room(w, h);
    wall_line(&mut g, (5, 0), (5, h - 1));
    let left = Rect { x0: 1, y0: 1, x1: 4, y1: 4 };
    let right = Rect { x0: 6, y0: 1, x1: 9, y1: 4 };
    let door_colour = *rng.pick(&Colour::ALL);
    let dy = rng.int(1, 4) as u32;
    g.set((5, dy), door(door_colour, DoorState::Locked));
    let key = Object { colour: door_colour, kind: ObjectKind::Key };
    let ball = random_object(rng, &[key]);
    let ball = Object { kind: ObjectKind::Ball, ..ball };
    let boxed = Object { colour: *rng.pick(&Colour::ALL), kind: ObjectKind::Box };
    g.set((4, dy), Cell::Object { object: ball });
    let bp = free_cell(&g, rng, right);
    g.set(bp, Cell::Object { object: boxed });
    place_agent(&mut g, rng, left);
    let kp = free_cell(&g, rng, left);
    g.set(kp, Cell::Object { object: key });
    let text = format!("pick up the {boxed}");
    (g, text, Goal::PickUp { object: boxed }, Slots::of(&[("object", &boxed.to_string())]))
}
