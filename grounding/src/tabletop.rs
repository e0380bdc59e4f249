//! The tabletop domain's knowledge: which skills are admissible in a state, and what a
//! skill does to the state (its symbolic effect, for open-loop planning).
//!
//! Where things are comes from the shared geometry of `protocol::tabletop::geometry`.

use crate::affordance::{ScoredSkill, SkillSpace};
use crate::model::GroundingError;
use protocol::tabletop::geometry::{covering, free_spot, location_of, planar, region_named, slot, xy, BLOCK_SIZE, STACK_RADIUS};
use protocol::tabletop::{Placement, TabletopSkill, CORNERS, POSITIONS, SIDES};
use protocol::{ObjectKind, Observation, SceneObject};

/// The feasibility of `done`: as SayCan's 0.2, so that ending the plan has to win over
/// every feasible skill by the language model's conviction, not by default.
pub const DONE_FEASIBILITY: f64 = 0.2;

/// The feasibility of moving an object that already sits at a named place (in a container,
/// on a block, a corner, a side or a letter slot).
pub const REPLACE_FEASIBILITY: f64 = 0.1;

/// The tabletop skills: every pick-and-place of a free pickable object to a place it could
/// go (a container, the top of a block, a corner or side, a free letter slot), plus `done`.
/// A move that would leave the object where it is already is not admissible.
#[derive(Clone, Debug, Default)]
pub struct TabletopSkills;

impl TabletopSkills {
    /// The places `o` could be put in this state.
    fn placements(obs: &Observation, o: &SceneObject) -> Vec<Placement> {
        let mut out = Vec::new();
        for t in &obs.objects {
            if t.id == o.id {
                continue;
            }
            if t.kind.is_container() {
                out.push(Placement::In(t.name.clone()));
            } else if t.kind == ObjectKind::Block && o.kind == ObjectKind::Block && covering(obs, t).is_none() {
                out.push(Placement::On(t.name.clone()));
            }
        }
        out.extend(CORNERS.iter().chain(SIDES.iter()).map(|r| Placement::On(r.to_string())));
        if o.kind == ObjectKind::Letter {
            for n in POSITIONS {
                let taken = obs.objects.iter().any(|l| l.id != o.id && planar(l.position, slot(n)) < STACK_RADIUS);
                if !taken {
                    out.push(Placement::AtPosition(n));
                }
            }
        }
        let here = location_of(obs, o);
        out.retain(|p| Some(p) != here.as_ref());
        out
    }
}

impl SkillSpace for TabletopSkills {
    fn admissible(&self, obs: &Observation) -> Result<Vec<ScoredSkill>, GroundingError> {
        let mut out = vec![ScoredSkill { text: "done".into(), feasibility: DONE_FEASIBILITY }];
        for o in obs.objects.iter().filter(|o| o.kind.is_pickable() && covering(obs, o).is_none()) {
            // An object that already sits at a named place was put there on purpose: moving it
            // again is possible but seldom what is wanted.
            let feasibility = if location_of(obs, o).is_some() { REPLACE_FEASIBILITY } else { 1.0 };
            for p in Self::placements(obs, o) {
                out.push(ScoredSkill { text: format!("pick up the {} and place it {}", o.name, p), feasibility });
            }
        }
        Ok(out)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EffectError {
    #[error("there is no {0} in the scene")]
    UnknownObject(String),
    #[error("the {0} cannot be picked up (it is a {1:?})")]
    NotPickable(String, ObjectKind),
    #[error("the {0} cannot be picked up: the {1} is on top of it")]
    Covered(String, String),
    #[error("cannot place the {0} {1}: no such place in the scene")]
    UnknownPlace(String, String),
    #[error("cannot place the {0} {1}")]
    Impossible(String, String),
}

/// The symbolic effect of a skill: the state after it, as if carried out perfectly.
pub fn apply(obs: &Observation, skill: &TabletopSkill) -> Result<Observation, EffectError> {
    let TabletopSkill::PickPlace(pp) = skill else {
        return Ok(obs.clone());
    };
    let o = obs.object(&pp.object).ok_or_else(|| EffectError::UnknownObject(pp.object.clone()))?;
    if !o.kind.is_pickable() {
        return Err(EffectError::NotPickable(o.name.clone(), o.kind));
    }
    if let Some(top) = covering(obs, o) {
        return Err(EffectError::Covered(o.name.clone(), top.name.clone()));
    }
    let placements = TabletopSkills::placements(obs, o);
    if !placements.contains(&pp.placement) {
        let place = pp.placement.to_string();
        let known = match &pp.placement {
            Placement::In(t) | Placement::On(t) => obs.object(t).is_some() || region_named(t).is_some(),
            Placement::AtPosition(_) => true,
        };
        return Err(if known { EffectError::Impossible(o.name.clone(), place) } else { EffectError::UnknownPlace(o.name.clone(), place) });
    }
    let target = match &pp.placement {
        Placement::In(c) => {
            let c = obs.object(c).ok_or_else(|| EffectError::UnknownPlace(o.name.clone(), pp.placement.to_string()))?;
            let p = free_spot(obs, o, xy(c), 0.03, STACK_RADIUS, |_| true);
            [p[0], p[1], 0.0]
        }
        Placement::On(t) => match obs.object(t) {
            Some(b) => [b.position[0], b.position[1], b.position[2] + BLOCK_SIZE],
            None => {
                let region = region_named(t).ok_or_else(|| EffectError::UnknownPlace(o.name.clone(), pp.placement.to_string()))?;
                let p = free_spot(obs, o, region.anchor, 0.06, STACK_RADIUS, |_| true);
                [p[0], p[1], 0.0]
            }
        },
        Placement::AtPosition(n) => {
            let a = slot(*n);
            [a[0], a[1], 0.0]
        }
    };
    let mut next = obs.clone();
    if let Some(moved) = next.objects.iter_mut().find(|x| x.id == o.id) {
        moved.position = target;
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::Domain;

    fn obj(id: &str, name: &str, kind: ObjectKind, x: f64, y: f64) -> SceneObject {
        SceneObject::new(id, name, kind, [x, y, 0.0])
    }

    fn scene() -> Observation {
        Observation::new(
            Domain::TABLETOP,
            vec![
                obj("b1", "red block", ObjectKind::Block, -0.2, 0.0),
                obj("b2", "blue block", ObjectKind::Block, 0.0, 0.0),
                obj("w1", "blue bowl", ObjectKind::Bowl, 0.2, 0.0),
            ],
        )
    }

    fn texts(obs: &Observation) -> Vec<String> {
        TabletopSkills.admissible(obs).unwrap().into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn admissible_skills_follow_the_scene() {
        let t = texts(&scene());
        assert!(t.contains(&"done".to_string()));
        assert!(t.contains(&"pick up the red block and place it in the blue bowl".to_string()));
        assert!(t.contains(&"pick up the red block and place it on the blue block".to_string()));
        assert!(t.contains(&"pick up the red block and place it on the top left corner".to_string()));
        assert!(!t.iter().any(|s| s.contains("green")));
        assert!(!t.iter().any(|s| s.starts_with("pick up the blue bowl")));
        assert!(!t.iter().any(|s| s.contains("at position")), "only letters go to letter slots");
    }

    #[test]
    fn effects_change_what_is_admissible() {
        let s = TabletopSkill::parse("pick up the red block and place it on the blue block").unwrap();
        let after = apply(&scene(), &s).unwrap();
        let red = after.object("red block").unwrap();
        assert_eq!(location_of(&after, red), Some(Placement::On("blue block".into())));
        let t = texts(&after);
        assert!(!t.iter().any(|x| x.starts_with("pick up the blue block")), "the blue block is covered");
        assert!(!t.contains(&"pick up the red block and place it on the blue block".to_string()), "no-op moves are not admissible");
        assert_eq!(apply(&after, &s), Err(EffectError::Impossible("red block".into(), "on the blue block".into())));
        let cover = TabletopSkill::parse("pick up the blue block and place it in the blue bowl").unwrap();
        assert_eq!(apply(&after, &cover), Err(EffectError::Covered("blue block".into(), "red block".into())));
        let ghost = TabletopSkill::parse("pick up the green block and place it in the blue bowl").unwrap();
        assert_eq!(apply(&after, &ghost), Err(EffectError::UnknownObject("green block".into())));
    }

    #[test]
    fn two_blocks_in_one_corner_do_not_stack() {
        let mut obs = scene();
        for b in ["red block", "blue block"] {
            let s = TabletopSkill::parse(&format!("pick up the {b} and place it on the top left corner")).unwrap();
            obs = apply(&obs, &s).unwrap();
        }
        for b in ["red block", "blue block"] {
            let o = obs.object(b).unwrap();
            assert_eq!(location_of(&obs, o), Some(Placement::On("top left corner".into())));
            assert!(covering(&obs, o).is_none());
        }
    }
}
