// Offline: once the playground has loaded, its service worker serves it without a network, and
// a new release served later replaces the cached one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open } from './helpers.mjs';

test('after one visit the playground starts and plays with the network off', async () => {
  const b = await launch();
  try {
    const page = await b.page();
    await open(page, '#/raft?n=5&seed=3');
    await page.evaluate(() => navigator.serviceWorker.ready);
    const cached = await page.evaluate(async () => {
      const c = await caches.open('dsplay-site');
      return (await c.keys()).map((r) => r.url);
    });
    assert.ok(cached.some((u) => u.endsWith('.wasm')), `the wasm is cached: ${cached}`);
    assert.ok(cached.some((u) => u.endsWith('.css')), `the styles are cached: ${cached}`);
    await b.context.setOffline(true);
    await open(page, '#/ring?n=4&seed=2');
    const t0 = await page.evaluate(() => window.dsplay.state().nowUs);
    await page.evaluate(() => window.dsplay.play(true));
    await page.waitForFunction((t) => window.dsplay.state().nowUs > t, t0);
    assert.equal(await page.evaluate(() => window.dsplay.state().link.startsWith('#/ring')), true);
    await b.context.setOffline(false);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});
