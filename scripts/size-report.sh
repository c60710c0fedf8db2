#!/usr/bin/env bash
# Prints the release site's transfer size: each wasm, js and css file raw and gzipped, and the
# gzipped total (budget: under 400 KB). Builds the site first unless --no-build.
# Usage: scripts/size-report.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" != "--no-build" ]; then
  scripts/setup.sh web >/dev/null
  export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH" TRUNK_SKIP_VERSION_CHECK=true
  trunk build --release >&2
fi
total=0
printf '%-44s %10s %10s\n' file bytes gzipped
for f in dist/*.wasm dist/*.js dist/*.css dist/index.html; do
  [ -f "$f" ] || continue
  raw=$(wc -c <"$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  total=$((total + gz))
  printf '%-44s %10d %10d\n' "$(basename "$f")" "$raw" "$gz"
done
printf 'total gzipped: %d bytes (%.1f KB; budget 400 KB)\n' "$total" "$(echo "$total / 1024" | bc -l)"
