// A deliberately broken variant of a protocol is a link like any other, marked plainly on the
// page; the real protocol carries no mark.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { BASE, launch } from './helpers.mjs';

const OUT = process.env.DSPLAY_SHOTS || 'target/e2e-shots';
mkdirSync(OUT, { recursive: true });

test('a Raft link with variant= says the run is deliberately broken, and which property it breaks', async () => {
  const b = await launch({ width: 1280, height: 800 });
  try {
    const page = await b.page();
    await page.goto(`${BASE}#/raft?n=5&seed=1&variant=vote-twice`);
    await page.waitForSelector('#dsplay[data-trace-hash]');
    const banner = await page.waitForSelector('header .broken');
    const text = await banner.textContent();
    assert.match(text, /Deliberately broken: .*votes for every candidate/);
    assert.match(text, /election_safety/);
    await page.screenshot({ path: `${OUT}/variant-banner.png` });
    await page.goto(`${BASE}#/raft?n=5&seed=1`);
    await page.waitForFunction(() => !document.querySelector('header .broken'));
  } finally {
    await b.close();
  }
});
