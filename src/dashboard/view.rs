//! A domain's view on the dashboard: how its scene is laid out and drawn, and how a decoded
//! skill's targets are marked. Each domain names its view ([`crate::domains::Domain::view`]).

use super::Dashboard;
use protocol::Observation;
use rerun::blueprint::ContainerLike;

pub trait View: Sync {
    /// The scene's view in the one-run layout.
    fn scene(&self) -> ContainerLike;
    /// Where the robot stands, in the view's frame, for the trail of where it has been
    /// (`None`: the view draws no trail).
    fn robot_at(&self, _obs: &Observation) -> Option<[f32; 2]> {
        None
    }
    /// Draw a state; `trail` is where the robot has been so far.
    fn observation(&self, d: &Dashboard, obs: &Observation, trail: &[[f32; 2]]);
    /// Mark what a decoded skill names, in the state it was decoded on.
    fn target(&self, d: &Dashboard, obs: &Observation, skill: &str);
    /// Clear the marks once the skill has ended.
    fn clear_target(&self, d: &Dashboard);
}
