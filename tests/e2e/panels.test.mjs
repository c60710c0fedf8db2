// End-to-end tests of the Raft lab's election-experiment panel and the client-history panel
// (release build in headless Chromium via playwright-core). Run by scripts/test-web.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { launch, open, rootState, setInput, sleep } from './helpers.mjs';

const OUT = 'test-results';
mkdirSync(OUT, { recursive: true });
// At 1x: these tests wait for the run to reach moments in wall time.
const RAFT = '#/raft?n=5&seed=1&clients=2&speed=1';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Pixels of `canvas` within `tol` of the colour `hex`, and the first one's CSS position. */
async function colourPixels(page, selector, hex, tol = 40) {
  return page.evaluate(
    ([sel, hex, tol]) => {
      const c = document.querySelector(sel);
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const scale = c.width / c.getBoundingClientRect().width;
      let n = 0;
      let first = null;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i + 3] > 200 && Math.abs(d[i] - r) + Math.abs(d[i + 1] - g) + Math.abs(d[i + 2] - b) < tol) {
          n++;
          if (!first) {
            const p = i / 4;
            first = { x: (p % c.width) / scale, y: Math.floor(p / c.width) / scale };
          }
        }
      }
      return { n, first };
    },
    [selector, hex, tol],
  );
}

async function ensurePlaying(page, on) {
  const s = await rootState(page);
  if (s.playing !== on) await page.click(`button[aria-label='${on ? 'Play' : 'Pause'}']`);
  await page.waitForFunction((v) => document.querySelector('#dsplay').dataset.playing === String(v), on);
}

const EXP = 'section.experiment';
const HIST = "section[aria-label='Client history']";

test('the election experiment runs in the page and compares with the paper', async () => {
  const page = await browser.page();
  await open(page, RAFT);
  await page.waitForSelector(EXP);
  await setInput(page, "section.experiment input[aria-label='Election timeout']", '150..300ms');
  await setInput(page, "input[aria-label='Trials']", 100);
  await setInput(page, "input[aria-label='Experiment seed']", 1);
  await page.click("button[aria-label='Run the experiment']");
  await page.waitForSelector("[data-testid='exp-median-dsplay']", { timeout: 60_000 });
  assert.equal(await page.locator(`${EXP} progress`).count(), 0, 'the progress bar is gone when finished');
  const median = Number(await page.textContent("[data-testid='exp-median-dsplay']"));
  assert.ok(median > 120 && median < 260, `median ${median} ms`);
  assert.equal(await page.textContent("[data-testid='exp-median-paper']"), '171.2');
  const caption = await page.textContent(`${EXP} p.muted.small:last-of-type`);
  assert.match(caption, /100 trials of 150–300 ms, seed 1/);
  // Our CDF (blue line) and the paper's quantiles (orange dots) are both drawn.
  const ours = await colourPixels(page, `${EXP} canvas.chart`, '#0072B2');
  const paper = await colourPixels(page, `${EXP} canvas.chart`, '#E69F00');
  assert.ok(ours.n > 200, `CDF line pixels ${ours.n}`);
  assert.ok(paper.n > 8 * 20, `paper marker pixels ${paper.n}`);
  await page.locator(EXP).screenshot({ path: `${OUT}/panel-experiment.png` });
  // In presenter mode the chart is drawn larger, type included, for the back of the room.
  const chartHeight = () => page.evaluate((sel) => document.querySelector(sel).getBoundingClientRect().height, `${EXP} canvas.chart`);
  const normal = await chartHeight();
  await page.click("button[aria-label='Presenter mode']");
  await page.click("button[aria-label='Show the panels']");
  await page.waitForFunction(([sel, h]) => document.querySelector(sel).getBoundingClientRect().height > h * 1.5, [`${EXP} canvas.chart`, normal]);
  assert.ok((await colourPixels(page, `${EXP} canvas.chart`, '#0072B2')).n > 300, 'the CDF is drawn at the larger scale');
  await page.locator(EXP).screenshot({ path: `${OUT}/panel-experiment-presenter.png` });
  await page.click("button[aria-label='Presenter mode']");

  // A long run shows its progress and can be cancelled.
  await setInput(page, "section.experiment input[aria-label='Election timeout']", '150..150ms');
  await setInput(page, "input[aria-label='Trials']", 10000);
  await page.click("button[aria-label='Run the experiment']");
  await page.waitForFunction(() => {
    const p = document.querySelector('section.experiment progress');
    return p && Number(p.value) > 0 && Number(p.value) < Number(p.max);
  });
  // The page stays responsive while it runs: the display clock keeps moving.
  const t0 = (await rootState(page)).nowUs;
  await sleep(500);
  const t1 = (await rootState(page)).nowUs;
  assert.ok(t1 > t0, `the Raft lab kept playing during the experiment (${t0} -> ${t1})`);
  // The trials run in the job worker, off the page's main thread.
  assert.equal(await page.evaluate(() => window.dsplay.state().jobs), 'worker');
  await page.click("button[aria-label='Cancel the experiment']");
  await page.waitForFunction(() => !document.querySelector('section.experiment progress'));
  assert.match(await page.textContent(`${EXP} [role='status']`), /Cancelled after \d+ trials/);
  assert.deepEqual(browser.errors, []);
});

test('the running Raft history checks as linearizable and an operation click seeks to its call', async () => {
  const page = await browser.page();
  await open(page, RAFT);
  await ensurePlaying(page, true);
  await page.waitForFunction(() => Number(document.querySelector('#dsplay').dataset.nowUs) > 4_000_000, null, {
    timeout: 20_000,
  });
  await ensurePlaying(page, false);
  await page.click("button[aria-label='Check this run']");
  await page.waitForSelector("[data-testid='history-verdict']");
  assert.equal((await page.textContent("[data-testid='history-verdict']")).trim(), 'Linearizable');
  const summary = await page.textContent(`${HIST} .verdict-box p.small`);
  const ops = Number(/(\d+) operations/.exec(summary)?.[1]);
  assert.ok(ops > 0, `checked ${ops} operations: ${summary}`);
  // Click an operation's box (found by its colour on the canvas).
  const canvas = `${HIST} canvas.optimeline`;
  const box = await colourPixels(page, canvas, '#0072B2', 10);
  assert.ok(box.n > 50 && box.first, `operation boxes drawn (${box.n} px)`);
  const before = (await rootState(page)).nowUs;
  await page.locator(canvas).click({ position: { x: box.first.x + 1, y: box.first.y + 3 } });
  await page.waitForSelector("[data-testid='history-op']");
  const after = await rootState(page);
  assert.equal(after.playing, false);
  assert.ok(after.nowUs < before, `seeked back to the operation's call (${before} -> ${after.nowUs})`);
  assert.match(await page.textContent("[data-testid='history-op']"), /called at \d+\.\d{3} s/);
  await page.locator(HIST).screenshot({ path: `${OUT}/panel-history-live.png` });
  assert.deepEqual(browser.errors, []);
});

test('a pasted non-linearizable history is refuted and its offending operation highlighted', async () => {
  const page = await browser.page();
  await open(page, RAFT);
  await page.click("button[aria-label='Open a history']");
  // C0 writes 1, then C1 writes 2; after both, C2 reads 1: a stale read.
  const history = JSON.stringify([
    { id: 0, client: 0, input: { write: { value: 1 } }, call_us: 0, return_us: 10, status: 'ok' },
    { id: 1, client: 1, input: { write: { value: 2 } }, call_us: 20, return_us: 30, status: 'ok' },
    { id: 2, client: 2, input: 'read', output: { read: 1 }, call_us: 40, return_us: 50, status: 'ok' },
  ]);
  await page.fill("textarea[aria-label='History text']", history);
  await page.selectOption("select[aria-label='History format']", 'json');
  await page.selectOption("select[aria-label='Model']", 'register');
  await page.click("button[aria-label='Check the pasted history']");
  await page.waitForSelector("[data-testid='history-verdict']");
  assert.equal((await page.textContent("[data-testid='history-verdict']")).trim(), 'NOT linearizable');
  const why = await page.textContent(`${HIST} .verdict-box`);
  assert.match(why, /longest linearizable prefix has 2 operation/);
  assert.match(why, /read\(\) -> 1 by C2 cannot be placed/);
  const canvas = `${HIST} canvas.optimeline`;
  const alert = await colourPixels(page, canvas, '#D55E00', 10);
  assert.ok(alert.n > 100, `the offending operation is drawn in the alert colour (${alert.n} px)`);
  await page.locator(canvas).click({ position: { x: alert.first.x + 3, y: alert.first.y + 4 } });
  assert.match(await page.textContent("[data-testid='history-op']"), /cannot be placed/);
  await page.locator(HIST).screenshot({ path: `${OUT}/panel-history-import.png` });
  // In presenter mode the timeline is drawn larger and a click still finds its operation.
  const height = () => page.evaluate((sel) => document.querySelector(sel).getBoundingClientRect().height, canvas);
  const normal = await height();
  await page.click("button[aria-label='Presenter mode']");
  await page.click("button[aria-label='Show the panels']");
  await page.waitForFunction(([sel, h]) => document.querySelector(sel).getBoundingClientRect().height > h * 1.5, [canvas, normal]);
  const write = await colourPixels(page, canvas, '#0072B2', 10);
  await page.locator(canvas).click({ position: { x: write.first.x + 3, y: write.first.y + 4 } });
  assert.match(await page.textContent("[data-testid='history-op']"), /write/);
  const big = await colourPixels(page, canvas, '#D55E00', 10);
  // Taller by the presenter scale (its width is its duration, which keeps the canvas's share).
  assert.ok(big.n > alert.n * 1.4, `the offending operation is drawn larger (${alert.n} -> ${big.n} px)`);
  await page.locator(canvas).click({ position: { x: big.first.x + 3, y: big.first.y + 4 } });
  assert.match(await page.textContent("[data-testid='history-op']"), /cannot be placed/);
  await page.click("button[aria-label='Presenter mode']");

  // Bad input gives a clear message, never a crash.
  await page.fill("textarea[aria-label='History text']", '{:process 0, :type :invoke, :f');
  await page.selectOption("select[aria-label='History format']", 'jepsen-edn');
  await page.click("button[aria-label='Check the pasted history']");
  const err = await page.textContent(`${HIST} .history-error`);
  assert.match(err, /could not be read as jepsen-edn: line 1/);
  assert.deepEqual(browser.errors, []);
});

test("the Raft log panel shows the newest entries and which server each row is", async () => {
  const page = await browser.page();
  await open(page, '#/raft?n=5&seed=1&lat=20..80ms&clients=1&speed=1');
  await page.evaluate(() => window.dsplay.play(true));
  // Enough entries that the log is wider than the side panel.
  await page.waitForFunction(() => {
    const t = document.querySelector("section[aria-label='Logs'] table");
    return t && t.getBoundingClientRect().width > t.parentElement.getBoundingClientRect().width * 1.5;
  }, null, { timeout: 20000 });
  await page.evaluate(() => window.dsplay.play(false));
  await sleep(300);
  const seen = await page.evaluate(() => {
    const wrap = document.querySelector("section[aria-label='Logs'] .table-wrap");
    wrap.closest('section').scrollIntoView({ block: 'center' });
    const box = wrap.getBoundingClientRect();
    const heads = [...wrap.querySelectorAll('thead th')];
    const inView = (el) => {
      const r = el.getBoundingClientRect();
      return r.left >= box.left - 1 && r.right <= box.right + 1;
    };
    const first = heads[0];
    const last = heads[heads.length - 1];
    const firstRect = first.getBoundingClientRect();
    // The cell drawn at the first column's place (it must be the first column, on top).
    const top = document.elementFromPoint(firstRect.left + 3, firstRect.top + firstRect.height / 2);
    return { last: last.textContent, lastInView: inView(last), firstInView: inView(first), firstOnTop: top === first || first.contains(top), columns: heads.length };
  });
  assert.ok(seen.columns > 8, `the log has ${seen.columns} columns`);
  assert.ok(seen.lastInView, `the newest entry (index ${seen.last}) is in view`);
  assert.ok(seen.firstInView && seen.firstOnTop, 'the server column stays in view');
  assert.deepEqual(browser.errors, []);
});

test('screenshots of both panels on a desktop and a phone', async () => {
  for (const [name, width, height] of [
    ['desktop', 1280, 800],
    ['phone', 390, 844],
  ]) {
    const b = await launch({ width, height });
    try {
      const page = await b.page();
      await open(page, RAFT);
      await sleep(2500);
      await ensurePlaying(page, false);
      await setInput(page, "input[aria-label='Trials']", 300);
      await page.click("button[aria-label='Run the experiment']");
      await page.waitForSelector("[data-testid='exp-median-dsplay']", { timeout: 60_000 });
      await page.click("button[aria-label='Check this run']");
      await page.waitForSelector("[data-testid='history-verdict']");
      await page.locator(HIST).scrollIntoViewIfNeeded();
      await page.screenshot({ path: `${OUT}/panels-${name}.png`, fullPage: name === 'phone' });
      await page.locator(EXP).screenshot({ path: `${OUT}/panels-${name}-experiment.png` });
      await page.locator(HIST).screenshot({ path: `${OUT}/panels-${name}-history.png` });
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  }
});

test("an experiment's trials open as runs of the lab: the first election's slowest split votes", async () => {
  const page = await browser.page();
  await open(page, RAFT);
  await page.waitForSelector(EXP);
  await page.selectOption("section.experiment select[aria-label='Experiment']", '1');
  await page.waitForFunction(() => /First election/.test(document.querySelector('section.experiment h2').textContent));
  await setInput(page, "section.experiment input[aria-label='Election timeout']", '150..170ms');
  await setInput(page, "input[aria-label='Trials']", 30);
  await page.click("button[aria-label='Run the experiment']");
  await page.waitForSelector('.trial-links a', { timeout: 60_000 });
  const links = await page.$$eval('.trial-links a', (as) => as.map((a) => [a.getAttribute('href'), a.textContent]));
  assert.ok(links.length >= 3, JSON.stringify(links));
  const [href, label] = links[0];
  assert.match(label, /^trial \d+: \d+ ms, term \d+/);
  assert.match(href, /^#\/raft\?n=5&seed=\d+.*et=150\.\.170ms/);
  await page.click('.trial-links a');
  // (While the trial plays, the address bar adds its cursor.)
  await page.waitForFunction((h) => window.dsplay.state().link === h && location.hash.startsWith(h), href);
  assert.match(await page.textContent("[role='alert'] .notice-text"), /^Trial \d+: .* of the experiment, as a run of the lab\.$/);
  assert.equal((await rootState(page)).playing, true, 'the trial plays');
  assert.deepEqual(browser.errors, []);
});
