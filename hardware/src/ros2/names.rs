//! rmw_zenoh's names: the key expression of a topic or service
//! (`<domain>/<name>/<dds type>/<RIHS01 hash>`), and the liveliness tokens that make nodes
//! and their endpoints show in `ros2 node list` and `ros2 topic list`
//! (`@ros2_lv/<domain>/<zid>/<node id>/<entity id>/<kind>/<enclave>/<namespace>/<node>/...`),
//! with `/` in names written `%` and QoS in rmw_zenoh's compact form.

use super::idl::TypeName;

/// A ROS name's `/`s as `%` (empty or `/` alone: `%`), as liveliness tokens hold names.
pub fn mangle(name: &str) -> String {
    if name.is_empty() || name == "/" {
        "%".into()
    } else {
        name.replace('/', "%")
    }
}

/// A fully qualified name: `namespace` (`/` or `/r1`) joined with a relative `name`.
pub fn qualify(namespace: &str, name: &str) -> String {
    let ns = namespace.trim_end_matches('/');
    format!("{ns}/{}", name.trim_start_matches('/'))
}

/// The key expression of a topic or service.
pub fn data_key(domain: u32, qualified_name: &str, ty: &TypeName, hash: &str) -> String {
    format!("{domain}/{}/{}/{hash}", qualified_name.trim_start_matches('/'), ty.dds())
}

/// A node of the ROS graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub domain: u32,
    /// The zenoh session's id, as text.
    pub zid: String,
    pub id: u32,
    /// `/` or `/r1`.
    pub namespace: String,
    pub name: String,
}

/// What an endpoint of a node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntityKind {
    Publisher,
    Subscription,
    Service,
    Client,
}

impl EntityKind {
    fn code(self) -> &'static str {
        match self {
            EntityKind::Publisher => "MP",
            EntityKind::Subscription => "MS",
            EntityKind::Service => "SS",
            EntityKind::Client => "SC",
        }
    }
}

/// The part of QoS a bridge sets; the rest is ROS's default (and elided in the token).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Qos {
    pub best_effort: bool,
    /// Late joiners get the last `depth` samples (a latched topic: the e-stop).
    pub transient_local: bool,
    /// Keep the last `depth` samples; `None`: keep all.
    pub depth: Option<u32>,
}

impl Default for Qos {
    fn default() -> Self {
        Self { best_effort: false, transient_local: false, depth: Some(10) }
    }
}

impl Qos {
    /// A latched topic: reliable, transient local, the last sample kept.
    pub const LATCHED: Qos = Qos { best_effort: false, transient_local: true, depth: Some(1) };

    /// rmw_zenoh's compact form: `reliability:durability:history,depth:deadline:lifespan:liveliness`,
    /// each field empty where it is ROS's default.
    pub fn encode(&self) -> String {
        let reliability = if self.best_effort { "2" } else { "" };
        let durability = if self.transient_local { "1" } else { "" };
        let history = match self.depth {
            Some(d) => format!(",{d}"),
            None => "2,".into(),
        };
        format!("{reliability}:{durability}:{history}:,:,:,,")
    }
}

impl Node {
    fn prefix(&self, entity: u32, kind: &str) -> String {
        format!("@ros2_lv/{}/{}/{}/{entity}/{kind}/%/{}/{}", self.domain, self.zid, self.id, mangle(&self.namespace), mangle(&self.name))
    }

    /// The node's own token.
    pub fn token(&self) -> String {
        self.prefix(self.id, "NN")
    }

    /// The token of one of its endpoints.
    pub fn endpoint_token(&self, entity: u32, kind: EntityKind, qualified_name: &str, ty: &TypeName, hash: &str, qos: &Qos) -> String {
        format!("{}/{}/{}/{hash}/{}", self.prefix(entity, kind.code()), mangle(qualified_name), ty.dds(), qos.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keys_and_tokens_are_written_as_rmw_zenoh_does() {
        assert_eq!(qualify("/", "scene"), "/scene");
        assert_eq!(qualify("/r1/", "/scene"), "/r1/scene");
        let ty = TypeName::parse("std_msgs/msg/String").unwrap();
        assert_eq!(data_key(0, "/chatter", &ty, "RIHS01_ab"), "0/chatter/std_msgs::msg::dds_::String_/RIHS01_ab");
        let node = Node { domain: 3, zid: "aa".into(), id: 0, namespace: "/r1".into(), name: "bridge".into() };
        assert_eq!(node.token(), "@ros2_lv/3/aa/0/0/NN/%/%r1/bridge");
        assert_eq!(
            node.endpoint_token(2, EntityKind::Publisher, "/r1/estop", &ty, "RIHS01_ab", &Qos::LATCHED),
            "@ros2_lv/3/aa/0/2/MP/%/%r1/bridge/%r1%estop/std_msgs::msg::dds_::String_/RIHS01_ab/:1:,1:,:,:,,"
        );
        assert_eq!(Qos::default().encode(), "::,10:,:,:,,");
    }
}
