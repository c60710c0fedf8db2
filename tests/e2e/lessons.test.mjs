// Guided lessons in the page: a lesson link opens its overlay, steps go forward and back with
// the buttons and a presenter remote's keys, a prediction is answered, the learner takes over
// and returns; screenshots at a projector's and a small laptop's size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { colourInShot, launch, open, rootState, sleep } from './helpers.mjs';

const OUT = process.env.DSPLAY_SHOTS || 'target/e2e-shots';
mkdirSync(OUT, { recursive: true });

const LINK = '#/raft?n=5&seed=1&lat=20..80ms&loss=0%25&dup=0%25&s=2s:crash:2;5s:restart:2&lesson=why-terms&step=1';
const overlay = (page) => page.$eval("[data-testid='lesson']", (d) => d.innerText);
const stepOf = async (page) => Number((await overlay(page)).match(/step (\d+) of/)[1]);

// A lesson link shared at a step opens that step where the steps before it end, paused.
test('a lesson link at step 3 opens at its step', async () => {
  const b = await launch({ width: 1280, height: 800 });
  try {
    const page = await b.page();
    await open(page, LINK.replace('step=1', 'step=3'));
    assert.match(await overlay(page), /step 3 of 4/);
    const state = await rootState(page);
    assert.ok(state.nowUs >= 2_000_000 && state.nowUs < 2_100_000, `step 3 is at the crash at 2 s: ${state.nowUs}`);
    assert.equal(state.playing, false, 'a step opens paused');
  } finally {
    await b.close();
  }
});

for (const [width, height] of [[1920, 1080], [1024, 768]]) {
  test(`a lesson at ${width}x${height}: steps, a prediction, take over and return`, async () => {
    const b = await launch({ width, height });
    try {
      const page = await b.page();
      await open(page, LINK);
      assert.match(await overlay(page), /Why terms\? · step 1 of 4/);
      assert.match(await overlay(page), /Five servers start as followers/);
      await page.click("button:has-text('Next step')");
      await page.waitForFunction(() => /step 2 of/.test(document.querySelector("[data-testid='lesson']").innerText));
      const at2 = (await rootState(page)).nowUs;
      assert.ok(at2 > 0, `step 2 opens where step 1 ends: ${at2}`);
      assert.match(await page.evaluate(() => window.dsplay.state().link), /lesson=why-terms&step=2/);
      // A presenter remote: PageDown and . go on, PageUp back.
      await page.keyboard.press('PageDown');
      await page.waitForFunction(() => /step 3 of/.test(document.querySelector("[data-testid='lesson']").innerText));
      const at3 = (await rootState(page)).nowUs;
      assert.ok(at3 >= 2_000_000 && at3 < 2_100_000, `step 3 opens at the crash at 2 s: ${at3}`);
      assert.equal((await rootState(page)).playing, false, "a step opens paused");
      assert.match(await overlay(page), /What do the four others do\?/);
      await page.click("button:has-text('One times out')");
      await page.waitForFunction(() => /✓ One times out/.test(document.querySelector("[data-testid='lesson']").innerText));
      assert.match(await overlay(page), /raised the term to 2/);
      await page.screenshot({ path: `${OUT}/lesson-${width}x${height}.png` });
      await page.keyboard.press('PageUp');
      await page.waitForFunction(() => /step 2 of/.test(document.querySelector("[data-testid='lesson']").innerText));
      await page.keyboard.press('.');
      await page.waitForFunction(() => /step 3 of/.test(document.querySelector("[data-testid='lesson']").innerText));
      // Take over: the controls work; return to the lesson where it was.
      await page.click("button:has-text('Take over')");
      await page.waitForSelector("button:has-text('Return to lesson')");
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('Space');
      await sleep(300);
      assert.equal((await rootState(page)).playing, true, 'play works after taking over');
      await page.click("button:has-text('Return to lesson')");
      await page.waitForFunction(() => /step 3 of/.test(document.querySelector("[data-testid='lesson']").innerText));
      assert.equal(await stepOf(page), 3);
      // b blanks the screen and brings it back.
      await page.keyboard.press('b');
      await page.waitForSelector('.blank');
      await page.keyboard.press('b');
      await page.waitForFunction(() => !document.querySelector('.blank'));
      // Presenter mode with the lesson.
      await page.keyboard.press('p');
      await sleep(300);
      await page.screenshot({ path: `${OUT}/lesson-presenter-${width}x${height}.png` });
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });
}

// A step that points at nodes rings them on the stage; one that points at a panel rings it
// and scrolls the side panel to it.
test("a step's highlight is drawn: its nodes ringed, its panel ringed and in view", async () => {
  const b = await launch({ width: 1280, height: 800 });
  try {
    const page = await b.page();
    const canvas = '.stage canvas';
    // The same moment (the crash at 2 s) without the lesson, then at the step that points at S2.
    await open(page, LINK.replace('&lesson=why-terms&step=1', '&t=2s'));
    await sleep(500);
    const plain = await colourInShot(page, canvas, '#E69F00');
    await open(page, LINK.replace('step=1', 'step=3'));
    await sleep(500);
    const ringed = await colourInShot(page, canvas, '#E69F00');
    assert.ok(ringed > plain + 150, `S2 ringed: ${ringed} focus-coloured pixels against ${plain}`);
    await page.screenshot({ path: `${OUT}/lesson-highlight-nodes.png` });
    // The stale leader's last step points at the Logs panel.
    const stale = '#/raft?n=5&seed=1&lat=20..80ms&loss=0%25&dup=0%25&s=2s:part:2.0/1.3.4;2.2s:op:0@2:put%20x%20stale;6s:heal&think=700ms&lesson=stale-leader&step=5';
    await open(page, stale);
    await page.waitForSelector(".panels > section.focus[aria-label='Logs']");
    await page.waitForFunction(() => {
      const card = document.querySelector('.panels > section.focus').getBoundingClientRect();
      const side = document.querySelector('.side').getBoundingClientRect();
      return card.top >= side.top && card.top < side.bottom - 40;
    });
    assert.equal(await page.$$eval('.panels > section.focus', (s) => s.length), 1, 'one panel ringed');
    await page.screenshot({ path: `${OUT}/lesson-highlight-panel.png` });
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});
