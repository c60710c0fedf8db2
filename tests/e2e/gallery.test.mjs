// The gallery: the page a newcomer lands on without a link lists every lab's lessons and
// presets, each with a picture the app drew from its own run, and every card opens its link.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { launch, open, rootState, paintedPixels } from './helpers.mjs';

const OUT = process.env.DSPLAY_SHOTS || 'target/e2e-shots';
mkdirSync(OUT, { recursive: true });
const DSPLAY = process.env.DSPLAY_BIN || 'target/debug/dsplay';

for (const [width, height] of [[1280, 800], [390, 844]]) {
  test(`without a link the page opens on the gallery (${width}x${height}); a card opens its run`, async () => {
    const b = await launch({ width, height });
    try {
      const page = await b.page();
      await open(page, '');
      await page.waitForSelector('.gallery');
      // One card per lesson and preset of every lab the page offers, as `dsplay lessons` lists them.
      const listed = JSON.parse(execFileSync(DSPLAY, ['lessons', '--json'], { encoding: 'utf8' }));
      const labs = await page.$$eval("select[aria-label='Lab'] option", (os) => os.map((o) => o.value));
      // The page leaves publish/subscribe out for now (the download budget): its links stay on
      // the command line.
      const inPage = (e) => labs.includes(e.lab) && !/[?&]mode=pubsub(&|$)/.test(e.link);
      const entries = listed.filter(inPage).map((e) => e.link);
      const cards = await page.$$eval('.gallery-card', (cs) => cs.map((c) => c.getAttribute('href')));
      assert.ok(cards.length >= 12, `${cards.length} cards`);
      assert.deepEqual([...cards].sort(), [...entries].sort(), 'every lesson and preset, each once');
      assert.equal((await rootState(page)).playing, false, 'the run behind the gallery waits');
      // The pictures are drawn by the app, from the runs themselves.
      await page.waitForTimeout(1500);
      const first = await paintedPixels(page, '.gallery-card canvas.thumb >> nth=0');
      assert.ok(first.painted > first.total * 0.02, `the first picture painted ${first.painted}/${first.total}`);
      await page.screenshot({ path: `${OUT}/gallery-${width}x${height}.png` });
      const lesson = page.locator(".gallery-card:has-text('Lesson: Why terms?')");
      const href = await lesson.getAttribute('href');
      assert.match(href, /^#\/raft\?.*lesson=why-terms/);
      await lesson.click();
      await page.waitForSelector('.gallery', { state: 'detached' });
      await page.waitForFunction(() => document.querySelector('#dsplay').dataset.lab === 'raft');
      await page.waitForSelector("[data-testid='lesson']");
      // The header's Gallery button brings it back.
      await page.click("button[aria-label='Gallery of lessons and presets']");
      await page.waitForSelector('.gallery');
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });
}
