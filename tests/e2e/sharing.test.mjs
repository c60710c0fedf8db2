// Sharing a run: the link from the start or at this moment, its QR code (decoded here back to
// the link), the address bar following a playing run, and scenarios saved in the browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import jsQR from 'jsqr';
import { launch, open } from './helpers.mjs';

const OUT = process.env.DSPLAY_SHOTS || 'target/e2e-shots';
mkdirSync(OUT, { recursive: true });

const LINK = '#/raft?n=5&seed=3&lat=5..20ms&clients=2&s=1s:crash:0';

async function qrText(page) {
  const img = await page.$eval('canvas.qr', (c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    return { w: c.width, h: c.height, data: Array.from(d.data) };
  });
  const code = jsQR(Uint8ClampedArray.from(img.data), img.w, img.h);
  return code && code.data;
}

test('the share dialog gives the link from the start or at this moment, and its QR code decodes to it', async () => {
  const b = await launch();
  try {
    const page = await b.page();
    await open(page, LINK);
    await page.evaluate(() => { window.dsplay.play(false); window.dsplay.seek(2_500_000); });
    await page.waitForFunction(() => window.dsplay.state().nowUs === 2_500_000);
    await page.click("button[aria-label^='Share this run']");
    await page.waitForSelector("[role='dialog'][aria-label='Share this run'] canvas.qr");
    const base = await page.evaluate(() => location.origin + location.pathname);
    const atMoment = await page.inputValue("input[aria-label='The link']");
    assert.ok(atMoment.startsWith(base + '#/raft?'), atMoment);
    assert.match(atMoment, /&t=2\.5s$/, 'a paused run shares its moment');
    assert.equal(await qrText(page), atMoment, 'the QR code holds the link');
    await page.locator('.share').screenshot({ path: `${OUT}/share-dialog.png` });
    await page.click("text=From the start");
    await page.waitForFunction((l) => document.querySelector("input[aria-label='The link']").value !== l, atMoment);
    const fromStart = await page.inputValue("input[aria-label='The link']");
    assert.equal(fromStart, atMoment.replace(/&t=2\.5s$/, ''));
    assert.equal(await qrText(page), fromStart);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('while a run plays the address bar keeps its cursor', async () => {
  const b = await launch();
  try {
    const page = await b.page();
    await open(page, LINK);
    await page.evaluate(() => window.dsplay.play(true));
    await page.waitForFunction(() => /&t=[\d.]+m?s$/.test(location.hash), null, { timeout: 5000 });
    const first = await page.evaluate(() => location.hash);
    await page.waitForFunction((f) => location.hash !== f && /&t=/.test(location.hash), first, { timeout: 5000 });
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('a saved scenario survives a reload, renames and deletes; a damaged entry is reported and skipped', async () => {
  const b = await launch();
  try {
    const page = await b.page();
    await open(page, LINK);
    const link = await page.evaluate(() => window.dsplay.state().link);
    await page.click("button[aria-label^='Share this run']");
    await page.fill("input[aria-label='Name of the scenario to save']", 'Leader crash');
    await page.click("button[aria-label='Save this scenario in this browser']");
    await page.waitForSelector("button[aria-label='Open Leader crash']");
    await page.evaluate(() => localStorage.setItem('dsplay.saved.1', '{"name": "half a'));
    await open(page, '#/flows');
    await page.click("button[aria-label^='Share this run']");
    await page.waitForSelector("button[aria-label='Open Leader crash']");
    assert.match(await page.textContent('.saved-list li.broken'), /Skipped an entry that cannot be read \(dsplay\.saved\.1\)/);
    page.once('dialog', (d) => d.accept('Leader crash, renamed'));
    await page.click("button[aria-label='Rename Leader crash']");
    await page.waitForSelector("button[aria-label='Open Leader crash, renamed']");
    await page.locator('.share').screenshot({ path: `${OUT}/share-saved.png` });
    await page.click("button[aria-label='Open Leader crash, renamed']");
    await page.waitForFunction((l) => window.dsplay.state().link.split('&t=')[0] === l.split('&t=')[0], link);
    await page.click("button[aria-label^='Share this run']");
    await page.click("button[aria-label='Remove the unreadable entry dsplay.saved.1']");
    await page.click("button[aria-label='Delete Leader crash, renamed']");
    await page.waitForSelector('text=Nothing saved yet.');
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});
