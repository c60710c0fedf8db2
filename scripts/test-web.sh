#!/usr/bin/env bash
# The browser tests: wasm-bindgen-test in headless Chromium, then the Playwright end-to-end
# tests against the release build served on a free local port. Exits non-zero on any failure.
# Usage: scripts/test-web.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh web
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH" TRUNK_SKIP_VERSION_CHECK=true
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export CHROMEDRIVER=/usr/bin/chromedriver

echo "[test-web] wasm-bindgen-test (headless Chromium)" >&2
cargo test --target wasm32-unknown-unknown --features web --test web

echo "[test-web] release build" >&2
trunk build --release

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
python3 -m http.server "$port" --bind 127.0.0.1 --directory dist >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 50); do
  if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/')" 2>/dev/null; then break; fi
  sleep 0.1
done

echo "[test-web] end-to-end tests against http://127.0.0.1:$port/" >&2
DSPLAY_URL="http://127.0.0.1:$port/" node --test --test-concurrency=1 tests/e2e/
