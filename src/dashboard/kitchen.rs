//! The kitchen as a 2D floor plan: its five locations (the surfaces not looked at yet drawn
//! dim), the objects the robot has seen where it saw them (labelled with the detector's box
//! score), the robot with what it holds, where it has been, and the place the current skill
//! names.

use super::layout::root;
use super::{paths, Dashboard, View};
use protocol::kitchen::{entry, KitchenSkill, KitchenState, Location};
use protocol::Observation;
use rerun::blueprint::{ContainerLike, Spatial2DView};

/// Half the size of a location's box on the plan, metres.
const HALF: [f32; 2] = [1.1, 1.0];
/// Objects are listed down a location's box, this far apart.
const ROW: f32 = 0.4;

/// Map coordinates (y up) to the 2D view's (y down).
fn at(l: Location) -> [f32; 2] {
    let [x, y] = l.map_position();
    [x as f32, 4.5 - y as f32]
}

/// Where the robot is drawn when at a location: beside its box, on the left.
fn robot_at(l: Location) -> [f32; 2] {
    let [x, y] = at(l);
    [x - HALF[0] - 0.3, y]
}

fn rgb([r, g, b]: [u8; 3]) -> rerun::Color {
    rerun::Color::from_rgb(r, g, b)
}

fn log_kitchen(d: &Dashboard, k: &KitchenState, visited: &[[f32; 2]]) {
    let (mut colours, mut labels) = (Vec::new(), Vec::new());
    for l in Location::ALL {
        let surface = Location::SURFACES.contains(&l);
        let looked = k.looked.contains(&l);
        colours.push(if surface && !looked { rgb([90, 90, 90]) } else { rgb([200, 200, 200]) });
        labels.push(if surface && !looked { format!("{} (not looked at yet)", l.name()) } else { l.name().to_string() });
    }
    let boxes = rerun::Boxes2D::from_centers_and_half_sizes(Location::ALL.map(at), Location::ALL.map(|_| HALF))
        .with_colors(colours)
        .with_labels(labels)
        .with_radii([0.03]);
    d.log(paths::KITCHEN_LOCATIONS, &boxes);
    let (mut points, mut colours, mut labels) = (Vec::new(), Vec::new(), Vec::new());
    for l in Location::SURFACES {
        let here: Vec<_> = k.detections.iter().filter(|o| o.location == l).collect();
        let [cx, cy] = at(l);
        for (i, o) in here.iter().enumerate() {
            points.push([cx - 0.3, cy - HALF[1] + 0.15 + ROW * i as f32]);
            colours.push(entry(&o.name).map_or(rgb([255, 255, 255]), |e| rgb(e.rgb)));
            labels.push(format!("{} {:.2}", o.name, o.score));
        }
    }
    d.log(paths::KITCHEN_OBJECTS, &rerun::Points2D::new(points).with_radii([0.1]).with_colors(colours).with_labels(labels));
    let robot = robot_at(k.robot_at);
    let label = match &k.holding {
        Some(h) => format!("robot (holding the {h})"),
        None => "robot".to_string(),
    };
    d.log(paths::KITCHEN_ROBOT, &rerun::Points2D::new([robot]).with_radii([0.22]).with_colors([rgb([220, 30, 30])]).with_labels([label]));
    match k.holding.as_deref().and_then(entry) {
        Some(e) => d.log(paths::KITCHEN_HELD, &rerun::Points2D::new([[robot[0] + 0.25, robot[1] - 0.15]]).with_radii([0.1]).with_colors([rgb(e.rgb)])),
        None => d.log(paths::KITCHEN_HELD, &rerun::Clear::flat()),
    }
    let strip = visited.to_vec();
    d.log(paths::KITCHEN_PATH, &rerun::LineStrips2D::new([strip]).with_colors([rgb([255, 90, 90])]).with_radii([0.04]));
}

/// Outline the location the skill heads for: where its object was seen, or where it goes.
fn log_target(d: &Dashboard, k: &KitchenState, skill: &str) {
    let place = match KitchenSkill::parse(skill) {
        Ok(KitchenSkill::GoTo(l)) => Some(l),
        Ok(KitchenSkill::Find(p)) | Ok(KitchenSkill::PickUp(p)) => policies::kitchen::resolve(&p, &k.detections).map(|o| o.location),
        Ok(KitchenSkill::PutDown(_)) => Some(k.robot_at),
        Ok(KitchenSkill::Done) | Err(_) => None,
    };
    match place {
        Some(l) => {
            let outline = rerun::Boxes2D::from_centers_and_half_sizes([at(l)], [[HALF[0] + 0.1, HALF[1] + 0.1]])
                .with_colors([rgb([255, 200, 0])])
                .with_radii([0.06])
                .with_labels([format!("target of: {skill}")]);
            d.log(paths::KITCHEN_TARGET, &outline);
        }
        None => d.log(paths::KITCHEN_TARGET, &rerun::Clear::flat()),
    }
}

/// The kitchen's floor plan, the robot's locations as its trail.
pub struct KitchenView;

impl View for KitchenView {
    fn scene(&self) -> ContainerLike {
        Spatial2DView::new("kitchen").with_origin(root(paths::KITCHEN)).into()
    }

    fn robot_at(&self, obs: &Observation) -> Option<[f32; 2]> {
        obs.kitchen.as_ref().map(|k| robot_at(k.robot_at))
    }

    fn observation(&self, d: &Dashboard, obs: &Observation, trail: &[[f32; 2]]) {
        if let Some(k) = &obs.kitchen {
            log_kitchen(d, k, trail);
        }
    }

    fn target(&self, d: &Dashboard, obs: &Observation, skill: &str) {
        match &obs.kitchen {
            Some(k) => log_target(d, k, skill),
            None => self.clear_target(d),
        }
    }

    fn clear_target(&self, d: &Dashboard) {
        d.log(paths::KITCHEN_TARGET, &rerun::Clear::flat());
    }
}
