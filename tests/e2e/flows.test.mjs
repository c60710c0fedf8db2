// The message-flows lab's payment and queue modes in the page: the figures and properties the
// presets are about, read from the page and compared with `dsplay run`; and crashing the
// consumer in the queue view is one click.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { launch, open } from './helpers.mjs';

const OUT = process.env.DSPLAY_SHOTS || 'target/e2e-shots';
mkdirSync(OUT, { recursive: true });

const BIN = ['target/release/dsplay', 'target/debug/dsplay'].find((p) => existsSync(p));

let browser;
before(async () => {
  browser = await launch({ width: 1280, height: 900 });
});
after(async () => {
  await browser?.close();
});

/** The link of the preset whose name includes `name`. */
async function presetLink(page, name) {
  const presets = await page.$$eval("select[aria-label='Scenario presets'] option", (os) => os.map((o) => [o.value, o.textContent]));
  const [value] = presets.find(([, n]) => n.includes(name)) || [];
  assert.ok(value !== undefined, `a preset named ${name}`);
  const before = await page.evaluate(() => window.dsplay.state().link);
  await page.selectOption("select[aria-label='Scenario presets']", value);
  await page.waitForFunction((b) => window.dsplay.state().link !== b, before);
  return page.evaluate(() => window.dsplay.state().link);
}

/** The page's figures and property badges at `atUs`, paused there. */
async function seen(page, atUs) {
  await page.evaluate((t) => {
    window.dsplay.play(false);
    window.dsplay.seek(t);
  }, atUs);
  await page.waitForFunction((t) => window.dsplay.state().nowUs === t, atUs);
  // The side panel refreshes a few times a second.
  await page.waitForTimeout(800);
  const figures = await page.$$eval('[data-metric]', (ds) => Object.fromEntries(ds.map((d) => [d.dataset.metric, Number(d.textContent)])));
  const props = await page.$$eval('.props li.prop', (ls) =>
    Object.fromEntries(ls.map((l) => [l.querySelector('.prop-name').textContent, l.classList.contains('violated') ? 'violated' : 'holds'])),
  );
  return { figures, props };
}

function cliMetrics(link, until) {
  return JSON.parse(execFileSync(BIN, ['run', link, '--until', until, '--json'], { encoding: 'utf8' })).metrics;
}

test('payments retried without keys are charged twice; with keys the idempotency table answers the retries', async () => {
  assert.ok(BIN, 'the dsplay binary is built');
  const page = await browser.page();
  await open(page, '#/flows');
  const got = {};
  for (const [kind, name] of [['without', 'Payments retried without keys'], ['with', 'Payments with idempotency keys']]) {
    const link = await presetLink(page, name);
    got[kind] = await seen(page, 8_000_000);
    const cli = cliMetrics(link, '8s');
    for (const key of ['payments_charged', 'payments_charged_twice']) {
      assert.equal(got[kind].figures[key], cli[key], `${kind} keys, ${key}: the page agrees with dsplay run`);
    }
    await page.screenshot({ path: `${OUT}/flows-payments-${kind}.png` });
  }
  assert.ok(got.without.figures.payments_charged_twice > 0, JSON.stringify(got.without.figures));
  assert.equal(got.without.props.no_double_charge, 'violated');
  assert.equal(got.with.figures.payments_charged_twice, 0);
  assert.equal(got.with.props.no_double_charge, 'holds');
  // The server's table of keys is on show, a row per payment it has answered.
  const table = page.locator('section', { hasText: 'Idempotency keys at S0' }).locator('tbody tr');
  assert.ok((await table.count()) > 0, 'the idempotency table has rows');
  assert.deepEqual(browser.errors, []);
});

test('a queue under loss: at-least-once applies effects twice, exactly-once never does, even with crashes', async () => {
  const page = await browser.page();
  await open(page, '#/flows');
  const got = {};
  for (const [kind, name] of [
    ['at-most-once', 'Queue, at-most-once'],
    ['at-least-once', 'Queue, at-least-once'],
    ['exactly-once', 'Queue, exactly-once'],
  ]) {
    const link = await presetLink(page, name);
    got[kind] = await seen(page, 6_000_000);
    const cli = cliMetrics(link, '6s');
    for (const key of ['messages_lost', 'duplicate_deliveries', 'duplicate_effects']) {
      assert.equal(got[kind].figures[key], cli[key], `${kind}, ${key}: the page agrees with dsplay run`);
    }
    await page.locator('.stage').screenshot({ path: `${OUT}/flows-queue-${kind}.png` });
  }
  assert.ok(got['at-most-once'].figures.messages_lost > 0, JSON.stringify(got['at-most-once'].figures));
  assert.equal(got['at-most-once'].props.no_lost_messages, 'violated');
  assert.equal(got['at-least-once'].figures.messages_lost, 0);
  assert.ok(got['at-least-once'].figures.duplicate_effects > 0, JSON.stringify(got['at-least-once'].figures));
  assert.equal(got['at-least-once'].props.no_duplicate_effects, 'violated');
  assert.equal(got['exactly-once'].figures.messages_lost, 0);
  assert.equal(got['exactly-once'].figures.duplicate_effects, 0);
  assert.equal(got['exactly-once'].props.no_duplicate_effects, 'holds');
  assert.deepEqual(browser.errors, []);
});

test('the queue view keeps its counters on show, and crashing the consumer is a click on its box, then one on Crash', async () => {
  const page = await browser.page();
  await open(page, '#/flows?n=1&seed=1&mode=queue&semantics=at-least-once&messages=30&view=queue&t=1s');
  // The consumer's box is in the right-hand third, halfway between the view picker and the
  // legend (src/labs/flows/queue_stage.rs).
  const r = await page.locator('canvas.topology').boundingBox();
  await page.mouse.click(r.x + (r.width * 5) / 6, r.y + (44 + r.height - 36) / 2);
  const inspector = page.locator("section[aria-label='Inspector']");
  await inspector.getByText('C0 consumer').waitFor();
  await page.click("button[aria-label='Crash C0']");
  await page.waitForFunction(() => window.dsplay.state().script.includes('1s:crash:2'));
  await inspector.getByText('C0 crashed').waitFor();
  await page.locator('.stage').screenshot({ path: `${OUT}/flows-queue-crashed.png` });
  assert.deepEqual(browser.errors, []);
});
