#!/usr/bin/env bash
# Requests for nothing: requests.tsv's requests that ask for no task or only forbid
# something, each planned on its scene with `grounded plan` for each method (run.py); a plan
# succeeds when it carries out no skill. Prints a Markdown table; every plan goes to
# $OUT/negation.jsonl.
#
#   bash bench/negation/run.sh                                   # llm and gd-beam
#   METHODS=llm,saycan,gd-greedy,gd-beam bash bench/negation/run.sh
#   GROUNDED_MODEL=path/to/model bash bench/negation/run.sh      # another model
#   REQUESTS=tools/train/dev/negation/requests.tsv bash bench/negation/run.sh
#                                   # the development set that chooses among candidate models
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/setup-onnxruntime.sh >/dev/null
cargo build --quiet
python3 bench/negation/run.py --grounded ./target/debug/grounded --methods "${METHODS:-llm,gd-beam}" \
    --requests "${REQUESTS:-bench/negation/requests.tsv}" --out "${OUT:-target/negation}"
