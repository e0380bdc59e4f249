#!/usr/bin/env bash
# The GPU path's figures (issue 17, BENCHMARKS.md "The GPU path"), on a machine with an NVIDIA
# GPU and a CUDA 13 driver:
#  1. the top-k kernel over B x V logits: the kernels' own time (CUDA events) and a whole
#     call's, each with its effective bandwidth against the device's own (grounded bench
#     --top-k-kernel --device cuda);
#  2. the GPU tests, required to run (the kernel against top-k by the book; plans on the GPU
#     against plans on the CPU);
#  3. plan latency, CPU against GPU, for the shipped model and a 139M random-weight
#     Qwen2-shaped model with a 152k vocabulary (tools/random-model.py, made if missing and
#     a Python with tools/train/requirements.txt is given).
# Reports (Markdown, JSON) go to $OUT.
#
#   bash tools/setup-onnxruntime.sh --gpu && bash bench/gpu/run.sh
#   PYTHON=/path/to/train-venv/bin/python REPEATS=21 bash bench/gpu/run.sh
#   STEP_TIMEOUT=300 bash bench/gpu/run.sh     # seconds each step may take (default 150)
#
# A step that fails or runs out of time does not stop the next; the exit status is the last
# failing step's (0 when every step passed).
#
# Without cargo (a lent GPU machine): build here, carry the binaries and the repository, and
# point at them: GROUNDED_BIN=path/to/grounded GPU_TESTS=path/to/the/tests/gpu/binary.
# bench/gpu/pack.sh packs them (and with --all ONNX Runtime's CUDA build and the random
# model's Python packages) in parts that fit a call each, and prints the calls;
# bench/gpu/unpack.sh unpacks them there and writes the variables to set. The kernel's
# figures and test need only the driver and NVRTC (e.g. from PyTorch's NVIDIA wheels);
# the LM on the GPU needs ONNX Runtime's CUDA build there too.
# ONNX Runtime's CUDA build is found as `grounded` looks for it (.cache/onnxruntime-gpu/, an
# installed onnxruntime-gpu Python package, ORT_DYLIB_PATH); CUDA libraries beside it, or from
# Python's NVIDIA wheels (nvidia/cu13/lib, nvidia/cudnn/lib), which this script also puts on
# LD_LIBRARY_PATH for NVRTC.
set -euo pipefail
cd "$(dirname "$0")/../.."
repeats="${REPEATS:-11}"
out="${OUT:-target/gpu}"
python="${PYTHON:-}"
step_timeout="${STEP_TIMEOUT:-150}"
if ! [[ "$step_timeout" =~ ^[1-9][0-9]*$ ]]; then
    echo "error: STEP_TIMEOUT='$step_timeout' is not a whole number of seconds (default 150)" >&2
    exit 2
fi
mkdir -p "$out"
if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
    echo "error: no NVIDIA GPU here (nvidia-smi finds none); these figures need one" >&2
    exit 2
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.csv"
nv="$(python3 -c 'import nvidia, os; print(list(nvidia.__path__)[0])' 2>/dev/null || true)"
if [ -n "$nv" ] && [ -d "$nv/cu13/lib" ]; then
    export LD_LIBRARY_PATH="$nv/cu13/lib:$nv/cudnn/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
if [ -n "${GROUNDED_BIN:-}" ]; then
    bin="$GROUNDED_BIN"
else
    cargo build --quiet
    bin=./target/debug/grounded
fi

# Each step is bounded (STEP_TIMEOUT seconds, default 150) and a failed one does not stop the
# next: a lent machine's minutes are few, and every figure that can be made should be.
status=0
bounded() {
    local rc=0
    timeout --kill-after=5 "$step_timeout" "$@" || rc=$?
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        echo "timed out after ${step_timeout} s (STEP_TIMEOUT): $*" >&2
    fi
    return "$rc"
}

echo "== 1. the top-k kernel" >&2
bounded "$bin" bench --top-k-kernel --device cuda --repeats "$((repeats * 5))" --json --out "$out/kernel.md" > "$out/kernel.json" || status=$?
cat "$out/kernel.md" 2>/dev/null || echo "no kernel figures (exit status $status)"

echo "== 2. the GPU tests (required to run here)" >&2
export GROUNDED_REQUIRE_GPU=1
if [ -n "${GPU_TESTS:-}" ]; then
    bounded "$GPU_TESTS" --test-threads 1 > "$out/tests.txt" 2>&1 || status=$?
else
    cargo test --quiet --test gpu -- --test-threads 1 > "$out/tests.txt" 2>&1 || status=$?
fi
cat "$out/tests.txt"

echo "== 3. plan latency, CPU against GPU" >&2
models=(models/planner-gpt2)
if [ ! -f target/models/qwen2-152k/model.onnx ] && [ -n "$python" ]; then
    bounded "$python" tools/random-model.py --shape qwen2 --vocab 151936 --layers 10 --hidden 640 --heads 10 --kv-heads 2 \
        --context 2048 --seed 0 --out target/models/qwen2-152k || { status=$?; echo "making the 152k model failed (exit status $status)" >&2; }
fi
if [ -f target/models/qwen2-152k/model.onnx ]; then
    models+=(target/models/qwen2-152k)
else
    echo "note: no target/models/qwen2-152k and no PYTHON to make it: the shipped model only" | tee "$out/note.txt" >&2
fi
for model in "${models[@]}"; do
    for device in cpu cuda; do
        # Each device in its own process: the runtime (CPU or CUDA build) is chosen once per process.
        bounded "$bin" bench --scene-only --methods gd-greedy,gd-beam,saycan --device "$device" \
            --repeats "$repeats" --model "$model" --json > "$out/plan-$(basename "$model")-$device.json" || status=$?
    done
done
python3 - "$out" "${models[@]}" <<'PY' | tee "$out/plans.md"
import json, sys
from pathlib import Path
out, models = Path(sys.argv[1]), sys.argv[2:]
print("| model | vocabulary | method | CPU plan (ms) | GPU plan (ms) | CPU LM per pass (ms) | GPU LM per pass (ms) |")
print("|---|---:|---|---:|---:|---:|---:|")
for model in models:
    name = Path(model).name
    try:
        cpu = json.loads((out / f"plan-{name}-cpu.json").read_text())
        gpu = json.loads((out / f"plan-{name}-cuda.json").read_text())
    except (OSError, ValueError) as e:
        print(f"| {name} | | (no figures: {e}; see the run's errors) | | | | |")
        continue
    for a, b in zip(cpu["methods"], gpu["methods"]):
        label = a["method"] + (f" ({a['search']})" if a["search"] else "")
        print(f"| {name} | {cpu['vocab']} | {label} | {a['latency_ms']:.1f} | {b['latency_ms']:.1f} | {a['lm_ms_per_pass']:.3f} | {b['lm_ms_per_pass']:.3f} |")
PY
exit "$status"
