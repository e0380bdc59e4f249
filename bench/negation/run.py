"""Requests for nothing: does the planner leave the world alone when asked to? (BENCHMARKS.md,
"Requests for nothing")

Each line of requests.tsv asks for no task ("all good, you can rest") or only forbids
something ("don't touch the red block"). Its scene is made with `grounded scene`, the request
planned with `grounded plan --json` for every method, and the plan succeeds when it carries
out no skill (it says `done` at once, or stops before its first skill). A plan that moves the
very object the request forbids is counted apart. Prints a Markdown table and writes every
plan to OUT/negation.jsonl.

    python3 bench/negation/run.py --grounded target/debug/grounded --out target/negation
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent


def requests(path: Path):
    """The file's lines as (line number, task, seed, forbidden object or None, request); a bad
    line ends the run, naming it."""
    out = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        task, _, seed = parts[0].partition(":")
        if len(parts) != 3 or not task or not seed.isdigit() or not parts[2].strip() or not parts[1].strip():
            sys.exit(f"{path}:{n}: want `task:seed<TAB>forbidden object or -<TAB>request`, not {line!r}")
        forbidden = None if parts[1].strip() == "-" else parts[1].strip()
        out.append((n, task, int(seed), forbidden, parts[2].strip()))
    return out


def scene_names(scene: dict) -> set:
    """What a scene lets a request name: the tabletop's objects, the kitchen's detections, the
    grid's doors and objects ("red door", "grey key")."""
    names = {o["name"] for o in scene.get("objects", [])}
    names |= {d["name"] for d in scene.get("kitchen", {}).get("detections", [])}
    for cell in scene.get("grid", {}).get("cells", []):
        if cell.get("type") == "door":
            names.add(f"{cell['colour']} door")
        elif cell.get("type") == "object":
            names.add(f"{cell['object']['colour']} {cell['object']['kind']}")
    return names


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--grounded", default="target/debug/grounded")
    p.add_argument("--requests", default=str(HERE / "requests.tsv"))
    p.add_argument("--methods", default="llm,gd-beam")
    p.add_argument("--out", default="target/negation")
    a = p.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    lines = requests(Path(a.requests))
    methods = [m for m in a.methods.split(",") if m]
    scenes = {}
    # [method][domain] -> [nothing moved, named the forbidden object, forbidding requests, requests]
    tally = defaultdict(lambda: defaultdict(lambda: [0, 0, 0, 0]))
    with open(out / "negation.jsonl", "w") as records:
        for n, task, seed, forbidden, text in lines:
            key = (task, seed)
            if key not in scenes:
                made = subprocess.run([a.grounded, "scene", "--task", task, "--seed", str(seed)],
                                      capture_output=True, text=True)
                if made.returncode != 0:
                    sys.exit(f"{a.requests}:{n}: `grounded scene --task {task} --seed {seed}` failed: {made.stderr.strip()}")
                path = out / f"scene-{task}-{seed}.json"
                path.write_text(made.stdout)
                made = json.loads(made.stdout)
                scenes[key] = (path, made["domain"], scene_names(made))
            path, domain, names = scenes[key]
            if forbidden is not None and forbidden not in names:
                sys.exit(f"{a.requests}:{n}: the scene {task}:{seed} has no {forbidden!r}; it has {', '.join(sorted(names))}")
            for method in methods:
                run = subprocess.run([a.grounded, "plan", "--scene", str(path), "--method", method, "--json", text],
                                     capture_output=True, text=True)
                if run.returncode != 0:
                    sys.exit(f"{a.requests}:{n}: `grounded plan` failed: {run.stderr.strip()[-400:]}")
                data = json.loads(run.stdout)
                skills = [s["skill"] for s in data["steps"] if s["skill"] != "done"]
                named = forbidden is not None and any(forbidden in s for s in skills)
                t = tally[method][domain]
                t[0] += not skills
                t[1] += named
                t[2] += forbidden is not None
                t[3] += 1
                records.write(json.dumps({"line": n, "scene": f"{task}:{seed}", "domain": domain, "forbidden": forbidden,
                                          "request": text, "method": method, "skills": skills, "end": data.get("end"),
                                          "nothing_moved": not skills, "moved_forbidden": named}) + "\n")
    print("| method | domain | nothing moved | moved what the request forbids |")
    print("|---|---|---:|---:|")
    for method in methods:
        total = [0, 0, 0, 0]
        for domain in ("tabletop", "grid", "kitchen"):
            t = tally[method].get(domain)
            if not t:
                continue
            total = [x + y for x, y in zip(total, t)]
            print(f"| {method} | {domain} | {t[0]}/{t[3]} | {t[1]}/{t[2]} |")
        print(f"| {method} | all | {total[0]}/{total[3]} ({100 * total[0] / max(total[3], 1):.0f}%) | {total[1]}/{total[2]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
