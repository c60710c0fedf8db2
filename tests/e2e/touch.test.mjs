// Phones: at 390 × 844 every control is at least 44 px each way, and a long press on a node
// opens the menu a right-click opens, on the topology and on the ring stage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { launch, open } from './helpers.mjs';

const OUT = process.env.DSPLAY_SHOTS || 'target/e2e-shots';
mkdirSync(OUT, { recursive: true });

/** The partitioning lab on its ring stage, where the servers are bands of the ring. */
const RING = '#/ring?n=8&seed=1&vnodes=8&keys=200&view=ring';
const MENU = "div.menu[role='menu']";

test('on a phone every control is at least 44 px to tap', async () => {
  const b = await launch({ width: 390, height: 844, hasTouch: true });
  try {
    const page = await b.page();
    for (const link of ['#/raft?n=5&seed=3&clients=2', '#/quorum?n=3&seed=1&mode=leader', RING]) {
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

/** The first point of a grid over the stage's canvas, row by row from the top (where the ring
 * is drawn, above the bars of keys per server), where a right-click opens a server's menu, and
 * that menu's name; null if none does. */
async function pointWithMenu(page) {
  const box = await page.locator('canvas.topology').boundingBox();
  for (let j = 1; j < 16; j++) {
    for (let i = 1; i < 16; i++) {
      const p = { x: box.x + (box.width * i) / 16, y: box.y + (box.height * j) / 16 };
      await page.mouse.click(p.x, p.y, { button: 'right' });
      const menu = await page.$(MENU);
      if (menu) {
        const name = await menu.getAttribute('aria-label');
        await page.keyboard.press('Escape');
        await page.waitForSelector(MENU, { state: 'detached' });
        return { p, name };
      }
    }
  }
  return null;
}

test('a long press on a server of the ring stage opens the menu a right-click opens', async () => {
  const b = await launch({ width: 390, height: 844, hasTouch: true });
  try {
    const page = await b.page();
    await open(page, `${RING}&t=1s`);
    await page.evaluate(() => window.dsplay.play(false));
    const found = await pointWithMenu(page);
    assert.ok(found, 'a right-click on some server of the ring opens its menu');
    assert.match(found.name, /^S\d+ menu$/);
    const cdp = await b.context.newCDPSession(page);
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [found.p] });
    await page.waitForSelector(MENU, { timeout: 3000 });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await page.waitForTimeout(200);
    assert.equal(await page.getAttribute(MENU, 'aria-label'), found.name, 'the same server\'s menu');
    await page.screenshot({ path: `${OUT}/phone-ring-menu.png` });
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});
