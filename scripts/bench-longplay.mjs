#!/usr/bin/env node
// Long play (not a test): runs the playground at 100x for N minutes and prints the wasm memory
// and the JS heap at the start, every minute and at the end. Memory must stay flat.
// Usage: LONGPLAY_MINUTES=10 DSPLAY_URL=http://127.0.0.1:8080/ node scripts/bench-longplay.mjs
import { launch, open, sleep } from '../tests/e2e/helpers.mjs';

const minutes = Number(process.env.LONGPLAY_MINUTES || 10);
const LINK = process.env.BENCH_LINK || '#/flows?n=5&seed=1&lat=20..80ms&loss=2%&dup=1%&clients=8';
const b = await launch({ extraArgs: ['--enable-precise-memory-info'] });
try {
  const page = await b.page();
  await open(page, LINK);
  const cdp = await page.context().newCDPSession(page);
  const sample = async () => {
    await cdp.send('HeapProfiler.collectGarbage').catch(() => {});
    const heap = await cdp.send('Runtime.getHeapUsage');
    const s = await page.evaluate(() => ({ wasm: window.dsplay.wasmMemoryBytes(), ...window.dsplay.state() }));
    return { wasmMB: s.wasm / 2 ** 20, heapMB: heap.usedSize / 2 ** 20, virtualS: s.nowUs / 1e6, records: (await page.evaluate(() => window.dsplay.records().length)) };
  };
  const fmt = (s) => `wasm ${s.wasmMB.toFixed(1)} MB, JS heap ${s.heapMB.toFixed(1)} MB, virtual ${s.virtualS.toFixed(0)} s, cached records ${s.records}`;
  await page.evaluate(() => { window.dsplay.setSpeed(100); window.dsplay.play(true); });
  await sleep(5000);
  const start = await sample();
  console.log(`start (after 5 s warm-up): ${fmt(start)}`);
  let last = start;
  for (let m = 1; m <= minutes; m++) {
    await sleep(60_000);
    const playing = await page.evaluate(() => window.dsplay.state().playing);
    if (!playing) await page.evaluate(() => window.dsplay.play(true)); // a violation pauses: play on
    last = await sample();
    console.log(`minute ${m}: ${fmt(last)}`);
  }
  console.log(`end: ${fmt(last)}`);
  console.log(`change: wasm ${(last.wasmMB - start.wasmMB).toFixed(1)} MB, JS heap ${(last.heapMB - start.heapMB).toFixed(1)} MB`);
  if (b.errors.length) console.log(`page errors: ${b.errors.join('; ')}`);
} finally {
  await b.close();
}
