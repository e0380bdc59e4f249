#!/usr/bin/env bash
# Plan cost past the toy sizes (issue 17), on this machine, one ONNX Runtime thread:
#  1. scenes of 5, 10, 20 and 40 objects: admissible skills per step, LM tokens, passes and
#     plan latency of gd-greedy, gd-beam and SayCan (grounded bench --objects);
#  2. vocabularies of 4k (the shipped model), 50k and 152k tokens, with random-weight models
#     of realistic shape made by tools/random-model.py (a 49M Llama-shaped and a 139M
#     Qwen2-shaped model): the decoder's time outside the LM per pass, as a share of the LM's
#     pass (grounded bench --scene-only, one token per pass: --jump-forward false).
# Reports (Markdown, JSON) go to $OUT.
#
#   PYTHON=/tmp/train-venv/bin/python bash bench/scale/run.sh   # a Python with tools/train/requirements.txt
#   REPEATS=11 bash bench/scale/run.sh                          # models already made
set -euo pipefail
cd "$(dirname "$0")/../.."
python="${PYTHON:-${GROUNDED_TRAIN_PYTHON:-}}"
repeats="${REPEATS:-5}"
out="${OUT:-target/scale}"
mkdir -p "$out"
make_model() { # dir, then tools/random-model.py's arguments
    local dir="$1"; shift
    [ -f "$dir/model.onnx" ] && return
    if [ -z "$python" ]; then
        echo "no model at $dir and no Python to make one: set PYTHON to a Python with tools/train/requirements.txt" >&2
        exit 2
    fi
    "$python" tools/random-model.py "$@" --context 2048 --seed 0 --out "$dir"
}
make_model target/models/llama-50k --shape llama --vocab 50000 --layers 6 --hidden 384 --heads 6
make_model target/models/qwen2-152k --shape qwen2 --vocab 151936 --layers 10 --hidden 640 --heads 10 --kv-heads 2
bash tools/setup-onnxruntime.sh >/dev/null
cargo build --quiet
./target/debug/grounded bench --objects 5,10,20,40 --repeats "$repeats" --out "$out/objects.md" >/dev/null
cat "$out/objects.md"
for model in models/planner-gpt2 target/models/llama-50k target/models/qwen2-152k; do
    ./target/debug/grounded bench --scene-only --methods gd-greedy,gd-beam --jump-forward false \
        --repeats "$repeats" --model "$model" --json > "$out/vocab-$(basename "$model").json"
done
python3 - "$out" <<'PY' | tee "$out/vocab.md"
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
print("| model | vocabulary | method | LM time per pass (ms) | decoder time per pass, outside the LM (ms) | decoder / LM |")
print("|---|---:|---|---:|---:|---:|")
for name in ["planner-gpt2", "llama-50k", "qwen2-152k"]:
    r = json.loads((out / f"vocab-{name}.json").read_text())
    for m in r["methods"]:
        label = m["method"] + (f" ({m['search']})" if m["search"] else "")
        print(f"| {name} | {r['vocab']} | {label} | {m['lm_ms_per_pass']:.3f} | {m['decoder_ms_per_pass']:.3f} | {100 * m['decoder_share_of_lm']:.1f}% |")
PY
