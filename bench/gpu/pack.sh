#!/usr/bin/env bash
# Packs what bench/gpu/run.sh needs on a GPU machine that has no Rust toolchain and reaches
# nothing (a lent one): built here, carried there in parts small enough for one call each.
#
#   bash bench/gpu/pack.sh              # the binaries only: the kernel's figures and test
#   bash bench/gpu/pack.sh --all        # also ONNX Runtime's CUDA build and the Python
#                                       # wheels tools/random-model.py needs: plan latency
#   PART_MIB=30 bash bench/gpu/pack.sh --all
#
# One stream (tar, xz) cut into .gpu-carry/part-NN (ignored by git), each at most PART_MIB
# MiB (default 36: a call carries 64 MiB, and the repository itself, which travels with
# every call, is about 26 MB). What goes in:
#   bin/grounded, bin/gpu-tests  `grounded` and the tests/gpu.rs binary, stripped (about 19 MB
#                                as xz);
#   ort-cpu/                     the CPU build of ONNX Runtime `grounded` runs with here;
#   with --all:
#   ort-gpu/                     ONNX Runtime's CUDA build (tools/setup-onnxruntime.sh --gpu
#                                --no-cuda-libraries, ORT_GPU_VERSION as there; the CUDA
#                                provider is 284 MB, about 185 MB as xz: five or six parts);
#                                the CUDA and cuDNN libraries it needs come from the
#                                machine's own PyTorch wheels (nvidia/cu13/lib, nvidia/cudnn/lib);
#   wheels/                      tools/train/requirements.txt's transformers, tokenizers and
#                                optimum-onnx, with optimum and huggingface-hub at versions
#                                they accept: what tools/random-model.py needs beside the
#                                machine's own torch and onnx (16 MB).
# There, each call but the last moves its part out of the repository
# (`mkdir -p /tmp/gpu-carry && mv .gpu-carry/part-* /tmp/gpu-carry/`), so that it waits there
# while the machine stays warm between calls; the last one runs
# `bash bench/gpu/unpack.sh && . target/gpu-carry/env.sh && bash bench/gpu/run.sh`.
# pack.sh prints the calls, part by part.
set -euo pipefail
cd "$(dirname "$0")/../.."
all=0
for arg in "$@"; do
    case "$arg" in
    --all) all=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument '$arg' (--all, or none for the binaries only)" >&2; exit 2 ;;
    esac
done
part_mib="${PART_MIB:-36}"
case "$part_mib" in '' | *[!0-9]*) echo "error: PART_MIB='$part_mib' is not a whole number of MiB" >&2; exit 2 ;; esac
if [ "$part_mib" -lt 1 ] || [ "$part_mib" -gt 60 ]; then
    echo "error: PART_MIB=$part_mib: a part must be 1 to 60 MiB (a call carries 64 MiB, the repository included)" >&2
    exit 2
fi

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin"
echo "building grounded and the GPU tests ..." >&2
cargo build --quiet
tests="$(cargo test --quiet --test gpu --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "gpu" and m.get("executable"):
        print(m["executable"])')"
if [ -z "$tests" ] || [ ! -x "$tests" ]; then
    echo "error: cargo did not give the tests/gpu.rs binary" >&2
    exit 1
fi
strip -o "$stage/bin/grounded" target/debug/grounded
strip -o "$stage/bin/gpu-tests" "$tests"
# The tests find the repository's files (the shipped model) by the path they were built in.
pwd > "$stage/bin/built-in"
mkdir -p "$stage/ort-cpu"
cp "$(bash tools/setup-onnxruntime.sh)" "$stage/ort-cpu/"

if [ "$all" = 1 ]; then
    echo "fetching ONNX Runtime's CUDA build and the random models' wheels (no dependencies) ..." >&2
    mkdir -p "$stage/wheels" "$stage/ort-gpu"
    ort_gpu="$(bash tools/setup-onnxruntime.sh --gpu --no-cuda-libraries)"
    cp "$ort_gpu" "$(dirname "$ort_gpu")"/libonnxruntime_providers_{shared,cuda}.so "$stage/ort-gpu/"
    # requirements.txt's pins, and the two its optimum-onnx and transformers need at versions
    # the machine's own (transformers 5, huggingface-hub 1) do not meet.
    python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        -d "$stage/wheels" \
        $(grep -E '^(transformers|tokenizers|optimum-onnx)==' tools/train/requirements.txt) optimum==2.1.0 huggingface-hub==0.36.2
fi

rm -rf .gpu-carry
mkdir -p .gpu-carry
echo "compressing (xz; a few minutes with --all) ..." >&2
tar -C "$stage" -cf - bin ort-cpu $( [ "$all" = 1 ] && echo ort-gpu wheels ) |
    xz -9 -T0 | split -b "${part_mib}M" -d -a 2 - .gpu-carry/part-
(cd .gpu-carry && sha256sum part-* > parts.sha256)
parts=(.gpu-carry/part-*)
echo "packed: ${#parts[@]} part(s) in .gpu-carry/ ($(du -sh .gpu-carry | cut -f1)); the device calls:" >&2
last=$((${#parts[@]} - 1))
for i in "${!parts[@]}"; do
    if [ "$i" -lt "$last" ]; then
        echo "  carry [\"${parts[$i]}\"]: mkdir -p /tmp/gpu-carry && mv .gpu-carry/part-* /tmp/gpu-carry/"
    else
        echo "  carry [\"${parts[$i]}\", \".gpu-carry/parts.sha256\"]: bash bench/gpu/unpack.sh && . target/gpu-carry/env.sh && bash bench/gpu/run.sh"
    fi
done
