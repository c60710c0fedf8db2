// End-to-end test of a long check in the client-history panel: a pasted 60,000-operation
// history is checked in the checker's worker with progress and a Cancel button while the page
// keeps painting and answering clicks; a small history then checks to its verdict.
// Run by scripts/test-web.sh (release build in headless Chromium via playwright-core).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { launch, open } from './helpers.mjs';

const OUT = 'test-results';
mkdirSync(OUT, { recursive: true });
const HIST = "section[aria-label='Client history']";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/**
 * A register history of `n` operations as Jepsen EDN: sequential writes and reads by three
 * clients, then `writes` concurrent writes and a read of a value none of them wrote. Refuting
 * that read means trying every subset of the writes, so the search runs until its budget ends.
 */
export function hardHistory(n, writes) {
  const lines = [];
  const op = (p, type, f, v) => lines.push(`{:process ${p}, :type :${type}, :f :${f}, :value ${v}}`);
  for (let i = 0; i < n - writes - 1; i++) {
    const p = i % 3;
    if (i % 2 === 0) {
      op(p, 'invoke', 'write', i);
      op(p, 'ok', 'write', i);
    } else {
      op(p, 'invoke', 'read', 'nil');
      op(p, 'ok', 'read', i - 1);
    }
  }
  for (let i = 0; i < writes; i++) op(10 + i, 'invoke', 'write', -i - 1);
  for (let i = 0; i < writes; i++) op(10 + i, 'ok', 'write', -i - 1);
  op(99, 'invoke', 'read', 'nil');
  op(99, 'ok', 'read', 12345678);
  return lines.join('\n');
}

/** Starts recording, in the page, frames painted and how late 50 ms timers fire. */
async function startWatch(page) {
  await page.evaluate(() => {
    const w = (window.__watch = { frames: 0, frameGapMs: 0, lateMs: 0, clickDelayMs: null, on: true });
    let last = performance.now();
    const frame = (t) => {
      w.frames++;
      w.frameGapMs = Math.max(w.frameGapMs, t - last);
      last = t;
      if (w.on) requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
    let due = performance.now() + 50;
    const tick = () => {
      w.lateMs = Math.max(w.lateMs, performance.now() - due);
      due = performance.now() + 50;
      if (w.on) setTimeout(tick, 50);
    };
    setTimeout(tick, 50);
    // How long a click waits before the page handles it (its event was made at timeStamp).
    document.addEventListener('click', (e) => (w.clickDelayMs = performance.now() - e.timeStamp), {
      capture: true,
      once: true,
    });
  });
}

async function stopWatch(page) {
  return page.evaluate(() => {
    window.__watch.on = false;
    return window.__watch;
  });
}

test('a long pasted check runs off the main thread with progress and cancel, then a small one checks', async () => {
  const page = await browser.page();
  await open(page, '#/raft?n=5&seed=1&clients=2');
  // Paused, so that what the page does while the check runs is only its own answer to input.
  if ((await page.evaluate(() => document.querySelector('#dsplay').dataset.playing)) === 'true') {
    await page.click("button[aria-label='Pause']");
  }
  await page.click("button[aria-label='Open a history']");
  // As a paste does: the text arrives in one input event.
  await page.waitForSelector("textarea[aria-label='History text']");
  await page.evaluate((text) => {
    const area = document.querySelector("textarea[aria-label='History text']");
    area.value = text;
    area.dispatchEvent(new Event('input', { bubbles: true }));
  }, hardHistory(60000, 20));
  // Too long to show: the text area says what it holds instead.
  const area = "textarea[aria-label='History text']";
  await page.waitForFunction((sel) => document.querySelector(sel).value === '', area);
  assert.match(await page.getAttribute(area, 'placeholder'), /A history of 120000 lines \(\d+ KB\), too long to show here/);
  await page.selectOption("select[aria-label='History format']", 'jepsen-edn');
  await page.selectOption("select[aria-label='Model']", 'register');
  await page.click("button[aria-label='Check the pasted history']");

  // Progress appears and moves past 0% while the search runs.
  const progress = `${HIST} [data-testid='history-progress']`;
  await page.waitForSelector(progress);
  await page.waitForFunction((sel) => /Checking… [1-9]\d?%/.test(document.querySelector(sel)?.textContent ?? ''), progress, {
    timeout: 30000,
  });
  assert.equal(await page.evaluate(() => window.Worker !== undefined), true);

  // Meanwhile the page paints and answers a click on another control.
  await startWatch(page);
  const before = await page.evaluate(() => document.querySelector('#dsplay').dataset.nowUs);
  await page.click("button[aria-label='Step to the next event']");
  await page.waitForFunction((t) => document.querySelector('#dsplay').dataset.nowUs !== t, before);
  await page.waitForTimeout(1000);
  const watch = await stopWatch(page);
  assert.ok(await page.$(progress), 'the check is still running while the page is watched');
  assert.ok(watch.frames >= 20, `frames kept coming while the check ran (${watch.frames} in about 1 s)`);
  assert.ok(watch.frameGapMs < 200, `no frame waited long (at most ${watch.frameGapMs.toFixed(0)} ms between frames)`);
  assert.ok(watch.lateMs < 200, `no long task on the page (timers at most ${watch.lateMs.toFixed(0)} ms late)`);
  assert.ok(watch.clickDelayMs !== null && watch.clickDelayMs < 200, `the click was handled within ${watch.clickDelayMs} ms`);
  await page.locator(HIST).screenshot({ path: `${OUT}/panel-history-checking.png` });

  // Cancel stops it at once: no verdict, a note that it was cancelled.
  await page.click("button[aria-label='Cancel the check']");
  await page.waitForSelector(`${HIST} [data-testid='history-cancelled']`, { timeout: 2000 });
  assert.equal(await page.$(progress), null);
  assert.equal(await page.$("[data-testid='history-verdict']"), null);
  await page.locator(HIST).screenshot({ path: `${OUT}/panel-history-cancelled.png` });

  // A small history then checks to completion (in a fresh worker) with the right verdict.
  await page.click("button[aria-label='Load an example history']");
  await page.click("button[aria-label='Check the pasted history']");
  await page.waitForSelector("[data-testid='history-verdict']");
  assert.equal((await page.textContent("[data-testid='history-verdict']")).trim(), 'NOT linearizable');
  assert.match(await page.textContent(`${HIST} .verdict-box`), /read\(\) -> 1 by C\d cannot be placed/);
  // A stale read: not linearizable, but some order of the clients' own operations explains it.
  assert.equal(
    (await page.textContent(`${HIST} [data-testid='history-spectrum']`)).trim(),
    'Strongest guarantee kept: sequentially consistent.',
  );
  assert.equal(await page.$(`${HIST} [data-testid='history-cancelled']`), null);
  assert.equal(await page.$(progress), null);
  assert.deepEqual(browser.errors, []);
});

test('the checker panel places a history on the consistency spectrum, with the operation breaking each weaker guarantee', async () => {
  const page = await browser.page();
  await open(page, '#/flows?n=3&seed=1');
  // C0 writes 1, C1 then writes 2; C0 reads 2 and then 1: no order of the four keeps every
  // client's order, though each session guarantee on its own is kept by some version order.
  const text = [
    '{:process 0, :type :invoke, :f :write, :value 1}',
    '{:process 0, :type :ok, :f :write, :value 1}',
    '{:process 1, :type :invoke, :f :write, :value 2}',
    '{:process 1, :type :ok, :f :write, :value 2}',
    '{:process 0, :type :invoke, :f :read, :value nil}',
    '{:process 0, :type :ok, :f :read, :value 2}',
    '{:process 0, :type :invoke, :f :read, :value nil}',
    '{:process 0, :type :ok, :f :read, :value 1}',
  ].join('\n');
  await page.click("button[aria-label='Open a history']");
  await page.fill("textarea[aria-label='History text']", text);
  await page.selectOption("select[aria-label='History format']", 'jepsen-edn');
  await page.selectOption("select[aria-label='Model']", 'register');
  await page.click("button[aria-label='Check the pasted history']");
  const spectrum = page.locator(`${HIST} [data-testid='history-spectrum']`);
  await spectrum.waitFor();
  assert.equal((await spectrum.locator('p').textContent()).trim(), 'Strongest guarantee kept: the four session guarantees.');
  assert.deepEqual(await spectrum.locator('li').allTextContents(), [
    'sequential consistency: first broken by operation 3, read() -> 1 by C0',
  ]);
  await page.locator(HIST).screenshot({ path: `${OUT}/panel-history-spectrum.png` });
  assert.deepEqual(browser.errors, []);
});
