#!/usr/bin/env bash
# Fetch the ONNX Runtime shared library that `grounded` loads at run time.
#
# ONNX Runtime comes from its Python wheel on the Python package index, through pip (no
# other download). Only the one shared library is kept, in the project's cache folder
# `.cache/onnxruntime/`, where `grounded` looks for it (after ORT_DYLIB_PATH and the
# executable's own folder). Idempotent: prints the library's path and exits when it is
# there already.
#
#   bash tools/setup-onnxruntime.sh            # version 1.32.0 (default)
#   ORT_VERSION=1.33.0 bash tools/setup-onnxruntime.sh
set -euo pipefail
version="${ORT_VERSION:-1.32.0}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/.cache/onnxruntime"
lib="$dest/libonnxruntime.so.$version"
if [ -f "$lib" ]; then
  echo "$lib"
  exit 0
fi
command -v python3 >/dev/null || { echo "error: python3 with pip is needed to fetch ONNX Runtime" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "fetching onnxruntime==$version (the wheel from the Python package index) ..." >&2
# pip's own progress bar on a terminal; quiet in logs.
if [ -t 2 ]; then show=(--progress-bar on); else show=(--quiet); fi
python3 -m pip download "${show[@]}" --disable-pip-version-check "onnxruntime==$version" \
  --no-deps --only-binary=:all: -d "$tmp" >&2
wheel="$(ls "$tmp"/onnxruntime-*.whl | head -n 1)"
mkdir -p "$dest"
python3 - "$wheel" "$dest" "$version" <<'PY'
import sys, zipfile, pathlib
wheel, dest, version = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
member = f"onnxruntime/capi/libonnxruntime.so.{version}"
with zipfile.ZipFile(wheel) as z:
    names = z.namelist()
    if member not in names:
        sys.exit(f"error: {member} is not in {wheel}; found: "
                 + ", ".join(n for n in names if "libonnxruntime" in n))
    tmp = dest / (pathlib.Path(member).name + ".part")
    tmp.write_bytes(z.read(member))
    tmp.rename(dest / pathlib.Path(member).name)
PY
echo "$lib"
