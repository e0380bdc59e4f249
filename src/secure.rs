//! `grounded secure init`: everything a robot's components need to talk over zenoh with
//! mutual TLS (over QUIC) and default-deny access control.
//!
//! One certificate authority; one certificate and key per component (router, sim, policy,
//! daemon, operator), whose common name is the component's role; a zenoh configuration per
//! component. Every component is a zenoh client of the router, which admits only peers with
//! a certificate of this authority and lets each role send only what the role needs, by
//! the certificate's common name (never by a self-declared zenoh id):
//!
//! * sim (or a robot bridge): publishes `state` and `estop/state`, answers `arm`, `state`,
//!   `episode` and `estop/state`, holds the sim's liveliness tokens;
//! * policy: answers `skill` and `affordance`, queries `arm`, `state` and `estop/state`,
//!   puts `halt` (its dead-man switch), holds the policy's tokens;
//! * daemon: hears `instruction` and `answer`, queries `skill`, `affordance`, `state` and
//!   `estop/state`, publishes `plan` and `question`, holds the daemon's tokens;
//! * operator: puts `instruction`, `estop` and `answer`, hears `plan`, `question`, `state`
//!   and `estop/state`,
//!   queries `state`, `estop/state` and `episode`.
//!
//! Everyone may receive what the router forwards under the robot's keys; nobody may send
//! anything else. docs/security.md shows a two-machine set-up.

use protocol::keys::RobotKeys;
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// A role of the robot's network: the common name of its certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Router,
    Sim,
    Policy,
    Daemon,
    Operator,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Router, Role::Sim, Role::Policy, Role::Daemon, Role::Operator];

    pub fn name(self) -> &'static str {
        match self {
            Role::Router => "router",
            Role::Sim => "sim",
            Role::Policy => "policy",
            Role::Daemon => "daemon",
            Role::Operator => "operator",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecureError {
    // Causes are in the messages and not `source`s: the CLI prints an error's chain, which
    // would say them twice.
    #[error("{path}: {error}")]
    Io { path: PathBuf, error: std::io::Error },
    #[error("{0} exists already: choose another --out, or remove it to make new keys (the old ones stop working)")]
    Exists(PathBuf),
    #[error("making a certificate: {0}")]
    Certificate(rcgen::Error),
    #[error("{0}")]
    Invalid(String),
}

impl From<rcgen::Error> for SecureError {
    fn from(e: rcgen::Error) -> Self {
        Self::Certificate(e)
    }
}

/// What `init` makes.
#[derive(Clone, Debug)]
pub struct InitOptions {
    pub keys: RobotKeys,
    pub out: PathBuf,
    /// Names and addresses the router is reached at (its certificate's subject alternative
    /// names; the first is written into the components' configurations).
    pub router_hosts: Vec<String>,
    pub router_port: u16,
}

/// Where one role's files are.
pub fn role_dir(out: &Path, role: Role) -> PathBuf {
    out.join(role.name())
}

/// The zenoh configuration file of a role.
pub fn config_path(out: &Path, role: Role) -> PathBuf {
    role_dir(out, role).join("zenoh.json5")
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SecureError + '_ {
    move |error| SecureError::Io { path: path.to_path_buf(), error }
}

/// Write `text`, readable by its owner only when `secret`.
fn write(path: &Path, text: &str, secret: bool) -> Result<(), SecureError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if secret { 0o600 } else { 0o644 });
    }
    let mut f = options.open(path).map_err(io(path))?;
    f.write_all(text.as_bytes()).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

/// The certificate authority: its parameters and key.
pub struct Authority {
    pub cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Authority {
    pub fn new(robot: &str) -> Result<(Self, String), SecureError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, format!("grounded {robot} authority"));
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let cert = params.self_signed(&key)?;
        let key_pem = key.serialize_pem();
        Ok((Self { cert_pem: cert.pem(), issuer: Issuer::new(params, key) }, key_pem))
    }

    /// The authority from its files.
    pub fn load(cert_pem: &str, key_pem: &str) -> Result<Self, SecureError> {
        let key = KeyPair::from_pem(key_pem)?;
        Ok(Self { cert_pem: cert_pem.to_string(), issuer: Issuer::from_ca_cert_pem(cert_pem, key)? })
    }

    /// A certificate with common name `common_name`, valid for `hosts` (a server's names;
    /// none for a client), and its key, both PEM.
    pub fn issue(&self, common_name: &str, hosts: &[String]) -> Result<(String, String), SecureError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(hosts.to_vec())?;
        params.distinguished_name.push(DnType::CommonName, common_name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth, ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok((cert.pem(), key.serialize_pem()))
    }
}

/// One access-control rule.
fn rule(id: &str, flow: &str, messages: &[&str], keys: &[String]) -> Value {
    json!({ "id": id, "permission": "allow", "flows": [flow], "messages": messages, "key_exprs": keys })
}

/// The router's access control: default deny, each role's rights (see the module docs).
pub fn access_control(keys: &RobotKeys) -> Value {
    use protocol::keys::Component;
    let k = keys;
    let all = k.everything();
    let alive_all = k.alive_tree();
    let tokens = |c: Component| vec![k.alive(c), k.alive_instances(c)];
    let rules = vec![
        // Everyone authenticated may receive what is routed under the robot's keys: what
        // may be sent at all is limited below, on the way in.
        rule(
            "receive",
            "egress",
            &[
                "put",
                "delete",
                "declare_subscriber",
                "query",
                "declare_queryable",
                "reply",
                "liveliness_token",
                "declare_liveliness_subscriber",
                "liveliness_query",
            ],
            &[all],
        ),
        rule("watch-components", "ingress", &["declare_liveliness_subscriber", "liveliness_query"], std::slice::from_ref(&alive_all)),
        rule("sim-publish", "ingress", &["put"], &[k.state(), k.estop_state()]),
        rule("sim-serve", "ingress", &["declare_queryable", "reply"], &[k.primitives(), k.state(), k.episode(), k.estop_state()]),
        rule("sim-hear", "ingress", &["declare_subscriber"], &[k.estop(), k.halt()]),
        rule("sim-alive", "ingress", &["liveliness_token"], &tokens(Component::Sim)),
        rule("policy-serve", "ingress", &["declare_queryable", "reply"], &[k.skill(), k.affordance()]),
        rule("policy-ask", "ingress", &["query"], &[k.primitives(), k.state(), k.estop_state()]),
        rule("policy-halt", "ingress", &["put"], &[k.halt()]),
        rule("policy-hear", "ingress", &["declare_subscriber"], &[k.estop(), k.estop_state()]),
        rule("policy-alive", "ingress", &["liveliness_token"], &tokens(Component::Policy)),
        rule("daemon-hear", "ingress", &["declare_subscriber"], &[k.instruction(), k.state(), k.estop(), k.estop_state(), k.answer()]),
        rule("daemon-ask", "ingress", &["query"], &[k.skill(), k.affordance(), k.state(), k.estop_state()]),
        rule("daemon-publish", "ingress", &["put"], &[k.plan(), k.question()]),
        rule("daemon-alive", "ingress", &["liveliness_token"], &tokens(Component::Daemon)),
        rule("operator-command", "ingress", &["put"], &[k.instruction(), k.estop(), k.answer()]),
        rule("operator-hear", "ingress", &["declare_subscriber"], &[k.plan(), k.state(), k.estop_state(), k.question()]),
        rule("operator-ask", "ingress", &["query"], &[k.state(), k.estop_state(), k.episode()]),
    ];
    let roles = [Role::Sim, Role::Policy, Role::Daemon, Role::Operator];
    let subjects: Vec<Value> = roles.iter().map(|r| json!({ "id": r.name(), "cert_common_names": [r.name()] })).collect();
    let policy = |rules: &[&str], subjects: &[&str]| json!({ "rules": rules, "subjects": subjects });
    let policies = vec![
        policy(&["receive", "watch-components"], &["sim", "policy", "daemon", "operator"]),
        policy(&["sim-publish", "sim-serve", "sim-hear", "sim-alive"], &["sim"]),
        policy(&["policy-serve", "policy-ask", "policy-halt", "policy-hear", "policy-alive"], &["policy"]),
        policy(&["daemon-hear", "daemon-ask", "daemon-publish", "daemon-alive"], &["daemon"]),
        policy(&["operator-command", "operator-hear", "operator-ask"], &["operator"]),
    ];
    json!({ "enabled": true, "default_permission": "deny", "rules": rules, "subjects": subjects, "policies": policies })
}

/// A role's zenoh configuration: the router listens on QUIC with mutual TLS and access
/// control; every other role is its client. QUIC, not zenoh's `tls/` link, which in zenoh
/// 1.10 reads and writes one rustls stream from two tasks at once and so closed a link now
/// and then ("handshake not complete"; docs/security.md).
pub fn zenoh_config(options: &InitOptions, role: Role) -> Value {
    let dir = role_dir(&options.out, role);
    let file = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let host = options.router_hosts.first().map_or("localhost", String::as_str);
    let endpoint = format!("quic/{host}:{}", options.router_port);
    let scouting = json!({ "multicast": { "enabled": false }, "gossip": { "enabled": false } });
    match role {
        Role::Router => json!({
            "mode": "router",
            "listen": { "endpoints": [format!("quic/0.0.0.0:{}", options.router_port)] },
            "scouting": scouting,
            "transport": { "link": { "tls": {
                "root_ca_certificate": file("ca.pem"),
                "listen_private_key": file("key.pem"),
                "listen_certificate": file("cert.pem"),
                "enable_mtls": true,
            } } },
            "access_control": access_control(&options.keys),
        }),
        _ => json!({
            "mode": "client",
            "connect": { "endpoints": [endpoint] },
            "scouting": scouting,
            "transport": { "link": { "tls": {
                "root_ca_certificate": file("ca.pem"),
                "connect_private_key": file("key.pem"),
                "connect_certificate": file("cert.pem"),
                "enable_mtls": true,
            } } },
        }),
    }
}

/// Make the authority, each role's certificate and key, and each role's zenoh
/// configuration under `options.out`; returns the files written.
pub fn init(options: &InitOptions) -> Result<Vec<PathBuf>, SecureError> {
    if options.router_hosts.is_empty() {
        return Err(SecureError::Invalid("give at least one --router-host: the name or address the components reach the router at".into()));
    }
    if options.out.exists() {
        return Err(SecureError::Exists(options.out.clone()));
    }
    std::fs::create_dir_all(&options.out).map_err(io(&options.out))?;
    let out = options.out.canonicalize().map_err(io(&options.out))?;
    let options = InitOptions { out: out.clone(), ..options.clone() };
    let robot = options.keys.robot().to_string();
    let (ca, ca_key) = Authority::new(&robot)?;
    let mut written = Vec::new();
    let mut put = |path: PathBuf, text: &str, secret: bool| -> Result<(), SecureError> {
        write(&path, text, secret)?;
        written.push(path);
        Ok(())
    };
    put(out.join("ca.pem"), &ca.cert_pem, false)?;
    put(out.join("ca.key"), &ca_key, true)?;
    for role in Role::ALL {
        let dir = role_dir(&out, role);
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let hosts = if role == Role::Router { options.router_hosts.clone() } else { Vec::new() };
        let (cert, key) = ca.issue(role.name(), &hosts)?;
        put(dir.join("ca.pem"), &ca.cert_pem, false)?;
        put(dir.join("cert.pem"), &cert, false)?;
        put(dir.join("key.pem"), &key, true)?;
        let config = serde_json::to_string_pretty(&zenoh_config(&options, role)).unwrap_or_default();
        put(config_path(&out, role), &config, false)?;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::keys::RobotId;

    fn options(out: PathBuf) -> InitOptions {
        InitOptions { keys: RobotKeys::new(RobotId::new("r1").unwrap()), out, router_hosts: vec!["localhost".into(), "127.0.0.1".into()], router_port: 7447 }
    }

    #[test]
    fn init_writes_loadable_configs_and_private_keys() {
        let dir = std::env::temp_dir().join(format!("grounded-secure-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let written = init(&options(dir.clone())).unwrap();
        assert_eq!(written.len(), 2 + 4 * Role::ALL.len());
        for role in Role::ALL {
            let path = config_path(&dir, role);
            zenoh::Config::from_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(role_dir(&dir, Role::Daemon).join("key.pem")).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "a key is readable by its owner only");
        }
        assert!(matches!(init(&options(dir.clone())), Err(SecureError::Exists(_))), "never overwrites keys");
        let ca = Authority::load(&std::fs::read_to_string(dir.join("ca.pem")).unwrap(), &std::fs::read_to_string(dir.join("ca.key")).unwrap()).unwrap();
        assert!(ca.issue("visitor", &[]).unwrap().0.contains("BEGIN CERTIFICATE"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn every_link_is_quic_with_mutual_tls() {
        let out = PathBuf::from("/robot/secure");
        for role in Role::ALL {
            let config = zenoh_config(&options(out.clone()), role);
            let endpoints: Vec<&str> = ["listen", "connect"]
                .iter()
                .filter_map(|side| config[side]["endpoints"].as_array())
                .flatten()
                .map(|e| e.as_str().unwrap_or_default())
                .collect();
            assert_eq!(endpoints.len(), 1, "{}: one endpoint, listened on by the router and connected to by the rest: {endpoints:?}", role.name());
            assert!(endpoints.iter().all(|e| e.starts_with("quic/")), "{}: {endpoints:?}", role.name());
            assert_eq!(config["transport"]["link"]["tls"]["enable_mtls"], true, "{}", role.name());
            assert_eq!(config["scouting"]["multicast"]["enabled"], false, "{}", role.name());
            assert_eq!(config["mode"], if role == Role::Router { "router" } else { "client" }, "{}", role.name());
        }
    }

    #[test]
    fn only_the_daemon_may_query_skills_and_only_the_policy_the_arm() {
        let keys = RobotKeys::new(RobotId::new("r1").unwrap());
        let acl = access_control(&keys);
        assert_eq!(acl["default_permission"], "deny");
        let allowed = |role: &str, message: &str, key: &str| {
            let rules: Vec<&str> = acl["policies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["subjects"].as_array().unwrap().iter().any(|s| s == role))
                .flat_map(|p| p["rules"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()))
                .collect();
            acl["rules"].as_array().unwrap().iter().any(|r| {
                rules.contains(&r["id"].as_str().unwrap())
                    && r["flows"][0] == "ingress"
                    && r["messages"].as_array().unwrap().iter().any(|m| m == message)
                    && r["key_exprs"].as_array().unwrap().iter().any(|k| k == key)
            })
        };
        for role in ["sim", "policy", "daemon", "operator"] {
            assert_eq!(allowed(role, "query", &keys.skill()), role == "daemon", "{role} query skill");
            assert_eq!(allowed(role, "query", &keys.primitives()), role == "policy", "{role} query arm");
            assert_eq!(allowed(role, "put", &keys.state()), role == "sim", "{role} put state");
            assert_eq!(allowed(role, "put", &keys.plan()), role == "daemon", "{role} put plan");
            assert_eq!(allowed(role, "put", &keys.question()), role == "daemon", "{role} put question");
            assert_eq!(allowed(role, "put", &keys.answer()), role == "operator", "{role} put answer");
            assert_eq!(allowed(role, "declare_subscriber", &keys.answer()), role == "daemon", "{role} hear answer");
            assert_eq!(allowed(role, "put", &keys.estop()), role == "operator", "{role} put estop");
            assert_eq!(allowed(role, "liveliness_token", &keys.alive(protocol::keys::Component::Sim)), role == "sim", "{role} sim token");
        }
    }
}
