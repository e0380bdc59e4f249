//! The tabletop in 3D: table, objects with their colours and shapes, the gripper, and the
//! current skill's pick and place targets.

use super::layout::root;
use super::{paths, Dashboard, View};
use protocol::tabletop::geometry::{region_named, slot, xy};
use protocol::tabletop::{Placement, TabletopSkill};
use protocol::{ObjectKind, Observation, SceneObject};
use rerun::blueprint::{ContainerLike, Spatial3DView};

/// Half size of the table top drawn under the scene (the named regions lie within it).
const TABLE_HALF: [f32; 3] = [0.55, 0.4, 0.01];
const GREY: [u8; 3] = [150, 150, 150];

fn f(p: [f64; 3]) -> [f32; 3] {
    [p[0] as f32, p[1] as f32, p[2] as f32]
}

pub(super) fn log_static(d: &Dashboard) {
    d.log_static(paths::WORLD, &rerun::ViewCoordinates::RIGHT_HAND_Z_UP());
    let table = rerun::Boxes3D::from_centers_and_half_sizes([[0.0, 0.0, -TABLE_HALF[2]]], [TABLE_HALF])
        .with_colors([rerun::Color::from_rgb(205, 180, 140)])
        .with_fill_mode(rerun::FillMode::Solid);
    d.log_static(paths::TABLE, &table);
}

fn colour(o: &SceneObject) -> rerun::Color {
    let [r, g, b] = o.rgb.or_else(|| sim::tabletop::catalog::rgb_of(&o.name, o.kind)).unwrap_or(GREY);
    rerun::Color::from_rgb(r, g, b)
}

fn log_object(d: &Dashboard, o: &SceneObject) {
    let half = sim::tabletop::world::half_extents(o);
    let path = format!("{}/{}", paths::OBJECTS, o.id);
    let rotation = rerun::RotationAxisAngle::new([0.0, 0.0, 1.0], rerun::Angle::from_radians(o.yaw as f32));
    match o.kind {
        ObjectKind::Bowl => {
            let c = rerun::Cylinders3D::from_lengths_and_radii([2.0 * half[2] as f32], [half[0] as f32])
                .with_centers([f([o.position[0], o.position[1], half[2]])])
                .with_colors([colour(o)])
                .with_fill_mode(rerun::FillMode::Solid)
                .with_labels([o.name.as_str()]);
            d.log(&path, &c);
        }
        ObjectKind::Box => {
            // A box is open: drawn as its outline, so what is packed in it shows.
            let b = rerun::Boxes3D::from_centers_and_half_sizes([f([o.position[0], o.position[1], half[2]])], [f(half)])
                .with_rotation_axis_angles([rotation])
                .with_colors([colour(o)])
                .with_radii([0.004])
                .with_fill_mode(rerun::FillMode::MajorWireframe)
                .with_labels([o.name.as_str()]);
            d.log(&path, &b);
        }
        ObjectKind::Block | ObjectKind::Letter | ObjectKind::Item => {
            let label = match o.kind {
                ObjectKind::Letter => o.name.trim_start_matches("letter ").to_string(),
                _ => o.name.clone(),
            };
            let b = rerun::Boxes3D::from_centers_and_half_sizes([f([o.position[0], o.position[1], o.position[2] + half[2]])], [f(half)])
                .with_rotation_axis_angles([rotation])
                .with_colors([colour(o)])
                .with_fill_mode(rerun::FillMode::Solid)
                .with_labels([label]);
            d.log(&path, &b);
        }
    }
}

pub(super) fn log_observation(d: &Dashboard, obs: &Observation) {
    for o in &obs.objects {
        log_object(d, o);
    }
    if let Some(r) = &obs.robot {
        let label = match &r.holding {
            Some(h) => format!("gripper (holding the {h})"),
            None => "gripper".to_string(),
        };
        let tip = f(r.gripper);
        let gripper = rerun::Points3D::new([tip]).with_radii([0.012]).with_colors([rerun::Color::from_rgb(40, 40, 40)]).with_labels([label]);
        d.log(paths::GRIPPER, &gripper);
        let arm = rerun::Arrows3D::from_vectors([[0.0, 0.0, -(0.6 - tip[2]).max(0.0)]])
            .with_origins([[tip[0], tip[1], 0.6]])
            .with_radii([0.006])
            .with_colors([rerun::Color::from_rgb(90, 90, 90)]);
        d.log(&format!("{}/arm", paths::GRIPPER), &arm);
    }
}

/// Where the current skill picks and places.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Targets {
    pub object: String,
    pub pick: [f64; 3],
    pub place: [f64; 3],
}

/// The pick and place targets of a tabletop skill in `obs`, where they can be told.
pub(super) fn targets(skill: &str, obs: &Observation) -> Option<Targets> {
    let TabletopSkill::PickPlace(p) = TabletopSkill::parse(skill).ok()? else { return None };
    let object = obs.object(&p.object)?;
    let top = |o: &SceneObject| o.position[2] + 2.0 * sim::tabletop::world::half_extents(o)[2];
    let pick = [object.position[0], object.position[1], top(object)];
    let place = match &p.placement {
        Placement::In(c) => {
            let c = obs.object(c)?;
            let [x, y] = xy(c);
            [x, y, 0.02]
        }
        Placement::On(t) => match obs.object(t) {
            Some(o) => [o.position[0], o.position[1], top(o)],
            None => {
                let [x, y] = region_named(t)?.anchor;
                [x, y, 0.0]
            }
        },
        Placement::AtPosition(n) => {
            let [x, y] = slot(*n);
            [x, y, 0.0]
        }
    };
    Some(Targets { object: p.object, pick, place })
}

pub(super) fn log_targets(d: &Dashboard, t: &Targets) {
    let pick =
        rerun::Points3D::new([f(t.pick)]).with_radii([0.02]).with_colors([rerun::Color::from_rgb(255, 200, 0)]).with_labels([format!("pick: {}", t.object)]);
    let place = rerun::Points3D::new([f(t.place)]).with_radii([0.02]).with_colors([rerun::Color::from_rgb(0, 200, 255)]).with_labels(["place"]);
    let lift = 0.15;
    let from = [t.pick[0], t.pick[1], t.pick[2] + lift];
    let vector = [t.place[0] - from[0], t.place[1] - from[1], t.place[2] + lift - from[2]];
    let arrow = rerun::Arrows3D::from_vectors([f(vector)]).with_origins([f(from)]).with_radii([0.004]).with_colors([rerun::Color::from_rgb(255, 140, 0)]);
    d.log(paths::PICK, &pick);
    d.log(paths::PLACE, &place);
    d.log(paths::MOVE, &arrow);
}

/// Objects on a table in 3D; also how a domain without a view of its own is drawn.
pub struct TableView;

impl View for TableView {
    fn scene(&self) -> ContainerLike {
        Spatial3DView::new("table").with_origin(root(paths::WORLD)).into()
    }

    fn observation(&self, d: &Dashboard, obs: &Observation, _trail: &[[f32; 2]]) {
        log_observation(d, obs);
    }

    fn target(&self, d: &Dashboard, obs: &Observation, skill: &str) {
        match targets(skill, obs) {
            Some(t) => log_targets(d, &t),
            None => self.clear_target(d),
        }
    }

    fn clear_target(&self, d: &Dashboard) {
        d.log(paths::TARGETS, &rerun::Clear::recursive());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scene() -> Observation {
        let mut red = SceneObject::new("b1", "red block", ObjectKind::Block, [0.1, 0.2, 0.0]);
        red.rgb = Some([255, 0, 0]);
        let bowl = SceneObject::new("w1", "blue bowl", ObjectKind::Bowl, [-0.2, -0.1, 0.0]);
        Observation::new(protocol::Domain::TABLETOP, vec![red, bowl])
    }

    #[test]
    fn targets_of_a_skill_are_its_object_and_its_place() {
        let t = targets("pick up the red block and place it in the blue bowl", &scene()).expect("targets");
        assert_eq!(t.object, "red block");
        assert_eq!([t.pick[0], t.pick[1]], [0.1, 0.2]);
        assert!(t.pick[2] > 0.0, "picked at the block's top");
        assert_eq!([t.place[0], t.place[1]], [-0.2, -0.1]);
        let corner = targets("pick up the red block and place it on the top left corner", &scene()).expect("corner");
        assert!(corner.place[0] < 0.0 && corner.place[1] > 0.0);
        assert_eq!(targets("done", &scene()), None);
        assert_eq!(targets("pick up the green block and place it in the blue bowl", &scene()), None, "no green block in the scene");
    }
}
