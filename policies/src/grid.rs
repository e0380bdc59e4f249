//! Grid skills carried out by planning over primitive actions: a breadth-first search over
//! (cell, direction) that never enters lava or a forbidden cell (nor the goal, unless going
//! to it), then the
//! skill's last action. The same search is the skills' value function: a skill is feasible
//! when its plan exists (the object is there and reachable, the door's key is carried).

use grounding::{GroundingError, ScoredSkill, SkillSpace};
use protocol::grid::{Action, Cell, Colour, Dir, DoorState, Event, GridSkill, GridState, Object, ObjectKind, Pos, Target};
use protocol::Observation;
use std::collections::VecDeque;

/// The feasibility of `done` (SayCan's).
pub const DONE_FEASIBILITY: f64 = 0.2;
/// The feasibility of going to what the agent already faces (possible, seldom wanted).
pub const IDLE_FEASIBILITY: f64 = 0.1;

/// Something that takes primitive actions: the simulated maze, or one across the network.
pub trait GridAgent {
    fn state(&mut self) -> Result<GridState, String>;
    fn act(&mut self, action: Action) -> Result<Event, String>;
}

/// The shortest turn-and-forward sequence from the agent's pose to a pose that satisfies
/// `arrived`; `enter_goal` lets the path end on the goal square.
pub fn navigate(g: &GridState, enter_goal: bool, arrived: impl Fn(Pos, Dir) -> bool) -> Option<Vec<Action>> {
    let idx = |p: Pos, d: Dir| g.cell_index(p) * 4 + d as usize;
    let mut prev: Vec<Option<(usize, Action)>> = vec![None; (g.width * g.height) as usize * 4];
    let mut seen = vec![false; prev.len()];
    let start = (g.agent, g.dir);
    let mut queue = VecDeque::from([start]);
    seen[idx(start.0, start.1)] = true;
    while let Some((p, d)) = queue.pop_front() {
        if arrived(p, d) {
            let mut actions = Vec::new();
            let mut at = idx(p, d);
            while let Some((from, a)) = prev[at] {
                actions.push(a);
                at = from;
            }
            actions.reverse();
            return Some(actions);
        }
        let mut next = vec![((p, d.left()), Action::Left), ((p, d.right()), Action::Right)];
        if let Some(f) = g.step_from(p, d) {
            let ok = g.safe(f) && (g.get(f) != Cell::Goal || enter_goal);
            if ok {
                next.push(((f, d), Action::Forward));
            }
        }
        for ((q, e), a) in next {
            let i = idx(q, e);
            if !seen[i] {
                seen[i] = true;
                prev[i] = Some((idx(p, d), a));
                queue.push_back((q, e));
            }
        }
    }
    None
}

fn facing(g: &GridState, p: Pos, d: Dir, targets: &[Pos]) -> bool {
    g.step_from(p, d).is_some_and(|f| targets.contains(&f))
}

/// A cell an object can be dropped on without blocking a way: empty, and not in front of a door.
fn droppable(g: &GridState, f: Pos) -> bool {
    g.get(f) == Cell::Empty && Dir::ALL.iter().all(|d| g.step_from(f, *d).is_none_or(|n| !matches!(g.get(n), Cell::Door { .. })))
}

/// The primitive actions that carry out `skill` from `g`, or why it cannot be done.
pub fn plan(skill: &GridSkill, g: &GridState) -> Result<Vec<Action>, String> {
    let unreachable = |what: &dyn std::fmt::Display| format!("no safe path to the {what}");
    match *skill {
        GridSkill::Done => Ok(Vec::new()),
        GridSkill::GoTo(Target::Goal) => {
            let goals = g.positions_of(&Target::Goal);
            if goals.is_empty() {
                return Err("there is no goal in this maze".into());
            }
            navigate(g, true, |p, _| goals.contains(&p)).ok_or_else(|| unreachable(&"goal"))
        }
        GridSkill::GoTo(t) => {
            let at = g.positions_of(&t);
            if at.is_empty() {
                return Err(format!("there is no {t} in this maze"));
            }
            navigate(g, false, |p, d| facing(g, p, d, &at)).ok_or_else(|| unreachable(&t))
        }
        GridSkill::PickUp(o) => {
            if let Some(c) = g.carrying {
                return Err(format!("the agent already carries the {c}"));
            }
            let at = g.positions_of(&Target::Object(o));
            if at.is_empty() {
                return Err(format!("there is no {o} in this maze"));
            }
            let mut a = navigate(g, false, |p, d| facing(g, p, d, &at)).ok_or_else(|| unreachable(&o))?;
            a.push(Action::Pickup);
            Ok(a)
        }
        GridSkill::Drop(o) => {
            if g.carrying != Some(o) {
                return Err(format!("the agent does not carry the {o}"));
            }
            let mut a = navigate(g, false, |p, d| g.step_from(p, d).is_some_and(|f| droppable(g, f))).ok_or("no free cell to drop it on")?;
            a.push(Action::Drop);
            Ok(a)
        }
        GridSkill::Open(colour) => {
            let at = g.positions_of(&Target::Door(colour));
            let Some(&door) = at.first() else { return Err(format!("there is no {} door in this maze", colour.name())) };
            match g.get(door) {
                Cell::Door { state: DoorState::Open, .. } => return Err(format!("the {} door is already open", colour.name())),
                Cell::Door { state: DoorState::Locked, .. } if g.carrying != Some(Object { colour, kind: ObjectKind::Key }) => {
                    return Err(format!("the {0} door is locked: it opens with the {0} key", colour.name()))
                }
                _ => {}
            }
            let mut a = navigate(g, false, |p, d| facing(g, p, d, &at)).ok_or_else(|| unreachable(&Target::Door(colour)))?;
            a.push(Action::Toggle);
            Ok(a)
        }
        GridSkill::PutNext(o, t) => {
            if g.carrying != Some(o) {
                return Err(format!("the agent does not carry the {o}"));
            }
            let at = g.positions_of(&t);
            if at.is_empty() {
                return Err(format!("there is no {t} in this maze"));
            }
            let beside = |f: Pos| at.iter().any(|t| t.0.abs_diff(f.0) + t.1.abs_diff(f.1) == 1);
            let next_to_door = matches!(t, Target::Door(_));
            let spot = |f: Pos| beside(f) && if next_to_door { g.get(f) == Cell::Empty } else { droppable(g, f) };
            let mut a = navigate(g, false, |p, d| g.step_from(p, d).is_some_and(spot)).ok_or_else(|| format!("no free cell next to the {t} can be reached"))?;
            a.push(Action::Drop);
            Ok(a)
        }
    }
}

/// How a grid skill went.
#[derive(Clone, Debug, PartialEq)]
pub struct GridOutcome {
    pub success: bool,
    pub reason: Option<String>,
    pub actions: usize,
}

impl From<GridOutcome> for crate::SkillOutcome {
    fn from(o: GridOutcome) -> Self {
        Self { success: o.success, reason: o.reason }
    }
}

/// Carry out a skill text on an agent: plan over primitive actions, then take them.
pub fn execute(skill: &str, agent: &mut dyn GridAgent) -> GridOutcome {
    let fail = |reason: String, actions| GridOutcome { success: false, reason: Some(reason), actions };
    let skill = match GridSkill::parse(skill) {
        Ok(s) => s,
        Err(e) => return fail(e.to_string(), 0),
    };
    let state = match agent.state() {
        Ok(s) => s,
        Err(e) => return fail(e, 0),
    };
    let actions = match plan(&skill, &state) {
        Ok(a) => a,
        Err(e) => return fail(e, 0),
    };
    for (i, a) in actions.iter().enumerate() {
        match agent.act(*a) {
            Ok(Event::Blocked) => return fail(format!("action {a:?} was blocked"), i + 1),
            Ok(Event::EnteredLava) => return fail("the agent entered lava".into(), i + 1),
            Ok(_) => {}
            Err(e) => return fail(e, i + 1),
        }
    }
    GridOutcome { success: true, reason: None, actions: actions.len() }
}

/// Every skill worth naming in `g`, with its feasibility (the value function): 1 when its
/// plan exists, [`IDLE_FEASIBILITY`] for going to what is already in front, `done` at 0.2.
pub fn admissible(g: &GridState) -> Vec<(GridSkill, f64)> {
    let mut candidates = vec![GridSkill::Done];
    for t in g.targets() {
        candidates.push(GridSkill::GoTo(t));
        match t {
            Target::Object(o) => candidates.push(GridSkill::PickUp(o)),
            Target::Door(c) => candidates.push(GridSkill::Open(c)),
            Target::Goal => {}
        }
        if let Some(o) = g.carrying {
            candidates.push(GridSkill::PutNext(o, t));
        }
    }
    if let Some(o) = g.carrying {
        candidates.push(GridSkill::Drop(o));
    }
    candidates
        .into_iter()
        .filter_map(|s| {
            let a = plan(&s, g).ok()?;
            let f = match s {
                GridSkill::Done => DONE_FEASIBILITY,
                GridSkill::GoTo(_) if a.is_empty() => IDLE_FEASIBILITY,
                _ => 1.0,
            };
            Some((s, f))
        })
        .collect()
}

/// Every skill whose plan could exist once other skills have been carried out: opening a
/// locked door before its key is held, going to what lies behind it, putting down an object
/// not yet picked up. Its targets lie where the agent could get by opening the doors whose
/// keys it holds or could fetch and moving objects out of the way, never through walls,
/// lava or forbidden cells: what lies beyond those, or behind a locked door whose key it
/// cannot get, is never possible and not listed.
pub fn conceivable(g: &GridState) -> Vec<GridSkill> {
    let (seen, keys) = within_reach_later(g);
    let near = |p: Pos| seen[g.cell_index(p)] || Dir::ALL.iter().any(|d| g.step_from(p, *d).is_some_and(|q| seen[g.cell_index(q)]));
    let targets: Vec<Target> = g.targets().into_iter().filter(|t| g.positions_of(t).into_iter().any(near)).collect();
    let objects: Vec<Object> = targets.iter().filter_map(|t| if let Target::Object(o) = t { Some(*o) } else { None }).chain(g.carrying).collect();
    let can_open = |c: Colour| {
        g.positions_of(&Target::Door(c)).into_iter().any(|p| near(p) && (keys.contains(&c) || !matches!(g.get(p), Cell::Door { state: DoorState::Locked, .. })))
    };
    let mut out = vec![GridSkill::Done];
    for t in &targets {
        out.push(GridSkill::GoTo(*t));
        if let Target::Door(c) = *t {
            if can_open(c) {
                out.push(GridSkill::Open(c));
            }
        }
    }
    for o in &objects {
        out.push(GridSkill::PickUp(*o));
        out.push(GridSkill::Drop(*o));
        out.extend(targets.iter().filter(|t| **t != Target::Object(*o)).map(|t| GridSkill::PutNext(*o, *t)));
    }
    out
}

/// The cells the agent could stand on once it has opened every door whose key it holds or
/// could fetch (and moved what stands in the way), never entering a wall, lava or a
/// forbidden cell; and the colours of those keys.
fn within_reach_later(g: &GridState) -> (Vec<bool>, Vec<Colour>) {
    let mut keys: Vec<Colour> = g.carrying.filter(|o| o.kind == ObjectKind::Key).map(|o| o.colour).into_iter().collect();
    loop {
        let mut seen = vec![false; (g.width * g.height) as usize];
        seen[g.cell_index(g.agent)] = true;
        let mut queue = VecDeque::from([g.agent]);
        while let Some(p) = queue.pop_front() {
            for q in Dir::ALL.iter().filter_map(|d| g.step_from(p, *d)) {
                let passable = !g.forbidden.contains(&q)
                    && match g.get(q) {
                        Cell::Wall | Cell::Lava => false,
                        Cell::Door { colour, state: DoorState::Locked } => keys.contains(&colour),
                        _ => true,
                    };
                if passable && !seen[g.cell_index(q)] {
                    seen[g.cell_index(q)] = true;
                    queue.push_back(q);
                }
            }
        }
        let before = keys.len();
        for (i, cell) in g.cells.iter().enumerate() {
            if let Cell::Object { object: Object { colour, kind: ObjectKind::Key } } = *cell {
                if seen[i] && !keys.contains(&colour) {
                    keys.push(colour);
                }
            }
        }
        if keys.len() == before {
            return (seen, keys);
        }
    }
}

/// The grid skills as the affordance model sees them.
#[derive(Clone, Debug, Default)]
pub struct GridSkills;

fn grid_of(obs: &Observation) -> Result<&GridState, GroundingError> {
    obs.grid.as_ref().ok_or_else(|| GroundingError::Config("a grid observation has no grid".into()))
}

impl SkillSpace for GridSkills {
    fn admissible(&self, obs: &Observation) -> Result<Vec<ScoredSkill>, GroundingError> {
        Ok(admissible(grid_of(obs)?).into_iter().map(|(s, f)| ScoredSkill { text: s.to_string(), feasibility: f }).collect())
    }

    fn conceivable(&self, obs: &Observation) -> Result<Option<Vec<String>>, GroundingError> {
        Ok(Some(conceivable(grid_of(obs)?).iter().map(GridSkill::to_string).collect()))
    }
}

/// An agent on a maze in this process.
impl GridAgent for sim::grid::GridWorld {
    fn state(&mut self) -> Result<GridState, String> {
        Ok(self.state.clone())
    }

    fn act(&mut self, action: Action) -> Result<Event, String> {
        sim::grid::GridWorld::act(self, action).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim::grid::{episode, judge, GridWorld, Level};

    /// A scripted solution from the skills alone, as the corpus writes them.
    fn run(level: Level, seed: u64, skills: impl Fn(&GridState) -> Vec<String>) -> (Result<(), String>, u32) {
        let e = episode(level, seed);
        let mut w = GridWorld::new(&e);
        for s in skills(&e.start) {
            let out = execute(&s, &mut w);
            assert!(out.success, "{} seed {seed}: {s}: {:?}", level.id(), out.reason);
        }
        (judge(&e, &w), w.steps)
    }

    #[test]
    fn skills_solve_open_doors_and_locked_room() {
        for seed in 0..10 {
            let e = episode(Level::OpenDoors, seed);
            let sim::grid::Goal::OpenInOrder { first, second } = e.goal else { panic!() };
            let (verdict, steps) = run(Level::OpenDoors, seed, |_| vec![format!("open the {} door", first.name()), format!("open the {} door", second.name())]);
            assert_eq!(verdict, Ok(()), "seed {seed}");
            assert!(steps <= 40, "{steps}");
        }
        for seed in 0..10 {
            let e = episode(Level::LockedRoom, seed);
            let key = e.start.targets().into_iter().find_map(|t| if let Target::Object(o) = t { Some(o) } else { None }).expect("a key");
            let (verdict, steps) = run(Level::LockedRoom, seed, |g| {
                // Open every closed door on the way to the key: the key's room is one of them.
                let mut s = Vec::new();
                for t in g.targets() {
                    if let Target::Door(c) = t {
                        if c != key.colour {
                            s.push(format!("open the {} door", c.name()));
                        }
                    }
                }
                s.extend([format!("pick up the {key}"), format!("open the {} door", key.colour.name()), "go to the goal".to_string()]);
                s
            });
            assert_eq!(verdict, Ok(()), "seed {seed}");
            assert!(steps > 20, "{steps}");
        }
    }

    #[test]
    fn skills_solve_blocked_unlock_pickup_by_moving_the_ball() {
        for seed in 0..10 {
            let e = episode(Level::BlockedUnlockPickup, seed);
            let sim::grid::Goal::PickUp { object: boxed } = e.goal else { panic!() };
            let objects: Vec<Object> = e.start.targets().into_iter().filter_map(|t| if let Target::Object(o) = t { Some(o) } else { None }).collect();
            let key = objects.iter().find(|o| o.kind == ObjectKind::Key).copied().expect("key");
            let ball = objects.iter().find(|o| o.kind == ObjectKind::Ball).copied().expect("ball");
            // The door is blocked: going to it is not feasible until the ball has moved.
            assert!(plan(&GridSkill::GoTo(Target::Door(key.colour)), &e.start).is_err());
            let (verdict, steps) = run(Level::BlockedUnlockPickup, seed, |_| {
                [
                    format!("pick up the {ball}"),
                    format!("drop the {ball}"),
                    format!("pick up the {key}"),
                    format!("open the {} door", key.colour.name()),
                    format!("drop the {key}"),
                    format!("pick up the {boxed}"),
                ]
                .to_vec()
            });
            assert_eq!(verdict, Ok(()), "seed {seed}");
            assert!(steps > 10, "{steps}");
        }
    }

    #[test]
    fn skills_solve_put_next_and_multi_room() {
        for seed in 0..10 {
            let e = episode(Level::PutNext, seed);
            let sim::grid::Goal::PutNext { object, target } = e.goal else { panic!() };
            let (verdict, _) = run(Level::PutNext, seed, |_| vec![format!("pick up the {object}"), format!("put the {object} next to the {target}")]);
            assert_eq!(verdict, Ok(()), "seed {seed}");
        }
        let mut total = 0;
        for seed in 0..10 {
            // Open whichever door can be opened until the goal can be reached.
            let e = episode(Level::MultiRoom, seed);
            let mut w = GridWorld::new(&e);
            for _ in 0..10 {
                let options = admissible(&w.state);
                let next =
                    options.iter().find(|(s, _)| *s == GridSkill::GoTo(Target::Goal)).or_else(|| options.iter().find(|(s, _)| matches!(s, GridSkill::Open(_))));
                let Some((skill, _)) = next else { break };
                assert!(execute(&skill.to_string(), &mut w).success);
                if w.ended.is_some() {
                    break;
                }
            }
            assert_eq!(judge(&e, &w), Ok(()), "multi-room seed {seed}");
            total += w.steps;
        }
        assert!(total / 10 > 30, "multi-room takes {} primitive steps on average", total / 10);
    }

    #[test]
    fn a_locked_door_is_conceivable_to_open_before_its_key_is_held() {
        for seed in 0..5 {
            let w = GridWorld::new(&episode(Level::LockedRoom, seed));
            let g = &w.state;
            let locked =
                g.cells.iter().find_map(|c| if let Cell::Door { colour, state: DoorState::Locked } = *c { Some(colour) } else { None }).expect("a locked door");
            let now: Vec<GridSkill> = admissible(g).into_iter().map(|(s, _)| s).collect();
            let later = conceivable(g);
            assert!(!now.contains(&GridSkill::Open(locked)), "seed {seed}: no key held yet");
            assert!(later.contains(&GridSkill::Open(locked)), "seed {seed}");
            assert!(now.iter().all(|s| later.contains(s)), "seed {seed}: what is admissible now is conceivable");
            // Nothing the maze does not hold.
            assert!(later.iter().any(|s| matches!(s, GridSkill::PickUp(o) if o.kind == ObjectKind::Key)), "seed {seed}");
            assert!(
                !later.iter().any(|s| matches!(s, GridSkill::PickUp(o) | GridSkill::GoTo(Target::Object(o)) if o.kind == ObjectKind::Ball)),
                "seed {seed}: no ball here"
            );
        }
    }

    #[test]
    fn paths_never_enter_lava_and_infeasible_skills_say_why() {
        let mut g = GridState::room(7, 5);
        g.agent = (1, 2);
        g.dir = Dir::Right;
        // A lava wall with one gap at the top.
        for y in 2..4 {
            g.set((3, y), Cell::Lava);
        }
        let ball = Object { colour: protocol::grid::Colour::Red, kind: ObjectKind::Ball };
        g.set((5, 2), Cell::Object { object: ball });
        let a = plan(&GridSkill::PickUp(ball), &g).expect("around the lava");
        let mut s = g.clone();
        for x in a {
            assert_ne!(s.apply(x), Event::EnteredLava);
        }
        assert_eq!(s.carrying, Some(ball));
        // A forbidden cell closes the gap as lava would.
        g.forbidden.push((3, 1));
        assert_eq!(plan(&GridSkill::PickUp(ball), &g), Err("no safe path to the red ball".into()));
        assert!(admissible(&g).iter().all(|(s, _)| !matches!(s, GridSkill::PickUp(_))));
        assert!(plan(&GridSkill::Drop(ball), &g).unwrap_err().contains("does not carry"));
        assert!(plan(&GridSkill::Open(protocol::grid::Colour::Blue), &g).unwrap_err().contains("no blue door"));
    }

    #[test]
    fn what_lies_beyond_lava_a_forbidden_cell_or_a_door_without_its_key_is_never_conceivable() {
        use protocol::grid::Colour;
        let mut g = GridState::room(9, 5);
        g.agent = (1, 2);
        g.dir = Dir::Right;
        let ball = Object { colour: Colour::Red, kind: ObjectKind::Ball };
        g.set((7, 2), Cell::Object { object: ball });
        let reaches_ball = |g: &GridState| conceivable(g).contains(&GridSkill::PickUp(ball));
        // A locked door in a wall across the room: open later with its key, which lies on
        // the agent's side.
        for y in 1..4 {
            g.set((4, y), Cell::Wall);
        }
        g.set((4, 2), Cell::Door { colour: Colour::Blue, state: DoorState::Locked });
        let key = Object { colour: Colour::Blue, kind: ObjectKind::Key };
        g.set((2, 1), Cell::Object { object: key });
        assert!(!admissible(&g).iter().any(|(s, _)| *s == GridSkill::PickUp(ball)), "not now");
        assert!(reaches_ball(&g) && conceivable(&g).contains(&GridSkill::Open(Colour::Blue)), "later, with the key");
        // The key behind the door it opens, or no key at all: never.
        g.set((2, 1), Cell::Empty);
        g.set((6, 1), Cell::Object { object: key });
        assert!(!reaches_ball(&g) && !conceivable(&g).contains(&GridSkill::Open(Colour::Blue)));
        assert!(conceivable(&g).contains(&GridSkill::GoTo(Target::Door(Colour::Blue))), "the door itself is at hand");
        g.set((6, 1), Cell::Empty);
        assert!(!reaches_ball(&g));
        // Carried, the key opens it again.
        g.carrying = Some(key);
        assert!(reaches_ball(&g));
        // A closed door behind lava, or behind a forbidden cell, stays out of reach for good.
        g.carrying = None;
        g.set((4, 2), Cell::Door { colour: Colour::Blue, state: DoorState::Closed });
        assert!(reaches_ball(&g));
        g.set((3, 2), Cell::Lava);
        assert!(!reaches_ball(&g), "lava in front of the door");
        g.set((3, 2), Cell::Empty);
        g.forbidden.push((3, 2));
        assert!(!reaches_ball(&g), "a forbidden cell in front of the door");
    }
}
