#!/usr/bin/env bash
# The shared-prefix cache with a 539-token few-shot prefix (few-shot.txt): prefill tokens,
# prefill and plan latency with the cache and without it, for another instruction after the
# first, the same instruction again, a replan after a failed skill and the operator's
# clarification (grounded bench --prefix-cache). The shipped model's context (384 tokens)
# cannot hold the prefix, so this makes a random-weight Llama-shaped model (35M parameters,
# a 32,000-token vocabulary, a 2,048-token context; tools/random-model.py) first: its plans
# are noise, their cost is what is measured.
#
#   bash bench/prefix-cache/run.sh                      # needs a Python with torch (below)
#   PYTHON=/path/to/venv/bin/python REPEATS=21 bash bench/prefix-cache/run.sh
#
# PYTHON (default $GROUNDED_TRAIN_PYTHON): a Python with tools/train/requirements.txt, e.g.
#   python3 -m venv /tmp/train-venv && /tmp/train-venv/bin/pip install -r tools/train/requirements.txt
set -euo pipefail
cd "$(dirname "$0")/../.."
python="${PYTHON:-${GROUNDED_TRAIN_PYTHON:-}}"
model="${MODEL:-target/models/llama-32k}"
out="${OUT:-target/prefix-cache}"
mkdir -p "$out"
if [ ! -f "$model/model.onnx" ]; then
    if [ -z "$python" ]; then
        echo "no model at $model and no Python to make one: set PYTHON to a Python with tools/train/requirements.txt" >&2
        exit 2
    fi
    "$python" tools/random-model.py --shape llama --vocab 32000 --layers 6 --hidden 384 --heads 6 \
        --context 2048 --seed 0 --out "$model"
fi
bash tools/setup-onnxruntime.sh >/dev/null
cargo build --quiet
./target/debug/grounded bench --prefix-cache --model "$model" --prompt bench/prefix-cache/few-shot.txt \
    --repeats "${REPEATS:-11}" --out "$out/report.md"
