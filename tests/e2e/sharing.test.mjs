// Sharing a run: the link from the start or at this moment, its QR code (decoded here back to
// the link), the address bar following a playing run, and the exports: the stage as PNG, the
// diagram as SVG, the trace as JSON, which reopens the same run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdirSync } from 'node:fs';
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

test('the exports download a PNG, an SVG and a trace that reopens the same run', async () => {
  const b = await launch();
  try {
    const page = await b.page();
    await open(page, LINK);
    await page.evaluate(() => { window.dsplay.play(false); window.dsplay.seek(2_000_000); });
    await page.waitForFunction(() => window.dsplay.state().nowUs === 2_000_000);
    const hash = await page.$eval('#dsplay', (d) => d.dataset.traceHash);
    await page.click("button[aria-label^='Share this run']");
    const save = async (label) => {
      const [d] = await Promise.all([page.waitForEvent('download'), page.click(`button[aria-label="${label}"]`)]);
      const path = `${OUT}/${d.suggestedFilename()}`;
      await d.saveAs(path);
      return { name: d.suggestedFilename(), bytes: readFileSync(path) };
    };
    const png = await save('Stage as PNG: download the stage as an image');
    assert.match(png.name, /^dsplay-raft-seed3-.*\.png$/);
    assert.deepEqual([...png.bytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'a PNG');
    assert.ok(png.bytes.length > 5_000, `a drawn stage: ${png.bytes.length} bytes`);
    const svg = await save('Diagram as SVG: download the space-time diagram');
    const text = svg.bytes.toString('utf8');
    assert.ok(text.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'), text.slice(0, 80));
    assert.ok((text.match(/<path /g) || []).length > 20, 'the diagram\'s lines');
    assert.match(text, />S0<\/text>/, 'the node labels');
    const trace = await save("Trace as JSON: download the run's trace");
    const json = JSON.parse(trace.bytes.toString('utf8'));
    assert.equal(json.format, 'dsplay-trace');
    assert.equal(json.trace_hash, hash);
    assert.ok(json.records.length > 10);
    // Reopen it from the file in a fresh page.
    await open(page, '#/flows');
    await page.click("button[aria-label^='Share this run']");
    await page.setInputFiles("input[aria-label='Open a trace file']", `${OUT}/${trace.name}`);
    await page.waitForFunction(() => /Reopened the run of the trace file/.test(document.body.textContent), null, { timeout: 10_000 });
    assert.equal(await page.$eval('#dsplay', (d) => d.dataset.traceHash), hash, 'the same run');
    // A file that is not a trace is refused with a reason.
    await page.click("button[aria-label^='Share this run']");
    await page.setInputFiles("input[aria-label='Open a trace file']", { name: 'x.json', mimeType: 'application/json', buffer: Buffer.from('{"a":1}') });
    await page.waitForFunction(() => /This is not a dsplay trace file/.test(document.body.textContent));
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
