#!/usr/bin/env bash
# Fetch the ONNX Runtime shared library that `grounded` loads at run time.
#
# ONNX Runtime comes from its Python wheel on the Python package index, through pip (no
# other download). Idempotent: prints the library's path and exits when it is there already.
#
#   bash tools/setup-onnxruntime.sh            # CPU build, version 1.32.0 (default)
#   ORT_VERSION=1.33.0 bash tools/setup-onnxruntime.sh
#   bash tools/setup-onnxruntime.sh --gpu      # CUDA build, for `--device cuda`
#   ORT_GPU_VERSION=1.31.1 bash tools/setup-onnxruntime.sh --gpu
#   bash tools/setup-onnxruntime.sh --gpu --no-cuda-libraries   # CUDA build only (below)
#
# CPU: only the one shared library is kept, in `.cache/onnxruntime/`, where `grounded` looks
# for it (after ORT_DYLIB_PATH and the executable's own folder).
#
# --gpu: the `onnxruntime-gpu` wheel and the NVIDIA wheels its `cuda` and `cudnn` extras name
# (CUDA 13 runtime, cuBLAS, NVRTC, cuRAND, cuFFT, nvJitLink, cuDNN 9; about 2.5 GB unpacked).
# ONNX Runtime and its CUDA provider go to `.cache/onnxruntime-gpu/`, the CUDA libraries to
# `.cache/onnxruntime-gpu/cuda/`; `grounded --device cuda` loads them from there (NVRTC, which
# compiles the decoder's top-k kernel, too). The NVIDIA driver (libcuda.so.1) is not in any
# wheel: it comes with the machine's GPU driver.
#
# --no-cuda-libraries (with --gpu): ONNX Runtime's CUDA build alone (about 0.3 GB), for a
# machine whose Python already has the NVIDIA wheels (PyTorch's: nvidia/cu13/lib and
# nvidia/cudnn/lib), where `grounded --device cuda` then takes the CUDA libraries from.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
gpu=0
cuda_libraries=1
for arg in "$@"; do
  case "$arg" in
    --gpu) gpu=1 ;;
    --no-cuda-libraries) cuda_libraries=0 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument '$arg' (use --gpu for the CUDA build, or none for the CPU build)" >&2; exit 2 ;;
  esac
done
if [ "$gpu" = 0 ] && [ "$cuda_libraries" = 0 ]; then
  echo "error: --no-cuda-libraries goes with --gpu (the CPU build needs no CUDA libraries)" >&2
  exit 2
fi
if [ "$gpu" = 1 ]; then
  version="${ORT_GPU_VERSION:-1.31.1}"
  dest="$root/.cache/onnxruntime-gpu"
else
  version="${ORT_VERSION:-1.32.0}"
  dest="$root/.cache/onnxruntime"
fi
lib="$dest/libonnxruntime.so.$version"
# The library is written last, so its presence says ONNX Runtime's files are complete; the
# CUDA libraries' folder says so with its own marker.
if [ -f "$lib" ] && { [ "$gpu" = 0 ] || [ "$cuda_libraries" = 0 ] || [ -f "$dest/cuda/.complete" ]; }; then
  echo "$lib"
  exit 0
fi
command -v python3 >/dev/null || { echo "error: python3 with pip is needed to fetch ONNX Runtime" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# pip's own progress bar on a terminal; quiet in logs.
if [ -t 2 ]; then show=(--progress-bar on); else show=(--quiet); fi
if [ "$gpu" = 1 ] && [ "$cuda_libraries" = 0 ]; then
  echo "fetching onnxruntime-gpu==$version alone (no CUDA wheels) ..." >&2
  python3 -m pip download "${show[@]}" --disable-pip-version-check "onnxruntime-gpu==$version" \
    --no-deps --only-binary=:all: -d "$tmp" >&2
elif [ "$gpu" = 1 ]; then
  echo "fetching onnxruntime-gpu==$version with its CUDA and cuDNN wheels (about 1.5 GB) ..." >&2
  python3 -m pip download "${show[@]}" --disable-pip-version-check "onnxruntime-gpu[cuda,cudnn]==$version" \
    --only-binary=:all: -d "$tmp" >&2
else
  echo "fetching onnxruntime==$version (the wheel from the Python package index) ..." >&2
  python3 -m pip download "${show[@]}" --disable-pip-version-check "onnxruntime==$version" \
    --no-deps --only-binary=:all: -d "$tmp" >&2
fi
mkdir -p "$dest"
python3 - "$tmp" "$dest" "$version" "$gpu" "$cuda_libraries" <<'PY'
import sys, zipfile, pathlib
tmp, dest, version = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
gpu, cuda_libraries = sys.argv[4] == "1", sys.argv[5] == "1"

def extract(z, member, folder):
    """Write one member into folder, atomically (a half-written library is never found)."""
    folder.mkdir(parents=True, exist_ok=True)
    name = pathlib.PurePosixPath(member).name
    part = folder / (name + ".part")
    part.write_bytes(z.read(member))
    part.rename(folder / name)

ort_wheel = next(iter(sorted(tmp.glob("onnxruntime_gpu-*.whl" if gpu else "onnxruntime-*.whl"))), None)
if ort_wheel is None:
    sys.exit(f"error: pip fetched no onnxruntime wheel into {tmp}")
wanted = [f"onnxruntime/capi/libonnxruntime.so.{version}"]
if gpu:
    wanted += ["onnxruntime/capi/libonnxruntime_providers_shared.so",
               "onnxruntime/capi/libonnxruntime_providers_cuda.so"]
with zipfile.ZipFile(ort_wheel) as z:
    names = z.namelist()
    for member in wanted:
        if member not in names:
            sys.exit(f"error: {member} is not in {ort_wheel.name}; found: "
                     + ", ".join(n for n in names if "libonnxruntime" in n))
    # The library itself last: its presence says the folder is complete.
    for member in reversed(wanted):
        extract(z, member, dest)
if gpu and cuda_libraries:
    cuda = dest / "cuda"
    count = 0
    for wheel in sorted(tmp.glob("nvidia_*.whl")):
        with zipfile.ZipFile(wheel) as z:
            for member in z.namelist():
                if member.startswith("nvidia/") and "/lib/" in member and ".so" in pathlib.PurePosixPath(member).name:
                    extract(z, member, cuda)
                    count += 1
    if count == 0:
        sys.exit("error: the NVIDIA wheels held no libraries (did pip fetch them?)")
    (cuda / ".complete").write_text(f"onnxruntime-gpu {version}\n")
    print(f"{count} CUDA libraries in {cuda}", file=sys.stderr)
PY
echo "$lib"
