#!/usr/bin/env bash
# Explicit requests: the user names the objects and where each goes ("put the blue block in
# the green bowl", "move the red, yellow and blue blocks to the left side"). Every line of
# requests.tsv, filled from EPISODES tabletop scenes, planned with `grounded plan` for each
# method and compared with the skills it names (run.py); a request naming what the scene
# lacks must carry out nothing. Prints a Markdown table; every plan goes to $OUT/explicit.jsonl.
#
#   bash bench/explicit/run.sh                                   # 5 scenes per line, seed 0
#   EPISODES=10 METHODS=llm,saycan,gd-greedy,gd-beam bash bench/explicit/run.sh
#   GROUNDED_MODEL=path/to/model bash bench/explicit/run.sh      # another model
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/setup-onnxruntime.sh >/dev/null
cargo build --quiet
python3 bench/explicit/run.py --grounded ./target/debug/grounded --episodes "${EPISODES:-5}" \
    --seed "${SEED:-0}" --methods "${METHODS:-llm,gd-beam}" --out "${OUT:-target/explicit}"
