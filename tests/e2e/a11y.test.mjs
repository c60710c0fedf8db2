// Accessibility: axe-core finds no serious or critical violation on a lab page, with a dialog
// open, in presenter mode and on a lab's own stage (the ring); every control has a name and the keyboard reaches it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { launch, open } from './helpers.mjs';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');

async function serious(page) {
  await page.addScriptTag({ path: AXE });
  const r = await page.evaluate(async () => {
    const res = await window.axe.run(document, { resultTypes: ['violations'] });
    return res.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  return r;
}

for (const [what, link, setup] of [
  ['the Raft lab', '#/raft?n=5&seed=3&clients=2', null],
  ['the replication lab in leader mode', '#/quorum?n=3&seed=1&mode=leader&clients=2', null],
  ['the share dialog', '#/ring?n=4&seed=2', (p) => p.click("button[aria-label^='Share this run']")],
  ['presenter mode', '#/raft?n=5&seed=3', (p) => p.click("button[aria-label='Presenter mode']")],
  ['the gallery', '', null],
  ['the ring stage of the partitioning lab', '#/ring?n=8&seed=1&vnodes=8&keys=200&view=ring', null],
]) {
  test(`axe finds no serious or critical violation: ${what}`, async () => {
    const b = await launch();
    try {
      const page = await b.page();
      await open(page, link);
      await page.evaluate(() => window.dsplay.play(false));
      if (setup) await setup(page);
      await page.waitForTimeout(300);
      const found = await serious(page);
      assert.deepEqual(found, [], found.join('\n'));
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });
}

test('the keyboard reaches every control, and the focused one is outlined', async () => {
  const b = await launch();
  try {
    const page = await b.page();
    await open(page, '#/raft?n=5&seed=3&clients=2');
    await page.evaluate(() => window.dsplay.play(false));
    const controls = await page.$$eval('button, select, input, summary, a[href]', (els) =>
      els.filter((e) => e.offsetParent !== null && !e.disabled).length);
    const reached = new Set();
    let outlined = 0;
    for (let i = 0; i < controls + 10; i++) {
      await page.keyboard.press('Tab');
      const f = await page.evaluate(() => {
        const e = document.activeElement;
        if (!e || e === document.body) return null;
        const s = getComputedStyle(e);
        return { id: e.outerHTML.slice(0, 120), outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2 };
      });
      if (!f) continue;
      reached.add(f.id);
      if (f.outline) outlined++;
    }
    assert.ok(reached.size >= controls * 0.95, `Tab reached ${reached.size} of ${controls} controls`);
    assert.ok(outlined >= reached.size * 0.95, `${outlined} of ${reached.size} focused controls were outlined`);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('with reduced motion asked for, a link opens paused', async () => {
  const b = await launch({ reducedMotion: 'reduce' });
  try {
    const page = await b.page();
    await open(page, '#/raft?n=5&seed=3');
    await page.waitForTimeout(500);
    assert.equal(await page.evaluate(() => window.dsplay.state().playing), false);
    assert.equal(await page.evaluate(() => window.dsplay.state().nowUs), 0);
  } finally {
    await b.close();
  }
});
