#!/usr/bin/env node
// Frame-rate benchmark (not a test): the release build in headless Chromium with 9 nodes and
// hundreds of messages in flight, playing for 5 seconds. Prints the frame rate (median and the
// 5th percentile, from requestAnimationFrame timestamps), the messages in flight, and the main
// thread's busy time per second (CDP Performance.getMetrics TaskDuration). Target: 60 fps.
// Usage: DSPLAY_URL=http://127.0.0.1:8080/ node scripts/bench-fps.mjs [seconds]
import { launch, open, sleep } from '../tests/e2e/helpers.mjs';

// Flows with impatient clients: each gives up after 40 ms and asks again at once, while
// requests and replies take 150-350 ms on the wire, so many messages overlap.
const LINK = process.env.BENCH_LINK ||
  '#/flows?n=9&seed=1&lat=150..350ms&loss=1%&dup=0%&clients=24&think=0ms&timeout=40ms&proc=5..20ms&workers=64';
const seconds = Number(process.argv[2] || 5);

const b = await launch({ width: 1280, height: 800 });
try {
  const page = await b.page();
  await open(page, LINK);
  await page.evaluate(() => window.dsplay.play(true));
  await sleep(1500); // warm up: fill the network
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const metric = async (name) => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === name)?.value ?? 0;
  const task0 = await metric('TaskDuration');
  const wall0 = Date.now();
  const result = await page.evaluate((ms) => new Promise((resolve) => {
    const ts = [];
    const inflight = [];
    const t0 = performance.now();
    const timer = setInterval(() => inflight.push(window.dsplay.state().inFlight), 250);
    function frame(t) {
      ts.push(t);
      if (t - t0 < ms) requestAnimationFrame(frame);
      else { clearInterval(timer); resolve({ ts, inflight }); }
    }
    requestAnimationFrame(frame);
  }), seconds * 1000);
  const task1 = await metric('TaskDuration');
  const wallS = (Date.now() - wall0) / 1000;
  const dts = result.ts.slice(1).map((t, i) => t - result.ts[i]).sort((a, b) => a - b);
  const q = (arr, p) => arr[Math.min(arr.length - 1, Math.floor(p * arr.length))];
  const inflight = [...result.inflight].sort((a, b) => a - b);
  const st = await page.evaluate(() => window.dsplay.state());
  console.log(`scenario: ${LINK}`);
  console.log(`frames: ${result.ts.length} in ${seconds} s`);
  console.log(`fps median: ${(1000 / q(dts, 0.5)).toFixed(1)}  (frame time median ${q(dts, 0.5).toFixed(2)} ms)`);
  console.log(`fps 5th percentile: ${(1000 / q(dts, 0.95)).toFixed(1)}  (frame time 95th percentile ${q(dts, 0.95).toFixed(2)} ms, worst ${dts[dts.length - 1].toFixed(2)} ms)`);
  console.log(`messages in flight: median ${q(inflight, 0.5)}, min ${inflight[0]}, max ${inflight[inflight.length - 1]}`);
  console.log(`main thread busy: ${(((task1 - task0) * 1000) / wallS).toFixed(0)} ms per second`);
  console.log(`virtual time reached: ${(st.nowUs / 1e6).toFixed(2)} s`);
  if (b.errors.length) console.log(`page errors: ${b.errors.join('; ')}`);
} finally {
  await b.close();
}
