// The embedded view: a course page's iframe shows the main view alone, sized to the frame,
// with play and the scrub bar, and a way to open the same run in a page of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { BASE, launch } from './helpers.mjs';

const OUT = process.env.DSPLAY_SHOTS || 'target/e2e-shots';
mkdirSync(OUT, { recursive: true });

test('an iframe of a plain page shows the stage alone, fills the frame and plays', async () => {
  const b = await launch();
  try {
    const page = await b.page();
    const src = `${BASE}#/raft?n=5&seed=3&clients=2&embed=1`;
    await page.setContent(`<!doctype html><h1>Lecture 4: Raft</h1>
      <iframe title="Raft" src="${src}" width="640" height="400" style="border:1px solid #ccc"></iframe>`);
    const frame = await (await page.waitForSelector('iframe')).contentFrame();
    await frame.waitForSelector('#dsplay.embed[data-trace-hash]');
    await frame.waitForFunction(() => window.dsplay && window.dsplay.positions() !== null);
    assert.equal(await frame.isVisible('header.bar'), false, 'no header');
    assert.equal(await frame.isVisible('.side'), false, 'no side panel');
    assert.equal(await frame.isVisible('.spacetime'), false, 'no diagram');
    const stage = await frame.$eval('.stage', (e) => e.getBoundingClientRect().toJSON());
    assert.ok(stage.width >= 620 && stage.height >= 280, `the stage fills the frame: ${JSON.stringify(stage)}`);
    const href = await frame.getAttribute('a.open-full', 'href');
    assert.ok(href.startsWith('#/raft?') && !href.includes('embed'), href);
    const t0 = await frame.evaluate(() => window.dsplay.state().nowUs);
    await frame.click("button[aria-label='Play']").catch(() => {});
    await frame.waitForFunction((t) => window.dsplay.state().nowUs > t, t0);
    await page.screenshot({ path: `${OUT}/embed.png` });
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});
