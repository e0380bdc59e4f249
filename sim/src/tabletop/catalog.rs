//! What can be on the table: colours, letters, box-packing items, with their sizes.
//! The names are the corpus's (tools/train/corpus.py), so the shipped model knows them.

/// Block and bowl colours, with an RGB for the dashboard.
pub const COLOURS: [(&str, [u8; 3]); 11] = [
    ("red", [230, 40, 40]),
    ("orange", [245, 140, 30]),
    ("yellow", [240, 220, 40]),
    ("green", [50, 180, 60]),
    ("blue", [40, 90, 220]),
    ("purple", [140, 60, 190]),
    ("pink", [240, 130, 180]),
    ("cyan", [40, 210, 220]),
    ("brown", [140, 90, 50]),
    ("gray", [140, 140, 140]),
    ("white", [245, 245, 245]),
];
pub const WARM: [&str; 5] = ["red", "orange", "yellow", "pink", "brown"];
pub const COOL: [&str; 4] = ["green", "blue", "purple", "cyan"];
pub const PRIMARY: [&str; 3] = ["red", "yellow", "blue"];
pub const VOWELS: [char; 5] = ['A', 'E', 'I', 'O', 'U'];
/// Letters with a vertical mirror symmetry.
pub const SYMMETRIC: [char; 11] = ['A', 'H', 'I', 'M', 'O', 'T', 'U', 'V', 'W', 'X', 'Y'];
/// Words of "spell as much of the word as you can" (all with distinct letters).
pub const WORDS: [&str; 8] = ["hi", "world", "left", "right", "top", "down", "love", "you"];
/// Sports with distinct letters, for "spell a sport".
pub const SPORTS: [&str; 9] = ["golf", "judo", "ski", "swim", "surf", "yoga", "sumo", "dive", "run"];

/// A box-packing item: name, category, half extents (m).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Item {
    pub name: &'static str,
    pub category: Category,
    pub half: [f64; 3],
    pub rgb: [u8; 3],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    Snack,
    Fruit,
    Other,
}

const fn item(name: &'static str, category: Category, half: [f64; 3], rgb: [u8; 3]) -> Item {
    Item { name, category, half, rgb }
}

pub const ITEMS: [Item; 20] = [
    item("chips bag", Category::Snack, [0.04, 0.03, 0.015], [230, 200, 60]),
    item("cookie box", Category::Snack, [0.035, 0.025, 0.02], [180, 120, 70]),
    item("cracker box", Category::Snack, [0.04, 0.02, 0.025], [200, 60, 50]),
    item("granola bar", Category::Snack, [0.04, 0.015, 0.01], [170, 140, 90]),
    item("candy bar", Category::Snack, [0.035, 0.015, 0.01], [120, 60, 40]),
    item("apple", Category::Fruit, [0.025, 0.025, 0.025], [200, 30, 30]),
    item("banana", Category::Fruit, [0.045, 0.015, 0.015], [240, 220, 60]),
    item("strawberry", Category::Fruit, [0.015, 0.015, 0.015], [220, 40, 60]),
    item("lemon", Category::Fruit, [0.02, 0.02, 0.02], [245, 235, 70]),
    item("peach", Category::Fruit, [0.025, 0.025, 0.025], [250, 180, 120]),
    item("pear", Category::Fruit, [0.025, 0.025, 0.03], [190, 210, 80]),
    item("plum", Category::Fruit, [0.02, 0.02, 0.02], [110, 40, 110]),
    item("knife", Category::Other, [0.08, 0.012, 0.008], [190, 190, 200]),
    item("scissors", Category::Other, [0.05, 0.02, 0.008], [60, 60, 200]),
    item("red mug", Category::Other, [0.03, 0.03, 0.035], [210, 30, 30]),
    item("red toy car", Category::Other, [0.04, 0.02, 0.015], [220, 20, 20]),
    item("tennis ball", Category::Other, [0.025, 0.025, 0.025], [200, 240, 60]),
    item("sponge", Category::Other, [0.035, 0.025, 0.015], [250, 220, 90]),
    item("soda can", Category::Other, [0.02, 0.02, 0.04], [200, 30, 40]),
    item("water bottle", Category::Other, [0.025, 0.025, 0.05], [120, 180, 240]),
];

pub const BOX_COLOURS: [&str; 3] = ["brown", "blue", "red"];

/// What the paper's safety rule forbids in box packing.
pub const FORBIDDEN: [&str; 2] = ["red", "knife"];

pub fn item_named(name: &str) -> Option<&'static Item> {
    ITEMS.iter().find(|i| i.name == name)
}

pub fn rgb_of_colour(colour: &str) -> Option<[u8; 3]> {
    COLOURS.iter().find(|(c, _)| *c == colour).map(|(_, rgb)| *rgb)
}

/// The colour word a block's or bowl's name starts with.
pub fn colour_of(name: &str) -> Option<&'static str> {
    let first = name.split(' ').next()?;
    COLOURS.iter().map(|(c, _)| *c).find(|c| *c == first)
}

/// The letter of a letter block's name (`letter A` -> 'A').
pub fn letter_of(name: &str) -> Option<char> {
    name.strip_prefix("letter ").and_then(|l| l.chars().next())
}

/// Does a name mention a forbidden term of the paper's safety rule?
pub fn is_forbidden(name: &str) -> bool {
    name.split(' ').any(|w| FORBIDDEN.contains(&w))
}

/// The colour an object is drawn with: its colour word's, an item's own, wood for letters.
pub fn rgb_of(name: &str, kind: protocol::ObjectKind) -> Option<[u8; 3]> {
    match kind {
        protocol::ObjectKind::Letter => Some([222, 184, 135]),
        protocol::ObjectKind::Item => item_named(name).map(|i| i.rgb),
        _ => colour_of(name).and_then(rgb_of_colour),
    }
}
