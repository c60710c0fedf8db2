// The site works from any folder: served under /dsplay/ of another server, the page mounts,
// its paint worker paints and its job worker runs an experiment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { launch, sleep } from './helpers.mjs';

const DIST = process.env.DSPLAY_DIST || 'dist';
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };

/** A static server that serves `dist/` under `/dsplay/` and nothing at its root. */
function serveUnder(prefix) {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (!path.startsWith(prefix)) {
      res.writeHead(404).end('not here');
      return;
    }
    const rel = normalize(path.slice(prefix.length) || 'index.html').replace(/^(\.\.[/\\])+/, '');
    try {
      const body = await readFile(join(DIST, rel === '' || rel === '.' ? 'index.html' : rel));
      res.writeHead(200, { 'content-type': TYPES[extname(rel)] || 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end('no such file');
    }
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

test('served from a folder of another site, the playground runs', async () => {
  const server = await serveUnder('/dsplay/');
  const b = await launch();
  try {
    const page = await b.page();
    const url = `http://127.0.0.1:${server.address().port}/dsplay/#/raft?n=5&seed=1&lat=20..80ms`;
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForSelector('#dsplay[data-trace-hash]', { timeout: 30_000 });
    await page.waitForFunction(() => window.dsplay && window.dsplay.state().painter.replica === 'on', null, { timeout: 30_000 });
    await page.waitForFunction(() => window.dsplay.state().nowUs > 200_000, null, { timeout: 30_000 });
    // The job worker loads the same module from the folder too.
    await page.selectOption("section.experiment select[aria-label='Experiment']", '1');
    await page.fill("input[aria-label='Trials']", '3');
    await page.dispatchEvent("input[aria-label='Trials']", 'change');
    await page.click("button[aria-label='Run the experiment']");
    await page.waitForSelector('.trial-links a', { timeout: 60_000 });
    assert.equal(await page.evaluate(() => window.dsplay.state().jobs), 'worker');
    await sleep(100);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
    server.close();
  }
});
