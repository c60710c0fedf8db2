// Phones: at 390 × 844 every control is at least 44 px each way, and a long press on a node
// opens the menu a right-click opens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { launch, open } from './helpers.mjs';

const OUT = process.env.DSPLAY_SHOTS || 'target/e2e-shots';
mkdirSync(OUT, { recursive: true });

test('on a phone every control is at least 44 px to tap', async () => {
  const b = await launch({ width: 390, height: 844, hasTouch: true });
  try {
    const page = await b.page();
    for (const link of ['#/raft?n=5&seed=3&clients=2', '#/quorum?n=3&seed=1&mode=leader']) {
      await open(page, link);
      await page.evaluate(() => window.dsplay.play(false));
      const small = await page.$$eval('button, select, input, summary, a[href]', (els) =>
        els
          .filter((e) => e.offsetParent !== null && getComputedStyle(e).visibility !== 'hidden')
          .map((e) => {
            const r = e.getBoundingClientRect();
            return [e.getAttribute('aria-label') || e.textContent.slice(0, 30), Math.round(r.width), Math.round(r.height)];
          })
          .filter(([, w, h]) => w < 44 || h < 44));
      assert.deepEqual(small, [], `${link}: controls under 44 px`);
    }
    await page.screenshot({ path: `${OUT}/phone.png`, fullPage: true });
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('a long press on a node opens its menu', async () => {
  const b = await launch({ width: 390, height: 844, hasTouch: true });
  try {
    const page = await b.page();
    await open(page, '#/raft?n=5&seed=1&clients=1&t=2s');
    const pos = await page.evaluate(() => window.dsplay.positions());
    const cdp = await b.context.newCDPSession(page);
    const point = { x: pos.nodes[2].x, y: pos.nodes[2].y };
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [point] });
    await page.waitForSelector("button[aria-label='Time out now S2']", { timeout: 3000 });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await page.waitForTimeout(200);
    assert.equal(await page.isVisible("button[aria-label='Time out now S2']"), true, 'the menu stays after the finger lifts');
    await page.click("button[aria-label='Time out now S2']");
    assert.deepEqual((await page.evaluate(() => window.dsplay.state())).script, ['2s:do:timeout@2']);
    // A short tap is a click: it selects, and opens no menu.
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x: pos.nodes[1].x, y: pos.nodes[1].y }] });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await page.waitForTimeout(800);
    assert.equal(await page.isVisible("button[aria-label='Time out now S1']"), false);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});
