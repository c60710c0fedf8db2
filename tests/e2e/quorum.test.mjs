// The replication lab in the page: the two partition presets side by side (a strict quorum
// refuses what it cannot reach and stays linearizable; a sloppy one accepts everything and is
// not), read from the page's figures and Consistency panel and compared with dsplay run; and
// the staleness experiment run in the page beside the paper's curve.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { launch, open, paintedPixels, setInput } from './helpers.mjs';

const OUT = process.env.DSPLAY_SHOTS || 'target/e2e-shots';
mkdirSync(OUT, { recursive: true });

const figures = (page) =>
  page.$$eval('[data-metric]', (ds) => Object.fromEntries(ds.map((d) => [d.dataset.metric, Number(d.textContent)])));

const consistencyRow = (page, name) =>
  page.$$eval('section.card', (cards, name) => {
    const card = cards.find((c) => c.querySelector('h2')?.textContent === 'Consistency so far');
    const row = [...(card?.querySelectorAll('tbody tr') || [])].find((r) => r.cells[0]?.textContent === name);
    return row ? row.cells[1].textContent : null;
  }, name);

async function presetLink(page, name) {
  const presets = await page.$$eval("select[aria-label='Scenario presets'] option", (os) => os.map((o) => [o.value, o.textContent]));
  const [value] = presets.find(([, n]) => n.includes(name)) || [];
  assert.ok(value !== undefined, `a preset named ${name}`);
  await page.selectOption("select[aria-label='Scenario presets']", value);
  await page.waitForFunction(() => window.dsplay.state().link.includes('part:'));
  return page.evaluate(() => window.dsplay.state().link);
}

test('a partition: the strict quorum refuses writes and stays linearizable, the sloppy one accepts them and is not', async () => {
  const bin = ['target/release/dsplay', 'target/debug/dsplay'].find((p) => existsSync(p));
  assert.ok(bin, 'the dsplay binary is built');
  const b = await launch();
  try {
    const page = await b.page();
    await open(page, '#/quorum');
    const seen = {};
    for (const [kind, name] of [['strict', 'Partition, strict'], ['sloppy', 'Partition, sloppy']]) {
      const link = await presetLink(page, name);
      await page.evaluate(() => { window.dsplay.play(false); window.dsplay.seek(5_000_000); });
      await page.waitForFunction(() => window.dsplay.state().nowUs === 5_000_000);
      await page.waitForFunction(() => document.querySelector("[data-metric='ops_ok_fraction']"));
      // The side panel refreshes a few times a second.
      await page.waitForTimeout(800);
      const shown = await figures(page);
      const availability = await consistencyRow(page, 'availability');
      const verdict = await consistencyRow(page, 'linearizable');
      seen[kind] = { shown, availability, verdict };
      const cli = JSON.parse(execFileSync(bin, ['run', link, '--until', '5s', '--json'], { encoding: 'utf8' })).metrics;
      assert.equal(Number(cli.ops_ok_fraction.toFixed(3)), shown.ops_ok_fraction, `${kind}: the page agrees with dsplay run`);
      assert.equal(cli.linearizable, shown.linearizable, `${kind}: the verdict agrees with dsplay run`);
      await page.locator('.stage').screenshot({ path: `${OUT}/quorum-${kind}.png` });
      await page.locator('section.card', { hasText: 'Consistency so far' }).screenshot({ path: `${OUT}/quorum-${kind}-consistency.png` });
    }
    assert.ok(seen.strict.shown.ops_ok_fraction < 1, `strict refuses: ${JSON.stringify(seen.strict)}`);
    assert.match(seen.strict.availability, /^\d+ of \d+ operations succeeded \((\d+)%\)$/);
    assert.equal(seen.strict.verdict, 'yes');
    assert.equal(seen.sloppy.shown.ops_ok_fraction, 1, `sloppy accepts: ${JSON.stringify(seen.sloppy)}`);
    assert.match(seen.sloppy.verdict, /^no: /);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('the staleness experiment runs in the page and is drawn beside the paper', async () => {
  const b = await launch();
  try {
    const page = await b.page();
    await open(page, '#/quorum');
    await page.waitForSelector('section.experiment');
    await setInput(page, "section.experiment input[aria-label='Trials']", 2000);
    await page.click("button[aria-label='Run the experiment']");
    await page.waitForSelector('section.experiment p.exp-summary', { timeout: 60_000 });
    const summary = await page.textContent('section.experiment p.exp-summary');
    const m = summary.match(/lnkd-disk: ([\d.]+)% of reads 0 ms after commit/);
    assert.ok(m, summary);
    assert.ok(Math.abs(Number(m[1]) - 43.9) < 4, `about the paper's 43.9%: ${summary}`);
    const painted = await paintedPixels(page, 'section.experiment canvas.chart');
    assert.ok(painted.painted > 2_000, `the chart is drawn: ${JSON.stringify(painted)}`);
    await page.locator('section.experiment').screenshot({ path: `${OUT}/quorum-pbs.png` });
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('leader mode: an asynchronous failover loses a write, and the Replicas view draws it', async () => {
  const bin = ['target/release/dsplay', 'target/debug/dsplay'].find((p) => existsSync(p));
  const b = await launch();
  try {
    const page = await b.page();
    await open(page, '#/quorum');
    const link = await presetLink(page, 'Asynchronous failover');
    await page.evaluate(() => { window.dsplay.play(false); window.dsplay.seek(6_000_000); });
    await page.waitForFunction(() => window.dsplay.state().nowUs === 6_000_000);
    await page.waitForFunction(() => document.querySelector("[data-metric='writes_lost']"));
    await page.waitForTimeout(800);
    const shown = await figures(page);
    assert.equal(shown.writes_lost, 1, JSON.stringify(shown));
    const cli = JSON.parse(execFileSync(bin, ['run', link, '--until', '6s', '--json'], { encoding: 'utf8' })).metrics;
    assert.equal(cli.writes_lost, shown.writes_lost, 'the page agrees with dsplay run');
    assert.match(await consistencyRow(page, 'lost writes'), /put k0 8 .*never received it/);
    await page.locator('section.card', { has: page.locator('h2', { hasText: /^Replication$/ }) }).screenshot({ path: `${OUT}/quorum-failover-replication.png` });
    await open(page, `${link.replace(/&t=[^&]*/, '')}&view=replicas&t=6s`);
    await page.waitForFunction(() => window.dsplay.state().nowUs === 6_000_000);
    await page.waitForTimeout(500);
    const painted = await paintedPixels(page, '.stage canvas');
    assert.ok(painted.painted > 2_000, `the Replicas view is drawn: ${JSON.stringify(painted)}`);
    await page.locator('.stage').screenshot({ path: `${OUT}/quorum-failover-replicas.png` });
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});
