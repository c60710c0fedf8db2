#!/usr/bin/env node
// The engine benchmark in the browser (release wasm): the scenario of the native
// `cargo bench --bench engine` (engine/flows16: 16 servers, 32 clients, 1% loss) run for 60 s
// of virtual time through window.dsplay.benchEngine. Prints events per second of wall time.
// Usage: DSPLAY_URL=http://127.0.0.1:8080/ node scripts/bench-wasm-engine.mjs [virtual seconds]
import { launch, open } from '../tests/e2e/helpers.mjs';

const virtualS = Number(process.argv[2] || 60);
// The scenario of the native `engine/flows16` (benches/engine.rs), so the figures compare.
const LINK = '#/flows?n=16&seed=3&lat=1..20ms&loss=1%&dup=0%&clients=32&think=0ms&proc=1..5ms&workers=8';
const b = await launch();
try {
  const page = await b.page();
  await open(page, '#/flows?n=3&seed=1&t=0ms');
  const runs = [];
  for (let i = 0; i < 4; i++) runs.push(await page.evaluate(([l, n]) => window.dsplay.benchEngine(l, n), [LINK, virtualS]));
  const warm = runs.slice(1).map((r) => r.eventsPerSec).sort((a, b) => a - b);
  const r = runs[runs.length - 1];
  console.log(`scenario: engine/flows16 (16 servers, 32 clients, 1% loss): ${r.events} events in ${(r.virtualUs / 1e6).toFixed(0)} s virtual, hash ${r.traceHash}`);
  console.log(`events/s in wasm: median ${Math.round(warm[1]).toLocaleString('en')}, best ${Math.round(warm[2]).toLocaleString('en')} (first run ${Math.round(runs[0].eventsPerSec).toLocaleString('en')})`);
} finally {
  await b.close();
}
