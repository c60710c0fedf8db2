// What every lab gets from the platform: preset captions in an overlay that moves nothing, a
// legend of its colours, and figures that match the command line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { launch, open, paintedPixels } from './helpers.mjs';

const box = (page, sel) => page.evaluate((s) => {
  const r = document.querySelector(s).getBoundingClientRect();
  return { x: r.x, y: r.y, w: r.width, h: r.height };
}, sel);

test('a preset opens with its caption over the stage, and the topology keeps its size', async () => {
  const b = await launch();
  try {
    const page = await b.page();
    await open(page, '#/raft?n=5&seed=1&lat=20..80ms');
    const before = await box(page, 'canvas.topology');
    const presets = await page.$$eval("select[aria-label='Scenario presets'] option", (os) => os.map((o) => [o.value, o.textContent]));
    const [value, name] = presets.find(([v]) => v.startsWith('#/'));
    await page.selectOption("select[aria-label='Scenario presets']", value);
    await page.waitForSelector("[role='alert'] .notice-text");
    const caption = await page.textContent("[role='alert'] .notice-text");
    assert.ok(caption.startsWith(`${name.trim()}:`), `the caption names the preset: ${caption}`);
    assert.ok(caption.length > name.length + 20, 'and says what it shows');
    const after = await box(page, 'canvas.topology');
    assert.deepEqual(after, before, 'the caption moved or resized the topology');
    // The caption is dismissible and lies over the stage.
    const overlay = await box(page, '.overlays');
    const stage = await box(page, '.stage');
    assert.ok(overlay.y >= stage.y && overlay.y < stage.y + stage.h / 2, 'over the top of the stage');
    await page.click("button[aria-label='Dismiss message']");
    assert.equal(await page.locator("[role='alert']").count(), 0);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('the legend says what each colour of the lab means, in presenter mode too', async () => {
  const b = await launch();
  try {
    const page = await b.page();
    await open(page, '#/raft?n=5&seed=1&lat=20..80ms&clients=1');
    const before = await box(page, 'canvas.topology');
    await page.click(".legend summary");
    const names = await page.$$eval('.legend .legend-name', (ns) => ns.map((n) => n.textContent));
    for (const want of ['vote request', 'heartbeat', 'append', 'client request', 'leader', 'follower', 'candidate', 'crashed', 'dropped']) {
      assert.ok(names.includes(want), `the legend names '${want}': ${names}`);
    }
    assert.deepEqual(await box(page, 'canvas.topology'), before, 'opening the legend moved nothing');
    const size = () => page.evaluate(() => parseFloat(getComputedStyle(document.querySelector('.legend')).fontSize));
    const small = await size();
    await page.click("button[aria-label='Presenter mode']");
    assert.ok((await size()) > small * 1.1, 'larger type in presenter mode');
    await open(page, '#/flows?n=3&seed=1');
    await page.click(".legend summary");
    const flows = await page.$$eval('.legend .legend-name', (ns) => ns.map((n) => n.textContent));
    assert.ok(flows.includes('busy') && flows.includes('client reply') && !flows.includes('heartbeat'), `${flows}`);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test("the page's figures are the ones dsplay run --json prints for the same link", async () => {
  const bin = ['target/release/dsplay', 'target/debug/dsplay'].find((p) => existsSync(p));
  assert.ok(bin, 'the dsplay binary is built');
  const b = await launch();
  try {
    const page = await b.page();
    const link = '#/raft?n=5&seed=3&lat=20..80ms&loss=2%&clients=2&t=20s';
    await open(page, link);
    const shown = await page.$$eval('[data-metric]', (ds) => Object.fromEntries(ds.map((d) => [d.dataset.metric, Number(d.textContent)])));
    const cli = JSON.parse(execFileSync(bin, ['run', link, '--json'], { encoding: 'utf8' })).metrics;
    assert.ok(Object.keys(shown).length >= 5, `figures shown: ${JSON.stringify(shown)}`);
    assert.deepEqual(shown, cli);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test("a lab's own actions: from a node's menu, the lab's card and the keyboard, recorded in the link", async () => {
  const b = await launch();
  try {
    const page = await b.page();
    await open(page, '#/raft?n=5&seed=1&lat=20..80ms&loss=0%&dup=0%&clients=1&t=2s');
    const script = async () => (await page.evaluate(() => window.dsplay.state())).script;
    const pos = await page.evaluate(() => window.dsplay.positions());
    // A node's menu offers "Time out now" and "Send a request".
    await page.mouse.click(pos.nodes[1].x, pos.nodes[1].y, { button: 'right' });
    await page.click("button[aria-label='Time out now S1']");
    assert.deepEqual(await script(), ['2s:do:timeout@1']);
    const link = await page.evaluate(() => window.dsplay.state().link);
    assert.ok(link.includes('s=2s:do:timeout@1'), `the link carries it: ${link}`);
    await page.mouse.click(pos.nodes[3].x, pos.nodes[3].y, { button: 'right' });
    await page.click("button[aria-label='Send a request to S3']");
    assert.deepEqual((await script()).slice(-1), ['2s:op:0@3:put x 1']);
    // The lab's card has the actions done to every node; the keyboard reaches them too.
    await page.click("button[aria-label='Spread timers']");
    assert.equal((await script()).slice(-1)[0], '2s:do:spread');
    await page.mouse.click(pos.center.x, pos.center.y); // focus the page, not a button
    await page.keyboard.press('a');
    assert.equal((await script()).slice(-1)[0], '2s:do:align');
    // 't' times out the selected server; with none selected it says so.
    await page.keyboard.press('Escape');
    await page.keyboard.press('t');
    assert.match(await page.textContent("[role='alert'] .notice-text"), /select a server first/);
    // The run goes on and opens again from its link with the same hash.
    await page.evaluate(() => { window.dsplay.play(true); });
    await page.waitForFunction(() => window.dsplay.state().nowUs > 3_000_000);
    await page.evaluate(() => window.dsplay.play(false));
    const s = await page.evaluate(() => window.dsplay.state());
    const again = await b.context.newPage();
    await open(again, s.link);
    const t = await again.evaluate(() => window.dsplay.state());
    assert.equal(t.traceHash, s.traceHash);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test("a lab's own stage: the Raft logs view, picked, in the link, and its entries inspected", async () => {
  const b = await launch();
  try {
    const page = await b.page();
    await open(page, '#/raft?n=5&seed=3&t=4s&view=logs');
    const picker = "select[aria-label='View']";
    assert.equal(await page.$eval(picker, (s) => s.value), '1', 'the link opens the logs view');
    const options = await page.$$eval(`${picker} option`, (os) => os.map((o) => o.textContent));
    assert.deepEqual(options, ['Topology', 'Logs']);
    // The first row is S0, the first column the oldest index shown (the lab's geometry:
    // 96 px of labels, 26 px of header, 34 px columns, rows sharing the height).
    const c = await box(page, 'canvas.topology');
    const rowH = Math.min(44, (c.h - 26 - 8) / 5);
    await page.mouse.click(c.x + 96 + 17, c.y + 26 + rowH / 2);
    await page.waitForFunction(() => /S0 · entry \d+/.test(document.querySelector('.inspect h3')?.textContent || ''));
    const lines = await page.$$eval('.inspect .lines li', (ls) => ls.map((l) => l.textContent));
    assert.ok(lines.some((l) => l.startsWith('made by the leader of term')), lines.join(' | '));
    assert.ok(lines.some((l) => l.includes('committed')), lines.join(' | '));
    // The stage draws something, and the view stays in the link until the topology is picked.
    assert.ok((await paintedPixels(page, 'canvas.topology')).painted > 500);
    assert.match(await page.evaluate(() => location.hash), /view=logs/);
    await page.selectOption(picker, '0');
    await page.waitForFunction(() => !location.hash.includes('view='));
    assert.equal(await page.$eval(picker, (s) => s.value), '0');
    // Each lab offers its own stages: the flows lab its queue view.
    await open(page, '#/flows?n=1&seed=1&mode=queue&view=queue');
    const flows = await page.$$eval(`${picker} option`, (os) => os.map((o) => o.textContent));
    assert.deepEqual(flows, ['Topology', 'Queue']);
    assert.equal(await page.$eval(picker, (s) => s.value), '1', 'the link opens the queue view');
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('the client operations chart is drawn beside the run and follows the time cursor', async () => {
  const b = await launch();
  try {
    const page = await b.page();
    await open(page, '#/raft?n=5&seed=2&clients=2&t=6s');
    const canvas = "section[aria-label='Charts'] canvas.chart";
    await page.waitForSelector(canvas);
    let painted = 0;
    for (let i = 0; i < 20 && painted < 500; i++) {
      painted = (await paintedPixels(page, canvas)).painted;
      if (painted < 500) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(painted > 500, `the chart is drawn (${painted} pixels)`);
    const at6 = await page.locator(canvas).screenshot();
    await page.evaluate(() => window.dsplay.seek(3_000_000));
    await page.waitForFunction(() => Number(document.querySelector('#dsplay').dataset.nowUs) === 3_000_000);
    let moved = false;
    for (let i = 0; i < 20 && !moved; i++) {
      await new Promise((r) => setTimeout(r, 100));
      moved = !(await page.locator(canvas).screenshot()).equals(at6);
    }
    assert.ok(moved, 'the chart changed with the cursor');
    assert.match(await page.textContent("section[aria-label='Charts']"), /Client operations/);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});
