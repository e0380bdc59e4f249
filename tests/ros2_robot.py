"""A ROS 2 robot without ROS, for tests/ros2_bridge.rs: its ROS side is written with
zenoh-ros2-sdk (rmw_zenoh in pure Python), its body is grounded's tabletop simulation
(`grounded sim` and `grounded policy` under another robot id, reached with eclipse-zenoh),
as a real robot's ROS nodes wrap its arm.

ROS side, under --namespace on --ros-domain, through the zenoh router at --router:
  publishes grounded_interfaces/msg/Scene on <ns>/scene (10 Hz);
  serves grounded_interfaces/srv/Affordance on <ns>/affordance;
  serves the action grounded_interfaces/action/ExecuteSkill on <ns>/execute_skill (its
  send_goal, get_result and cancel_goal services, its feedback topic);
  subscribes std_msgs/msg/Bool on <ns>/estop (true: halt and cancel the skill under way).

Type hashes are computed with rosbags from the interface files (tools/ros2/golden.py),
independently of grounded. Prints one line "ros2 robot: serving" when ready, then a line per
event ("goal accepted: ...", "goal cancelled", "estop: true").
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import threading
import time

import numpy
import zenoh

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools/ros2"))
import golden  # noqa: E402  (the interface definitions and rosbags' parse of them)

from zenoh_ros2_sdk.publisher import ROS2Publisher  # noqa: E402
from zenoh_ros2_sdk.qos import QosDurability, QosProfile  # noqa: E402
from zenoh_ros2_sdk.service_server import ROS2ServiceServer  # noqa: E402
from zenoh_ros2_sdk.session import ZenohSession  # noqa: E402
from zenoh_ros2_sdk.subscriber import ROS2Subscriber  # noqa: E402

SUCCEEDED, CANCELED, ABORTED = 4, 5, 6


def say(line: str) -> None:
    print(f"ros2 robot: {line}", flush=True)


def to_plain(msg):
    """A rosbags message as plain Python values."""
    if hasattr(msg, "__dataclass_fields__"):
        return {k: to_plain(getattr(msg, k)) for k in msg.__dataclass_fields__ if k != "__msgtype__"}
    if isinstance(msg, numpy.ndarray):
        return msg.tolist()
    if isinstance(msg, list):
        return [to_plain(x) for x in msg]
    return msg


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--router", required=True, help="HOST:PORT of the zenoh router")
    p.add_argument("--ros-domain", type=int, default=0)
    p.add_argument("--namespace", default="/r1")
    p.add_argument("--inner", required=True, help="the grounded robot id of the simulation behind this robot")
    a = p.parse_args()
    host, port = a.router.rsplit(":", 1)
    ns = a.namespace.rstrip("/")

    # The ROS side: every structure registered up front in the SDK's type store.
    sdk = ZenohSession.get_instance(host, int(port))
    defs = golden.definitions()
    for name, text in defs.items():
        types = golden.parse(name, text)
        sdk.store.register(types)
        sdk._registered_types[name] = name
    # The SDK names a service's request and response pkg/srv/Name_Request, whatever the kind.
    for name in list(defs):
        if "/action/" in name and (name.endswith("_Request") or name.endswith("_Response")):
            alias = name.replace("/action/", "/srv/")
            sdk.store.register({alias: sdk.store.fielddefs[name]})
            sdk._registered_types[alias] = alias
    hashes = {name: sdk.store.hash_rihs01(name) for name in defs}
    store = sdk.store

    def make(typename: str, value: dict):
        return golden.instance(store, typename, value)

    common = dict(node_name="tabletop_robot", namespace=ns, domain_id=a.ros_domain, router_ip=host, router_port=int(port))

    # The body: grounded's simulation, over grounded's own keys.
    conf = zenoh.Config()
    conf.insert_json5("mode", '"peer"')
    conf.insert_json5("scouting/multicast/enabled", "false")
    conf.insert_json5("connect/endpoints", json.dumps([f"tcp/{a.router}"]))
    body = zenoh.open(conf)
    inner = f"grounded/{a.inner}"

    def ask(key: str, payload: dict | None = None, timeout: float = 10.0):
        kwargs = {"payload": json.dumps(payload)} if payload is not None else {}
        for r in body.get(f"{inner}/{key}", timeout=timeout, **kwargs):
            if r.ok is None:
                raise RuntimeError(r.err.payload.to_string())
            return json.loads(r.ok.payload.to_bytes())
        raise RuntimeError(f"no answer on {inner}/{key}")

    def halt(reason: str) -> None:
        body.put(f"{inner}/halt", json.dumps({"schema": 1, "engaged": True, "reason": reason}))

    # Scene, 10 Hz.
    scene_pub = ROS2Publisher(topic=f"{ns}/scene", msg_type="grounded_interfaces/msg/Scene", msg_definition=defs["grounded_interfaces/msg/Scene"],
                              type_hash=hashes["grounded_interfaces/msg/Scene"], **common)

    def scene_value(obs: dict) -> dict:
        objects = []
        for o in obs["objects"]:
            x, y, z = o["position"]
            objects.append({"id": o["id"], "name": o["name"], "kind": o["kind"],
                            "pose": {"position": {"x": x, "y": y, "z": z}, "orientation": {"x": 0.0, "y": 0.0, "z": 0.0, "w": 1.0}},
                            "rgb": list(o.get("rgb") or []), "tags": o.get("tags", [])})
        robot = obs.get("robot") or {}
        t = float(robot.get("time_s", 0.0))
        g = robot.get("gripper", [0.0, 0.0, 0.0])
        return {"header": {"stamp": {"sec": int(t), "nanosec": int((t - int(t)) * 1e9)}, "frame_id": "base"}, "domain": obs["domain"],
                "objects": objects, "holding": robot.get("holding") or "", "gripper": {"x": g[0], "y": g[1], "z": g[2]}}

    # The body's latest state: asked once, then as the simulation publishes it after every
    # change (a query would wait behind a motion under way).
    latest = [None]

    def on_state(sample):
        try:
            latest[0] = json.loads(sample.payload.to_bytes())
        except ValueError:
            pass

    state_sub = body.declare_subscriber(f"{inner}/state", on_state)  # noqa: F841  (kept alive)

    def publish_scenes():
        while True:
            try:
                if latest[0] is None:
                    latest[0] = ask("state", timeout=2.0)
                v = scene_value(latest[0])
                scene_pub.publish(**{k: make_field("grounded_interfaces/msg/Scene", k, val) for k, val in v.items()})
            except Exception as e:  # noqa: BLE001  (a test fixture: say it and go on)
                say(f"scene: {e}")
            time.sleep(0.1)

    def make_field(typename: str, field: str, value):
        return golden.field_value(store, dict(store.fielddefs[typename][1])[field], value)

    # Affordance: the simulation's policy scores the skills.
    def on_affordance(req):
        skills = list(req.skills)
        try:
            reply = ask("affordance", {"schema": 1, "texts": [{"text": s, "complete": True} for s in skills]})
            scores = [float(s) for s in reply["scores"]]
        except Exception as e:  # noqa: BLE001
            say(f"affordance: {e}")
            scores = [0.0] * len(skills)
        return make("grounded_interfaces/srv/Affordance_Response", {"scores": scores})

    ROS2ServiceServer(service_name=f"{ns}/affordance", srv_type="grounded_interfaces/srv/Affordance", callback=on_affordance,
                      request_definition=defs["grounded_interfaces/srv/Affordance_Request"],
                      response_definition=defs["grounded_interfaces/srv/Affordance_Response"],
                      type_hash=hashes["grounded_interfaces/srv/Affordance"], **common)

    # ExecuteSkill: goals run one at a time on the simulation's policy.
    action = "grounded_interfaces/action/ExecuteSkill"
    feedback_pub = ROS2Publisher(topic=f"{ns}/execute_skill/_action/feedback", msg_type=f"{action}_FeedbackMessage",
                                 msg_definition=defs[f"{action}_FeedbackMessage"], type_hash=hashes[f"{action}_FeedbackMessage"], **common)
    goals: dict[bytes, dict] = {}
    lock = threading.Lock()

    def run_goal(gid: bytes, skill: str) -> None:
        status, success, reason = SUCCEEDED, False, ""
        try:
            sent = json.dumps({"schema": 1, "skill": skill})
            for r in body.get(f"{inner}/skill", payload=sent, timeout=120.0):
                if r.ok is None:
                    reason = r.err.payload.to_string()
                    break
                rep = json.loads(r.ok.payload.to_bytes())
                if rep.get("kind") == "progress":
                    feedback_pub.publish(goal_id=make("unique_identifier_msgs/msg/UUID", {"uuid": list(gid)}),
                                         feedback=make(f"{action}_Feedback", {"phase": rep.get("phase", ""), "progress": 0.5}))
                elif rep.get("kind") == "result":
                    success, reason = bool(rep.get("success")), rep.get("reason") or ""
        except Exception as e:  # noqa: BLE001
            reason = str(e)
        with lock:
            g = goals[gid]
            if g["cancelled"]:
                status = CANCELED
            elif not success:
                status = ABORTED
            g.update(status=status, success=success and status == SUCCEEDED, reason=reason)
            g["done"].set()
        say(f"goal ended: {skill!r} status {status}")

    def on_send_goal(req):
        gid = bytes(req.goal_id.uuid.tolist())
        skill = req.goal.skill
        with lock:
            goals[gid] = {"done": threading.Event(), "cancelled": False, "skill": skill}
        say(f"goal accepted: {skill!r} template {req.goal.template!r} slots {list(req.goal.slot_values)}")
        threading.Thread(target=run_goal, args=(gid, skill), daemon=True).start()
        now = time.time()
        return make(f"{action}_SendGoal_Response", {"accepted": True, "stamp": {"sec": int(now), "nanosec": 0}})

    ROS2ServiceServer(service_name=f"{ns}/execute_skill/_action/send_goal", srv_type=f"{action}_SendGoal", callback=on_send_goal,
                      request_definition=defs[f"{action}_SendGoal_Request"], response_definition=defs[f"{action}_SendGoal_Response"],
                      type_hash=hashes[f"{action}_SendGoal"], **common)

    get_result = ROS2ServiceServer(service_name=f"{ns}/execute_skill/_action/get_result", srv_type=f"{action}_GetResult", mode="queue",
                                   request_definition=defs[f"{action}_GetResult_Request"], response_definition=defs[f"{action}_GetResult_Response"],
                                   type_hash=hashes[f"{action}_GetResult"], **common)

    def answer_results():
        while True:
            key, req = get_result.take_request()
            gid = bytes(req.goal_id.uuid.tolist())

            def answer(key=key, gid=gid):
                with lock:
                    g = goals.get(gid)
                if g is None:
                    value = {"status": 0, "result": {"success": False, "reason": "unknown goal"}}
                else:
                    g["done"].wait()
                    value = {"status": g["status"], "result": {"success": g["success"], "reason": g["reason"]}}
                get_result.send_response(key, make(f"{action}_GetResult_Response", value))
            threading.Thread(target=answer, daemon=True).start()

    def cancel(gid: bytes | None, why: str) -> list[bytes]:
        with lock:
            targets = [k for k, g in goals.items() if not g["done"].is_set() and (gid is None or k == gid)]
            for k in targets:
                goals[k]["cancelled"] = True
        if targets:
            halt(why)
            say(f"goal cancelled ({why})")
        return targets

    def on_cancel(req):
        gid = bytes(req.goal_info.goal_id.uuid.tolist())
        gid = None if gid == bytes(16) else gid
        targets = cancel(gid, "cancel_goal")
        infos = [{"goal_id": {"uuid": list(t)}, "stamp": {"sec": 0, "nanosec": 0}} for t in targets]
        return make("action_msgs/srv/CancelGoal_Response", {"return_code": 0 if targets else 2, "goals_canceling": infos})

    ROS2ServiceServer(service_name=f"{ns}/execute_skill/_action/cancel_goal", srv_type="action_msgs/srv/CancelGoal", callback=on_cancel,
                      request_definition=defs["action_msgs/srv/CancelGoal_Request"], response_definition=defs["action_msgs/srv/CancelGoal_Response"],
                      type_hash=hashes["action_msgs/srv/CancelGoal"], **common)

    last_estop = [None]

    def on_estop(msg):
        # Said again every second by the bridge: report changes only.
        if last_estop[0] != bool(msg.data):
            last_estop[0] = bool(msg.data)
            say(f"estop: {str(bool(msg.data)).lower()}")
        if msg.data:
            cancel(None, "emergency stop")

    # Latched, as a robot's stop input should be: a late subscriber gets the last state.
    latched = QosProfile(durability=QosDurability.TRANSIENT_LOCAL, history_depth=1)
    ROS2Subscriber(topic=f"{ns}/estop", msg_type="std_msgs/msg/Bool", callback=on_estop, msg_definition=defs["std_msgs/msg/Bool"],
                   type_hash=hashes["std_msgs/msg/Bool"], qos=latched, **common)

    keep = [state_sub]  # noqa: F841
    threading.Thread(target=publish_scenes, daemon=True).start()
    threading.Thread(target=answer_results, daemon=True).start()
    say("serving")
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
