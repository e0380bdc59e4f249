//! The wire format checked against independent implementations: type hashes, CDR bytes, key
//! expressions, liveliness tokens, QoS strings and attachments as rosbags and zenoh-ros2-sdk
//! compute them (tests/fixtures/golden.json; tools/ros2/golden.py made it, and says how to
//! make it again).

use grounded_hardware::ros2::attachment::Attachment;
use grounded_hardware::ros2::names::{data_key, EntityKind, Node, Qos};
use grounded_hardware::ros2::{cdr, type_hash, TypeName, TypeStore};
use serde_json::Value;

fn golden() -> Value {
    let text = include_str!("fixtures/golden.json");
    serde_json::from_str(text).expect("golden.json is JSON")
}

fn name(s: &str) -> TypeName {
    TypeName::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn every_structures_rihs01_hash_is_the_one_rosbags_and_zenoh_ros2_sdk_compute() {
    let g = golden();
    let store = TypeStore::with_grounded_interfaces();
    let hashes = g["hashes"].as_object().expect("hashes");
    assert!(hashes.len() >= 30, "the fixture covers the standard and grounded interfaces");
    for (ty, want) in hashes.iter().chain(g["service_hashes"].as_object().expect("service hashes")) {
        let got = type_hash::rihs01(&store, &name(ty)).unwrap_or_else(|e| panic!("{ty}: {e}"));
        assert_eq!(got, want.as_str().unwrap_or_default(), "{ty}");
    }
}

#[test]
fn cdr_bytes_are_rosbags_bytes_and_decode_back() {
    let g = golden();
    let store = TypeStore::with_grounded_interfaces();
    for sample in g["cdr"].as_array().expect("cdr samples") {
        let ty = sample["type"].as_str().unwrap_or_default();
        let m = store.get(&name(ty)).unwrap_or_else(|| panic!("{ty} unknown"));
        let bytes = cdr::encode(&store, m, &sample["value"]).unwrap_or_else(|e| panic!("{ty}: {e}"));
        assert_eq!(hex(&bytes), sample["hex"].as_str().unwrap_or_default(), "{ty}");
        let back = cdr::decode(&store, m, &bytes).unwrap_or_else(|e| panic!("{ty}: {e}"));
        assert_eq!(back, sample["value"], "{ty} decodes to the value it was made from");
    }
}

#[test]
fn key_expressions_tokens_qos_and_attachments_are_zenoh_ros2_sdks() {
    let g = golden();
    for k in g["keys"].as_array().expect("keys") {
        let domain = k["domain"].as_u64().unwrap_or_default() as u32;
        let key =
            data_key(domain, k["name"].as_str().unwrap_or_default(), &name(k["type"].as_str().unwrap_or_default()), k["hash"].as_str().unwrap_or_default());
        assert_eq!(key, k["key"].as_str().unwrap_or_default());
    }
    let hashes = &g["hashes"];
    let node = Node { domain: 0, zid: "1f2e3d4c5b6a79880123456789abcdef".into(), id: 0, namespace: "/r1".into(), name: "grounded_bridge".into() };
    assert_eq!(node.token(), g["tokens"]["node"].as_str().unwrap_or_default());
    let string = name("std_msgs/msg/String");
    let publisher =
        node.endpoint_token(3, EntityKind::Publisher, "/r1/estop", &string, hashes["std_msgs/msg/String"].as_str().unwrap_or_default(), &Qos::LATCHED);
    assert_eq!(publisher, g["tokens"]["publisher"].as_str().unwrap_or_default());
    let affordance = name("grounded_interfaces/srv/Affordance");
    let service = node.endpoint_token(
        4,
        EntityKind::Service,
        "/r1/affordance",
        &affordance,
        hashes[affordance.to_string()].as_str().unwrap_or_default(),
        &Qos::default(),
    );
    assert_eq!(service, g["tokens"]["service"].as_str().unwrap_or_default());
    assert_eq!(Qos::default().encode(), g["qos"]["default"].as_str().unwrap_or_default());
    assert_eq!(Qos::LATCHED.encode(), g["qos"]["latched"].as_str().unwrap_or_default());
    assert_eq!(Qos { best_effort: true, ..Qos::default() }.encode(), g["qos"]["best_effort"].as_str().unwrap_or_default());
    for a in g["attachments"].as_array().expect("attachments") {
        let mut gid = [0u8; 16];
        for (slot, v) in gid.iter_mut().zip(a["gid"].as_array().expect("gid")) {
            *slot = v.as_u64().unwrap_or_default() as u8;
        }
        let att = Attachment { sequence: a["sequence"].as_i64().unwrap_or_default(), timestamp_ns: a["timestamp_ns"].as_i64().unwrap_or_default(), gid };
        assert_eq!(hex(&att.encode()), a["hex"].as_str().unwrap_or_default());
        assert_eq!(Attachment::decode(&att.encode()), Ok(att));
    }
}
