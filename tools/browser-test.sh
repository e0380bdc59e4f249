#!/usr/bin/env bash
# The dashboard in a real browser: installs Debian's chromium and chromium-driver when they
# are missing (needs root, or sudo), then runs tests/dashboard_browser.rs, which serves a demo's
# dashboard, opens it in headless Chromium and checks the viewer received and drew the
# recording. The screenshot it takes becomes the README's picture (docs/dashboard.png), or
# goes to $GROUNDED_SCREENSHOT.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    if [ "$(id -u)" = 0 ]; then as_root=(); elif command -v sudo >/dev/null; then as_root=(sudo); else
        echo "error: chromium and chromedriver are not installed, and this user cannot install them." >&2
        echo "       As root: apt-get install -y chromium chromium-driver" >&2
        exit 1
    fi
    echo "installing Debian's chromium and chromium-driver ..." >&2
    "${as_root[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq chromium chromium-driver >/dev/null
fi
export GROUNDED_SCREENSHOT="${GROUNDED_SCREENSHOT:-$PWD/docs/dashboard.png}"
cargo test --test dashboard_browser -- --ignored
echo "screenshot: $GROUNDED_SCREENSHOT" >&2
