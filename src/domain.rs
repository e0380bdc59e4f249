//! What differs between domains, behind one interface: the skills admissible in a state
//! (the affordance's skill space), and a skill's effect for open-loop planning. Everything
//! else (decoder, planner, daemon, protocol, eval runner, dashboard) is shared.

use grounding::tabletop::{apply, TabletopSkills};
use grounding::SkillSpace;
use protocol::grid::GridSkill;
use protocol::tabletop::TabletopSkill;
use protocol::{Domain, Observation};

/// The skills of `domain`, as the affordance model scores them.
pub fn skill_space(domain: Domain) -> &'static dyn SkillSpace {
    match domain {
        Domain::Tabletop => &TabletopSkills,
        Domain::Grid => &policies::grid::GridSkills,
        Domain::Kitchen => &policies::kitchen::KitchenSkills,
    }
}

/// Every skill admissible in `obs`, by its own domain's rules.
#[derive(Clone, Debug, Default)]
pub struct AnyDomainSkills;

impl SkillSpace for AnyDomainSkills {
    fn admissible(&self, obs: &Observation) -> Result<Vec<grounding::ScoredSkill>, grounding::GroundingError> {
        skill_space(obs.domain).admissible(obs)
    }

    fn prefix_model<'a>(&'a self, obs: &Observation) -> Result<Option<Box<dyn grounding::BoundModel + 'a>>, grounding::GroundingError> {
        skill_space(obs.domain).prefix_model(obs)
    }
}

/// The state as the SayCan baseline sees it: in the kitchen its detector is thresholded
/// ("object detected or not", docs/method.md), so a partly hidden object is not seen at all;
/// elsewhere the state itself.
pub fn saycan_view(state: &Observation) -> std::borrow::Cow<'_, Observation> {
    match &state.kitchen {
        Some(k) if state.domain == Domain::Kitchen => {
            let mut s = state.clone();
            s.kitchen = Some(policies::kitchen::thresholded(k));
            std::borrow::Cow::Owned(s)
        }
        _ => std::borrow::Cow::Borrowed(state),
    }
}

/// The state after `skill` as if carried out perfectly: the tabletop's symbolic effect, the
/// grid's planned primitive actions applied by the maze's rules. `Err` says why it cannot be.
pub fn apply_skill(state: &Observation, skill: &str) -> Result<Observation, String> {
    match state.domain {
        Domain::Tabletop => {
            let s = TabletopSkill::parse(skill).map_err(|e| e.to_string())?;
            apply(state, &s).map_err(|e| e.to_string())
        }
        Domain::Grid => {
            let s = GridSkill::parse(skill).map_err(|e| e.to_string())?;
            let mut g = state.grid.clone().ok_or("a grid observation has no grid")?;
            for a in policies::grid::plan(&s, &g)? {
                g.apply(a);
            }
            let mut next = state.clone();
            next.grid = Some(g);
            Ok(next)
        }
        Domain::Kitchen => {
            let k = state.kitchen.as_ref().ok_or("a kitchen observation has no kitchen state")?;
            let mut next = state.clone();
            next.kitchen = Some(policies::kitchen::apply(k, skill)?);
            Ok(next)
        }
    }
}
