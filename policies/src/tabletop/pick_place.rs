//! Language-conditioned pick-and-place: parse the skill text, find the object and the
//! place in the observation, and carry it out with the suction cup (approach, descend,
//! attach, lift, move, place, release, retreat), then check where the object came to rest.

use super::arm::Arm;
use crate::SkillOutcome;
use grounding::tabletop::TabletopSkills;
use grounding::SkillSpace;
use protocol::tabletop::geometry::{covering, free_spot, inside, location_of, region_named, resting_on, slot, xy, STACK_RADIUS};

/// How far a placed object keeps from the others (m).
const CLEARANCE: f64 = 0.045;
use protocol::tabletop::{PickPlace as Parsed, Placement, TabletopSkill};
use protocol::{Observation, SceneObject};
use serde::Serialize;

/// A phase of a pick-and-place, reported as progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Approach,
    Descend,
    Attach,
    Lift,
    Move,
    Place,
    Release,
    Retreat,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Approach => "approach",
            Phase::Descend => "descend",
            Phase::Attach => "attach",
            Phase::Lift => "lift",
            Phase::Move => "move",
            Phase::Place => "place",
            Phase::Release => "release",
            Phase::Retreat => "retreat",
        }
    }
}

/// The tabletop pick-and-place policy.
#[derive(Clone, Debug)]
pub struct PickPlace {
    /// Cruise speed of the cup (m/s).
    pub speed: f64,
    /// Speed near objects (m/s).
    pub slow: f64,
    /// Height the cup travels at (m).
    pub travel_height: f64,
}

impl Default for PickPlace {
    fn default() -> Self {
        Self { speed: 0.6, slow: 0.2, travel_height: 0.22 }
    }
}

fn height(o: &SceneObject) -> f64 {
    2.0 * sim::tabletop::world::half_extents(o)[2]
}

impl PickPlace {
    /// The skills this policy could carry out in a state, with feasibility: its answer to
    /// affordance queries.
    pub fn admissible(&self, obs: &Observation) -> Vec<(String, f64)> {
        TabletopSkills.admissible(obs).unwrap_or_default().into_iter().map(|s| (s.text, s.feasibility)).collect()
    }

    /// Carry out one skill; `progress` hears each phase as it starts.
    pub fn execute(&self, skill: &str, arm: &mut dyn Arm, progress: &mut dyn FnMut(Phase)) -> SkillOutcome {
        let parsed = match TabletopSkill::parse(skill) {
            Ok(TabletopSkill::Done) => return SkillOutcome::ok(),
            Ok(TabletopSkill::PickPlace(p)) => p,
            Err(e) => return SkillOutcome::fail(format!("cannot parse the skill: {e}")),
        };
        match self.run(&parsed, arm, progress) {
            Ok(outcome) => outcome,
            Err(e) => {
                // Never leave an object hanging on a failed skill.
                let _ = arm.suction(false);
                SkillOutcome::fail(e)
            }
        }
    }

    fn run(&self, p: &Parsed, arm: &mut dyn Arm, progress: &mut dyn FnMut(Phase)) -> Result<SkillOutcome, String> {
        let obs = arm.observe()?;
        let Some(obj) = obs.object(&p.object).cloned() else {
            return Ok(SkillOutcome::fail(format!("there is no {} in the scene", p.object)));
        };
        if !obj.kind.is_pickable() {
            return Ok(SkillOutcome::fail(format!("the {} cannot be picked up", obj.name)));
        }
        if let Some(top) = covering(&obs, &obj) {
            return Ok(SkillOutcome::fail(format!("the {} is under the {}", obj.name, top.name)));
        }
        let h = height(&obj);
        // Where the object's base should end up.
        let (target_xy, base_z) = match &p.placement {
            Placement::In(c) => {
                let Some(container) = obs.object(c).filter(|c| c.kind.is_container()) else {
                    return Ok(SkillOutcome::fail(format!("there is no container called the {c}")));
                };
                let spot = free_spot(&obs, &obj, xy(container), 0.03, CLEARANCE, |q| inside(container, [q[0], q[1], 0.0]));
                (spot, 0.02)
            }
            Placement::On(t) => match obs.object(t) {
                Some(target) if target.id == obj.id => return Ok(SkillOutcome::fail(format!("the {} cannot go on itself", obj.name))),
                Some(target) if target.kind.is_pickable() => {
                    if let Some(top) = covering(&obs, target) {
                        return Ok(SkillOutcome::fail(format!("the {} is under the {}", target.name, top.name)));
                    }
                    (xy(target), target.position[2] + height(target) + 0.003)
                }
                Some(target) => return Ok(SkillOutcome::fail(format!("nothing can be placed on the {}; say \"in the {}\"", target.name, target.name))),
                None => {
                    let Some(region) = region_named(t) else {
                        return Ok(SkillOutcome::fail(format!("there is no {t} on the table")));
                    };
                    (free_spot(&obs, &obj, region.anchor, 0.06, CLEARANCE, |q| region.contains(q[0], q[1])), 0.005)
                }
            },
            Placement::AtPosition(n) => (slot(*n), 0.005),
        };
        let up = self.travel_height;
        progress(Phase::Approach);
        arm.move_to([obj.position[0], obj.position[1], up], self.speed)?;
        progress(Phase::Descend);
        arm.move_to([obj.position[0], obj.position[1], obj.position[2] + h + 0.004], self.slow)?;
        progress(Phase::Attach);
        let gripped = arm.suction(true)?;
        if gripped.holding.as_deref() != Some(obj.name.as_str()) {
            return Ok(SkillOutcome::fail(format!("the suction cup gripped {:?} instead of the {}", gripped.holding, obj.name)));
        }
        progress(Phase::Lift);
        arm.move_to([obj.position[0], obj.position[1], up], self.slow)?;
        progress(Phase::Move);
        arm.move_to([target_xy[0], target_xy[1], up], self.speed)?;
        progress(Phase::Place);
        arm.move_to([target_xy[0], target_xy[1], base_z + h + 0.006], self.slow)?;
        progress(Phase::Release);
        arm.suction(false)?;
        arm.wait(0.6)?;
        progress(Phase::Retreat);
        arm.move_to([target_xy[0], target_xy[1], up], self.speed)?;
        // Where did it come to rest?
        let after = arm.observe()?;
        let Some(moved) = after.object(&obj.name) else {
            return Ok(SkillOutcome::fail(format!("the {} is no longer observed", obj.name)));
        };
        let ok = match &p.placement {
            Placement::In(c) => after.object(c).is_some_and(|c| inside(c, moved.position)),
            Placement::On(t) => match after.object(t) {
                Some(_) => resting_on(&after, moved).is_some_and(|b| b.name == *t),
                None => region_named(t).is_some_and(|r| r.contains(moved.position[0], moved.position[1])),
            },
            Placement::AtPosition(n) => {
                let s = slot(*n);
                ((moved.position[0] - s[0]).powi(2) + (moved.position[1] - s[1]).powi(2)).sqrt() < STACK_RADIUS
            }
        };
        if ok {
            Ok(SkillOutcome::ok())
        } else {
            let place = location_of(&after, moved).map_or("on the table".to_string(), |l| l.to_string());
            Ok(SkillOutcome::fail(format!("the {} came to rest {place}, not {} (it slid or toppled)", obj.name, p.placement)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim::tabletop::{generate, judge, task_named, World, WorldConfig};

    fn run_skills(task: &str, seed: u64, skills: &[&str]) -> (sim::tabletop::Episode, World, Vec<SkillOutcome>) {
        let episode = generate(task_named(task).unwrap(), seed);
        let mut world = World::new(&episode.scene, WorldConfig::default());
        let policy = PickPlace::default();
        let outcomes = skills.iter().map(|s| policy.execute(s, &mut world, &mut |_| {})).collect();
        (episode, world, outcomes)
    }

    #[test]
    fn matching_bowls_solved_by_its_oracle_plan() {
        let episode = generate(task_named("matching-bowls").unwrap(), 3);
        let skills: Vec<String> = episode
            .scene
            .objects
            .iter()
            .filter(|o| o.kind == protocol::ObjectKind::Block)
            .map(|b| format!("pick up the {} and place it in the {} bowl", b.name, b.name.split(' ').next().unwrap()))
            .collect();
        let refs: Vec<&str> = skills.iter().map(String::as_str).collect();
        let (episode, world, outcomes) = run_skills("matching-bowls", 3, &refs);
        assert!(outcomes.iter().all(|o| o.success), "{outcomes:?}");
        judge(&episode, &world.ground_truth()).unwrap();
    }

    #[test]
    fn stacking_three_blocks() {
        let episode = generate(task_named("stack-all-blocks").unwrap(), 5);
        let blocks: Vec<String> = episode.scene.objects.iter().filter(|o| o.kind == protocol::ObjectKind::Block).map(|o| o.name.clone()).collect();
        let skills =
            [format!("pick up the {} and place it on the {}", blocks[1], blocks[0]), format!("pick up the {} and place it on the {}", blocks[2], blocks[1])];
        let refs: Vec<&str> = skills.iter().map(String::as_str).collect();
        let (episode, world, outcomes) = run_skills("stack-all-blocks", 5, &refs);
        assert!(outcomes.iter().all(|o| o.success), "{outcomes:?}");
        judge(&episode, &world.ground_truth()).unwrap();
    }

    #[test]
    fn letters_in_slots_and_regions() {
        let episode = generate(task_named("alphabetical-order").unwrap(), 2);
        let mut letters: Vec<String> = episode.scene.objects.iter().filter(|o| o.kind == protocol::ObjectKind::Letter).map(|o| o.name.clone()).collect();
        letters.sort();
        let skills: Vec<String> = letters.iter().enumerate().map(|(i, l)| format!("pick up the {l} and place it at position {}", i + 1)).collect();
        let refs: Vec<&str> = skills.iter().map(String::as_str).collect();
        let (episode, world, outcomes) = run_skills("alphabetical-order", 2, &refs);
        assert!(outcomes.iter().all(|o| o.success), "{outcomes:?}");
        judge(&episode, &world.ground_truth()).unwrap();
    }

    #[test]
    fn bad_skills_fail_with_a_reason_and_change_nothing() {
        let (episode, world, outcomes) = run_skills(
            "matching-bowls",
            1,
            &["fly to the moon", "pick up the purple elephant and place it in the red bowl", "pick up the letter Q and place it at position 2", "done"],
        );
        assert!(outcomes[0].reason.as_deref().unwrap().contains("cannot parse"), "{outcomes:?}");
        assert!(outcomes[1].reason.as_deref().unwrap().contains("no purple elephant"), "{outcomes:?}");
        assert!(!outcomes[2].success);
        assert!(outcomes[3].success);
        let before = &episode.scene;
        let after = world.ground_truth();
        for (a, b) in before.objects.iter().zip(&after.objects) {
            assert!((a.position[0] - b.position[0]).abs() < 0.01 && (a.position[1] - b.position[1]).abs() < 0.01, "{} moved", a.name);
        }
    }
}
