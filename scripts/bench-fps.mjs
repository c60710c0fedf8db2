#!/usr/bin/env node
// Frame-rate benchmark (not a test): the release build in headless Chromium, playing a scenario
// for some seconds after a warm-up. Prints the frame rate of the animated canvases (median and
// the 5th percentile), the messages in flight, and the main thread's busy time per second, two
// ways (CDP Performance.getMetrics): TaskDuration, the wall-clock time of its tasks, and
// ThreadTime, the CPU time it used. On a machine with few cores the first is the larger: a task
// also counts the time the thread waited while the paint worker and the compositor had the CPU.
// Where the paint worker paints the canvases, the frame rate comes from the timestamps of the
// worker's frames that painted, and the page runs no frame loop of this script's: such a loop
// would cost the main thread about 40 ms a second by itself. BENCH_PAGE_LOOP=1 adds one anyway
// (the way pages that animate on the main thread are measured). Target: 60 fps.
// It also prints the CPU time of the whole browser (every process and thread of it: the
// page, the paint worker, the GPU process and the compositor included), read from /proc.
// BENCH_THROTTLE=4 slows the page's CPU fourfold as the developer tools do (a school laptop).
// Usage: DSPLAY_URL=http://127.0.0.1:8080/ node scripts/bench-fps.mjs [seconds] [scenario]
//   scenario: flows9 (default), raft5, raft9, ring64, or a link in BENCH_LINK
import { readdirSync, readFileSync } from 'node:fs';
import { launch, open, sleep } from '../tests/e2e/helpers.mjs';

/** CPU time used so far by every process whose command line names `dir`, in ms; with `byType`,
 * an object of the ms per process type (browser, renderer, gpu-process, utility). */
function browserCpuMs(dir, byType = null) {
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)) continue;
      // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const t = Number(f[11]) + Number(f[12]);
      ticks += t;
      if (byType) {
        const type = (readFileSync(`/proc/${pid}/cmdline`, 'utf8').match(/--type=([a-z-]+)/) || [, 'browser'])[1];
        byType[type] = (byType[type] || 0) + (t * 1000) / 100;
      }
    } catch {
      // the process ended meanwhile
    }
  }
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

const SCENARIOS = {
  // Flows with impatient clients: each gives up after 40 ms and asks again at once, while
  // requests and replies take 150-350 ms on the wire, so many messages overlap.
  flows9: ['#/flows?n=9&seed=1&lat=150..350ms&loss=1%&dup=0%&clients=24&think=0ms&timeout=40ms&proc=5..20ms&workers=64', 1500],
  // The Raft lab as a class first sees it: 5 servers, one client, 20-80 ms links.
  raft5: ['#/raft?n=5&seed=1&lat=20..80ms&loss=0%&dup=0%&clients=1', 1500],
  // 9 servers and about 200 messages in flight once a leader is elected (after the warm-up).
  raft9: ['#/raft?n=9&seed=1&lat=300..500ms&loss=0%&dup=0%&hb=100ms&et=1500..3000ms&clients=2&think=0ms', 5000],
  // The ring stage at its busiest: 64 servers x 100 points (6,400 ticks and arcs), 10,000 keys
  // as dots, reads flowing.
  ring64: ['#/ring?n=64&seed=1&lat=20..80ms&loss=0%&dup=0%&vnodes=100&keys=10000&clients=8&think=20ms&view=ring', 1500],
};
const name = process.argv[3] || 'flows9';
if (!process.env.BENCH_LINK && !SCENARIOS[name]) {
  console.error(`unknown scenario '${name}': one of ${Object.keys(SCENARIOS).join(', ')}`);
  process.exit(2);
}
const [LINK, WARMUP] = process.env.BENCH_LINK ? [process.env.BENCH_LINK, 1500] : SCENARIOS[name];
const seconds = Number(process.argv[2] || 5);

const b = await launch({ width: 1280, height: 800 });
try {
  const page = await b.page();
  await open(page, LINK);
  await page.evaluate(() => window.dsplay.play(true));
  await sleep(Number(process.env.BENCH_WARMUP_MS || WARMUP)); // warm up: fill the network
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const throttle = Number(process.env.BENCH_THROTTLE || 1);
  if (throttle > 1) await cdp.send('Emulation.setCPUThrottlingRate', { rate: throttle });
  const types0 = {};
  const browser0 = browserCpuMs(b.dir, types0);
  const metric = async (name) => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === name)?.value ?? 0;
  const task0 = await metric('TaskDuration');
  const cpu0 = await metric('ThreadTime');
  const wall0 = Date.now();
  // Where the paint worker paints, its own record of the frames that painted; else the page's
  // animation frames, counted by a loop of this script's.
  const painter0 = (await page.evaluate(() => window.dsplay.state())).painter || {};
  const worker = painter0.offThread ? page.workers()[0] : null;
  const pageLoop = !worker || process.env.BENCH_PAGE_LOOP === '1';
  const w0 = worker ? await worker.evaluate(() => performance.now()) : 0;
  const result = await page.evaluate(({ ms, pageLoop }) => new Promise((resolve) => {
    const ts = [];
    const inflight = [];
    const t0 = performance.now();
    const timer = setInterval(() => inflight.push(window.dsplay.state().inFlight), 250);
    const done = () => { clearInterval(timer); resolve({ ts, inflight }); };
    function frame(t) {
      ts.push(t);
      if (t - t0 < ms) requestAnimationFrame(frame);
      else done();
    }
    if (pageLoop) requestAnimationFrame(frame);
    else setTimeout(done, ms);
  }), { ms: seconds * 1000, pageLoop });
  if (worker) {
    const w1 = await worker.evaluate(() => performance.now());
    const painted = await worker.evaluate(([a, b]) => self.dsplayPaints.filter((t) => t >= a && t <= b), [w0, w1]);
    if (!pageLoop) result.ts = painted;
    else console.log(`frames painted by the worker: ${painted.length}`);
  }
  const types1 = {};
  const browser1 = browserCpuMs(b.dir, types1);
  const task1 = await metric('TaskDuration');
  const cpu1 = await metric('ThreadTime');
  const wallS = (Date.now() - wall0) / 1000;
  const dts = result.ts.slice(1).map((t, i) => t - result.ts[i]).sort((a, b) => a - b);
  const q = (arr, p) => arr[Math.min(arr.length - 1, Math.floor(p * arr.length))];
  const inflight = [...result.inflight].sort((a, b) => a - b);
  const st = await page.evaluate(() => window.dsplay.state());
  console.log(`scenario: ${LINK}`);
  console.log(`frames: ${result.ts.length} in ${seconds} s (${pageLoop ? "the page's animation frames" : 'frames the paint worker painted'})`);
  console.log(`fps median: ${(1000 / q(dts, 0.5)).toFixed(1)}  (frame time median ${q(dts, 0.5).toFixed(2)} ms)`);
  console.log(`fps 5th percentile: ${(1000 / q(dts, 0.95)).toFixed(1)}  (frame time 95th percentile ${q(dts, 0.95).toFixed(2)} ms, worst ${dts[dts.length - 1].toFixed(2)} ms)`);
  console.log(`messages in flight: median ${q(inflight, 0.5)}, min ${inflight[0]}, max ${inflight[inflight.length - 1]}`);
  console.log(`main thread busy: ${(((task1 - task0) * 1000) / wallS).toFixed(0)} ms per second (task time), ${(((cpu1 - cpu0) * 1000) / wallS).toFixed(0)} ms per second (CPU time)`);
  const per = Object.keys(types1).map((k) => `${k} ${(((types1[k] || 0) - (types0[k] || 0)) / wallS).toFixed(0)}`).join(', ');
  console.log(`whole browser CPU: ${((browser1 - browser0) / wallS).toFixed(0)} ms per second (every process and thread, from /proc: ${per})`);
  if (throttle > 1) console.log(`CPU throttled ${throttle}x (Emulation.setCPUThrottlingRate)`);
  const painter = st.painter || {};
  console.log(`canvases painted: ${painter.replica === 'on' ? 'in the worker, from its copy of the run' : painter.offThread ? 'in the worker, from shapes sent by the page' : 'on the page'}`);
  console.log(`display clock driven by: ${painter.clock === 'worker' ? "the worker's animation frames" : "the page's animation frames"}`);
  console.log(`virtual time reached: ${(st.nowUs / 1e6).toFixed(2)} s`);
  if (b.errors.length) console.log(`page errors: ${b.errors.join('; ')}`);
} finally {
  await b.close();
}
