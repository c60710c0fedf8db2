// Total and long-lived runs in the browser: a link hours into a run opens in the background with
// its progress shown and the page painting, at the same trace hash as the command line gives;
// opening can be cancelled; settings that would give clients no time are refused with a message
// while the page keeps painting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { launch, open, BASE, setInput, sleep } from './helpers.mjs';

const LONG = '#/raft?n=5&seed=1&lat=20..80ms&loss=2%&dup=0%&clients=2';
const MOMENT = `${LONG}&t=12044.97s`;

/** The trace hash `dsplay run` gives for a link (the binary the native tests built). */
function cliHash(link) {
  const bin = ['target/release/dsplay', 'target/debug/dsplay'].find((p) => existsSync(p));
  assert.ok(bin, 'the dsplay binary is built (scripts/test.sh runs the native tests first)');
  const out = JSON.parse(execFileSync(bin, ['run', link, '--json'], { encoding: 'utf8' }));
  return out.trace_hash;
}

const state = (page) => page.evaluate(() => window.dsplay.state());

test('a link 3 h 20 m into a run opens in the background at the hash dsplay run gives', async () => {
  const want = cliHash(MOMENT);
  const b = await launch();
  try {
    const page = await b.page();
    await page.goto('about:blank');
    await page.goto(BASE + MOMENT, { waitUntil: 'load' });
    await page.waitForSelector('#dsplay[data-trace-hash]');
    // The replay goes on in the background: its progress is shown, and the page paints.
    await page.waitForSelector('.opening', { timeout: 10_000 });
    const text = await page.textContent('.opening');
    assert.match(text, /Opening the link: replaying its run, .* of 3h 20m/);
    // Behind the overlay the same run shows from its start.
    const first = await state(page);
    assert.ok(first.opening, 'opening');
    assert.equal(first.nowUs, 0);
    assert.ok(first.link.includes('t=12044.97s'), `the address bar keeps the link: ${first.link}`);
    // The page stays responsive and painted: frames keep coming while the replay goes on.
    const f0 = first.frames;
    const a = Date.now();
    await sleep(700);
    const mid = await state(page);
    if (mid.opening) {
      const perSecond = ((mid.frames - f0) * 1000) / (Date.now() - a);
      assert.ok(perSecond > 10, `the page keeps painting while it opens (${perSecond.toFixed(0)} frames/s)`);
    }
    await page.waitForFunction(() => window.dsplay.state().opening === null, null, { timeout: 120_000 });
    const s = await state(page);
    assert.equal(s.nowUs, 12_044_970_000);
    assert.equal(s.traceHash, want, 'the same run as on the command line');
    assert.equal(s.playing, false, 'it opens paused at its moment');
    assert.equal(await page.locator('.opening').count(), 0, 'the progress overlay is gone');
    // The paint worker's copy replayed in step and still agrees.
    await page.waitForFunction(() => window.dsplay.state().painter.replica !== 'starting');
    assert.equal((await state(page)).painter.replica, 'on');
    // Scrubbing this long run answers quickly, forwards and back.
    for (const t of [6_000_000_000, 11_000_000_000, 2_000_000_000]) {
      const ms = await page.evaluate(async (t) => {
        const t0 = performance.now();
        window.dsplay.seek(t);
        return performance.now() - t0;
      }, t);
      assert.equal((await state(page)).nowUs, t);
      assert.ok(ms < 2_000, `seek to ${t} µs took ${ms.toFixed(0)} ms`);
    }
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('opening a long link can be cancelled, and the same run stays at its start', async () => {
  const b = await launch();
  try {
    const page = await b.page();
    await page.goto('about:blank');
    await page.goto(BASE + MOMENT, { waitUntil: 'load' });
    await page.waitForSelector('.opening button', { timeout: 10_000 });
    await page.click('.opening button');
    await page.waitForFunction(() => window.dsplay.state().opening === null);
    const s = await state(page);
    assert.equal(s.lab, 'raft');
    assert.ok(s.nowUs < 10_000_000, `the run stays near its start (${s.nowUs} µs)`);
    assert.ok(!s.link.includes('t=12044'), s.link);
    assert.ok(s.link.includes('clients=2') && s.link.includes('loss=2%'), `the link's own run: ${s.link}`);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('zero-delay settings made from the controls are refused with a reason, and painting goes on', async () => {
  const b = await launch();
  try {
    const page = await b.page();
    await open(page, '#/raft?n=5&seed=1&lat=20..80ms&loss=0%&dup=0%&clients=1');
    await page.evaluate(() => window.dsplay.play(true));
    await setInput(page, '#lat-min', 0);
    await setInput(page, '#lat-max', 0);
    await setInput(page, '#param-think', '0ms');
    await page.waitForSelector('.notice', { timeout: 5_000 });
    const notice = await page.textContent('.notice');
    assert.match(notice, /no time between operations/);
    assert.match(notice, /think time/);
    const f0 = (await state(page)).frames;
    const t0 = (await state(page)).nowUs;
    await sleep(1_000);
    const s = await state(page);
    assert.ok(s.frames > f0 + 20, `frames keep coming (${f0} -> ${s.frames})`);
    assert.ok(s.nowUs > t0, 'the run goes on as it was');
    assert.ok(!s.link.includes('think=0ms'), s.link);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('Share warns instead of handing out a link that would be refused, and copies an earlier moment', async () => {
  const b = await launch();
  try {
    const page = await b.page();
    // The busiest settings the pace rule allows: 32 clients looping every 2 ms on 16 servers
    // pass the replay budget of 40 million events within about ten minutes of virtual time.
    await open(page, '#/flows?n=16&seed=1&lat=0..2ms&loss=0%&dup=0%&clients=32&think=0ms&proc=0ms&workers=64');
    await page.evaluate(() => { window.dsplay.setSpeed(100); window.dsplay.play(true); });
    const events = () => page.evaluate(() => Number(Array.from(document.querySelectorAll('.stats dt')).find((d) => d.textContent === 'events')?.nextElementSibling?.textContent || 0));
    const deadline = Date.now() + 90_000;
    while ((await events()) <= 40_000_000 && Date.now() < deadline) await sleep(1000);
    assert.ok((await events()) > 40_000_000, 'the run passed the replay budget');
    await page.evaluate(() => window.dsplay.play(false));
    await page.click("button[aria-label^='Share this run']");
    const warning = await page.textContent('.share p.muted');
    assert.match(warning, /too far into the run to share: a link reopens at most 40 million events/);
    assert.equal(await page.isVisible('canvas.qr'), false, 'no code for a link that would be refused');
    await page.click("button[aria-label='Close sharing']");
    await page.evaluate(() => window.dsplay.seek(100_000_000));
    await page.click("button[aria-label^='Share this run']");
    assert.match(await page.inputValue("input[aria-label='The link']"), /#\/flows\?.*&t=100s&speed=100$/);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});
