#!/usr/bin/env python3
"""Golden values of ROS 2's wire format over rmw_zenoh, for hardware/tests/golden.rs, computed
by implementations independent of grounded:

- rosbags: parses the interface files (hardware/ros2/standard/, grounded_interfaces/),
  hashes every structure (RIHS01, REP 2016) and serialises sample messages to CDR;
- zenoh-ros2-sdk (rmw_zenoh in pure Python): service type hashes, key expressions,
  liveliness tokens, QoS strings and attachments.

The structures rosidl derives from services and actions (_Request, _Response, _Event,
_SendGoal, _GetResult, _FeedbackMessage) are written out here from their definitions
(REP 2016, rosidl's action design) and handed to rosbags as messages.

Run from the repository root:

    python3 -m venv /tmp/ros2-golden
    /tmp/ros2-golden/bin/pip install rosbags==0.11.9 zenoh-ros2-sdk==0.1.8
    /tmp/ros2-golden/bin/python tools/ros2/golden.py > hardware/tests/fixtures/golden.json
"""

from __future__ import annotations

import importlib.metadata
import json
import pathlib
import re

import numpy
from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from rosbags.typesys.store import Nodetype
from zenoh_ros2_sdk import keyexpr, utils
from zenoh_ros2_sdk.attachment import Attachment
from zenoh_ros2_sdk.entity import EndpointEntity, EntityKind, NodeEntity
from zenoh_ros2_sdk.qos import QosDurability, QosProfile, QosReliability

ROOT = pathlib.Path(__file__).resolve().parents[2]
DIRS = [ROOT / "hardware/ros2/standard", ROOT / "hardware/ros2"]


def sections(text: str) -> list[str]:
    out = [[]]
    for line in text.splitlines():
        if line.strip() == "---":
            out.append([])
        else:
            out[-1].append(line)
    return ["\n".join(s) + "\n" for s in out]


def definitions() -> dict[str, str]:
    """Every structure's message text, by full type name."""
    defs: dict[str, str] = {}

    def service(name: str, request: str, response: str) -> None:
        defs[f"{name}_Request"] = request
        defs[f"{name}_Response"] = response
        defs[f"{name}_Event"] = (
            f"service_msgs/ServiceEventInfo info\n{name}_Request[<=1] request\n{name}_Response[<=1] response\n"
        )
        defs[name] = f"{name}_Request request_message\n{name}_Response response_message\n{name}_Event event_message\n"

    for base in DIRS:
        for path in sorted(base.glob("*/*/*")):
            package, kind, file = path.relative_to(base).parts
            if kind not in ("msg", "srv", "action"):
                continue
            name = f"{package}/{kind}/{path.stem}"
            parts = sections(path.read_text())
            if kind == "msg":
                defs[name] = parts[0]
            elif kind == "srv":
                service(name, parts[0], parts[1])
            else:
                goal, result, feedback = parts
                defs[f"{name}_Goal"], defs[f"{name}_Result"], defs[f"{name}_Feedback"] = goal, result, feedback
                service(
                    f"{name}_SendGoal",
                    f"unique_identifier_msgs/UUID goal_id\n{name}_Goal goal\n",
                    "bool accepted\nbuiltin_interfaces/Time stamp\n",
                )
                service(f"{name}_GetResult", "unique_identifier_msgs/UUID goal_id\n", f"int8 status\n{name}_Result result\n")
                defs[f"{name}_FeedbackMessage"] = f"unique_identifier_msgs/UUID goal_id\n{name}_Feedback feedback\n"
                defs[name] = (
                    f"{name}_Goal goal\n{name}_Result result\n{name}_Feedback feedback\n"
                    f"{name}_SendGoal send_goal_service\n{name}_GetResult get_result_service\n"
                    f"{name}_FeedbackMessage feedback_message\n"
                )
    return defs


def parse(name: str, text: str) -> dict:
    """rosbags' parse of a structure's text. rosbags reads names of kind srv as messages of a
    package "pkg/srv", so parse as a message of the package and put the real names back."""
    package, _, leaf = name.split("/")
    fix = lambda n: n.replace("/srv/msg/", "/srv/")

    def fixed(desc):
        kind, rest = desc
        if kind == Nodetype.NAME:
            return (kind, fix(rest))
        if kind in (Nodetype.ARRAY, Nodetype.SEQUENCE):
            return (kind, (fixed(rest[0]), rest[1]))
        return desc

    # rosidl reads a .msg file's `char` as uint8 (rosidl_adapter); rosbags keeps it a char.
    text = re.sub(r"^(\s*)char(\[|\s)", r"\1uint8\2", text, flags=re.MULTILINE)
    ((_, (consts, fields)),) = get_types_from_msg(text, f"{package}/msg/{leaf}").items()
    return {name: (consts, [(f, fixed(d)) for f, d in fields])}


DTYPES = {
    "bool": numpy.bool_, "byte": numpy.uint8, "char": numpy.uint8, "int8": numpy.int8, "uint8": numpy.uint8,
    "int16": numpy.int16, "uint16": numpy.uint16, "int32": numpy.int32, "uint32": numpy.uint32,
    "int64": numpy.int64, "uint64": numpy.uint64, "float32": numpy.float32, "float64": numpy.float64,
}


def field_value(store, desc, v):
    """A field's value as rosbags holds it: nested messages, numpy arrays of numbers."""
    if desc[0] == Nodetype.NAME:
        return instance(store, desc[1], v)
    if desc[0] == Nodetype.BASE:
        return v
    (sub, subname), _ = desc[1]
    if sub == Nodetype.NAME:
        return [instance(store, subname, x) for x in v]
    if subname[0] == "string":
        return list(v)
    return numpy.array(v, dtype=DTYPES[subname[0]])


def instance(store, typename: str, value: dict):
    """A rosbags message of `typename` from a JSON-like value."""
    fields = {name: field_value(store, desc, value[name]) for name, desc in store.fielddefs[typename][1]}
    return store.types[typename](**fields)


POSE = {"position": {"x": 0.5, "y": -0.25, "z": 0.125}, "orientation": {"x": 0.0, "y": 0.0, "z": 0.7071, "w": 0.7071}}
SAMPLES = [
    ("std_msgs/msg/String", {"data": "hello, robot"}),
    ("geometry_msgs/msg/Pose", POSE),
    ("action_msgs/msg/GoalStatusArray", {"status_list": [
        {"goal_info": {"goal_id": {"uuid": list(range(16))}, "stamp": {"sec": 7, "nanosec": 9}}, "status": 2},
        {"goal_info": {"goal_id": {"uuid": [255] * 16}, "stamp": {"sec": -1, "nanosec": 0}}, "status": 5},
    ]}),
    ("grounded_interfaces/msg/Scene", {
        "header": {"stamp": {"sec": 12, "nanosec": 500}, "frame_id": "base_link"},
        "domain": "tabletop",
        "objects": [
            {"id": "b1", "name": "red block", "kind": "block", "pose": POSE, "rgb": [255, 0, 0], "tags": []},
            {"id": "w1", "name": "blue bowl", "kind": "bowl", "pose": POSE, "rgb": [], "tags": ["bowl", "container"]},
        ],
        "holding": "",
        "gripper": {"x": 0.0, "y": 0.1, "z": 0.3},
    }),
    ("grounded_interfaces/srv/Affordance_Response", {"scores": [1.0, 0.5, 0.0]}),
    ("grounded_interfaces/action/ExecuteSkill_SendGoal_Request", {
        "goal_id": {"uuid": [3] * 16},
        "goal": {"skill": "put the red parcel on the top shelf", "template": "put the {parcel} on the {shelf}",
                 "slot_names": ["parcel", "shelf"], "slot_values": ["red parcel", "top shelf"]},
    }),
    ("grounded_interfaces/action/ExecuteSkill_FeedbackMessage", {
        "goal_id": {"uuid": [1] * 16}, "feedback": {"phase": "grasp", "progress": 0.25},
    }),
    ("grounded_interfaces/action/ExecuteSkill_GetResult_Response", {
        "status": 4, "result": {"success": False, "reason": "the gripper closed on nothing"},
    }),
]


def main() -> None:
    store = get_typestore(Stores.EMPTY)
    defs = definitions()
    for name, text in defs.items():
        store.register(parse(name, text))
    hashes = {name: store.hash_rihs01(name) for name in sorted(defs)}

    # Service hashes again, from zenoh-ros2-sdk's own construction of the service structure.
    services = {}
    for path in sorted((ROOT / "hardware/ros2").glob("*/srv/*.srv")) + sorted((ROOT / "hardware/ros2/standard").glob("*/srv/*.srv")):
        package = path.parent.parent.name
        name = f"{package}/srv/{path.stem}"
        request, response = sections(path.read_text())
        deps = {n: t for n, t in defs.items() if "/msg/" in n}
        services[name] = utils.compute_service_type_hash(name, request, response, deps)

    cdr = [{"type": t, "value": v, "hex": bytes(store.serialize_cdr(instance(store, t, v), t)).hex()} for t, v in SAMPLES]

    node = NodeEntity(domain_id=0, session_id="1f2e3d4c5b6a79880123456789abcdef", node_id=0, node_name="grounded_bridge", namespace="/r1")
    string_hash = hashes["std_msgs/msg/String"]
    keys = []
    for domain, name, typ in [(0, "/chatter", "std_msgs/msg/String"), (7, "/r1/scene", "grounded_interfaces/msg/Scene"),
                              (0, "/r1/affordance", "grounded_interfaces/srv/Affordance"),
                              (0, "/r1/execute_skill/_action/feedback", "grounded_interfaces/action/ExecuteSkill_FeedbackMessage")]:
        keys.append({"domain": domain, "name": name, "type": typ, "hash": hashes[typ],
                     "key": keyexpr.topic_keyexpr(domain, name, utils.ros2_to_dds_type(typ), hashes[typ])})
    latched = QosProfile(reliability=QosReliability.RELIABLE, durability=QosDurability.TRANSIENT_LOCAL, history_depth=1)
    tokens = {
        "node": keyexpr.node_liveliness_keyexpr(node),
        "publisher": keyexpr.endpoint_liveliness_keyexpr(EndpointEntity(
            node=node, entity_id=3, kind=EntityKind.PUBLISHER, name="/r1/estop", dds_type_name=utils.ros2_to_dds_type("std_msgs/msg/String"),
            type_hash=string_hash, qos=latched.encode())),
        "service": keyexpr.endpoint_liveliness_keyexpr(EndpointEntity(
            node=node, entity_id=4, kind=EntityKind.SERVICE, name="/r1/affordance",
            dds_type_name=utils.ros2_to_dds_type("grounded_interfaces/srv/Affordance"),
            type_hash=hashes["grounded_interfaces/srv/Affordance"], qos=QosProfile().encode())),
    }
    qos = {"default": QosProfile().encode(), "latched": latched.encode(),
           "best_effort": QosProfile(reliability=QosReliability.BEST_EFFORT).encode()}
    attachments = [{"sequence": s, "timestamp_ns": t, "gid": list(g), "hex": Attachment(s, t, g).to_bytes().hex()}
                   for s, t, g in [(1, 1764748800123456789, bytes(range(16))), (42, 0, bytes([0xab] * 16))]]

    print(json.dumps({
        "made_by": "tools/ros2/golden.py (see its docstring for the command)",
        "tools": {p: importlib.metadata.version(p) for p in ("rosbags", "zenoh-ros2-sdk")},
        "hashes": hashes,
        "service_hashes": services,
        "cdr": cdr,
        "keys": keys,
        "tokens": tokens,
        "qos": qos,
        "attachments": attachments,
    }, indent=1))


if __name__ == "__main__":
    main()
