#!/usr/bin/env bash
# Installs every tool dsplay needs on a fresh Debian machine, skipping what is already there.
# Usage: scripts/setup.sh [native|web|all]   (default: all)
#   native: wasm target only needed by nothing; just checks cargo.
#   web:    wasm target, trunk, wasm-bindgen-cli (lockfile version), wasm-opt (npm binaryen),
#           chromium + chromedriver, playwright-core.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}

log() { printf '[setup] %s\n' "$*" >&2; }

export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"

need_native() {
  command -v cargo >/dev/null || { log "cargo is missing: install Rust with rustup first"; exit 1; }
}

# The wasm-bindgen version the lockfile pins; the CLI must match it exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

need_web() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if ! command -v trunk >/dev/null || ! trunk --version | grep -q '0.22.1'; then
    log "installing trunk 0.22.1 (about 15 minutes, once)"
    cargo install --locked --ignore-rust-version trunk --version 0.22.1
  fi
  [ -f Cargo.lock ] || cargo generate-lockfile
  # Trunk builds offline (Trunk.toml), so the page's crates must be here before it runs; a
  # native build alone does not fetch the browser-only ones. Quick once they are.
  cargo fetch --locked --target wasm32-unknown-unknown >/dev/null
  local wbv; wbv=$(wasm_bindgen_version)
  if ! command -v wasm-bindgen >/dev/null || ! wasm-bindgen --version | grep -q " $wbv\$"; then
    log "installing wasm-bindgen-cli $wbv (about 3 minutes, once)"
    # Not --locked: its lockfile names a crate version this registry does not have.
    cargo install wasm-bindgen-cli --version "$wbv" --force
  fi
  if [ ! -x node_modules/.bin/wasm-opt ] || ! node_modules/.bin/wasm-opt --version | grep -q 'version 132' \
     || [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/jsqr ] || [ ! -d node_modules/axe-core ]; then
    log "installing npm packages (binaryen 132 for wasm-opt, playwright-core, jsqr and axe-core for the tests)"
    if [ -f package-lock.json ]; then
      npm ci --no-audit --no-fund --silent
    else
      npm install --no-audit --no-fund --silent
    fi
  fi
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    log "installing chromium and chromedriver"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
}

need_native
case "$what" in
  native) ;;
  web|all) need_web ;;
  *) log "unknown argument '$what' (native, web or all)"; exit 2 ;;
esac
log "tools ready"
