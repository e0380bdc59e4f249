#!/usr/bin/env python3
"""Each family's paraphrase figure with and without the paraphrases a document has quoted
(quoted.txt): what corpus design may have seen, against what it cannot have.

    python3 bench/paraphrases/unquoted.py [DIR]    # DIR: run.sh's $OUT (default target/paraphrases)

Reads DIR/{tabletop,grid,kitchen}.jsonl (bench/paraphrases/run.sh writes them) and prints,
per domain, family and method, the task's wording, all paraphrases, and the paraphrases no
document quoted (successes / episodes; the kitchen's are planning successes, as run.sh's
tables)."""
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent


def quoted_lines():
    """The paraphrases quoted.txt lists, as written there."""
    lines = (line.strip() for line in (HERE / "quoted.txt").read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def pattern(wording):
    """A paraphrase as a pattern that matches it with its slots filled."""
    return re.compile("^" + re.sub(r"\\\{[a-z]+\\\}", ".+", re.escape(wording)) + "$", re.I)


def tsv_wordings():
    """Every paraphrase line of the .tsv files (to check quoted.txt names real ones)."""
    out = set()
    for f in HERE.glob("*.tsv"):
        for line in f.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                out.add(line.partition("\t")[2].strip())
    return out


def pct(s, n):
    return f"{100 * s / n:.0f}% ({s}/{n})" if n else "-"


def main(argv):
    if len(argv) > 1 or (argv and argv[0] in ("-h", "--help")):
        print(__doc__, file=sys.stderr)
        return 2
    folder = Path(argv[0] if argv else "target/paraphrases")
    quoted, wordings = quoted_lines(), tsv_wordings()
    missing = [q for q in quoted if q not in wordings]
    if missing:
        print(f"unquoted: quoted.txt names lines no .tsv file has: {missing}", file=sys.stderr)
        return 1
    pats = [pattern(q) for q in quoted]
    print("| domain, family | method | task's wording | paraphrases | paraphrases no document quoted |")
    print("|---|---|---:|---:|---:|")
    found = False
    for domain in ("tabletop", "grid", "kitchen"):
        path = folder / f"{domain}.jsonl"
        if not path.exists():
            print(f"unquoted: no {path} (run bash bench/paraphrases/run.sh with OUT={folder})", file=sys.stderr)
            continue
        found = True
        rows = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
        for line in path.read_text().splitlines():
            r = json.loads(line)
            row = r["row"]
            ok = r["success"]
            if domain == "kitchen":
                # The kitchen's families are judged on the plan (run.sh's "planning" rows).
                ok = r.get("planning_success", ok)
                row += " (planning)"
            c = rows[(row, r["method"])]
            if r["wording"] == "template":
                c[0] += bool(ok); c[1] += 1
            else:
                c[2] += bool(ok); c[3] += 1
                if not any(p.match(r["instruction"].strip()) for p in pats):
                    c[4] += bool(ok); c[5] += 1
        for (row, method), c in rows.items():
            print(f"| {domain}, {row} | {method} | {pct(c[0], c[1])} | {pct(c[2], c[3])} | {pct(c[4], c[5])} |")
    return 0 if found else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
