// The partitioning lab in the page: the ring stage, a server added by its button with the
// moved keys counted as the command line counts them, a key's lookup, and the balance
// experiment's chart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { launch, open, paintedPixels, setInput } from './helpers.mjs';

const OUT = process.env.DSPLAY_SHOTS || 'target/e2e-shots';
mkdirSync(OUT, { recursive: true });

const figures = (page) =>
  page.$$eval('[data-metric]', (ds) => Object.fromEntries(ds.map((d) => [d.dataset.metric, Number(d.textContent)])));

test('"Why not hash mod N?": adding a server moves nearly every key, and the page agrees with dsplay run', async () => {
  const bin = ['target/release/dsplay', 'target/debug/dsplay'].find((p) => existsSync(p));
  assert.ok(bin, 'the dsplay binary is built');
  const b = await launch();
  try {
    const page = await b.page();
    await open(page, '#/ring?n=3');
    const presets = await page.$$eval("select[aria-label='Scenario presets'] option", (os) => os.map((o) => [o.value, o.textContent]));
    const [value] = presets.find(([, name]) => name.includes('Why not hash mod N'));
    await page.selectOption("select[aria-label='Scenario presets']", value);
    await page.waitForFunction(() => window.dsplay.state().link.includes('algo=mod-n'));
    await page.evaluate(() => { window.dsplay.play(false); window.dsplay.seek(500_000); });
    const view = await page.$eval("select[aria-label='View']", (s) => s.options[s.selectedIndex].textContent);
    assert.equal(view, 'Ring', 'the preset opens the ring stage');
    const painted = await paintedPixels(page, 'canvas.topology');
    assert.ok(painted.painted > 20_000, `the ring is drawn: ${JSON.stringify(painted)}`);
    await page.click("button[aria-label='Add a server']");
    await page.waitForFunction(() => document.querySelector("[data-metric='moved_fraction']"));
    const shown = await figures(page);
    assert.ok(shown.moved_fraction > 0.85, `mod-N moves nearly all: ${JSON.stringify(shown)}`);
    assert.ok(Math.abs(shown.ideal_fraction - 1 / 11) < 0.01, `the ideal is 1/11: ${shown.ideal_fraction}`);
    assert.equal(shown.servers, 11);
    const link = await page.evaluate(() => window.dsplay.state().link);
    assert.match(link, /s=500ms:do:add/, `the join is in the link: ${link}`);
    const cli = JSON.parse(execFileSync(bin, ['run', link, '--json'], { encoding: 'utf8' })).metrics;
    // The page shows three decimals of what the command line prints in full.
    for (const key of ['moved_fraction', 'ideal_fraction', 'moved_fraction_mod_n', 'servers']) {
      assert.equal(Number(cli[key].toFixed(3)), shown[key], key);
    }
    await page.locator('.stage').screenshot({ path: `${OUT}/ring-mod-n-join.png` });
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test("a key selected on the ring shows its owner and preference list, and its owner's node", async () => {
  const b = await launch();
  try {
    const page = await b.page();
    await open(page, '#/ring?n=6&seed=1&vnodes=20&view=ring&t=1s');
    // Key k5 is item 5 on the ring stage.
    await page.evaluate(() => window.dsplay.selectItem(5));
    await page.waitForFunction(() => /preference list: S\d, S\d, S\d/.test(document.querySelector("section[aria-label='Inspector']")?.textContent || ''));
    const text = await page.textContent("section[aria-label='Inspector']");
    assert.match(text, /k5/);
    const owner = text.match(/owner (S\d+)/)[1];
    assert.match(text, new RegExp(`preference list: ${owner},`), 'the owner heads its preference list');
    // Removing the owner (the key's server stands for it) hands k5 to the next one.
    await page.click("button[aria-label='Remove (the selected server)']");
    const script = (await page.evaluate(() => window.dsplay.state())).script;
    assert.deepEqual(script, [`1s:do:remove@${owner.slice(1)}`]);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('balance against virtual nodes runs in the page: every algorithm on one log chart', async () => {
  const b = await launch();
  try {
    const page = await b.page();
    await open(page, '#/ring?n=10&seed=1');
    await page.waitForSelector('section.experiment');
    // The balance experiment's algorithm is picked from a list, not typed.
    const algos = await page.$$eval("section.experiment select[aria-label='Algorithm'] option", (os) => os.map((o) => o.value));
    assert.deepEqual(algos, ['mod-n', 'ring', 'jump', 'rendezvous', 'maglev', 'bounded']);
    const options = await page.$$eval("section.experiment select[aria-label='Experiment'] option", (os) => os.map((o) => [o.value, o.textContent]));
    const [value] = options.find(([, t]) => /virtual nodes/i.test(t));
    await page.selectOption("section.experiment select[aria-label='Experiment']", value);
    await setInput(page, "section.experiment input[aria-label='Keys']", 20000);
    await setInput(page, "input[aria-label='Trials']", 1);
    await page.click("button[aria-label='Run the experiment']");
    await page.waitForFunction(() => /1 point per server/.test(document.querySelector('section.experiment')?.textContent || ''), null, { timeout: 90_000 });
    const text = await page.textContent('section.experiment');
    assert.match(text, /the ring's standard deviation over the mean is [\d.]+% with 1 point per server/);
    const chart = await paintedPixels(page, 'section.experiment canvas.chart');
    assert.ok(chart.painted > 3_000, `the chart is drawn: ${JSON.stringify(chart)}`);
    await page.locator('section.experiment').screenshot({ path: `${OUT}/ring-vnodes-experiment.png` });
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});
