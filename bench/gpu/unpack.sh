#!/usr/bin/env bash
# On the GPU machine: joins the parts bench/gpu/pack.sh made (those waiting in
# /tmp/gpu-carry/ from earlier calls, and any in .gpu-carry/), checks them against
# .gpu-carry/parts.sha256, and unpacks them:
#   target/gpu-carry/bin/        grounded and the GPU tests (GROUNDED_BIN, GPU_TESTS);
#   .cache/onnxruntime-gpu/      ONNX Runtime's CUDA build, where `grounded --device cuda`
#                                looks for it (run from the repository's root);
#   .cache/onnxruntime/          the CPU build;
#   /tmp/gpu-carry/site/         the random models' Python packages (PYTHONPATH).
# and writes target/gpu-carry/env.sh, which sets the variables bench/gpu/run.sh reads:
#   bash bench/gpu/unpack.sh && . target/gpu-carry/env.sh && bash bench/gpu/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
waiting="${GPU_CARRY_DIR:-/tmp/gpu-carry}"
mkdir -p "$waiting"
if compgen -G ".gpu-carry/part-*" >/dev/null; then
    mv .gpu-carry/part-* "$waiting/"
fi
if [ ! -f .gpu-carry/parts.sha256 ]; then
    echo "error: no .gpu-carry/parts.sha256: carry it with the last part (bench/gpu/pack.sh prints the calls)" >&2
    exit 2
fi
missing=()
while read -r _ name; do
    [ -f "$waiting/$name" ] || missing+=("$name")
done < .gpu-carry/parts.sha256
if [ "${#missing[@]}" -gt 0 ]; then
    echo "error: part(s) missing: ${missing[*]} (the machine keeps earlier calls' parts in $waiting only while it stays warm; carry them again)" >&2
    exit 2
fi
(cd "$waiting" && sha256sum --check --quiet "$OLDPWD/.gpu-carry/parts.sha256") || {
    echo "error: a part does not match its checksum: carry it again" >&2
    exit 2
}
rm -rf target/gpu-carry
mkdir -p target/gpu-carry
# shellcheck disable=SC2046
cat $(sed 's/^[0-9a-f]* *//; s|^|'"$waiting"'/|' .gpu-carry/parts.sha256) |
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.stdin.buffer), sys.stdout.buffer)' |
    tar -x -C target/gpu-carry
carry=target/gpu-carry
env="$carry/env.sh"
{
    echo "# written by bench/gpu/unpack.sh"
    echo "export GROUNDED_BIN=$PWD/$carry/bin/grounded GPU_TESTS=$PWD/$carry/bin/gpu-tests"
} > "$env"
mkdir -p .cache/onnxruntime
cp "$carry"/ort-cpu/* .cache/onnxruntime/
# The tests find the repository's files by the path they were built in: point it here.
built_in="$(cat "$carry/bin/built-in")"
if [ "$built_in" != "$PWD" ] && [ ! -e "$built_in" ]; then
    if mkdir -p "$(dirname "$built_in")" 2>/dev/null && ln -s "$PWD" "$built_in" 2>/dev/null; then
        echo "linked $built_in to $PWD (the tests were built there)" >&2
    else
        echo "warning: the tests were built in $built_in, which cannot be made here: tests reading the repository's files will fail" >&2
    fi
fi
if [ -d "$carry/ort-gpu" ]; then
    mkdir -p .cache/onnxruntime-gpu
    cp "$carry"/ort-gpu/* .cache/onnxruntime-gpu/
    site="$waiting/site"
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" "$carry"/wheels/*.whl
    echo "export PYTHON=python3 PYTHONPATH=$site\${PYTHONPATH:+:\$PYTHONPATH}" >> "$env"
    echo "unpacked the binaries, ONNX Runtime's CUDA and CPU builds, and the random models' Python packages" >&2
else
    echo "unpacked the binaries only (pack.sh without --all): the kernel's figures and test; no plan latency on the GPU" >&2
fi
ls -la "$carry/bin" >&2
