#!/usr/bin/env node
// The engine benchmark natively and in the browser (release wasm), side by side in one run:
// the scenario of `cargo bench --bench engine` (engine/flows16: 16 servers, 32 clients, 1% loss)
// run for 60 s of virtual time nine times each way (the first warms up), natively by
// `cargo run --profile bench --example bench_engine` (the bench profile, as criterion builds
// it) and in the page through window.dsplay.benchEngine. Prints events per second of wall time
// for both, the ratio, and whether the two trace hashes agree (they must: same run).
// Usage: DSPLAY_URL=http://127.0.0.1:8080/ node scripts/bench-wasm-engine.mjs [virtual seconds]
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const virtualS = Number(process.argv[2] || 60);
// The scenario of the native `engine/flows16` (benches/engine.rs), so the figures compare.
const LINK = '#/flows?n=16&seed=3&lat=1..20ms&loss=1%&dup=0%&clients=32&think=0ms&proc=1..5ms&workers=8';
const fmt = (x) => Math.round(x).toLocaleString('en');

// Median and best of the warm runs (all but the first).
function figures(runs) {
  const warm = runs.slice(1).map((r) => r.eventsPerSec).sort((a, b) => a - b);
  return { median: warm[Math.floor(warm.length / 2)], best: warm[warm.length - 1], first: runs[0].eventsPerSec, last: runs[runs.length - 1] };
}

function nativeRuns() {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const out = execFileSync('cargo', ['run', '-q', '--profile', 'bench', '--example', 'bench_engine', '--', LINK, String(virtualS)], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return out.trim().split('\n').map((line) => JSON.parse(line));
}

const native = figures(nativeRuns());
console.log(`events/s natively: median ${fmt(native.median)}, best ${fmt(native.best)} (first run ${fmt(native.first)})`);
// Imported only now, so the native figures print even where the browser is not set up.
const { launch, open } = await import('../tests/e2e/helpers.mjs');
const b = await launch();
let wasm;
try {
  const page = await b.page();
  await open(page, '#/flows?n=3&seed=1&t=0ms');
  const runs = [];
  for (let i = 0; i < 9; i++) runs.push(await page.evaluate(([l, n]) => window.dsplay.benchEngine(l, n), [LINK, virtualS]));
  wasm = figures(runs);
} finally {
  await b.close();
}
const r = wasm.last;
console.log(`scenario: engine/flows16 (16 servers, 32 clients, 1% loss): ${r.events} events in ${(r.virtualUs / 1e6).toFixed(0)} s virtual`);
console.log(`events/s in wasm:  median ${fmt(wasm.median)}, best ${fmt(wasm.best)} (first run ${fmt(wasm.first)})`);
console.log(`native / wasm (medians): ${(native.median / wasm.median).toFixed(2)}x (the budget: at most 2x)`);
const same = native.last.traceHash === r.traceHash && native.last.events === r.events;
console.log(`trace hash: native ${native.last.traceHash}, wasm ${r.traceHash}: ${same ? 'the same run' : 'DIFFERENT RUNS'}`);
if (!same) process.exitCode = 1;
