// Shared by the end-to-end tests and the benchmarks: launch the system Chromium with
// playwright-core (never a downloaded browser) and open the playground.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where the release site is served (scripts/test-web.sh sets it). */
export const BASE = process.env.DSPLAY_URL || 'http://127.0.0.1:8080/';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * A fresh browser context with its own profile directory. Returns { context, close }.
 * Page errors and console errors are collected in `errors` so tests can assert there are none.
 */
export async function launch({ width = 1280, height = 800, reducedMotion = 'no-preference', extraArgs = [], hasTouch = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'dsplay-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [...ARGS, ...extraArgs],
    viewport: { width, height },
    deviceScaleFactor: 1,
    reducedMotion,
    hasTouch,
  });
  const errors = [];
  context.on('page', (p) => watch(p, errors));
  for (const p of context.pages()) watch(p, errors);
  return {
    context,
    errors,
    /** The profile directory: it names every process of this browser (see browserCpuMs). */
    dir,
    async page() {
      const p = context.pages()[0] || (await context.newPage());
      return p;
    },
    async close() {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function watch(page, errors) {
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
}

/** Opens the playground at `hash` and waits for the app to mount. */
export async function open(page, hash = '') {
  // A real load each time (a hash-only navigation would keep the running app).
  await page.goto('about:blank');
  await page.goto(BASE + hash, { waitUntil: 'load' });
  await page.waitForSelector('#dsplay[data-trace-hash]');
  await page.waitForFunction(() => window.dsplay && window.dsplay.positions() !== null);
  // The paint worker loads its own copy of the run before it paints the canvases.
  await page.waitForFunction(() => window.dsplay.state().painter.replica !== 'starting');
}

/** The root element's data attributes, parsed. */
export async function rootState(page) {
  return page.evaluate(() => {
    const r = document.querySelector('#dsplay');
    return {
      nowUs: Number(r.dataset.nowUs),
      hash: r.dataset.traceHash,
      playing: r.dataset.playing === 'true',
      lab: r.dataset.lab,
    };
  });
}

/** Sets an <input>'s value and fires the event a person's change would fire. */
export async function setInput(page, selector, value, event = 'change') {
  await page.evaluate(
    ([sel, v, ev]) => {
      const el = document.querySelector(sel);
      if (!el) throw new Error(`no element ${sel}`);
      el.value = String(v);
      el.dispatchEvent(new Event('input', { bubbles: true }));
      if (ev === 'change') el.dispatchEvent(new Event('change', { bubbles: true }));
    },
    [selector, value, event],
  );
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Counts pixels of the element `selector` from a screenshot: the animated canvases are painted
 * by a worker, so their pixels are read the way a person sees them rather than through
 * `getImageData`. Without `hex`, those that differ from its background (its most common
 * colour); with it, those of that colour (within a small tolerance).
 */
async function shotCount(page, selector, hex = null) {
  const png = await page.locator(selector).screenshot();
  return page.evaluate(async ([b64, hex]) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const x = c.getContext('2d');
    x.drawImage(img, 0, 0);
    const d = x.getImageData(0, 0, c.width, c.height).data;
    let near = null;
    if (hex) {
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
      near = (i) => Math.abs(d[i] - r) + Math.abs(d[i + 1] - g) + Math.abs(d[i + 2] - b) < 40;
    } else {
      const counts = new Map();
      for (let i = 0; i < d.length; i += 4) {
        const k = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
        counts.set(k, (counts.get(k) || 0) + 1);
      }
      let bg = 0;
      let best = -1;
      for (const [k, v] of counts) if (v > best) [bg, best] = [k, v];
      const [br, bgc, bb] = [(bg >> 16) & 255, (bg >> 8) & 255, bg & 255];
      near = (i) => Math.abs(d[i] - br) > 16 || Math.abs(d[i + 1] - bgc) > 16 || Math.abs(d[i + 2] - bb) > 16;
    }
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (near(i)) n++;
    return { n, total: d.length / 4, width: img.width, height: img.height };
  }, [png.toString('base64'), hex]);
}

/** The pixels of `selector` that differ from its background, from a screenshot. */
export async function paintedPixels(page, selector) {
  const { n, total, width, height } = await shotCount(page, selector);
  return { painted: n, total, width, height };
}

/** The pixels of `selector` in colour `hex` (`#rrggbb`, within a small tolerance). */
export async function colourInShot(page, selector, hex) {
  return (await shotCount(page, selector, hex)).n;
}
