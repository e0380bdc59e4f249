//! The 20 tabletop task templates of the paper (docs/method.md): seeded scenes and success checks on the
//! ground-truth state.
//!
//! Families and splits as the paper's table: Letters and Blocks & Bowls each have four seen
//! and four unseen templates (the first four of each family as the paper lists them are
//! "seen"); Box Packing is one family. Every scene holds the task's objects and 1-3
//! distractors, all at least 15 cm apart, and is fixed by its seed.

use super::catalog::{self, Category, COLOURS, COOL, PRIMARY, SPORTS, SYMMETRIC, VOWELS, WARM, WORDS};
use crate::rng::Rng;
use protocol::tabletop::geometry::{inside, location_of, region_named, stack_of};
use protocol::tabletop::{Placement, CORNERS, SIDES};
use protocol::{Domain, ObjectKind, Observation, SceneObject};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    Letters,
    BlocksAndBowls,
    BoxPacking,
    /// Not the paper's: the user means one block and one bowl the words do not name (for
    /// asking for help).
    Ambiguous,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Split {
    Seen,
    Unseen,
}

/// A row of the paper's tabletop table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Row {
    pub family: Family,
    pub split: Split,
}

impl Row {
    pub const ALL: [Row; 5] = [
        Row { family: Family::Letters, split: Split::Seen },
        Row { family: Family::BlocksAndBowls, split: Split::Seen },
        Row { family: Family::BoxPacking, split: Split::Seen },
        Row { family: Family::Letters, split: Split::Unseen },
        Row { family: Family::BlocksAndBowls, split: Split::Unseen },
    ];

    pub fn label(&self) -> &'static str {
        match (self.family, self.split) {
            (Family::Letters, Split::Seen) => "seen Letters",
            (Family::Letters, Split::Unseen) => "unseen Letters",
            (Family::BlocksAndBowls, Split::Seen) => "seen Blocks & Bowls",
            (Family::BlocksAndBowls, Split::Unseen) => "unseen Blocks & Bowls",
            (Family::BoxPacking, _) => "Box Packing",
            (Family::Ambiguous, _) => "one block and bowl meant",
        }
    }
}

/// One task template.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Task {
    pub id: &'static str,
    pub family: Family,
    pub split: Split,
}

impl Task {
    pub fn row(&self) -> Row {
        Row { family: self.family, split: self.split }
    }

    /// The slots an instruction for this template may name, filled from each episode.
    pub fn slot_names(&self) -> &'static [&'static str] {
        match self.id {
            "blocks-on-place" => &["place"],
            "spell-word" => &["word"],
            _ => &[],
        }
    }
}

const fn task(id: &'static str, family: Family, split: Split) -> Task {
    Task { id, family, split }
}

use Family::*;
use Split::*;

/// The 20 templates, in the paper's order.
pub const TASKS: [Task; 20] = [
    task("alphabetical-order", Letters, Seen),
    task("spell-word", Letters, Seen),
    task("separate-vowels", Letters, Seen),
    task("reverse-alphabetical-order", Letters, Seen),
    task("spell-sport", Letters, Unseen),
    task("symmetric-letters", Letters, Unseen),
    task("separate-consonants", Letters, Unseen),
    task("letters-less-than-d", Letters, Unseen),
    task("stack-all-blocks", BlocksAndBowls, Seen),
    task("blocks-on-place", BlocksAndBowls, Seen),
    task("matching-bowls", BlocksAndBowls, Seen),
    task("mismatched-bowls", BlocksAndBowls, Seen),
    task("different-corners", BlocksAndBowls, Unseen),
    task("stack-cool-colours", BlocksAndBowls, Unseen),
    task("stack-warm-colours", BlocksAndBowls, Unseen),
    task("primary-colours-left", BlocksAndBowls, Unseen),
    task("pack-brown-box", BoxPacking, Seen),
    task("pack-boxes", BoxPacking, Seen),
    task("snacks-right", BoxPacking, Seen),
    task("picnic-box", BoxPacking, Seen),
];

/// Tasks for asking for help, not the paper's: the instruction leaves out which objects are
/// meant, so only asking can tell (`grounded calibrate`, `grounded eval --ask-for-help`).
pub const ASKING_TASKS: [Task; 1] = [task("block-in-bowl", Ambiguous, Seen)];

pub fn task_named(id: &str) -> Option<&'static Task> {
    TASKS.iter().chain(ASKING_TASKS.iter()).find(|t| t.id == id)
}

/// The task ids, for error messages.
pub fn task_ids() -> String {
    TASKS.iter().map(|t| t.id).collect::<Vec<_>>().join(", ")
}

/// The grounded models a task calls for besides the affordance (docs/method.md: box packing
/// uses safety, preference or both).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TaskGrounding {
    /// Terms the safety model forbids (the paper's "red" and "knife").
    pub forbidden: Vec<String>,
    /// Objects the preference model prefers.
    pub preferred: Vec<String>,
}

/// The task-specific facts a success check needs beyond the scene.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "kebab-case")]
pub enum Goal {
    None,
    Word(String),
    Place(String),
    Bound(char),
    /// The block the user means goes into the bowl they mean.
    Meant {
        block: String,
        bowl: String,
    },
}

/// A task instance: what to say, what is on the table, how success is judged.
#[derive(Clone, Debug, Serialize)]
pub struct Episode {
    pub task: Task,
    pub seed: u64,
    pub instruction: String,
    pub scene: Observation,
    pub goal: Goal,
    pub grounding: TaskGrounding,
}

/// A scene under construction: object names and kinds, positions later.
struct Layout {
    objects: Vec<(String, ObjectKind)>,
}

impl Layout {
    fn new() -> Self {
        Self { objects: Vec::new() }
    }
    fn add(&mut self, name: impl Into<String>, kind: ObjectKind) {
        let name = name.into();
        if !self.objects.iter().any(|(n, _)| *n == name) {
            self.objects.push((name, kind));
        }
    }
    fn blocks(&mut self, colours: &[&str]) {
        for c in colours {
            self.add(format!("{c} block"), ObjectKind::Block);
        }
    }
    fn bowls(&mut self, colours: &[&str]) {
        for c in colours {
            self.add(format!("{c} bowl"), ObjectKind::Bowl);
        }
    }
    fn letters(&mut self, letters: &[char]) {
        for l in letters {
            self.add(format!("letter {l}"), ObjectKind::Letter);
        }
    }
    fn items(&mut self, names: &[&str]) {
        for n in names {
            self.add(*n, ObjectKind::Item);
        }
    }
}

fn colour_names() -> Vec<&'static str> {
    COLOURS.iter().map(|(c, _)| *c).collect()
}

fn others<'a>(all: &[&'a str], not: &[&str]) -> Vec<&'a str> {
    all.iter().copied().filter(|c| !not.contains(c)).collect()
}

fn letters_except(not: &[char]) -> Vec<char> {
    ('A'..='Z').filter(|c| !not.contains(c)).collect()
}

fn items_of(category: Category) -> Vec<&'static str> {
    catalog::ITEMS.iter().filter(|i| i.category == category).map(|i| i.name).collect()
}

/// Distractors for a scene: 1-3 objects the task does not need.
fn distractors(rng: &mut Rng, layout: &mut Layout, family: Family, max_total: usize) {
    let n = rng.int(1, 3).min(max_total.saturating_sub(layout.objects.len())).max(1);
    let used: Vec<String> = layout.objects.iter().map(|(n, _)| n.clone()).collect();
    for _ in 0..n {
        match family {
            // Letters get a stray block or bowl; blocks and bowls a letter or an item.
            Family::Letters => {
                let c = *rng.pick(&colour_names());
                if rng.unit() < 0.5 {
                    layout.add(format!("{c} bowl"), ObjectKind::Bowl);
                } else {
                    layout.add(format!("{c} block"), ObjectKind::Block);
                }
            }
            Family::BlocksAndBowls => {
                let c = *rng.pick(&colour_names());
                let name = format!("{c} bowl");
                if !used.contains(&name) {
                    layout.add(name, ObjectKind::Bowl);
                }
            }
            Family::BoxPacking => {
                let item = rng.pick(&catalog::ITEMS).name;
                layout.add(item, ObjectKind::Item);
            }
            // A letter or an item: no third block or bowl to mean.
            Family::Ambiguous => {
                let item = rng.pick(&catalog::ITEMS).name;
                layout.add(item, ObjectKind::Item);
            }
        }
    }
}

/// The most objects a scene holds (so that all fit at least 15 cm apart).
pub const MAX_OBJECTS: usize = 8;

impl Episode {
    /// What the episode's instruction names, by slot (see [`Task::slot_names`]).
    pub fn slots(&self) -> crate::wording::Slots {
        match &self.goal {
            Goal::Word(w) => crate::wording::Slots::of(&[("word", w)]),
            Goal::Place(p) => crate::wording::Slots::of(&[("place", p)]),
            Goal::None | Goal::Bound(_) | Goal::Meant { .. } => crate::wording::Slots::default(),
        }
    }
}

/// Instance of `task` for `seed`.
pub fn generate(task: &Task, seed: u64) -> Episode {
    let mut rng = Rng::new(seed ^ fnv(task.id));
    let mut l = Layout::new();
    let mut goal = Goal::None;
    let mut grounding = TaskGrounding::default();
    let colours = colour_names();
    let instruction: String = match task.id {
        "alphabetical-order" | "reverse-alphabetical-order" => {
            let n = rng.int(3, 4);
            let letters = rng.sample(&letters_except(&[]), n);
            l.letters(&letters);
            if task.id == "alphabetical-order" { "put the letters in alphabetical order" } else { "put the letters in reverse alphabetical order" }.into()
        }
        "spell-word" => {
            let word = *rng.pick(&WORDS);
            let mut letters: Vec<char> = word.to_uppercase().chars().collect();
            // "as much as you can": sometimes a letter is missing
            if letters.len() > 2 && rng.unit() < 0.3 {
                let drop = rng.int(0, letters.len() - 1);
                letters.remove(drop);
            }
            l.letters(&letters);
            let extra = rng.sample(&letters_except(&word.to_uppercase().chars().collect::<Vec<_>>()), 1);
            l.letters(&extra);
            goal = Goal::Word(word.to_string());
            format!("spell as much of the word {word} as you can")
        }
        "spell-sport" => {
            let sport = *rng.pick(&SPORTS);
            let letters: Vec<char> = sport.to_uppercase().chars().collect();
            l.letters(&letters);
            l.letters(&rng.sample(&letters_except(&letters), 1));
            "spell a sport".into()
        }
        "separate-vowels" | "separate-consonants" => {
            let consonants = letters_except(&VOWELS);
            l.letters(&rng.sample(&VOWELS, 2));
            l.letters(&rng.sample(&consonants, 2));
            if task.id == "separate-vowels" { "separate the vowels from the other letters" } else { "separate the consonants from the other letters" }.into()
        }
        "symmetric-letters" => {
            l.letters(&rng.sample(&SYMMETRIC, 2));
            l.letters(&rng.sample(&letters_except(&SYMMETRIC), 2));
            "put the symmetric letters on the top side".into()
        }
        "letters-less-than-d" => {
            l.letters(&rng.sample(&['A', 'B', 'C'], 2));
            l.letters(&rng.sample(&letters_except(&['A', 'B', 'C', 'D']), 2));
            goal = Goal::Bound('D');
            "put the letters that come before D on the bottom side".into()
        }
        "stack-all-blocks" => {
            l.blocks(&rng.sample(&colours, 3));
            "stack all the blocks".into()
        }
        "blocks-on-place" => {
            let places: Vec<&str> = CORNERS.iter().chain(SIDES.iter()).copied().collect();
            let place = *rng.pick(&places);
            l.blocks(&rng.sample(&colours, 3));
            goal = Goal::Place(place.to_string());
            format!("put all the blocks on the {place}")
        }
        "matching-bowls" => {
            let cs = rng.sample(&colours, 3);
            l.blocks(&cs);
            l.bowls(&cs);
            "put the blocks in the bowls with matching colours".into()
        }
        "mismatched-bowls" => {
            let cs = rng.sample(&colours, 3);
            l.blocks(&cs);
            l.bowls(&cs);
            "put the blocks in the bowls with mismatched colours".into()
        }
        "different-corners" => {
            l.blocks(&rng.sample(&colours, 3));
            "put the blocks in different corners".into()
        }
        "stack-cool-colours" | "stack-warm-colours" => {
            let (group, rest): (&[&str], &[&str]) = if task.id == "stack-cool-colours" { (&COOL, &WARM) } else { (&WARM, &COOL) };
            let (n, m) = (rng.int(2, 3), rng.int(1, 2));
            l.blocks(&rng.sample(group, n));
            l.blocks(&rng.sample(rest, m));
            if task.id == "stack-cool-colours" { "stack the blocks with cool colours" } else { "stack the blocks with warm colours" }.into()
        }
        "primary-colours-left" => {
            l.blocks(&rng.sample(&PRIMARY, 2));
            l.blocks(&rng.sample(&others(&colours, &PRIMARY), 2));
            "put the blocks of primary colours on the left side".into()
        }
        "block-in-bowl" => {
            // Two blocks and two bowls, no colour shared: four ways to do it, one meant.
            let cs = rng.sample(&colours, 4);
            l.blocks(&cs[..2]);
            l.bowls(&cs[2..]);
            goal = Goal::Meant { block: format!("{} block", rng.pick(&cs[..2])), bowl: format!("{} bowl", rng.pick(&cs[2..])) };
            "put the block in the bowl".into()
        }
        "pack-brown-box" | "pack-boxes" => {
            l.add("brown box", ObjectKind::Box);
            if task.id == "pack-boxes" {
                l.add("blue box", ObjectKind::Box);
            }
            let safe: Vec<&str> = catalog::ITEMS.iter().map(|i| i.name).filter(|n| !catalog::is_forbidden(n)).collect();
            let unsafe_: Vec<&str> = catalog::ITEMS.iter().map(|i| i.name).filter(|n| catalog::is_forbidden(n)).collect();
            l.items(&rng.sample(&safe, 2));
            l.items(&rng.sample(&unsafe_, 1));
            grounding.forbidden = catalog::FORBIDDEN.iter().map(|s| s.to_string()).collect();
            if task.id == "pack-brown-box" { "pack the brown box" } else { "pack the boxes" }.into()
        }
        "snacks-right" => {
            let snacks = items_of(Category::Snack);
            l.items(&rng.sample(&snacks, 2));
            let rest: Vec<&str> = catalog::ITEMS.iter().filter(|i| i.category != Category::Snack).map(|i| i.name).collect();
            l.items(&rng.sample(&rest, 2));
            grounding.preferred = snacks.iter().map(|s| s.to_string()).collect();
            "put the snacks on the right side".into()
        }
        "picnic-box" => {
            l.add("brown box", ObjectKind::Box);
            let fruit = items_of(Category::Fruit);
            let snacks = items_of(Category::Snack);
            l.items(&rng.sample(&fruit, 1));
            l.items(&rng.sample(&snacks, 1));
            let other: Vec<&str> = items_of(Category::Other);
            l.items(&rng.sample(&other, 1));
            grounding.forbidden = catalog::FORBIDDEN.iter().map(|s| s.to_string()).collect();
            grounding.preferred = fruit.iter().chain(snacks.iter()).map(|s| s.to_string()).collect();
            "pack me a picnic box".into()
        }
        other => unreachable!("task {other} has no generator"),
    };
    distractors(&mut rng, &mut l, task.family, MAX_OBJECTS);
    l.objects.truncate(MAX_OBJECTS);
    let positions = layout_positions(&mut rng, l.objects.len());
    let objects = l
        .objects
        .into_iter()
        .zip(positions)
        .enumerate()
        .map(|(i, ((name, kind), [x, y]))| {
            let rgb = catalog::rgb_of(&name, kind);
            SceneObject { rgb, ..SceneObject::new(format!("o{i}"), name, kind, [x, y, 0.0]) }
        })
        .collect();
    Episode { task: *task, seed, instruction, scene: Observation::new(Domain::TABLETOP, objects), goal, grounding }
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// Minimum distance between object centres in a new scene.
pub const MIN_SPACING: f64 = 0.15;
const AREA_X: [f64; 2] = [-0.27, 0.27];
const AREA_Y: [f64; 2] = [-0.18, 0.04];

/// `n` positions in the scene area, pairwise at least [`MIN_SPACING`] apart.
fn layout_positions(rng: &mut Rng, n: usize) -> Vec<[f64; 2]> {
    for _ in 0..200 {
        let mut out: Vec<[f64; 2]> = Vec::with_capacity(n);
        let mut tries = 0;
        while out.len() < n && tries < 400 {
            tries += 1;
            let p = [rng.range(AREA_X[0], AREA_X[1]), rng.range(AREA_Y[0], AREA_Y[1])];
            if out.iter().all(|q| ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt() >= MIN_SPACING) {
                out.push(p);
            }
        }
        if out.len() == n {
            return out;
        }
    }
    // A jittered 4 x 2 grid (cells 18 x 22 cm) always fits eight.
    let mut cells: Vec<[f64; 2]> = (0..8).map(|i| [-0.27 + 0.18 * (i % 4) as f64, -0.18 + 0.22 * (i / 4) as f64]).collect();
    cells = rng.sample(&cells, n);
    cells.iter().map(|c| [c[0] + rng.range(-0.01, 0.01), c[1] + rng.range(-0.01, 0.01)]).collect()
}

fn pickables(state: &Observation) -> impl Iterator<Item = &SceneObject> {
    state.objects.iter().filter(|o| o.kind.is_pickable())
}

fn letters(state: &Observation) -> Vec<(&SceneObject, char)> {
    state.objects.iter().filter(|o| o.kind == ObjectKind::Letter).filter_map(|o| catalog::letter_of(&o.name).map(|c| (o, c))).collect()
}

fn blocks(state: &Observation) -> Vec<&SceneObject> {
    state.objects.iter().filter(|o| o.kind == ObjectKind::Block).collect()
}

fn in_region(o: &SceneObject, region: &str) -> bool {
    region_named(region).is_some_and(|r| r.contains(o.position[0], o.position[1]))
}

/// The letters in the row's slots, in slot order.
fn row_word(state: &Observation) -> String {
    let mut slotted: Vec<(u32, char)> = letters(state)
        .into_iter()
        .filter_map(|(o, c)| match location_of(state, o) {
            Some(Placement::AtPosition(n)) => Some((n, c)),
            _ => None,
        })
        .collect();
    slotted.sort();
    slotted.into_iter().map(|(_, c)| c).collect()
}

/// Every object of `group` on `region`, no other pickable object on it.
fn exactly_in_region(state: &Observation, group: impl Fn(&SceneObject) -> bool, region: &str) -> Result<(), String> {
    for o in pickables(state) {
        let want = group(o);
        let is = in_region(o, region);
        if want && !is {
            return Err(format!("the {} is not on the {region}", o.name));
        }
        if !want && is {
            return Err(format!("the {} should not be on the {region}", o.name));
        }
    }
    Ok(())
}

/// All of `members` in one stack.
fn one_stack(state: &Observation, members: &[&SceneObject]) -> Result<(), String> {
    let Some(base) = members.iter().min_by(|a, b| a.position[2].total_cmp(&b.position[2])) else {
        return Ok(());
    };
    let stack = stack_of(state, base);
    for m in members {
        if !stack.iter().any(|s| s.id == m.id) {
            return Err(format!("the {} is not in the stack on the {}", m.name, base.name));
        }
    }
    // A stack is a tower: one object per level.
    let levels = stack.len();
    let top = stack.last().map_or(0.0, |t| t.position[2]);
    if levels > 1 && top < (levels - 1) as f64 * 0.03 {
        return Err("the stack has toppled".into());
    }
    Ok(())
}

fn container<'a>(state: &'a Observation, name: &str) -> Option<&'a SceneObject> {
    state.objects.iter().find(|o| o.name == name && o.kind.is_container())
}

fn in_container(state: &Observation, o: &SceneObject, name: &str) -> bool {
    container(state, name).is_some_and(|c| inside(c, o.position))
}

fn in_any_box(state: &Observation, o: &SceneObject) -> bool {
    state.objects.iter().any(|c| c.kind == ObjectKind::Box && inside(c, o.position))
}

/// Judge the episode's success on the true state: `Err` says what is wrong.
pub fn judge(episode: &Episode, state: &Observation) -> Result<(), String> {
    let colour = |o: &SceneObject| catalog::colour_of(&o.name).unwrap_or("");
    match episode.task.id {
        "alphabetical-order" | "reverse-alphabetical-order" => {
            let mut want: Vec<char> = letters(state).iter().map(|(_, c)| *c).collect();
            want.sort_unstable();
            if episode.task.id == "reverse-alphabetical-order" {
                want.reverse();
            }
            let want: String = want.into_iter().collect();
            let got = row_word(state);
            if got == want {
                Ok(())
            } else {
                Err(format!("the letter row reads {got:?}, not {want:?}"))
            }
        }
        "spell-word" => {
            let Goal::Word(word) = &episode.goal else { return Err("no word".into()) };
            let present: Vec<char> = letters(state).iter().map(|(_, c)| *c).collect();
            let want: String = word.to_uppercase().chars().filter(|c| present.contains(c)).collect();
            let got = row_word(state);
            if got == want {
                Ok(())
            } else {
                Err(format!("the letter row reads {got:?}, not {want:?}"))
            }
        }
        "spell-sport" => {
            let got = row_word(state);
            if SPORTS.iter().any(|s| s.to_uppercase() == got) {
                Ok(())
            } else {
                Err(format!("the letter row reads {got:?}, not a sport"))
            }
        }
        "separate-vowels" => exactly_in_region(state, |o| catalog::letter_of(&o.name).is_some_and(|c| VOWELS.contains(&c)), "left side"),
        "separate-consonants" => exactly_in_region(state, |o| catalog::letter_of(&o.name).is_some_and(|c| !VOWELS.contains(&c)), "right side"),
        "symmetric-letters" => exactly_in_region(state, |o| catalog::letter_of(&o.name).is_some_and(|c| SYMMETRIC.contains(&c)), "top side"),
        "letters-less-than-d" => {
            let Goal::Bound(b) = episode.goal else { return Err("no bound".into()) };
            exactly_in_region(state, |o| catalog::letter_of(&o.name).is_some_and(|c| c < b), "bottom side")
        }
        "stack-all-blocks" => one_stack(state, &blocks(state)),
        "blocks-on-place" => {
            let Goal::Place(place) = &episode.goal else { return Err("no place".into()) };
            match blocks(state).into_iter().find(|b| !in_region(b, place)) {
                Some(b) => Err(format!("the {} is not on the {place}", b.name)),
                None => Ok(()),
            }
        }
        "matching-bowls" => {
            for b in blocks(state) {
                let bowl = format!("{} bowl", colour(b));
                if container(state, &bowl).is_some() && !in_container(state, b, &bowl) {
                    return Err(format!("the {} is not in the {bowl}", b.name));
                }
            }
            Ok(())
        }
        "mismatched-bowls" => {
            for b in blocks(state) {
                let ok = state.objects.iter().any(|c| c.kind == ObjectKind::Bowl && colour(c) != colour(b) && inside(c, b.position));
                if !ok {
                    return Err(format!("the {} is not in a bowl of another colour", b.name));
                }
            }
            Ok(())
        }
        "different-corners" => {
            let mut used = Vec::new();
            for b in blocks(state) {
                let Some(corner) = CORNERS.iter().find(|c| in_region(b, c)) else {
                    return Err(format!("the {} is in no corner", b.name));
                };
                if used.contains(corner) {
                    return Err(format!("two blocks share the {corner}"));
                }
                used.push(corner);
            }
            Ok(())
        }
        "stack-cool-colours" | "stack-warm-colours" => {
            let group: &[&str] = if episode.task.id == "stack-cool-colours" { &COOL } else { &WARM };
            let all = blocks(state);
            let members: Vec<&SceneObject> = all.iter().copied().filter(|b| group.contains(&colour(b))).collect();
            one_stack(state, &members)?;
            if let Some(base) = members.iter().min_by(|a, b| a.position[2].total_cmp(&b.position[2])) {
                if let Some(intruder) = stack_of(state, base).iter().find(|s| !group.contains(&colour(s))) {
                    return Err(format!("the {} should not be in the stack", intruder.name));
                }
            }
            Ok(())
        }
        "primary-colours-left" => exactly_in_region(state, |o| o.kind == ObjectKind::Block && PRIMARY.contains(&colour(o)), "left side"),
        "pack-brown-box" | "pack-boxes" | "picnic-box" => {
            for o in pickables(state) {
                let forbidden = catalog::is_forbidden(&o.name);
                let food = catalog::item_named(&o.name).is_some_and(|i| i.category != Category::Other);
                let wanted = match episode.task.id {
                    "picnic-box" => food && !forbidden,
                    _ => !forbidden,
                };
                let packed = if episode.task.id == "pack-boxes" { in_any_box(state, o) } else { in_container(state, o, "brown box") };
                if wanted && !packed {
                    return Err(format!("the {} is not packed", o.name));
                }
                if !wanted && packed {
                    return Err(format!("the {} should not be packed", o.name));
                }
            }
            Ok(())
        }
        "block-in-bowl" => {
            let Goal::Meant { block, bowl } = &episode.goal else { return Err("no block and bowl meant".into()) };
            match state.objects.iter().find(|o| o.name == *block) {
                Some(b) if in_container(state, b, bowl) => Ok(()),
                _ => Err(format!("the {block} (the one meant) is not in the {bowl} (the one meant)")),
            }
        }
        "snacks-right" => exactly_in_region(state, |o| catalog::item_named(&o.name).is_some_and(|i| i.category == Category::Snack), "right side"),
        other => Err(format!("task {other} has no success check")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_block_and_bowl_meant_satisfy_block_in_bowl() {
        let task = task_named("block-in-bowl").unwrap();
        for seed in 0..10 {
            let e = generate(task, seed);
            let Goal::Meant { block, bowl } = &e.goal else { panic!("a block and a bowl are meant") };
            let named = |kind: ObjectKind| e.scene.objects.iter().filter(|o| o.kind == kind).map(|o| o.name.clone()).collect::<Vec<_>>();
            let (blocks, bowls) = (named(ObjectKind::Block), named(ObjectKind::Bowl));
            assert_eq!((blocks.len(), bowls.len()), (2, 2), "seed {seed}: two of each");
            assert!(blocks.contains(block) && bowls.contains(bowl));
            assert!(judge(&e, &e.scene).is_err());
            for b in &blocks {
                for w in &bowls {
                    let mut state = e.scene.clone();
                    let at = state.objects.iter().find(|o| o.name == *w).unwrap().position;
                    state.objects.iter_mut().find(|o| o.name == *b).unwrap().position = [at[0], at[1], at[2] + 0.02];
                    assert_eq!(judge(&e, &state).is_ok(), b == block && w == bowl, "seed {seed}: {b} in {w}");
                }
            }
        }
    }

    #[test]
    fn every_task_makes_a_valid_spaced_scene_for_many_seeds() {
        for t in TASKS.iter().chain(&ASKING_TASKS) {
            for seed in 0..40 {
                let e = generate(t, seed);
                e.scene.validate().unwrap_or_else(|err| panic!("{} seed {seed}: {err}", t.id));
                let n = e.scene.objects.len();
                assert!((3..=MAX_OBJECTS).contains(&n), "{} seed {seed}: {n} objects", t.id);
                for (i, a) in e.scene.objects.iter().enumerate() {
                    for b in &e.scene.objects[i + 1..] {
                        let d = ((a.position[0] - b.position[0]).powi(2) + (a.position[1] - b.position[1]).powi(2)).sqrt();
                        assert!(d >= MIN_SPACING, "{} seed {seed}: {} and {} {d:.3} m apart", t.id, a.name, b.name);
                    }
                }
                // The initial scene never already satisfies the task.
                assert!(judge(&e, &e.scene).is_err(), "{} seed {seed} starts solved", t.id);
                if let Goal::Place(p) = &e.goal {
                    assert!(region_named(p).is_some(), "{p}");
                }
            }
        }
    }

    #[test]
    fn scenes_are_fixed_by_the_seed() {
        for t in &TASKS {
            let a = generate(t, 11);
            let b = generate(t, 11);
            assert_eq!(a.scene, b.scene);
            assert_eq!(a.instruction, b.instruction);
        }
        let differ = TASKS.iter().filter(|t| generate(t, 1).scene != generate(t, 2).scene).count();
        assert!(differ >= 18);
    }

    #[test]
    fn rows_cover_the_papers_table() {
        for row in Row::ALL {
            let n = TASKS.iter().filter(|t| t.row() == row).count();
            assert!(n == 4, "{}: {n} templates", row.label());
        }
    }
}
