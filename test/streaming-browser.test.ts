// A dashboard in a real (headless) Chromium holds a stream open with the browser's own
// EventSource. The network drops twice mid-stream (a TCP relay in front of the gateway cuts every
// connection); EventSource reconnects on its own with Last-Event-ID, and the page ends up with
// every record exactly once.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import type { RunningGateway } from '../src/gateway.js';
import { launchBrowser, noBrowser } from './support/browser.js';
import { ConsumerClient } from './support/consumer-client.js';
import { JSON_V2, post, startTestGateway } from './support/gateway.js';
import { closeAdmin, createTopic, uniqueName } from './support/kafka.js';
import { waitUntil } from './support/wait.js';

let gw: RunningGateway;
let browser: BrowserContext | undefined;
let profile: string | undefined;

/**
 * A TCP relay to the gateway whose connections can all be cut at once (a network drop). Answers
 * pass at about 2 MB/s, a mobile link, so a cut lands mid-stream.
 */
function relay(port: number): Promise<{ url: string; cut: () => number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      client.write(chunk);
      upstream.pause();
      setTimeout(() => upstream.resume(), chunk.length / 2_000);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
        cut: () => {
          const n = sockets.size;
          for (const s of sockets) s.destroy();
          return n;
        },
        close: () => new Promise((done) => server.close(() => done())),
      }),
    ),
  );
}

before(async () => {
  gw = await startTestGateway({ STREAM_HEARTBEAT_MS: '500' });
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

interface PageState {
  records: Array<{ partition: number; offset: number }>;
  opens: number;
}

describe('streaming consume in a browser', () => {
  it('EventSource survives two network drops with no record lost or repeated', { skip: noBrowser }, async () => {
    const total = 3_000;
    const topic = await createTopic(3);
    const text = 'z'.repeat(2_000);
    for (let i = 0; i < total; i += 500) {
      const records = Array.from({ length: 500 }, (_, j) => ({ key: `k${(i + j) % 11}`, value: { n: i + j, text } }));
      assert.equal((await post(`${gw.url}/topics/${topic}`, JSON_V2, { records })).status, 200);
    }
    const c = await ConsumerClient.create(gw.url, uniqueName('sse-browser'), {
      format: 'json',
      'auto.offset.reset': 'earliest',
    });
    await c.subscribe([topic]);
    const net = await relay(gw.port);
    try {
      const page = await browser!.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(`${net.url}/healthz`);
      const path = new URL(c.baseUri).pathname;
      await page.evaluate((url) => {
        const state: PageState = { records: [], opens: 0 };
        (window as unknown as { state: PageState }).state = state;
        const source = new EventSource(url);
        source.onopen = () => state.opens++;
        source.onmessage = (e: MessageEvent<string>) => {
          const r = JSON.parse(e.data) as { partition: number; offset: number };
          state.records.push({ partition: r.partition, offset: r.offset });
        };
      }, `${path}/records`);
      const state = () => page.evaluate(() => (window as unknown as { state: PageState }).state);
      const count = async () =>
        await page.evaluate(() => (window as unknown as { state: PageState }).state.records.length);

      for (const [atLeast, opened] of [
        [200, 1],
        [1_200, 2],
      ] as const) {
        await waitUntil(`${atLeast} records in the page`, async () => (await count()) >= atLeast, {
          timeoutMs: 30_000,
        });
        assert.equal((await state()).opens, opened, `cut while connection number ${opened} streams`);
        assert.ok((await count()) < total, 'the cut lands mid-stream');
        assert.ok(net.cut() > 0, 'connections were cut');
      }
      await waitUntil(`all ${total} records in the page`, async () => (await count()) >= total, { timeoutMs: 60_000 });
      const { records, opens } = await state();
      assert.ok(opens >= 3, `EventSource reconnected on its own (${opens} opens)`);
      const seen = records.map((r) => `${r.partition}:${r.offset}`);
      assert.equal(new Set(seen).size, seen.length, 'no record twice');
      assert.equal(seen.length, total, 'no record lost');
      assert.deepEqual(problems, []);
      await page.close();
    } finally {
      await net.close();
    }
  });
});
