#!/usr/bin/env bash
# Builds the release site and serves it on http://127.0.0.1:PORT (default 8080).
# Usage: scripts/serve.sh [PORT]
set -euo pipefail
cd "$(dirname "$0")/.."
port=${1:-8080}
scripts/setup.sh web
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH" TRUNK_SKIP_VERSION_CHECK=true
trunk build --release
echo "[serve] http://127.0.0.1:$port/  (Ctrl-C to stop)" >&2
exec python3 -m http.server "$port" --bind 127.0.0.1 --directory dist
