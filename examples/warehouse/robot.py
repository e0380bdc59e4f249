"""A tiny warehouse robot that speaks grounded's zenoh protocol (docs/protocol.md), with a
simulated world of its own: parcels on shelves, a cart and the floor, a packer to hand
them to. It needs only the `eclipse-zenoh` package.

  python examples/warehouse/robot.py --robot w1 --listen tcp/127.0.0.1:7601

It publishes its observation (domain "warehouse") on grounded/<robot>/state and answers
queries there; holds the emergency stop (estop, estop/state); carries out skills on `skill`
(progress, then the result); scores skills on `affordance` (1 when it can do the skill
now, 0 otherwise); and runs episodes on `episode`: `{"kind": "reset", "task": "red
parcel=top shelf", "seed": 3}` lays out a new scene with that goal (goals separated by
`;`, a place is a shelf, `cart` or `packer`), `{"kind": "judge"}` checks it.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import threading
import time

import zenoh

COLOURS = ["red", "blue", "green", "yellow", "white", "orange", "purple", "pink"]
SHELVES = ["top shelf", "bottom shelf"]
HOLDERS = SHELVES + ["cart"]
PLACES = ["loading dock", "packing table", "charging station"]
PERSON = "packer"


class Warehouse:
    """The world: where each parcel is, where the robot is, what it holds, the goal."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset("", 0)

    def reset(self, task: str, seed: int):
        rng = random.Random(seed)
        goals = [g.split("=")[0].strip() for g in task.split(";") if "=" in g]
        # The goal's parcels, then others of random colours, three at least.
        names = list(dict.fromkeys(goals))
        names += [f"{c} parcel" for c in rng.sample(COLOURS, len(COLOURS)) if f"{c} parcel" not in names][:max(0, 3 - len(names))]
        self.parcels = {n: rng.choice(HOLDERS + ["floor"]) for n in names}
        self.goal = {}
        for goal in task.split(";"):
            if "=" in goal:
                parcel, place = (x.strip() for x in goal.split("=", 1))
                self.goal[parcel] = place
        self.at, self.holding, self.scanned = "loading dock", None, set()
        self.clock = 0.0

    def observation(self) -> dict:
        objects = []
        for i, (name, where) in enumerate(sorted(self.parcels.items())):
            if where == PERSON:
                continue  # handed over: the packer has it
            objects.append({"id": f"p{i}", "name": name, "kind": "box", "position": [float(i), 0.0, 0.0], "tags": ["parcel"]})
        for i, name in enumerate(SHELVES):
            objects.append({"id": f"s{i}", "name": name, "kind": "box", "position": [5.0, float(i), 0.0], "tags": ["shelf"]})
        objects.append({"id": "c0", "name": "cart", "kind": "box", "position": [2.0, -1.0, 0.0], "tags": ["cart"]})
        objects.append({"id": "h0", "name": PERSON, "kind": "item", "position": [0.0, -2.0, 0.0], "tags": ["person"]})
        robot = {"time_s": self.clock, "gripper": [0.0, 0.0, 0.5]}
        if self.holding:
            robot["holding"] = self.holding
        return {"schema": 1, "domain": "warehouse", "objects": objects, "robot": robot}

    def check(self, skill: str):
        """What `skill` would do: (None, action) when it can be done now, (reason, None) if not."""
        present = {n for n, w in self.parcels.items() if w != PERSON}
        if skill == "done":
            return None, lambda: None
        if m := re.fullmatch(r"go to the (.+)", skill):
            if m[1] not in PLACES:
                return f"there is no {m[1]} to go to", None
            return None, lambda: setattr(self, "at", m[1])
        if m := re.fullmatch(r"pick up the (.+)", skill):
            if m[1] not in present:
                return f"there is no {m[1]} here", None
            if self.holding:
                return f"the robot holds the {self.holding} already", None

            def pick():
                self.holding = m[1]
                self.parcels[m[1]] = "robot"
            return None, pick
        if m := re.fullmatch(r"put the (.+) on the (.+)", skill):
            if self.holding != m[1]:
                return f"the robot does not hold the {m[1]}", None
            if m[2] not in HOLDERS:
                return f"there is no {m[2]} to put it on", None

            def put():
                self.parcels[m[1]] = m[2]
                self.holding = None
            return None, put
        if m := re.fullmatch(r"hand the (.+) to the (.+)", skill):
            if self.holding != m[1] or m[2] != PERSON:
                return f"cannot hand the {m[1]} to the {m[2]}", None

            def hand():
                self.parcels[m[1]] = PERSON
                self.holding = None
            return None, hand
        if m := re.fullmatch(r"scan the (.+)", skill):
            if m[1] not in present:
                return f"there is no {m[1]} to scan", None
            return None, lambda: self.scanned.add(m[1])
        if re.fullmatch(r"wait for the (.+)", skill):
            return None, lambda: None
        return f"this robot cannot {skill!r}", None

    def judge(self):
        wrong = [f"the {p} is on the {self.parcels.get(p, 'nowhere')}, not the {g}" for p, g in self.goal.items() if self.parcels.get(p) != g]
        return (not wrong and bool(self.goal)), "; ".join(wrong) or (None if self.goal else "no goal was set")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--robot", default="w1")
    p.add_argument("--listen", action="append", default=[])
    p.add_argument("--connect", action="append", default=[])
    p.add_argument("--task", default="", help="the first episode's goal, e.g. 'red parcel=top shelf'")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    conf = zenoh.Config()
    conf.insert_json5("mode", '"peer"')
    conf.insert_json5("scouting/multicast/enabled", "false")
    if a.listen:
        conf.insert_json5("listen/endpoints", json.dumps(a.listen))
    if a.connect:
        conf.insert_json5("connect/endpoints", json.dumps(a.connect))
    world = Warehouse()
    world.reset(a.task, a.seed)
    stop = {"engaged": False, "reason": None, "epoch": 0}
    key = lambda rest: f"grounded/{a.robot}/{rest}"  # noqa: E731

    with zenoh.open(conf) as session:
        def publish_state():
            session.put(key("state"), json.dumps(world.observation()))

        def on_state(query):
            with world.lock:
                query.reply(key("state"), json.dumps(world.observation()))

        def on_stop_state(query):
            query.reply(key("estop/state"), json.dumps({"schema": 1, **stop}))

        def on_stop(sample):
            try:
                msg = json.loads(sample.payload.to_bytes())
                engaged = bool(msg["engaged"])
            except (ValueError, KeyError, TypeError):
                return
            stop.update(engaged=engaged, reason=msg.get("reason"), epoch=stop["epoch"] + 1)
            session.put(key("estop/state"), json.dumps({"schema": 1, **stop}))

        def result(query, success, reason):
            query.reply(key("skill"), json.dumps({"schema": 1, "kind": "result", "success": success, "reason": reason, "sim_seconds": world.clock}))

        def on_skill(query):
            try:
                skill = json.loads(query.payload.to_bytes())["skill"]
            except (ValueError, KeyError, TypeError, AttributeError):
                return result(query, False, "a skill request is {\"skill\": \"...\"}")
            if stop["engaged"]:
                return result(query, False, "emergency stop engaged")
            with world.lock:
                reason, action = world.check(skill)
                if action is None:
                    return result(query, False, reason)
                query.reply(key("skill"), json.dumps({"schema": 1, "kind": "progress", "phase": "moving"}))
                time.sleep(0.01)
                action()
                world.clock += 5.0
            publish_state()
            result(query, True, None)

        def on_affordance(query):
            try:
                req = json.loads(query.payload.to_bytes())
                texts = [t["text"] for t in req.get("texts", [])]
            except (ValueError, KeyError, TypeError, AttributeError):
                return query.reply_err("an affordance request is {\"texts\": [{\"text\": \"...\"}]}")
            with world.lock:
                scores = [1.0 if world.check(t)[1] is not None else 0.0 for t in texts]
            query.reply(key("affordance"), json.dumps({"schema": 1, "skills": [], "scores": scores}))

        def on_episode(query):
            try:
                req = json.loads(query.payload.to_bytes())
            except (ValueError, TypeError, AttributeError):
                return query.reply_err("an episode request is {\"kind\": \"reset\" | \"judge\", ...}")
            with world.lock:
                if req.get("kind") == "reset":
                    world.reset(str(req.get("task", "")), int(req.get("seed", 0)))
                    success, reason = None, None
                else:
                    success, reason = world.judge()
            query.reply(key("episode"), json.dumps({"schema": 1, "task": ";".join(f"{k}={v}" for k, v in world.goal.items()) or "none",
                                                  "instruction": "", "success": success, "reason": reason, "sim_seconds": world.clock}))
            publish_state()

        keep = [
            session.declare_queryable(key("state"), on_state),
            session.declare_queryable(key("estop/state"), on_stop_state),
            session.declare_subscriber(key("estop"), on_stop),
            session.declare_queryable(key("skill"), on_skill),
            session.declare_queryable(key("affordance"), on_affordance),
            session.declare_queryable(key("episode"), on_episode),
            session.liveliness().declare_token(key("alive/sim")),
            session.liveliness().declare_token(key("alive/policy")),
        ]
        publish_state()
        print(f"warehouse robot {a.robot}: serving grounded/{a.robot}/*", flush=True)
        try:
            while True:
                time.sleep(1.0)
        except KeyboardInterrupt:
            pass
        del keep


if __name__ == "__main__":
    main()
