// End-to-end tests of the release build in headless Chromium (playwright-core).
// Run by scripts/test-web.sh, which builds the site, serves it and sets DSPLAY_URL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { launch, open, paintedPixels, rootState, setInput, sleep } from './helpers.mjs';

const OUT = 'test-results';
mkdirSync(OUT, { recursive: true });

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

async function ensurePlaying(page, on) {
  const s = await rootState(page);
  if (s.playing !== on) await page.click(`button[aria-label='${on ? 'Play' : 'Pause'}']`);
  await page.waitForFunction((v) => document.querySelector('#dsplay').dataset.playing === String(v), on);
}

test('loads, plays for two seconds and draws both canvases', async () => {
  const page = await browser.page();
  await open(page, '#/flows?n=5&seed=3&lat=20..80ms&loss=2%&dup=0%&clients=4&speed=1');
  await ensurePlaying(page, true);
  await sleep(2000);
  const s = await rootState(page);
  assert.ok(s.nowUs > 1_000_000, `virtual time advanced to ${s.nowUs} us`);
  await page.screenshot({ path: `${OUT}/desktop-playing.png` });
  const topo = await paintedPixels(page, 'canvas.topology');
  const diagram = await paintedPixels(page, 'canvas.diagram');
  assert.ok(topo.painted > topo.total * 0.01, `topology painted ${topo.painted}/${topo.total}`);
  assert.ok(diagram.painted > diagram.total * 0.01, `diagram painted ${diagram.painted}/${diagram.total}`);
  const st = await page.evaluate(() => window.dsplay.state());
  assert.equal(st.painter.offThread, true, 'Chromium paints the animated canvases in the worker');
  assert.equal(st.n, 5);
  assert.equal(st.clients, 4);
  assert.deepEqual(browser.errors, []);
});

test('without OffscreenCanvas the canvases are painted on the page, the same run', async () => {
  // Browsers without OffscreenCanvas (older Safari) paint on the main thread.
  const b = await launch({ width: 1280, height: 800 });
  try {
    const page = await b.page();
    await page.addInitScript(() => { delete window.OffscreenCanvas; });
    const link = '#/raft?n=5&seed=2&lat=20..80ms&clients=1&t=3s';
    await open(page, link);
    const st = await page.evaluate(() => window.dsplay.state());
    assert.equal(st.painter.offThread, false);
    const topo = await paintedPixels(page, 'canvas.topology');
    const diagram = await paintedPixels(page, 'canvas.diagram');
    assert.ok(topo.painted > topo.total * 0.01, `topology painted ${topo.painted}/${topo.total}`);
    assert.ok(diagram.painted > diagram.total * 0.01, `diagram painted ${diagram.painted}/${diagram.total}`);
    // The worker draws the same pixels for the same paused run.
    const page2 = await browser.page();
    await open(page2, link);
    assert.equal((await page2.evaluate(() => window.dsplay.state())).painter.offThread, true);
    const topo2 = await paintedPixels(page2, 'canvas.topology');
    assert.ok(Math.abs(topo2.painted - topo.painted) <= topo.painted * 0.02, `worker ${topo2.painted} vs page ${topo.painted} painted pixels`);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('the paint worker keeps its copy of the run in step through every kind of change', async () => {
  // The worker paints from its own copy of the session, made by replaying the page's changes;
  // it checks its copy after every message and gives up (replica 'off') if it ever differs.
  const page = await browser.page();
  await open(page, '#/raft?n=5&seed=3&lat=20..80ms&loss=2%&dup=1%&clients=1&speed=1');
  const painter = async () => (await page.evaluate(() => window.dsplay.state())).painter;
  assert.equal((await painter()).replica, 'on', JSON.stringify(await painter()));
  await page.evaluate(() => window.dsplay.setSpeed(2));
  await ensurePlaying(page, true);
  await sleep(1200);
  await page.click("button[aria-label='Majority | minority: split the nodes in two']"); // an act while playing
  await sleep(600);
  await ensurePlaying(page, false);
  const now = (await rootState(page)).nowUs;
  await setInput(page, "input[aria-label='Time cursor']", Math.floor(now / 2), 'input'); // seek back
  await page.click("button[aria-label='Step to the next event']");
  await page.click("button[aria-label='Step to the next event']");
  await page.click("button[aria-label='Step back one event']");
  await page.click("button[aria-label='Heal all partitions and cut links']"); // a branch in the past
  await page.click("button[aria-label='+1: the next seed']"); // a rebuild
  await setInput(page, "input[aria-label='Number of nodes']", 7); // another rebuild
  await page.click("button[aria-label='Presenter mode']");
  await ensurePlaying(page, true);
  await sleep(800);
  await ensurePlaying(page, false);
  await page.click("button[aria-label='Presenter mode']"); // the presets are not shown in it
  await page.selectOption("select[aria-label='Scenario presets']", { index: 1 }); // a load
  // The preset's caption lies over the stage: put it away before the pixels are compared.
  await page.click("button[aria-label='Dismiss message']");
  await page.click("button[aria-label='Presenter mode']");
  await ensurePlaying(page, true);
  await sleep(800);
  await ensurePlaying(page, false);
  await sleep(300);
  const p = await painter();
  assert.equal(p.replicaOff, null, `the worker gave up its copy: ${p.replicaOff}`);
  assert.equal(p.replica, 'on');
  // What the worker painted is what the page would paint for the same run.
  const link = (await page.evaluate(() => window.dsplay.state())).link;
  const topo = await paintedPixels(page, 'canvas.topology');
  const b = await launch({ width: 1280, height: 800 });
  try {
    const here = await b.page();
    await here.addInitScript(() => { delete window.OffscreenCanvas; });
    await open(here, link);
    await here.click("button[aria-label='Presenter mode']");
    await sleep(300);
    assert.equal((await here.evaluate(() => window.dsplay.state())).painter.offThread, false);
    const topo2 = await paintedPixels(here, 'canvas.topology');
    assert.ok(topo.painted > topo.total * 0.01, `topology painted ${topo.painted}/${topo.total}`);
    assert.ok(Math.abs(topo2.painted - topo.painted) <= topo.painted * 0.03, `worker ${topo.painted} vs page ${topo2.painted} painted pixels`);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
  assert.deepEqual(browser.errors, []);
});

test("the paint worker's frames drive the clock, and the page's own take over if they stop", async () => {
  // While the worker paints, each of its animation frames is posted to the page, which then
  // asks the browser for no frames of its own (they cost the main thread about 40 ms a second).
  const b = await launch({ width: 1280, height: 800 });
  try {
    const page = await b.page();
    await page.addInitScript(() => {
      const raf = window.requestAnimationFrame.bind(window);
      window.pageFrames = 0;
      window.requestAnimationFrame = (f) => {
        window.pageFrames += 1;
        return raf(f);
      };
    });
    await open(page, '#/raft?n=5&seed=1&lat=20..80ms&clients=1&speed=1');
    await page.waitForFunction(() => window.dsplay.state().painter.clock === 'worker');
    await ensurePlaying(page, true);
    const sample = () => page.evaluate(() => [Number(document.querySelector('#dsplay').dataset.nowUs), window.pageFrames]);
    const [t0, f0] = await sample();
    await sleep(1000);
    const [t1, f1] = await sample();
    assert.ok(t1 - t0 > 500_000, `at 1x the run moved ${t1 - t0} us in a second`);
    assert.ok(f1 - f0 <= 3, `the page asked for ${f1 - f0} animation frames while the worker drove the clock`);
    // The worker's frames stop: the page's own drive the clock again within about a second.
    const worker = page.workers()[0];
    await worker.evaluate(() => { self.requestAnimationFrame = () => 0; });
    await page.waitForFunction(() => window.dsplay.state().painter.clock === 'page', null, { timeout: 5000 });
    const [t2] = await sample();
    await sleep(1000);
    const [t3] = await sample();
    assert.ok(t3 - t2 > 500_000, `on the page's frames the run moved ${t3 - t2} us in a second`);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('if the worker cannot load its copy of the run, the page sends it shapes instead', async () => {
  const link = '#/raft?n=5&seed=3&lat=20..80ms&clients=1&t=2s';
  const b = await launch({ width: 1280, height: 800 });
  try {
    const page = await b.page();
    // The page loads the module's glue first; the worker's import of it (the second) fails.
    let loads = 0;
    await page.context().route(/dsplay-web-[0-9a-f]+\.js$/, (route) => {
      loads += 1;
      return loads > 1 ? route.abort() : route.continue();
    });
    await open(page, link);
    const st = await page.evaluate(() => window.dsplay.state());
    assert.equal(st.painter.replica, 'off');
    assert.match(st.painter.replicaOff, /did not load/);
    assert.equal(st.painter.offThread, true, 'the worker still paints');
    const topo = await paintedPixels(page, 'canvas.topology');
    const page2 = await browser.page();
    await open(page2, link);
    assert.equal((await page2.evaluate(() => window.dsplay.state())).painter.replica, 'on');
    const topo2 = await paintedPixels(page2, 'canvas.topology');
    assert.ok(Math.abs(topo2.painted - topo.painted) <= topo.painted * 0.02, `from shapes ${topo.painted} vs from the copy ${topo2.painted} painted pixels`);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('scrubbing back and forward lands on the same run', async () => {
  const page = await browser.page();
  await open(page, '#/flows?n=3&seed=11&lat=20..80ms&loss=5%&dup=0%&t=3s');
  let s = await rootState(page);
  assert.equal(s.nowUs, 3_000_000, 'a link with a cursor opens paused at it');
  assert.equal(s.playing, false);
  const atThree = s.hash;
  await setInput(page, "input[aria-label='Time cursor']", 1_000_000, 'input');
  await page.waitForFunction(() => document.querySelector('#dsplay').dataset.nowUs === '1000000');
  s = await rootState(page);
  assert.notEqual(s.hash, atThree, 'an earlier instant has a different trace');
  await setInput(page, "input[aria-label='Time cursor']", 3_000_000, 'input');
  await page.waitForFunction(() => document.querySelector('#dsplay').dataset.nowUs === '3000000');
  s = await rootState(page);
  assert.equal(s.hash, atThree, 'back at 3 s: the identical trace');
  // Step forward and back with the keyboard.
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction(() => Number(document.querySelector('#dsplay').dataset.nowUs) > 3_000_000);
  await page.keyboard.press('ArrowLeft');
  await page.waitForFunction(() => Number(document.querySelector('#dsplay').dataset.nowUs) <= 3_000_000);
  assert.deepEqual(browser.errors, []);
});

test('a slider change is recorded in the URL', async () => {
  const page = await browser.page();
  await open(page, '#/flows?n=3&seed=5&t=1s');
  await setInput(page, "input[aria-label='Message loss (%)']", 10);
  await page.waitForFunction(() => window.dsplay.state().script.includes('1s:set:loss=10%'));
  // The script may be percent-escaped inside the fragment ('=' as %3D, '%' as %25).
  await page.waitForFunction(() => /[?&]s=1s:set:loss(=|%3D)10(%|%25)/.test(location.hash));
  await setInput(page, "input[aria-label='Number of nodes']", 4);
  await page.waitForFunction(() => location.hash.includes('n=4&'));
  const st = await page.evaluate(() => window.dsplay.state());
  assert.equal(st.n, 4);
  assert.equal(st.nowUs, 1_000_000, 'a rebuild keeps the cursor');
  assert.deepEqual(st.script, ['1s:set:loss=10%'], 'the script survives the rebuild');
  assert.deepEqual(browser.errors, []);
});

test('the shared link reproduces the same run in a fresh browser', async () => {
  const page = await browser.page();
  await open(page, '#/flows?n=4&seed=9&lat=10..90ms&loss=3%&dup=1%&clients=3');
  await ensurePlaying(page, true);
  await sleep(700);
  await ensurePlaying(page, false);
  // An intervention, so the link carries a script too; then play on past it.
  await setInput(page, "input[aria-label='Message duplication (%)']", 5);
  await ensurePlaying(page, true);
  await sleep(500);
  await ensurePlaying(page, false);
  await page.click("button[aria-label^='Share this run']");
  const url = await page.inputValue("input[aria-label='The link']");
  await page.click("button[aria-label='Close sharing']");
  assert.ok(url.includes('#/flows?') && url.includes('t='), url);
  await page.waitForFunction((u) => location.href === u, url);
  const here = await rootState(page);

  const fresh = await launch();
  try {
    const p2 = await fresh.page();
    await p2.goto(url, { waitUntil: 'load' });
    await p2.waitForSelector('#dsplay[data-trace-hash]');
    const there = await rootState(p2);
    assert.equal(there.nowUs, here.nowUs);
    assert.equal(there.hash, here.hash, 'same link, same trace');
    assert.equal(there.playing, false);
    assert.deepEqual(fresh.errors, []);
  } finally {
    await fresh.close();
  }
});

test('an intervention in the past says which later ones it dropped, and the message goes away', async () => {
  const page = await browser.page();
  await open(page, '#/raft?n=5&seed=1&lat=20..80ms&clients=1&s=3s:crash:1;4030ms:restart:1&t=5s');
  await setInput(page, "input[aria-label='Time cursor']", 790000, 'input');
  await page.click("button[aria-label='Heal all partitions and cut links']");
  const notice = await page.textContent("[role='alert'] .notice-text");
  assert.match(notice, /new branch of the run starts at 0\.790 s: the 2 interventions recorded after it were dropped/);
  const st = await page.evaluate(() => window.dsplay.state());
  assert.deepEqual(st.script, ['790ms:heal']);
  // A message that needs no answer leaves by itself; problems stay until closed.
  await page.waitForSelector("[role='alert']", { state: 'detached', timeout: 10_000 });
  assert.deepEqual(browser.errors, []);
});

test('a bad link shows its reason and the default scenario', async () => {
  const page = await browser.page();
  await open(page, '#/flows?n=abc&seed=1');
  const text = await page.textContent("[role='alert']");
  assert.match(text, /could not be opened/);
  assert.match(text, /abc/);
  const s = await rootState(page);
  assert.equal(s.lab, 'flows');
  await page.waitForFunction(() => location.hash.includes('n=3'));
});

test('dragging a line across the circle of nodes partitions it and no message crosses the cut', async () => {
  const page = await browser.page();
  // Raft's nodes talk to each other; flows' servers only talk to clients.
  const hasRaft = (await page.$$("select[aria-label='Lab'] option[value='raft']")).length > 0;
  const link = hasRaft ? '#/raft?n=5&seed=4&lat=10..40ms&loss=0%&dup=0%&t=1500ms' : '#/flows?n=5&seed=4&t=1500ms';
  await open(page, link);
  const pos = await page.evaluate(() => window.dsplay.positions());
  const { center: c, radius: r } = pos;
  // A vertical line a little right of the centre: node 0 (top) is on the left with 3 and 4.
  const x = c.x + r * 0.2;
  await page.mouse.move(x, c.y - r * 1.25);
  await page.mouse.down();
  for (let i = 1; i <= 10; i++) await page.mouse.move(x, c.y - r * 1.25 + (2.5 * r * i) / 10);
  await page.mouse.up();
  await page.waitForFunction(() => window.dsplay.state().script.some((t) => t.includes(':part:')));
  const st = await page.evaluate(() => window.dsplay.state());
  const cmd = st.script.find((t) => t.includes(':part:'));
  const groups = cmd.split(':part:')[1].split('/').map((g) => g.split('.').map(Number));
  assert.deepEqual(groups.map((g) => [...g].sort()).sort((a, b) => a.length - b.length), [[1, 2], [0, 3, 4]]);
  assert.ok(st.cutLinks.length >= 12, `every link between the groups is cut (${st.cutLinks.length})`);

  await page.evaluate(() => window.dsplay.setSpeed(5));
  await ensurePlaying(page, true);
  await page.waitForFunction(() => window.dsplay.state().nowUs > 4_000_000, null, { timeout: 20_000 });
  await ensurePlaying(page, false);
  const recs = await page.evaluate(() => window.dsplay.records());
  const cutAt = recs.find((r) => r.what === 'command' && r.text.startsWith('part:'))?.at_us ?? 1_500_000;
  const side = new Map();
  groups.forEach((g, i) => g.forEach((n) => side.set(n, i)));
  const crosses = (r) => side.has(r.from) && side.has(r.to) && side.get(r.from) !== side.get(r.to);
  const after = recs.filter((r) => r.at_us > cutAt);
  const crossing = after.filter((r) => r.what === 'deliver' && crosses(r));
  assert.equal(crossing.length, 0, `deliveries across the cut: ${JSON.stringify(crossing.slice(0, 3))}`);
  assert.ok(after.some((r) => r.what === 'deliver'), 'messages still flow within the groups or to clients');
  if (hasRaft) {
    assert.ok(after.some((r) => r.what === 'drop' && crosses(r)), 'messages sent across the cut are dropped');
  }
  await page.screenshot({ path: `${OUT}/desktop-partition.png` });
  assert.deepEqual(browser.errors, []);
});

test('keyboard: space plays and pauses, ? opens the help', async () => {
  const page = await browser.page();
  await open(page, '#/flows?n=3&seed=1&t=1s');
  await page.keyboard.press('Space');
  await page.waitForFunction(() => document.querySelector('#dsplay').dataset.playing === 'true');
  await page.keyboard.press('Space');
  await page.waitForFunction(() => document.querySelector('#dsplay').dataset.playing === 'false');
  await page.keyboard.press('Shift+Slash');
  await page.waitForSelector("[role='dialog'][aria-label='Help']");
  await page.keyboard.press('Escape');
  await page.waitForSelector("[role='dialog']", { state: 'detached' });
  // After a click on a button, space plays and pauses instead of pressing it again.
  const spaceTwice = async () => {
    await page.keyboard.press('Space');
    await page.waitForFunction(() => document.querySelector('#dsplay').dataset.playing === 'true');
    await page.keyboard.press('Space');
    await page.waitForFunction(() => document.querySelector('#dsplay').dataset.playing === 'false');
  };
  await page.click("button[aria-label='Presenter mode']");
  await spaceTwice();
  assert.ok(await page.evaluate(() => document.querySelector('#dsplay').classList.contains('presenter')), 'presenter mode stayed on');
  await page.click("button[aria-label='Presenter mode']");
  await page.click("button[aria-label='Heal all partitions and cut links']");
  const script = (await page.evaluate(() => window.dsplay.state())).script.length;
  await spaceTwice();
  const after = await page.evaluate(() => window.dsplay.state());
  assert.equal(after.script.length, script, 'space did not heal a second time');
  // A button reached with the keyboard still takes space: Tab to "Heal all"'s neighbour and back.
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Space');
  await page.waitForFunction((n) => window.dsplay.state().script.length === n + 1, script);
  assert.equal((await page.evaluate(() => window.dsplay.state())).playing, false);
});

test('every control has an accessible name', async () => {
  const page = await browser.page();
  await open(page, '#/flows?n=3&seed=1&t=1s');
  const unnamed = await page.evaluate(() =>
    [...document.querySelectorAll('button, input, select')]
      .filter((el) => !(el.getAttribute('aria-label') || el.labels?.length || el.textContent.trim()))
      .map((el) => el.outerHTML.slice(0, 80)),
  );
  assert.deepEqual(unnamed, []);
});

for (const [name, width, height, presenter] of [
  ['phone', 390, 844, false],
  ['phone-presenter', 390, 844, true],
  ['desktop', 1280, 800, false],
  ['small-projector', 1024, 768, true],
  ['projector', 1920, 1080, true],
]) {
  test(`lays out at ${name} size (${width}x${height}) without overflowing`, async () => {
    const b = await launch({ width, height });
    try {
      const page = await b.page();
      await open(page, '#/flows?n=5&seed=3&lat=20..80ms&loss=2%&dup=0%&clients=4&t=2500ms');
      if (presenter) await page.click("button[aria-label='Presenter mode']");
      await sleep(300);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `horizontal overflow of ${overflow}px`);
      const topo = await paintedPixels(page, 'canvas.topology');
      const painter = (await page.evaluate(() => window.dsplay.state())).painter;
      const dpr = await page.evaluate(() => window.devicePixelRatio);
      const box = await page.evaluate(() => document.querySelector('canvas.topology').getBoundingClientRect().width);
      assert.equal(painter.backing.topology[0], Math.round(box * dpr), 'the backing store matches the CSS size × DPR');
      assert.ok(topo.painted > 0);
      // The canvases keep most of the width (the side panel is beside them, or below on a phone).
      const share = width > 820 ? 0.55 : 0.9;
      assert.ok(box >= width * share, `the topology is ${box}px of ${width}px wide`);
      await page.screenshot({ path: `${OUT}/${name}.png`, fullPage: name.startsWith('phone') });
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });
}
