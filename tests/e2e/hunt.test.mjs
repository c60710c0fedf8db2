// "Find a counterexample": a deliberately broken Raft is hunted in a pool of workers and the
// shrunk run that breaks its property opens at the moment it broke; the real Raft reports none
// for the runs it tried. The page keeps painting while the pool works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { launch, open } from './helpers.mjs';

const OUT = process.env.DSPLAY_SHOTS || 'target/e2e-shots';
mkdirSync(OUT, { recursive: true });

/** Frames the page painted, and its longest gap, over `ms` of wall time. */
async function frames(page, ms) {
  return page.evaluate(
    (ms) =>
      new Promise((done) => {
        const times = [];
        const start = performance.now();
        const tick = (t) => {
          times.push(t);
          if (t - start < ms) requestAnimationFrame(tick);
          else {
            const gaps = times.slice(1).map((t, i) => t - times[i]);
            done({ count: times.length, longest: Math.max(...gaps) });
          }
        };
        requestAnimationFrame(tick);
      }),
    ms,
  );
}

async function hunt(page, { variant, seeds }) {
  const card = page.locator('section.hunt');
  await card.scrollIntoViewIfNeeded();
  await card.getByTestId('hunt-variant').selectOption(variant);
  await card.getByTestId('hunt-seeds').selectOption(seeds);
  await card.getByTestId('hunt-find').click();
  return card;
}

test('a broken Raft is hunted down and its shrunk counterexample opens at the violation', async () => {
  const b = await launch({ width: 1280, height: 900 });
  try {
    const page = await b.page();
    await open(page, '#/raft?n=5&seed=1');
    const card = await hunt(page, { variant: 'vote-twice', seeds: '0' });
    const found = card.getByTestId('hunt-found');
    await found.waitFor({ timeout: 120_000 });
    assert.equal(await found.getAttribute('data-property'), 'election_safety');
    // The playground now shows the broken run, paused where the property broke.
    await page.waitForFunction(() => location.hash.includes('variant=vote-twice') && location.hash.includes('&t='));
    await page.waitForSelector('header .broken');
    const violated = page.locator('.props li.prop.violated .prop-name', { hasText: 'election_safety' });
    await violated.waitFor({ timeout: 30_000 });
    const text = await found.textContent();
    const at = text.match(/election_safety broke on run \d+ at (\d+)\.(\d{3}) s/);
    assert.ok(at, text);
    assert.match(text, /shrunk from \d+ interventions to \d+/);
    const nowUs = await page.evaluate(() => Number(document.querySelector('#dsplay').dataset.nowUs));
    assert.equal(Math.floor(nowUs / 1000), Number(at[1]) * 1000 + Number(at[2]), 'paused at the violation');
    await page.screenshot({ path: `${OUT}/hunt-found.png` });
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('the real Raft shows no violation for the runs the hunt tried, and the page keeps painting', async () => {
  const b = await launch({ width: 1280, height: 900 });
  try {
    const page = await b.page();
    await open(page, '#/raft?n=5&seed=1');
    const card = await hunt(page, { variant: 'none', seeds: '0' });
    const status = card.getByTestId('hunt-status');
    await status.waitFor();
    // While the pool works, the page paints at about its usual rate.
    const f = await frames(page, 1000);
    assert.ok(f.count >= 40, `${f.count} frames in a second while hunting`);
    await page.waitForFunction(
      () => /No property broke in 100 runs/.test(document.querySelector('[data-testid=hunt-status]')?.textContent ?? ''),
      null,
      { timeout: 180_000 },
    );
    await page.screenshot({ path: `${OUT}/hunt-clean.png` });
    assert.equal(await page.locator('header .broken').count(), 0);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('a hunt can be cancelled, and a new one starts after it', async () => {
  const b = await launch({ width: 1280, height: 900 });
  try {
    const page = await b.page();
    await open(page, '#/raft?n=5&seed=1');
    const card = await hunt(page, { variant: 'none', seeds: '2' });
    await card.getByTestId('hunt-status').waitFor();
    await card.getByRole('button', { name: 'Cancel the hunt' }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid=hunt-status]')?.textContent === 'Cancelled.');
    // Nothing opens after a cancel: the run on show stays seed 1 (it plays on, so the address
    // bar's cursor moves).
    await page.waitForTimeout(1000);
    assert.match(await page.evaluate(() => location.hash), /^#\/raft\?n=5&seed=1&/);
    assert.equal(await card.getByTestId('hunt-status').textContent(), 'Cancelled.');
    await hunt(page, { variant: 'vote-twice', seeds: '0' });
    await card.getByTestId('hunt-found').waitFor({ timeout: 120_000 });
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});
