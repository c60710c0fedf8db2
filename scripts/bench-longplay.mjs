#!/usr/bin/env node
// Long play (not a test): plays a run at 100x for a stretch of virtual time (8 hours by
// default, about 5 minutes of wall time) and prints, every 30 s, the page's and the paint
// worker's wasm memory and the page's JS heap; then the times of ten seeks to random instants
// (median and worst), and the time to reopen the link of the final moment in a fresh page,
// checking it opens at the same trace hash. Memory must level off.
// Usage: LONGPLAY_HOURS=8 DSPLAY_URL=http://127.0.0.1:8080/ node scripts/bench-longplay.mjs
//   LONGPLAY_SPEED=1 LONGPLAY_MINUTES=60 plays at 1x for an hour of wall time instead (the play
//   stops at whichever of the two limits comes first).
import { launch, open, sleep, BASE } from '../tests/e2e/helpers.mjs';

const hours = Number(process.env.LONGPLAY_HOURS || 8);
const speed = Number(process.env.LONGPLAY_SPEED || 100);
const minutes = Number(process.env.LONGPLAY_MINUTES || 60);
const LINK = process.env.BENCH_LINK || '#/raft?n=5&seed=1&lat=20..80ms&loss=2%&dup=0%&clients=2';
const MB = 2 ** 20;
const b = await launch({ extraArgs: ['--enable-precise-memory-info'] });
try {
  const page = await b.page();
  await open(page, LINK);
  const cdp = await page.context().newCDPSession(page);
  const workerMemory = async () => {
    for (const w of page.workers()) {
      const bytes = await w.evaluate(() => self.dsplayWasm?.memory?.buffer?.byteLength ?? null).catch(() => null);
      if (bytes) return bytes;
    }
    return NaN;
  };
  const sample = async () => {
    await cdp.send('HeapProfiler.collectGarbage').catch(() => {});
    const heap = await cdp.send('Runtime.getHeapUsage');
    const s = await page.evaluate(() => ({ wasm: window.dsplay.wasmMemoryBytes(), ...window.dsplay.state() }));
    return { pageMB: s.wasm / MB, workerMB: (await workerMemory()) / MB, heapMB: heap.usedSize / MB, virtualS: s.nowUs / 1e6, replica: s.painter.replica };
  };
  const fmt = (s) =>
    `page wasm ${s.pageMB.toFixed(1)} MB, worker wasm ${s.workerMB.toFixed(1)} MB, JS heap ${s.heapMB.toFixed(1)} MB, ` +
    `virtual ${(s.virtualS / 3600).toFixed(2)} h, replica ${s.replica}`;
  await page.evaluate((v) => { window.dsplay.setSpeed(v); window.dsplay.play(true); }, speed);
  const t0 = Date.now();
  let last = await sample();
  console.log(`start: ${fmt(last)}`);
  while (last.virtualS < hours * 3600 && Date.now() - t0 < minutes * 60_000) {
    await sleep(30_000);
    const playing = await page.evaluate(() => window.dsplay.state().playing);
    if (!playing) await page.evaluate(() => window.dsplay.play(true)); // a violation pauses: play on
    last = await sample();
    console.log(`${((Date.now() - t0) / 1000).toFixed(0)} s: ${fmt(last)}`);
  }
  await page.evaluate(() => window.dsplay.play(false));
  const end = await page.evaluate(() => window.dsplay.state());
  // Ten seeks to random instants (a fixed sequence, so runs compare).
  let x = 12345;
  const times = [];
  for (let i = 0; i < 10; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const t = Math.floor((x / 2 ** 31) * end.nowUs);
    times.push(await page.evaluate((t) => { const a = performance.now(); window.dsplay.seek(t); return performance.now() - a; }, t));
  }
  times.sort((a, b) => a - b);
  console.log(`seeks: median ${times[5].toFixed(0)} ms, worst ${times[9].toFixed(0)} ms (${times.map((t) => t.toFixed(0)).join(', ')})`);
  await page.evaluate((t) => window.dsplay.seek(t), end.nowUs);
  const moment = await page.evaluate(() => window.dsplay.state());
  const after = await sample();
  console.log(`after the seeks: ${fmt(after)}`);
  // Reopen the final moment's link in a fresh page.
  const fresh = await b.context.newPage();
  const a = Date.now();
  await fresh.goto(BASE + moment.link, { waitUntil: 'load' });
  await fresh.waitForSelector('#dsplay[data-trace-hash]');
  await fresh.waitForFunction(() => window.dsplay && window.dsplay.state().opening === null, null, { timeout: 600_000 });
  const reopened = await fresh.evaluate(() => window.dsplay.state());
  console.log(
    `reopen ${moment.link}: ${((Date.now() - a) / 1000).toFixed(1)} s, ` +
      `${reopened.nowUs === moment.nowUs && reopened.traceHash === moment.traceHash ? 'same instant and trace hash' : `DIFFERENT: ${reopened.nowUs} ${reopened.traceHash} vs ${moment.nowUs} ${moment.traceHash}`}`,
  );
  if (b.errors.length) console.log(`page errors: ${b.errors.join('; ')}`);
} finally {
  await b.close();
}
