#!/usr/bin/env bash
# Runs every test of dsplay on a fresh machine: installs what is missing (idempotently), then
# the native tests (engine, labs, links, checker, CLI), then the browser tests (wasm in headless
# Chromium and Playwright end-to-end tests against the release build).
#
# Environment:
#   DSPLAY_REFDATA   reference data folder (default ../shared/refdata)
#   DSPLAY_SEEDS     seeds per sweep (small by default; raise for long sweeps)
#   DSPLAY_SKIP_WEB  set to 1 to run the native tests only
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export DSPLAY_REFDATA="${DSPLAY_REFDATA:-$(cd .. && pwd)/shared/refdata}"
if [ ! -d "$DSPLAY_REFDATA" ]; then
  echo "note: reference data not found at $DSPLAY_REFDATA; the tests that compare with published results will say they are skipped"
fi

if [ "${DSPLAY_SKIP_WEB:-0}" = 1 ]; then
  scripts/setup.sh native
else
  scripts/setup.sh all
fi

echo "== native tests =="
set +e
cargo test --locked --lib --bins --tests --examples --no-fail-fast 2>&1 | grep --line-buffered -vE '^\s+(Compiling|Checking|Downloaded|Downloading) '
native=${PIPESTATUS[0]}
set -e

web=0
if [ "${DSPLAY_SKIP_WEB:-0}" != 1 ]; then
  echo "== browser tests =="
  scripts/test-web.sh || web=$?
fi

if [ "$native" != 0 ] || [ "$web" != 0 ]; then
  echo "FAILED: native tests exit $native, browser tests exit $web"
  exit 1
fi
echo "all tests passed"
