//! Every zenoh key expression of `grounded`, built here and nowhere else.
//!
//! All keys live under `grounded/<robot>/...`; a robot id is 1-32 characters of `a-z`,
//! `0-9`, `-` and `_`, so it can never reach into another robot's keys. docs/protocol.md
//! lists each key with its direction and payload.

use std::fmt;

/// The root of every key.
pub const ROOT: &str = "grounded";

/// A robot's id, e.g. `tabletop-0`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RobotId(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("robot id {0:?} is not valid: use 1 to 32 characters of a-z, 0-9, '-' and '_' (e.g. \"tabletop-0\")")]
pub struct RobotIdError(pub String);

impl RobotId {
    pub fn new(id: &str) -> Result<Self, RobotIdError> {
        let ok = !id.is_empty() && id.len() <= 32 && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if ok {
            Ok(Self(id.to_string()))
        } else {
            Err(RobotIdError(id.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RobotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for RobotId {
    type Err = RobotIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// A component that announces itself with a liveliness token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Component {
    Sim,
    Policy,
    Daemon,
}

impl Component {
    pub const ALL: [Component; 3] = [Component::Sim, Component::Policy, Component::Daemon];

    pub fn name(self) -> &'static str {
        match self {
            Component::Sim => "sim",
            Component::Policy => "policy",
            Component::Daemon => "daemon",
        }
    }
}

/// The keys of one robot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RobotKeys {
    robot: RobotId,
}

impl RobotKeys {
    pub fn new(robot: RobotId) -> Self {
        Self { robot }
    }

    pub fn robot(&self) -> &RobotId {
        &self.robot
    }

    fn key(&self, rest: &str) -> String {
        format!("{ROOT}/{}/{rest}", self.robot)
    }

    /// put: a client gives the daemon an instruction (`InstructionMsg`).
    pub fn instruction(&self) -> String {
        self.key("instruction")
    }

    /// put: the sim publishes the observed state (`Observation`).
    pub fn state(&self) -> String {
        self.key("state")
    }

    /// queryable (policy): execute a skill (`SkillRequest` -> `SkillReply`s).
    pub fn skill(&self) -> String {
        self.key("skill")
    }

    /// queryable (policy): affordances of skill texts (`AffordanceRequest` -> `AffordanceReply`).
    pub fn affordance(&self) -> String {
        self.key("affordance")
    }

    /// put: the daemon publishes plan progress (`PlanProgress`).
    pub fn plan(&self) -> String {
        self.key("plan")
    }

    /// put: the daemon asks its operator which skill is meant (`Question`).
    pub fn question(&self) -> String {
        self.key("question")
    }

    /// put: the operator answers a question (`Answer`).
    pub fn answer(&self) -> String {
        self.key("answer")
    }

    /// put: anyone engages or releases the emergency stop (`EStop`).
    pub fn estop(&self) -> String {
        self.key("estop")
    }

    /// put (robot side: sim or bridge) and queryable: the latched emergency stop as the
    /// robot holds it (`EStopState`), published at every change.
    pub fn estop_state(&self) -> String {
        self.key("estop/state")
    }

    /// put (policy): halt the motion under way now, without latching (the dead-man switch:
    /// the daemon that sent the skill went away) (`EStop` with `engaged: true`).
    pub fn halt(&self) -> String {
        self.key("halt")
    }

    /// queryable (sim): the robot's primitives, whatever its body: arm motions and suction
    /// (tabletop), the agent's actions (grid), navigate, grasp and place (kitchen)
    /// (`PrimitiveCommand` -> `PrimitiveReply`). The key keeps its first name, `arm`, so that
    /// clients written against it keep working.
    pub fn primitives(&self) -> String {
        self.key("arm")
    }

    /// queryable (sim): episodes: reset to a task's scene, judge success (`EpisodeRequest` -> `EpisodeReply`).
    pub fn episode(&self) -> String {
        self.key("episode")
    }

    /// liveliness token of a running component.
    pub fn alive(&self, component: Component) -> String {
        self.key(&format!("alive/{}", component.name()))
    }

    /// liveliness token of one running instance of a component, named by its zenoh session
    /// id (held beside [`Self::alive`], so that a client can tell which instance answers and
    /// a second daemon can tell that one is running already).
    pub fn alive_instance(&self, component: Component, instance: &str) -> String {
        self.key(&format!("alive/{}/{instance}", component.name()))
    }

    /// every instance token of a component.
    pub fn alive_instances(&self, component: Component) -> String {
        self.key(&format!("alive/{}/*", component.name()))
    }

    /// every liveliness token of this robot.
    pub fn alive_any(&self) -> String {
        self.key("alive/*")
    }

    /// Every key of this robot, as one key expression (for access control).
    pub fn everything(&self) -> String {
        self.key("**")
    }

    /// Every liveliness token of this robot, instances included.
    pub fn alive_tree(&self) -> String {
        self.key("alive/**")
    }

    /// Every key above, for tests and docs.
    pub fn all(&self) -> Vec<String> {
        let mut keys = vec![
            self.instruction(),
            self.state(),
            self.skill(),
            self.affordance(),
            self.plan(),
            self.question(),
            self.answer(),
            self.estop(),
            self.estop_state(),
            self.halt(),
            self.primitives(),
            self.episode(),
        ];
        keys.extend(Component::ALL.iter().map(|c| self.alive(*c)));
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn robot_ids_cannot_escape_their_prefix() {
        for bad in ["", "a/b", "A", "a*", "a b", "$*", &"x".repeat(33)] {
            assert!(RobotId::new(bad).is_err(), "{bad:?}");
        }
        assert!(RobotId::new("tabletop-0").is_ok());
    }

    #[test]
    fn no_two_keys_collide_within_or_across_robots() {
        let robots = ["a", "b", "tabletop-0", "alive", "state"];
        let mut seen = HashSet::new();
        for r in robots {
            for k in RobotKeys::new(RobotId::new(r).unwrap()).all() {
                assert!(k.starts_with(&format!("{ROOT}/{r}/")), "{k}");
                assert!(seen.insert(k.clone()), "{k} appears twice");
            }
        }
        let keys = RobotKeys::new(RobotId::new("a").unwrap());
        assert_eq!(keys.state(), "grounded/a/state");
        assert_eq!(keys.alive(Component::Policy), "grounded/a/alive/policy");
        assert!(keys.alive_any().ends_with("/alive/*"));
        assert!(keys.alive_instance(Component::Daemon, "ab12").ends_with("/alive/daemon/ab12"));
        assert!(keys.alive_instances(Component::Daemon).ends_with("/alive/daemon/*"));
    }
}
