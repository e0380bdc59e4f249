//! Every entity path and timeline of the dashboard, in one place (docs/dashboard.md lists
//! the same; a test keeps them distinct).

/// Simulation (robot) time in seconds, from the episode's start.
pub const SIM_TIME: &str = "sim_time";
/// One tick per decoded token, over the whole run.
pub const DECODE_STEP: &str = "decode_step";

/// The world, right-handed, z up, metres (static: the view's coordinates).
pub const WORLD: &str = "world";
/// The table top (static).
pub const TABLE: &str = "world/table";
/// One entity per object: `world/objects/<id>`.
pub const OBJECTS: &str = "world/objects";
/// The gripper's tip, labelled with what it holds.
pub const GRIPPER: &str = "world/gripper";
/// The current skill's pick and place targets, and the arrow between them.
pub const TARGETS: &str = "world/targets";
pub const PICK: &str = "world/targets/pick";
pub const PLACE: &str = "world/targets/place";
pub const MOVE: &str = "world/targets/move";

/// The grid maze, in 2D (x right, y down, one unit a cell).
pub const GRID: &str = "grid";
/// The cells as an image, one pixel each: floor, walls, lava, the goal, doors.
pub const GRID_CELLS: &str = "grid/cells";
/// Door outlines, labelled with colour and state.
pub const GRID_DOORS: &str = "grid/doors";
/// Keys, balls and boxes as discs in their colours, labelled.
pub const GRID_OBJECTS: &str = "grid/objects";
/// The agent: an arrow the way it faces, labelled with what it carries.
pub const GRID_AGENT: &str = "grid/agent";
/// The cells the agent has been through in this plan.
pub const GRID_PATH: &str = "grid/path";
/// What the current skill names, outlined.
pub const GRID_TARGET: &str = "grid/target";

/// The kitchen, as a 2D floor plan (x right, y down, metres).
pub const KITCHEN: &str = "kitchen";
/// The five locations as boxes; surfaces not looked at yet drawn dim.
pub const KITCHEN_LOCATIONS: &str = "kitchen/locations";
/// The objects the robot has seen, where it saw them, labelled with their box scores.
pub const KITCHEN_OBJECTS: &str = "kitchen/objects";
/// The robot, labelled with what it holds.
pub const KITCHEN_ROBOT: &str = "kitchen/robot";
/// The object the robot holds, beside it.
pub const KITCHEN_HELD: &str = "kitchen/held";
/// The locations the robot has been at in this plan.
pub const KITCHEN_PATH: &str = "kitchen/path";
/// The location the current skill heads for, outlined.
pub const KITCHEN_TARGET: &str = "kitchen/target";

/// The instruction, as text.
pub const INSTRUCTION: &str = "plan/instruction";
/// The plan so far, one line per skill with its scores.
pub const PLAN: &str = "plan/steps";
/// Skill outcomes, failures, the plan's end and the episode's verdict, as a log.
pub const OUTCOMES: &str = "plan/outcomes";
/// Asking for help: the last question (the prediction set, with confidences) and its answer.
pub const QUESTION: &str = "plan/question";

/// Per decoded token: a table of the candidates with LM, grounded and combined scores.
pub const CANDIDATES: &str = "decode/candidates";
/// Per decoded token: the combined scores of the candidates, best first, as a bar chart.
pub const COMBINED: &str = "decode/combined";
/// Per decoded token: the LM log-probabilities of the same candidates, same order.
pub const LM: &str = "decode/lm";

/// The episode's verdict as text, and as a scalar (1 success, 0 failure).
pub const EPISODE: &str = "episode/result";
pub const SUCCESS: &str = "episode/success";

/// Every path above, for documentation checks.
pub const ALL: [&str; 31] = [
    WORLD,
    TABLE,
    OBJECTS,
    GRIPPER,
    TARGETS,
    PICK,
    PLACE,
    MOVE,
    GRID,
    GRID_CELLS,
    GRID_DOORS,
    GRID_OBJECTS,
    GRID_AGENT,
    GRID_PATH,
    GRID_TARGET,
    KITCHEN,
    KITCHEN_LOCATIONS,
    KITCHEN_OBJECTS,
    KITCHEN_ROBOT,
    KITCHEN_HELD,
    KITCHEN_PATH,
    KITCHEN_TARGET,
    INSTRUCTION,
    PLAN,
    OUTCOMES,
    QUESTION,
    CANDIDATES,
    COMBINED,
    LM,
    EPISODE,
    SUCCESS,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_distinct_and_documented() {
        let mut seen = std::collections::HashSet::new();
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/dashboard.md")).expect("docs/dashboard.md");
        for p in ALL.iter().chain([SIM_TIME, DECODE_STEP].iter()) {
            assert!(seen.insert(*p), "{p} twice");
            assert!(doc.contains(&format!("`{p}`")), "docs/dashboard.md does not mention `{p}`");
        }
    }
}
