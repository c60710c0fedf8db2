// The lecture hall: each lab opens at a speed at which one message can be followed, the speed
// is in the link, a lab picked from the menu plays as a preset does, and presenter mode gives
// the stage the screen with play and step left; screenshots at a projector's and a small
// laptop's size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { launch, open, rootState, sleep } from './helpers.mjs';

const OUT = process.env.DSPLAY_SHOTS || 'target/e2e-shots';
mkdirSync(OUT, { recursive: true });
const RAFT = '#/raft?n=5&seed=1&lat=20..80ms&loss=0%25&dup=0%25';
const speedShown = (page) => page.$eval("select[aria-label='Speed']", (s) => s.options[s.selectedIndex].text);

test('a lab opens at its own speed, a link names another, and the address bar keeps a change', async () => {
  const b = await launch();
  try {
    const page = await b.page();
    await open(page, RAFT);
    assert.equal(await speedShown(page), '0.1×', 'Raft opens at a tenth of real time');
    // At 0.1x a second of wall time is about 100 ms of the run.
    const t0 = (await rootState(page)).nowUs;
    await sleep(1000);
    const advanced = (await rootState(page)).nowUs - t0;
    assert.ok(advanced > 30_000 && advanced < 400_000, `advanced ${advanced} us in a second`);
    await open(page, RAFT + '&speed=2');
    assert.equal(await speedShown(page), '2×');
    await page.keyboard.press('[');
    await page.waitForFunction(() => location.hash.includes('speed=1'));
    assert.equal(await speedShown(page), '1×');
  } finally {
    await b.close();
  }
});

test('a lab picked from the menu plays, as a preset does', async () => {
  const b = await launch();
  try {
    const page = await b.page();
    await open(page, RAFT + '&t=1s');
    assert.equal((await rootState(page)).playing, false, 'a link with a cursor opens paused');
    await page.selectOption("select[aria-label='Lab']", 'quorum');
    await page.waitForFunction(() => document.querySelector('#dsplay').dataset.lab === 'quorum');
    const s = await rootState(page);
    assert.equal(s.playing, true, 'the picked lab plays');
    assert.equal(await speedShown(page), '0.1×');
  } finally {
    await b.close();
  }
});

for (const [width, height] of [[1920, 1080], [1024, 768]]) {
  test(`presenter mode at ${width}x${height}: the stage fills the screen, play and step stay`, async () => {
    const b = await launch({ width, height });
    try {
      const page = await b.page();
      await open(page, RAFT);
      assert.equal(await page.isVisible("button[aria-label='Full screen']"), false);
      await page.keyboard.press('p');
      await page.waitForSelector('#dsplay.presenter');
      await sleep(600);
      const box = await page.$eval('.stage', (e) => e.getBoundingClientRect().toJSON());
      assert.ok(box.width > 0.95 * width, `stage ${box.width} px wide of ${width}`);
      assert.ok(box.height > 0.5 * height, `stage ${box.height} px tall of ${height}`);
      for (const gone of ['.side', "select[aria-label='Speed']", "select[aria-label='Scenario presets']"]) {
        assert.equal(await page.isVisible(gone), false, `${gone} is hidden`);
      }
      for (const kept of ["button[aria-label='Pause']", "button[aria-label='Full screen']", "button[aria-label='Presenter mode']"]) {
        assert.equal(await page.isVisible(kept), true, `${kept} stays`);
      }
      await page.screenshot({ path: `${OUT}/presenter-${width}x${height}.png` });
      await page.keyboard.press('p');
      await page.waitForSelector('#dsplay:not(.presenter)');
      assert.equal(await page.isVisible('.side'), true, 'leaving presenter mode brings the controls back');
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });
}

test('the narration line says in words what the run last did, and n switches it off and on', async () => {
  const b = await launch();
  try {
    const page = await b.page();
    // Paused at the crash the link schedules: the newest thing worth saying is the crash.
    await open(page, RAFT + '&s=1500ms:crash:2&t=1500ms');
    const line = () => page.$eval('[data-testid=narration]', (e) => e.textContent).catch(() => null);
    assert.equal(await line(), '1.500s · S2 crashed');
    // Earlier, the line is the newest note in the run's own records, with its node and time.
    await open(page, RAFT + '&t=1s');
    const said = await page.evaluate(() => window.dsplay.records().filter((r) =>
      ['note', 'crash', 'restart', 'command', 'violation'].includes(r.what)).pop());
    const text = await line();
    assert.ok(said && said.what === 'note', 'a note before 1 s');
    const ms = Math.floor(said.at_us / 1000);
    const clock = `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}s`;
    assert.ok(text.startsWith(`${clock} · S${said.node}`), `${text} for ${JSON.stringify(said)}`);
    assert.ok(text.endsWith(said.text), `${text} ends with the note ${said.text}`);
    const pressed = () => page.getAttribute("button[aria-label='Narration']", 'aria-pressed');
    assert.equal(await pressed(), 'true');
    await page.keyboard.press('n');
    await page.waitForFunction(() => !document.querySelector('[data-testid=narration]'));
    assert.equal(await pressed(), 'false');
    await page.click("button[aria-label='Narration']");
    await page.waitForSelector('[data-testid=narration]');
    assert.equal(await line(), text, 'the same line comes back');
    // In presenter mode the line stays, in larger type, clear of the legend in the corner.
    await page.keyboard.press('p');
    await page.waitForFunction(() => document.querySelector('.app.presenter'));
    const [n, legend] = await Promise.all(['[data-testid=narration]', '.legend'].map((s) =>
      page.$eval(s, (e) => e.getBoundingClientRect().toJSON())));
    assert.ok(n.left >= legend.right || n.bottom <= legend.top, 'the line does not cover the legend');
    await page.screenshot({ path: `${OUT}/narration-presenter.png` });
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('a violation the settings force says so in the domain’s words, not only that a property broke', async () => {
  const b = await launch();
  try {
    const page = await b.page();
    // Election timeouts of 1-2 ms against 20-80 ms links: no election can finish.
    await open(page, '#/raft?n=5&seed=1&lat=20..80ms&loss=0%25&dup=0%25&et=1ms..2ms&speed=1');
    const notice = await page.waitForSelector("[role='alert'] .notice-text", { timeout: 15000 });
    const text = await notice.textContent();
    assert.match(text, /^Paused: the property 'leader_elected' was violated at 0\.500 s\. The election timeout \(1ms\.\.2ms\) is shorter than a round trip/);
    assert.match(text, /try 150ms\.\.300ms\.$/);
    const cause = await page.textContent("[data-testid='property-cause']");
    assert.match(cause, /broadcast time to be much shorter than the election timeout/);
    await page.screenshot({ path: `${OUT}/settings-cause.png` });
    // With the paper's timeouts there is nothing to blame on the settings.
    await open(page, RAFT + '&t=3s');
    assert.equal(await page.$("[data-testid='property-cause']"), null);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('small things a new user meets: a slider shows its value while dragged, a refused seed is put back, hover text goes with its run', async () => {
  const b = await launch();
  try {
    const page = await b.page();
    await open(page, RAFT + '&t=1s');
    // Dragging (input events, no release yet): the value beside the slider follows; the run
    // takes it only on release.
    await page.evaluate(() => {
      const s = document.querySelector('#lat-max');
      s.value = '200';
      s.dispatchEvent(new Event('input', { bubbles: true }));
    });
    assert.equal(await page.textContent('#lat-max + output'), '200ms');
    assert.match(await page.evaluate(() => location.hash), /lat=20\.\.80ms/, 'not yet applied');
    await page.dispatchEvent('#lat-max', 'change');
    await page.waitForFunction(() => location.hash.includes('lat=20..200ms'));
    // A seed the run cannot use is refused, and the field shows the seed it does use.
    await page.fill('#seed', '-5');
    await page.dispatchEvent('#seed', 'change');
    await page.waitForSelector("[role='alert'] .notice-text");
    assert.equal(await page.inputValue('#seed'), '1');
    // Hover text over a node goes when the run under the resting pointer is replaced.
    await open(page, RAFT + '&t=1s');
    const pos = await page.evaluate(() => window.dsplay.positions());
    await page.mouse.move(pos.nodes[2].x, pos.nodes[2].y);
    const old = await (await page.waitForSelector('.tooltip')).textContent();
    await page.evaluate(() => { location.hash = '#/raft?n=3&seed=2&t=1s'; });
    // The old run's text goes; the browser may send the resting pointer a move once the page
    // changes under it, and then the text describes what is under it in the new run.
    await page.waitForFunction((old) => document.querySelector('#dsplay').dataset.lab === 'raft'
      && window.dsplay.state().link.includes('n=3')
      && document.querySelector('.tooltip')?.textContent !== old, old);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});
