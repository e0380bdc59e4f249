"""Explicit requests: does the planner do what the user names? (BENCHMARKS.md, "Explicit requests")

Each line of requests.tsv is filled from a scene's own objects (EPISODES scenes per line,
drawn from the tabletop tasks' scenes by seed), planned with `grounded plan --json` for
every method, and compared with the skills the request names; a request naming a block or
a bowl the scene lacks succeeds when no skill is carried out. Prints a Markdown table and
writes every plan to OUT/explicit.jsonl.

    python3 bench/explicit/run.py --grounded target/debug/grounded --episodes 5 --out target/explicit
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLACES = ["top left corner", "top right corner", "bottom left corner", "bottom right corner",
          "top side", "bottom side", "left side", "right side"]
# Where each kind of request finds its objects: a tabletop task whose scene has them.
SCENE_TASK = {"block": "matching-bowls", "letter": "alphabetical-order", "item": "pack-boxes"}
KIND_OBJECTS = {"block-in-bowl": "block", "block-on-block": "block", "block-to-place": "block",
                "letter-to-place": "letter", "item-in-box": "item", "two-steps": "block",
                "blocks-to-place": "block", "letters-to-place": "letter", "items-in-box": "item",
                "absent-block": "block", "absent-bowl": "block"}
GROUPS = {"blocks-to-place", "letters-to-place", "items-in-box"}
# Requests that name a block or a bowl the scene does not have: the robot must carry out
# nothing (stop, or say done at once), not move something else in its place.
ABSENT = {"absent-block", "absent-bowl"}
# The tabletop's colours (sim/src/tabletop/catalog.rs).
COLOURS = ["red", "orange", "yellow", "green", "blue", "purple", "pink", "cyan", "brown", "gray", "white"]


SLOTS = {"block1", "block2", "bowl1", "letter1", "item1", "place", "box", "blocks", "letters", "items",
         "absent_block", "absent_bowl"}


def requests(path: Path):
    """The file's requests, (line number, kind, wording); a bad line ends the run, naming it."""
    out = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        kind, _, text = line.partition("\t")
        if kind not in KIND_OBJECTS or not text.strip():
            sys.exit(f"{path}:{n}: want `kind<TAB>wording` with kind one of {sorted(KIND_OBJECTS)}, not {line!r}")
        unknown = sorted(set(re.findall(r"{([^{}]*)}", text)) - SLOTS)
        if unknown:
            sys.exit(f"{path}:{n}: unknown slot(s) {', '.join(unknown)}; the slots are {sorted(SLOTS)}")
        out.append((n, kind, text.strip()))
    return out


def scene(grounded: str, task: str, seed: int) -> dict:
    out = subprocess.run([grounded, "scene", "--task", task, "--seed", str(seed)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def listed(names):
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def fill(kind: str, text: str, objects: list, rng: random.Random):
    """The wording with its slots filled from the scene, and the skills it asks for (None
    when the scene lacks what the request needs; none for a request naming what is absent)."""
    names = [o["name"] for o in objects]
    blocks = [n for n in names if n.endswith(" block") and not n.startswith("letter")]
    bowls = [n for n in names if n.endswith(" bowl")]
    letters = [n for n in names if n.startswith("letter ")]
    boxes = [n for n in names if n.endswith(" box") and n.split()[0] in ("brown", "blue", "red")]
    items = [n for n in names if n not in blocks + bowls + letters + boxes]
    place = rng.choice(PLACES)
    skill = "pick up the {} and place it {} the {}".format
    slots, want = {"place": place}, []
    if kind in ABSENT:
        absent_blocks = [c + " block" for c in COLOURS if c + " block" not in names]
        absent_bowls = [c + " bowl" for c in COLOURS if c + " bowl" not in names]
        if len(blocks) < 2 or not bowls or not absent_blocks or not absent_bowls:
            return None
        b1, b2 = rng.sample(blocks, 2)
        slots.update(block1=b1, block2=b2, bowl1=rng.choice(bowls), absent_block=rng.choice(absent_blocks),
                     absent_bowl=rng.choice(absent_bowls))
        return text.format(**slots), []
    if kind in ("block-in-bowl", "block-on-block", "block-to-place", "two-steps", "blocks-to-place"):
        if len(blocks) < 2 or not bowls:
            return None
        b1, b2 = rng.sample(blocks, 2)
        # A bowl of another colour when there is one, so that matching colours is not enough.
        other = [w for w in bowls if w.split()[0] != b1.split()[0]] or bowls
        w1 = rng.choice(other)
        slots.update(block1=b1, block2=b2, bowl1=w1)
        want = {"block-in-bowl": [skill(b1, "in", w1)], "block-on-block": [skill(b1, "on", b2)],
                "block-to-place": [skill(b1, "on", place)],
                "two-steps": [skill(b1, "in", w1), skill(b2, "on", place)]}.get(kind, [])
        if kind == "blocks-to-place":
            group = rng.sample(blocks, min(len(blocks), rng.choice([2, 3])))
            slots["blocks"] = listed([g.split()[0] for g in group]) + " blocks"
            want = [skill(g, "on", place) for g in group]
    elif kind in ("letter-to-place", "letters-to-place"):
        if len(letters) < 2:
            return None
        l1 = rng.choice(letters)
        slots["letter1"] = l1
        want = [skill(l1, "on", place)]
        if kind == "letters-to-place":
            group = rng.sample(letters, min(len(letters), rng.choice([2, 3])))
            slots["letters"] = listed([g.split()[1] for g in group])
            want = [skill(g, "on", place) for g in group]
    else:
        if len(items) < 2 or not boxes:
            return None
        i1, box = rng.choice(items), rng.choice(boxes)
        slots.update(item1=i1, box=box)
        want = [skill(i1, "in", box)]
        if kind == "items-in-box":
            group = rng.sample(items, min(len(items), rng.choice([2, 3])))
            slots["items"] = listed([group[0]] + ["the " + g for g in group[1:]])
            want = [skill(g, "in", box) for g in group]
    return text.format(**slots), want


def plan(grounded: str, method: str, scene_path: str, instruction: str) -> dict:
    out = subprocess.run([grounded, "plan", "--scene", scene_path, "--method", method, "--json", instruction],
                         capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": out.stderr.strip()[-400:], "skills": []}
    data = json.loads(out.stdout)
    skills = [s["skill"] for s in data["steps"] if s["skill"] != "done"]
    return {"skills": skills, "end": data.get("end")}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--grounded", default="target/debug/grounded")
    p.add_argument("--requests", default=str(HERE / "requests.tsv"))
    p.add_argument("--episodes", type=int, default=5, help="scenes per request line")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--methods", default="llm,gd-beam")
    p.add_argument("--out", default="target/explicit")
    a = p.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    methods = a.methods.split(",")
    wins = defaultdict(lambda: [0, 0])
    with tempfile.TemporaryDirectory() as tmp, open(out / "explicit.jsonl", "w") as log:
        for n, kind, text in requests(Path(a.requests)):
            objects_of = KIND_OBJECTS[kind]
            for e in range(a.episodes):
                seed = a.seed + e
                rng = random.Random(f"{a.seed}:{n}:{e}")
                sc = scene(a.grounded, SCENE_TASK[objects_of], seed)
                filled = fill(kind, text, sc["objects"], rng)
                tries = 0
                while filled is None and tries < 20:  # a scene without what the request needs
                    tries += 1
                    seed += 1000
                    sc = scene(a.grounded, SCENE_TASK[objects_of], seed)
                    filled = fill(kind, text, sc["objects"], rng)
                if filled is None:
                    sys.exit(f"line {n}: no scene has what the request needs")
                instruction, want = filled
                path = Path(tmp) / "scene.json"
                path.write_text(json.dumps(sc))
                for m in methods:
                    got = plan(a.grounded, m, str(path), instruction)
                    ok = sorted(got["skills"]) == sorted(want) if kind in GROUPS else got["skills"] == want
                    wins[(kind, m)][0] += ok
                    wins[(kind, m)][1] += 1
                    log.write(json.dumps({"line": n, "kind": kind, "scene_seed": seed, "instruction": instruction,
                                          "method": m, "want": want, **got, "success": ok}) + "\n")
    kinds = list(dict.fromkeys(k for k, _ in wins))
    print(f"| request | {' | '.join(methods)} |")
    print(f"|---|{'---:|' * len(methods)}")
    for k in kinds + ["all"]:
        cells = []
        for m in methods:
            w = [sum(wins[(x, m)][i] for x in kinds) for i in (0, 1)] if k == "all" else wins[(k, m)]
            cells.append(f"{100 * w[0] / max(w[1], 1):.0f}% ({w[0]}/{w[1]})")
        print(f"| {k} | {' | '.join(cells)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
