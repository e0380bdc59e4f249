"""Compare eval records with jump-forward off and on (bench/jump-forward/run.sh)."""

import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path


def load(path):
    with open(path) as f:
        return {(r["method"], r["task"], r["seed"]): r for r in map(json.loads, f) if r.get("wording", "template") == "template"}


def skills(record):
    return [(s["skill"], s["success"]) for s in record["steps"]]


def row(label, pairs):
    off_passes = statistics.mean(o["lm_passes"] for o, _ in pairs)
    on_passes = statistics.mean(j["lm_passes"] for _, j in pairs)
    off_ms = 1000 * statistics.median(o["choosing_seconds"] for o, _ in pairs)
    on_ms = 1000 * statistics.median(j["choosing_seconds"] for _, j in pairs)
    same = sum(skills(o) == skills(j) for o, j in pairs)
    ok_off = sum(o["success"] for o, _ in pairs)
    ok_on = sum(j["success"] for _, j in pairs)
    fewer = 100 * (1 - on_passes / off_passes) if off_passes else 0.0
    return (
        f"| {label} | {len(pairs)} | {off_passes:.1f} | {on_passes:.1f} | {fewer:.0f}% "
        f"| {off_ms:.1f} | {on_ms:.1f} | {same}/{len(pairs)} | {ok_off} / {ok_on} |"
    )


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "target/jump-forward")
    print("| domain, method, task | episodes | passes per episode, token by token | with jump-forward | fewer passes "
          "| planning ms per episode (median), token by token | with jump-forward | same plans | successes (off / on) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    differences = []
    for domain in ["tabletop", "grid", "kitchen"]:
        off_path, on_path = out / f"{domain}-false.jsonl", out / f"{domain}-true.jsonl"
        if not off_path.exists() or not on_path.exists():
            continue
        off, on = load(off_path), load(on_path)
        keys = [k for k in off if k in on]
        by_method = defaultdict(list)
        by_task = defaultdict(list)
        for k in keys:
            by_method[k[0]].append((off[k], on[k]))
            by_task[(k[0], k[1])].append((off[k], on[k]))
            if skills(off[k]) != skills(on[k]):
                differences.append((domain, k, skills(off[k]), skills(on[k])))
        for method in sorted(by_method):
            for (m, task) in sorted(t for t in by_task if t[0] == method):
                print(row(f"{domain}, {method}, {task}", by_task[(m, task)]))
            print(row(f"**{domain}, {method}, all**", by_method[method]))
    print()
    if not differences:
        print("Every episode's plan is the same with and without jump-forward.")
    for domain, (method, task, seed), a, b in differences:
        print(f"- {domain} {method} {task} seed {seed}:\n  - token by token: {a}\n  - jump-forward: {b}")


if __name__ == "__main__":
    main()
