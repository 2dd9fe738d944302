// The docs page as a person uses it: open /docs in a real (headless) Chromium, find the produce
// operation, send the heart-rate example that is already filled in, and find the reading in Kafka.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import type { RunningGateway } from '../src/gateway.js';
import { launchBrowser, noBrowser } from './support/browser.js';
import { startTestGateway } from './support/gateway.js';
import { closeAdmin, readRecords, recordCount } from './support/kafka.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let gw: RunningGateway;
let browser: BrowserContext | undefined;
let profile: string | undefined;
before(async () => {
  gw = await startTestGateway({ TOPICS_CONFIG: path.join(root, 'config/demo/topics.yaml') });
  if (noBrowser) return;
  profile = mkdtempSync(path.join(os.tmpdir(), 'gateway-chromium-'));
  browser = await launchBrowser(profile);
});
after(async () => {
  await browser?.close();
  if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
  await gw?.close();
  await closeAdmin();
});

describe('docs page in a browser', () => {
  it('lists the produce operation and sends the heart-rate example into Kafka', { skip: noBrowser }, async () => {
    const page = await browser!.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    const outside: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(gw.url)) outside.push(r.url());
    });

    await page.goto(`${gw.url}/docs`);
    const produce = page.locator('#operations-Produce-produceToTopic');
    await produce.waitFor({ timeout: 20_000 });
    assert.match(await produce.locator('.opblock-summary').innerText(), /POST[\s\S]*\/topics\/\{topic\}/);

    await produce.locator('button.opblock-summary-control').click();
    // "Try it out" is on from the start: the topic and the example body are filled in already.
    const topic = produce.locator('tr[data-param-name="topic"] input');
    await topic.waitFor();
    assert.equal(await topic.inputValue(), 'heartrate');
    const body = produce.locator('.body-param textarea');
    const example = JSON.parse(await body.inputValue()) as { records: Array<{ value: Record<string, string> }> };
    assert.deepEqual(example.records[0]!.value, {
      deviceid: 'AppleWatch4',
      heartrate: '72',
      timestamp: '2019-10-07 12:46:13',
    });

    await produce.locator('button.execute').click();
    const live = produce.locator('.live-responses-table tbody tr.response');
    const status = live.locator('.response-col_status');
    await status.waitFor({ timeout: 20_000 });
    assert.equal((await status.innerText()).trim(), '200');
    const answer = JSON.parse(
      await live.locator('.response-col_description .highlight-code pre').first().innerText(),
    ) as { offsets: Array<{ partition: number; offset: number; error_code: number | null }> };
    const [where] = answer.offsets;
    assert.equal(where!.error_code, null);

    const stored = await readRecords('heartrate', await recordCount('heartrate'));
    const record = stored.find((r) => r.partition === where!.partition && r.offset === where!.offset);
    assert.ok(record !== undefined, `no record at ${where!.partition}/${where!.offset}`);
    assert.deepEqual(JSON.parse(record.value!.toString()), example.records[0]!.value);

    assert.deepEqual(outside, [], 'the page loaded something from outside the gateway');
    assert.deepEqual(problems, [], 'the page reported errors (a blocked script or style?)');
  });
});
