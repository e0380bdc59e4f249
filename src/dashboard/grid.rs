//! The grid maze in 2D: walls, lava, the goal, doors and objects in their colours, the agent
//! and its path, and what the current skill names.

use super::layout::root;
use super::{paths, Dashboard, View};
use protocol::grid::{Cell, Colour, DoorState, GridSkill, GridState, Pos, Target};
use protocol::Observation;
use rerun::blueprint::{ContainerLike, Spatial2DView};

fn centre(p: Pos) -> [f32; 2] {
    [p.0 as f32 + 0.5, p.1 as f32 + 0.5]
}

fn colour(c: Colour) -> rerun::Color {
    let [r, g, b] = c.rgb();
    rerun::Color::from_rgb(r, g, b)
}

fn boxes(cells: &[Pos], half: f32) -> rerun::Boxes2D {
    rerun::Boxes2D::from_centers_and_half_sizes(cells.iter().map(|p| centre(*p)), cells.iter().map(|_| [half, half]))
}

/// One pixel a cell: floor, walls, lava, the goal, doors (open doors darker).
fn cells_image(g: &GridState) -> rerun::Image {
    let mut rgb = Vec::with_capacity((g.width * g.height * 3) as usize);
    for y in 0..g.height {
        for x in 0..g.width {
            let px = match g.get((x, y)) {
                Cell::Empty | Cell::Object { .. } if g.forbidden.contains(&(x, y)) => [120, 0, 0],
                Cell::Empty | Cell::Object { .. } => [20, 20, 20],
                Cell::Wall => [110, 110, 110],
                Cell::Lava => [255, 128, 0],
                Cell::Goal => [0, 200, 80],
                Cell::Door { colour, state: DoorState::Open } => colour.rgb().map(|v| v / 3),
                Cell::Door { colour, .. } => colour.rgb(),
            };
            rgb.extend_from_slice(&px);
        }
    }
    rerun::Image::from_rgb24(rgb, [g.width, g.height])
}

fn log_grid(d: &Dashboard, g: &GridState, path: &[[f32; 2]]) {
    d.log(paths::GRID_CELLS, &cells_image(g));
    let doors = g.find(|c| matches!(c, Cell::Door { .. }));
    let mut door_labels = Vec::new();
    for p in &doors {
        if let Cell::Door { colour: c, state } = g.get(*p) {
            let s = match state {
                DoorState::Open => "open",
                DoorState::Closed => "closed",
                DoorState::Locked => "locked",
            };
            door_labels.push(format!("{} door ({s})", c.name()));
        }
    }
    d.log(paths::GRID_DOORS, &boxes(&doors, 0.5).with_colors([rerun::Color::from_rgb(230, 230, 230)]).with_labels(door_labels).with_radii([0.03]));
    let objects = g.find(|c| matches!(c, Cell::Object { .. }));
    let (mut object_colours, mut object_labels) = (Vec::new(), Vec::new());
    for p in &objects {
        if let Cell::Object { object } = g.get(*p) {
            object_colours.push(colour(object.colour));
            object_labels.push(object.to_string());
        }
    }
    let points = rerun::Points2D::new(objects.iter().map(|p| centre(*p))).with_radii([0.32]).with_colors(object_colours).with_labels(object_labels);
    d.log(paths::GRID_OBJECTS, &points);
    let (dx, dy) = g.dir.delta();
    let label = match g.carrying {
        Some(o) => format!("agent (carrying the {o})"),
        None => "agent".to_string(),
    };
    let [cx, cy] = centre(g.agent);
    let tail = [cx - 0.35 * dx as f32, cy - 0.35 * dy as f32];
    let agent = rerun::Arrows2D::from_vectors([[0.7 * dx as f32, 0.7 * dy as f32]])
        .with_origins([tail])
        .with_radii([0.12])
        .with_colors([rerun::Color::from_rgb(220, 30, 30)])
        .with_labels([label]);
    d.log(paths::GRID_AGENT, &agent);
    let strip = path.to_vec();
    d.log(paths::GRID_PATH, &rerun::LineStrips2D::new([strip]).with_colors([rerun::Color::from_rgb(255, 90, 90)]).with_radii([0.06]));
}

/// Outline what the skill names (its object, door or goal, and where it goes).
fn log_target(d: &Dashboard, g: &GridState, skill: &str) {
    let targets: Vec<Target> = match GridSkill::parse(skill) {
        Ok(GridSkill::GoTo(t)) => vec![t],
        Ok(GridSkill::PickUp(o)) => vec![Target::Object(o)],
        Ok(GridSkill::Open(c)) => vec![Target::Door(c)],
        Ok(GridSkill::PutNext(_, t)) => vec![t],
        Ok(GridSkill::Drop(_)) | Ok(GridSkill::Done) | Err(_) => Vec::new(),
    };
    let cells: Vec<Pos> = targets.iter().flat_map(|t| g.positions_of(t)).collect();
    if cells.is_empty() {
        d.log(paths::GRID_TARGET, &rerun::Clear::flat());
        return;
    }
    let outline = boxes(&cells, 0.5)
        .with_colors([rerun::Color::from_rgb(255, 200, 0)])
        .with_radii([0.08])
        .with_labels(cells.iter().map(|_| format!("target of: {skill}")));
    d.log(paths::GRID_TARGET, &outline);
}

/// The maze in 2D, the agent's path as its trail.
pub struct MazeView;

impl View for MazeView {
    fn scene(&self) -> ContainerLike {
        Spatial2DView::new("maze").with_origin(root(paths::GRID)).into()
    }

    fn robot_at(&self, obs: &Observation) -> Option<[f32; 2]> {
        obs.grid.as_ref().map(|g| centre(g.agent))
    }

    fn observation(&self, d: &Dashboard, obs: &Observation, trail: &[[f32; 2]]) {
        if let Some(g) = &obs.grid {
            log_grid(d, g, trail);
        }
    }

    fn target(&self, d: &Dashboard, obs: &Observation, skill: &str) {
        match &obs.grid {
            Some(g) => log_target(d, g, skill),
            None => self.clear_target(d),
        }
    }

    fn clear_target(&self, d: &Dashboard) {
        d.log(paths::GRID_TARGET, &rerun::Clear::flat());
    }
}
