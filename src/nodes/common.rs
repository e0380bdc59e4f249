//! What every node shares: the zenoh flags (`CommonArgs`), opening a session, and sending
//! and receiving the protocol's messages.

use protocol::messages::{decode, encode, Message, MessageError};
use std::path::PathBuf;
use std::time::Duration;
use zenoh::Wait;

/// The zenoh options of every command, as the zenoh examples have them.
#[derive(clap::Args, Debug, Clone, Default, PartialEq)]
pub struct CommonArgs {
    /// zenoh mode: peer, client or router [default: peer; with --zenoh-config, the file's].
    #[arg(long, value_parser = ["peer", "client", "router"])]
    pub mode: Option<String>,
    /// Endpoints to connect to, e.g. tcp/127.0.0.1:7447 (repeatable). A rerun viewer URL
    /// (rerun+http://127.0.0.1:9876/proxy) sends the dashboard there instead.
    #[arg(short = 'e', long, value_name = "ENDPOINT")]
    pub connect: Vec<String>,
    /// Endpoints to listen on, e.g. tcp/127.0.0.1:7447 (repeatable) [default: tcp/127.0.0.1:0].
    #[arg(short = 'l', long, value_name = "ENDPOINT")]
    pub listen: Vec<String>,
    /// A zenoh configuration file (JSON5), e.g. one `grounded secure init` wrote (mutual TLS
    /// through a router with access control); the flags above override it.
    #[arg(long, value_name = "FILE")]
    pub zenoh_config: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("zenoh configuration: {0}")]
    Config(String),
    #[error("cannot open a zenoh session: {0}")]
    Open(String),
    #[error("zenoh: {0}")]
    Zenoh(String),
}

impl CommonArgs {
    /// The zenoh configuration: loopback, no multicast scouting, unless told otherwise.
    pub fn zenoh_config(&self) -> Result<zenoh::Config, NetError> {
        let mut config = match &self.zenoh_config {
            Some(path) => {
                // zenoh's own error for a missing file names only the file; say what it is.
                std::fs::metadata(path).map_err(|e| NetError::Config(format!("cannot read {}: {e}", path.display())))?;
                zenoh::Config::from_file(path).map_err(|e| NetError::Config(format!("{}: {}", path.display(), zenoh_text(&e))))?
            }
            None => zenoh::Config::default(),
        };
        let set = |c: &mut zenoh::Config, key: &str, value: String| {
            c.insert_json5(key, &value).map_err(|e| NetError::Config(format!("{key} = {value}: {}", zenoh_text(&e))))
        };
        match (&self.mode, &self.zenoh_config) {
            (Some(mode), _) => set(&mut config, "mode", format!("{mode:?}"))?,
            (None, None) => set(&mut config, "mode", "\"peer\"".into())?,
            (None, Some(_)) => {}
        }
        if self.zenoh_config.is_none() {
            set(&mut config, "scouting/multicast/enabled", "false".into())?;
        }
        let listen = if self.listen.is_empty() && self.zenoh_config.is_none() { vec!["tcp/127.0.0.1:0".to_string()] } else { self.listen.clone() };
        if !listen.is_empty() {
            set(&mut config, "listen/endpoints", serde_json::to_string(&listen).unwrap_or_default())?;
        }
        let connect = self.zenoh_endpoints();
        if !connect.is_empty() {
            set(&mut config, "connect/endpoints", serde_json::to_string(&connect).unwrap_or_default())?;
        }
        Ok(config)
    }

    /// The `--connect` values that are zenoh endpoints.
    pub fn zenoh_endpoints(&self) -> Vec<String> {
        self.connect.iter().filter(|c| !crate::dashboard::sink::is_viewer_url(c)).cloned().collect()
    }

    /// The `--connect` value that names a rerun viewer, if any (an error if several do).
    pub fn viewer_url(&self) -> Result<Option<String>, NetError> {
        let urls: Vec<&String> = self.connect.iter().filter(|c| crate::dashboard::sink::is_viewer_url(c)).collect();
        match urls.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some((*one).clone())),
            _ => Err(NetError::Config(format!("--connect names {} rerun viewers; the dashboard goes to one", urls.len()))),
        }
    }

    pub async fn open(&self) -> Result<zenoh::Session, NetError> {
        let config = self.zenoh_config()?;
        zenoh::open(config).await.map_err(|e| NetError::Open(zenoh_text(&e)))
    }
}

/// A put that neither waits behind other traffic nor is dropped under congestion: real-time
/// priority, blocking congestion control (the emergency stop, its state, a halt). Resolve it
/// with `.await` or `.wait()`.
pub fn urgent_put<'a>(
    session: &'a zenoh::Session,
    key: &'a str,
    payload: Vec<u8>,
) -> zenoh::pubsub::PublicationBuilder<zenoh::pubsub::PublisherBuilder<'a, 'a>, zenoh::pubsub::PublicationBuilderPut> {
    session.put(key, payload).priority(zenoh::qos::Priority::RealTime).congestion_control(zenoh::qos::CongestionControl::Block)
}

/// Put a message that must arrive on a key (blocking): an instruction, a plan's progress
/// or end, a question, an answer. Blocking congestion control: under congestion the put
/// waits for room in zenoh's queue instead of being dropped (zenoh's default for a put),
/// so that a busy machine cannot lose the message a plan's sender waits for.
pub fn put<T: Message>(session: &zenoh::Session, key: &str, msg: &T) -> Result<(), NetError> {
    session.put(key, encode(msg)).congestion_control(zenoh::qos::CongestionControl::Block).wait().map_err(|e| NetError::Zenoh(zenoh_text(&e)))
}

/// Put a message that the next one replaces (a state published for watchers): dropped
/// rather than waited for under congestion, zenoh's default.
pub fn put_latest<T: Message>(session: &zenoh::Session, key: &str, msg: &T) -> Result<(), NetError> {
    session.put(key, encode(msg)).congestion_control(zenoh::qos::CongestionControl::Drop).wait().map_err(|e| NetError::Zenoh(zenoh_text(&e)))
}

/// Send a query and collect every reply until the query ends or `timeout` passes.
pub fn query_all(session: &zenoh::Session, key: &str, payload: Vec<u8>, timeout: Duration) -> Result<Vec<Result<Vec<u8>, String>>, NetError> {
    let replies = session.get(key).payload(payload).timeout(timeout).wait().map_err(|e| NetError::Zenoh(zenoh_text(&e)))?;
    let mut out = Vec::new();
    while let Ok(reply) = replies.recv() {
        match reply.result() {
            Ok(sample) => out.push(Ok(sample.payload().to_bytes().into_owned())),
            Err(err) => {
                let message = String::from_utf8_lossy(&err.payload().to_bytes()).into_owned();
                // zenoh's own error for a query that ran out of time: no answer, not an answer.
                if message != "Timeout" {
                    out.push(Err(message));
                }
            }
        }
    }
    Ok(out)
}

/// Send a query and return its first reply, decoded.
pub fn query_one<Req: Message, Rep: Message>(session: &zenoh::Session, key: &str, req: &Req, timeout: Duration) -> Result<Result<Rep, String>, NetError> {
    let replies = query_all(session, key, encode(req), timeout)?;
    match replies.into_iter().next() {
        None => Err(NetError::Zenoh(format!("no answer on {key} within {:.1} s", timeout.as_secs_f64()))),
        Some(Err(e)) => Ok(Err(e)),
        Some(Ok(bytes)) => Ok(decode::<Rep>(&bytes).map_err(|e: MessageError| e.to_string())),
    }
}

/// The instances whose liveliness tokens match `pattern` (the last chunk of each key),
/// sorted.
pub fn instances(session: &zenoh::Session, pattern: &str) -> Vec<String> {
    let mut found = Vec::new();
    if let Ok(replies) = session.liveliness().get(pattern).timeout(super::timeouts::LIVELINESS).wait() {
        while let Ok(reply) = replies.recv() {
            if let Ok(sample) = reply.result() {
                if let Some(last) = sample.key_expr().as_str().rsplit('/').next() {
                    found.push(last.to_string());
                }
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

/// Is a component's liveliness token present?
pub fn alive(session: &zenoh::Session, key: &str) -> bool {
    match session.liveliness().get(key).timeout(super::timeouts::LIVELINESS).wait() {
        Ok(replies) => replies.recv().is_ok_and(|r| r.result().is_ok()),
        Err(_) => false,
    }
}

/// A zenoh error's text without the places in zenoh's source code it appends to its
/// messages (" at /path/to/zenoh-config/src/lib.rs:1484."), which mean nothing to a user.
fn without_source_locations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(" at ") {
        let after = &rest[at + 4..];
        // The place: up to a space, a quote or the end, with its closing full stop.
        let len = after.find(|c: char| c.is_whitespace() || c == '"').unwrap_or(after.len());
        let place = after[..len].trim_end_matches('.');
        let is_source = place.rsplit_once(':').is_some_and(|(file, row)| file.ends_with(".rs") && !row.is_empty() && row.bytes().all(|b| b.is_ascii_digit()));
        if is_source {
            out.push_str(&rest[..at]);
            rest = &after[len..];
        } else {
            out.push_str(&rest[..at + 4]);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// A zenoh error as the user reads it.
pub fn zenoh_text(e: &impl std::fmt::Display) -> String {
    without_source_locations(&e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zenoh_source_locations_are_left_out_of_errors() {
        let text = "JSON error: unknown field `nonsense` at line 1 at /home/u/.cargo/registry/src/x/zenoh-config-1.10.2/src/lib.rs:1484.\n  = expected identifier at /r/lib.rs:1486.";
        assert_eq!(without_source_locations(text), "JSON error: unknown field `nonsense` at line 1\n  = expected identifier");
        // Words that are not a place in source code stay.
        assert_eq!(without_source_locations("meet at noon."), "meet at noon.");
        assert_eq!(without_source_locations("see at main.rs:x."), "see at main.rs:x.");
        // Inside a message, as zenoh nests them.
        let nested =
            "Json5Err(Message { msg: \"Endpoints must be of the form <protocol>/<address>: x at /r/endpoint.rs:615.\", location: None }) at /r/config.rs:86.";
        assert_eq!(without_source_locations(nested), "Json5Err(Message { msg: \"Endpoints must be of the form <protocol>/<address>: x\", location: None })");
    }

    #[test]
    fn a_missing_zenoh_configuration_is_named_with_its_cause() {
        let args = CommonArgs { zenoh_config: Some(PathBuf::from("/no/such/zenoh.json5")), ..CommonArgs::default() };
        let e = args.zenoh_config().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("cannot read /no/such/zenoh.json5: No such file or directory"), "{e}");
    }
}
