//! One skeleton for every node (sim, policy, daemon): declare its queryables and
//! subscribers, then its liveliness token (so that it is alive only once it answers), then
//! hand each message, in arrival order, to the node's methods.

use super::common::NetError;
use protocol::keys::{Component, RobotKeys};
use protocol::messages::{decode, EStop};
use std::future::Future;
use tokio::sync::mpsc;
use zenoh::query::Query;
use zenoh::sample::Sample;
use zenoh::Wait;

/// Messages waiting for the node beyond this many are refused (a query) or dropped (a
/// sample), so that a flood cannot grow the node's memory.
pub const INBOX: usize = 1024;

/// How often a node looks whether its session was closed.
const CLOSED_CHECK: std::time::Duration = std::time::Duration::from_millis(250);

/// A message for a node, with the key it was declared on.
pub enum Incoming {
    Query { key: String, query: Query },
    Sample { key: String, sample: Sample },
}

/// What a node does at once with an emergency stop.
pub type EStopHandler = Box<dyn Fn(&EStop) + Send + Sync>;

/// A node: which keys it answers and listens on, and what it does with each message.
pub trait Node: Send + 'static {
    /// Whose liveliness token it holds.
    const COMPONENT: Component;
    /// The keys it answers queries on.
    fn queryables(&self, keys: &RobotKeys) -> Vec<String>;
    /// The keys it subscribes to.
    fn subscriptions(&self, keys: &RobotKeys) -> Vec<String>;
    /// What the node does with an emergency stop, called from zenoh's own callback as the
    /// message arrives: not queued behind other messages, so that no flood delays it.
    /// `None`: the node does not listen to the emergency stop.
    fn estop_handler(&self) -> Option<EStopHandler> {
        None
    }
    /// Once declared and alive (e.g. publish the first state).
    fn started(&mut self, _session: &zenoh::Session) {}
    /// One message. A handler that takes long hands the work to a task of its own, so that
    /// the node keeps hearing (an emergency stop above all).
    fn handle(&mut self, session: &zenoh::Session, message: Incoming) -> impl Future<Output = ()> + Send;
}

/// Serve `node` until the session closes.
pub async fn serve<N: Node>(session: zenoh::Session, keys: RobotKeys, mut node: N) -> Result<(), NetError> {
    let z = |e: zenoh::Error| NetError::Zenoh(super::common::zenoh_text(&e));
    let (tx, mut rx) = mpsc::channel::<Incoming>(INBOX);
    let component = N::COMPONENT.name();
    let mut queryables = Vec::new();
    for key in node.queryables(&keys) {
        let (tx, k) = (tx.clone(), key.clone());
        let q = session
            .declare_queryable(&key)
            .callback(move |query| {
                if let Err(mpsc::error::TrySendError::Full(Incoming::Query { query, .. })) = tx.try_send(Incoming::Query { key: k.clone(), query }) {
                    let _ = query.reply_err(format!("the {component} is overloaded: try again")).wait();
                }
            })
            .await
            .map_err(z)?;
        queryables.push(q);
    }
    let mut subscribers = Vec::new();
    for key in node.subscriptions(&keys) {
        let (tx, k) = (tx.clone(), key.clone());
        let s = session
            .declare_subscriber(&key)
            .callback(move |sample| {
                if tx.try_send(Incoming::Sample { key: k.clone(), sample }).is_err() {
                    tracing::warn!("{component}: dropped a message on {k}: too many waiting");
                }
            })
            .await
            .map_err(z)?;
        subscribers.push(s);
    }
    drop(tx);
    // The emergency stop on a path of its own.
    let _estop = match node.estop_handler() {
        Some(handler) => Some(
            session
                .declare_subscriber(keys.estop())
                .callback(move |sample| match decode::<EStop>(&sample.payload().to_bytes()) {
                    Ok(stop) => {
                        tracing::warn!("{component}: emergency stop {}", if stop.engaged { "engaged" } else { "released" });
                        handler(&stop)
                    }
                    Err(e) => tracing::warn!("{component}: ignored a malformed emergency stop: {e}"),
                })
                .await
                .map_err(z)?,
        ),
        None => None,
    };
    // The instance's own token first, then the component's: whoever sees the component
    // alive can tell which instance it is.
    let _instance = session.liveliness().declare_token(keys.alive_instance(N::COMPONENT, &session.zid().to_string())).await.map_err(z)?;
    let _token = session.liveliness().declare_token(keys.alive(N::COMPONENT)).await.map_err(z)?;
    node.started(&session);
    // The callbacks may outlive a closed session: look at it now and then as well.
    let mut check = tokio::time::interval(CLOSED_CHECK);
    loop {
        tokio::select! {
            message = rx.recv() => match message {
                Some(m) => node.handle(&session, m).await,
                None => break,
            },
            _ = check.tick() => if session.is_closed() { break },
        }
    }
    Ok(())
}
