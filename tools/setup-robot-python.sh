#!/usr/bin/env bash
# A Python virtual environment for robots written in Python (examples/warehouse/robot.py,
# tests/ros2_robot.py, and the tests that start them): eclipse-zenoh at the version of
# Cargo.lock's zenoh, and for the ROS 2 robot without ROS rosbags and zenoh-ros2-sdk, from PyPI.
# Usage: bash tools/setup-robot-python.sh [DIR]   (default .venv-robot); prints DIR's python.
# Idempotent: an environment that already has that zenoh is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-.venv-robot}"
version=$(awk '/^name = "zenoh"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
if [ -z "$version" ]; then
    echo "error: Cargo.lock names no zenoh version" >&2
    exit 1
fi
if [ -x "$dir/bin/python" ] && "$dir/bin/python" -c "import zenoh, importlib.metadata as m; assert m.version('eclipse-zenoh') == '$version'; import rosbags, zenoh_ros2_sdk" 2>/dev/null; then
    echo "$(cd "$dir" && pwd)/bin/python"
    exit 0
fi
if ! python3 -c "import ensurepip" 2>/dev/null; then
    # Debian splits venv's pip bootstrap into python3-venv.
    if [ "$(id -u)" = 0 ]; then as_root=(); elif command -v sudo >/dev/null; then as_root=(sudo); else
        echo "error: python3 cannot create virtual environments here (Debian's python3-venv is missing)." >&2
        echo "       As root: apt-get install -y python3-venv" >&2
        exit 1
    fi
    echo "installing Debian's python3-venv ..." >&2
    "${as_root[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq python3-venv >/dev/null
fi
echo "creating $dir with eclipse-zenoh $version, rosbags and zenoh-ros2-sdk ..." >&2
python3 -m venv "$dir"
"$dir/bin/pip" install --quiet --disable-pip-version-check "eclipse-zenoh==$version" rosbags==0.11.9 zenoh-ros2-sdk==0.1.8
echo "$(cd "$dir" && pwd)/bin/python"
