//! Every timeout of the nodes and their clients, named once with its reason.

use std::time::Duration;

/// One primitive's round trip from the policy to the sim (a motion of a few centimetres, a
/// grasp): far above what a healthy sim needs, so that only a lost sim runs into it.
pub const PRIMITIVE: Duration = Duration::from_secs(10);

/// An observation asked of the sim (or robot bridge): a state it holds, no work.
pub const OBSERVE: Duration = Duration::from_secs(5);

/// The admissible skills asked of the policy, once per plan step: a few milliseconds of
/// work, so a silent policy is noticed before a step's decoding starts.
pub const AFFORDANCE: Duration = Duration::from_secs(5);

/// One skill from request to result: the slowest simulated skill (a pick-and-place over the
/// whole table, a kitchen fetch) takes well under a minute of wall time.
pub const SKILL: Duration = Duration::from_secs(60);

/// An episode reset or verdict asked of the sim: a new scene settles in physics first.
pub const EPISODE: Duration = Duration::from_secs(10);

/// A liveliness query: tokens are local to the session's peers, answered at once.
pub const LIVELINESS: Duration = Duration::from_millis(500);

/// Components started in this process (demo, eval) announcing themselves: loading the
/// language model dominates.
pub const COMPONENTS_UP: Duration = Duration::from_secs(20);

/// A client looking for a running daemon: a new session needs a moment to meet its peers.
pub const DAEMON_FOUND: Duration = Duration::from_secs(4);

/// A new daemon looking for one already running for its robot before it starts: a session
/// meets its peers on loopback within a few hundred milliseconds.
pub const DAEMON_CLASH: Duration = Duration::from_secs(1);

/// How often a running daemon looks for another one for its robot (two started at once, or
/// two networks joined): the one with the larger zenoh id then stops.
pub const DAEMON_RECHECK: Duration = Duration::from_secs(1);

/// A client that saw the daemon it follows withdraw its token looks for it again after this
/// long before it reports the plan aborted, so that a withdrawal the network takes back (a
/// link closed and re-made) is not reported as the plan's end.
pub const DAEMON_GONE_CONFIRM: Duration = Duration::from_secs(2);

/// How often a client looks again for a component not yet up.
pub const RETRY: Duration = Duration::from_millis(50);

/// A whole plan in the demo, from instruction to the last skill's result.
pub const DEMO_PLAN: Duration = Duration::from_secs(300);

/// `grounded estop` waiting for the robot side to confirm the stop it holds.
pub const ESTOP_CONFIRM: Duration = Duration::from_secs(2);
