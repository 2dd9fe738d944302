// The deployment users describe: devices and Postman → an API gateway stage (`/prod/`, TLS at the
// edge) → this gateway → Kafka. A real nginx from Debian's packages plays the stage; the consumer
// flow, the forwarded headers and the docs page are tried through it as a user would.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import type { RunningGateway } from '../src/gateway.js';
import { launchBrowser, noBrowser } from './support/browser.js';
import { JSON_V2, V2, post, request, startTestGateway } from './support/gateway.js';
import { closeAdmin, createTopic, readRecords, recordCount, uniqueName } from './support/kafka.js';
import { noNginx, startStageProxy, type StageProxy } from './support/nginx.js';
import { rawRequest } from './support/raw-http.js';
import { httpsRequest } from './support/security.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let gw: RunningGateway; // TRUST_PROXY=loopback, behind nginx
let untrusting: RunningGateway; // TRUST_PROXY unset
let allowList: RunningGateway; // TRUST_PROXY on, PUBLIC_HOSTS=api.example.com
let stage: StageProxy | undefined;
before(async () => {
  [gw, untrusting, allowList] = await Promise.all([
    startTestGateway({ TRUST_PROXY: 'loopback', TOPICS_CONFIG: path.join(root, 'config/demo/topics.yaml') }),
    startTestGateway(),
    startTestGateway({ TRUST_PROXY: 'true', PUBLIC_HOSTS: 'api.example.com' }),
  ]);
  if (!noNginx) stage = await startStageProxy(gw.url);
});
after(async () => {
  await stage?.stop();
  await Promise.all([gw.close(), untrusting.close(), allowList.close()]);
  await closeAdmin();
});

const READING = { deviceid: 'AppleWatch4', heartrate: '72', timestamp: '2019-10-07 12:46:13' };

/** A consumer's base_uri when created with these request headers. */
async function baseUriWith(g: RunningGateway, headers: Record<string, string>): Promise<string> {
  const group = uniqueName('fwd');
  const res = await post(`${g.url}/consumers/${group}`, V2, { format: 'json' }, headers);
  assert.equal(res.status, 200, res.text);
  await request(`${g.url}/consumers/${group}/instances/${res.body.instance_id}`, { method: 'DELETE' });
  return res.body.base_uri as string;
}

describe('through an nginx stage at /prod/ with TLS at the edge', { skip: noNginx }, () => {
  it('runs the whole consumer flow over HTTPS with base_uri under https://<public host>/prod/', async () => {
    const s = stage!;
    const topic = await createTopic(1);
    const call = (url: string, method: string, body?: unknown, type = V2, accept?: string) => {
      const text = body === undefined ? undefined : JSON.stringify(body);
      return httpsRequest(url, {
        method,
        ca: s.ca,
        headers: {
          // Content-Length also on a GET: node would send a GET body without any framing.
          ...(text === undefined ? {} : { 'content-type': type, 'content-length': String(Buffer.byteLength(text)) }),
          ...(accept ? { accept } : {}),
        },
        body: text,
      });
    };

    const produced = await call(
      `${s.url}/topics/${topic}`,
      'POST',
      { records: [1, 2, 3].map(() => ({ value: READING })) },
      JSON_V2,
    );
    assert.equal(produced.status, 200, JSON.stringify(produced.body));

    const group = uniqueName('stage');
    const created = await call(`${s.url}/consumers/${group}`, 'POST', {
      format: 'json',
      'auto.offset.reset': 'earliest',
      'auto.commit.enable': 'false',
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const base = created.body.base_uri as string;
    assert.ok(base.startsWith(`https://localhost:${s.port}/prod/consumers/${group}/instances/`), base);

    assert.equal((await call(`${base}/subscription`, 'POST', { topics: [topic] })).status, 204);
    const fetched = await call(`${base}/records?timeout=15000`, 'GET', undefined, V2, JSON_V2);
    assert.equal(fetched.status, 200, JSON.stringify(fetched.body));
    assert.equal(fetched.body.length, 3);
    assert.deepEqual(fetched.body[2].value, READING);

    const commit = await call(`${base}/offsets`, 'POST', { offsets: [{ topic, partition: 0, offset: 2 }] });
    assert.equal(commit.status, 200);
    // A GET with a body, as Confluent's API has it: nginx passes it on.
    const committed = await call(`${base}/offsets`, 'GET', { partitions: [{ topic, partition: 0 }] });
    assert.equal(committed.status, 200, JSON.stringify(committed.body));
    assert.equal(committed.body.offsets[0].offset, 3);

    assert.equal((await call(base, 'DELETE')).status, 204);
    const gone = await call(`${base}/subscription`, 'GET');
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error_code, 40403);
  });

  it(
    'serves /docs under the prefix: Chromium loads page, assets and spec from /prod/ and "Try it out" produces into Kafka',
    { skip: noBrowser },
    async () => {
      const s = stage!;
      const profile = mkdtempSync(path.join(os.tmpdir(), 'gateway-chromium-'));
      let browser: BrowserContext | undefined;
      try {
        browser = await launchBrowser(profile, { ignoreHTTPSErrors: true });
        const page = await browser.newPage();
        const problems: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error') problems.push(m.text());
        });
        page.on('pageerror', (e) => problems.push(e.message));
        const requested: string[] = [];
        page.on('request', (r) => requested.push(r.url()));
        await page.goto(`${s.url}/docs`);
        const produce = page.locator('#operations-Produce-produceToTopic');
        await produce.waitFor({ timeout: 20_000 });
        await produce.locator('button.opblock-summary-control').click();
        await produce.locator('tr[data-param-name="topic"] input').waitFor();
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

        assert.deepEqual(problems, []);
        assert.ok(requested.includes(`${s.url}/openapi.yaml`), requested.join('\n'));
        assert.ok(requested.includes(`${s.url}/topics/heartrate`), requested.join('\n'));
        const outside = requested.filter((u) => !u.startsWith(`${s.url}/`) && !u.startsWith('data:'));
        assert.deepEqual(outside, [], 'every request stays under the stage prefix');
        // The record the gateway acknowledged, by its partition and offset (the shared demo topic
        // holds other tests' records, in several partitions).
        const stored = await readRecords('heartrate', await recordCount('heartrate'));
        const record = stored.find((r) => r.partition === where!.partition && r.offset === where!.offset);
        assert.ok(record !== undefined, `no record at ${where!.partition}/${where!.offset}`);
        assert.deepEqual(JSON.parse(record.value!.toString()), READING);
      } finally {
        await browser?.close();
        rmSync(profile, { recursive: true, force: true });
      }
    },
  );
});

describe('base_uri from a trusted proxy hop', () => {
  it('keeps the stage prefix of X-Forwarded-Prefix and the port of X-Forwarded-Port', async () => {
    const uri = await baseUriWith(gw, {
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'api.example.com',
      'x-forwarded-port': '8443',
      'x-forwarded-prefix': '/prod',
    });
    assert.match(uri, /^https:\/\/api\.example\.com:8443\/prod\/consumers\//);
  });

  it('takes host and proto from RFC 7239 Forwarded, and no port for the scheme default', async () => {
    const uri = await baseUriWith(gw, {
      forwarded: 'for=192.0.2.60;proto=https;host=api.example.com, for=10.0.0.1',
      'x-forwarded-port': '443',
      'x-forwarded-prefix': '/prod/',
    });
    assert.match(uri, /^https:\/\/api\.example\.com\/prod\/consumers\//);
  });

  it('derives the prefix from an X-Forwarded-Path that holds the original path', async () => {
    const group = uniqueName('path');
    const res = await post(
      `${gw.url}/consumers/${group}`,
      V2,
      { format: 'json' },
      {
        'x-forwarded-host': 'api.example.com',
        'x-forwarded-path': `/stage/v1/consumers/${group}`,
      },
    );
    assert.equal(
      res.body.base_uri,
      `http://api.example.com/stage/v1/consumers/${group}/instances/${res.body.instance_id}`,
    );
    await request(`${gw.url}/consumers/${group}/instances/${res.body.instance_id}`, { method: 'DELETE' });
  });

  it('never puts a malformed forwarded host or prefix into base_uri', async () => {
    const variants: Array<Record<string, string>> = [
      { 'x-forwarded-host': 'evil.example/#' },
      { 'x-forwarded-host': 'evil.example?x=' },
      { 'x-forwarded-host': 'user@evil.example' },
      { forwarded: 'host="evil.example/#"' },
      { 'x-forwarded-prefix': '//evil.example' },
      { 'x-forwarded-prefix': '/prod/../admin' },
      { 'x-forwarded-prefix': '/prod#' },
    ];
    for (const headers of variants) {
      const uri = await baseUriWith(gw, headers);
      assert.ok(uri.startsWith(`${gw.url}/consumers/`), `${JSON.stringify(headers)} → ${uri}`);
    }
  });

  it('answers an HTTP/1.0 request without Host with the listener address, never http://undefined/', async () => {
    const group = uniqueName('nohost');
    const body = '{"format":"json"}';
    const reply = await rawRequest(
      gw.url,
      `POST /consumers/${group} HTTP/1.0\r\nContent-Type: ${V2}\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    assert.equal(reply.status, 200, reply.head);
    const created = JSON.parse(reply.body) as { base_uri: string; instance_id: string };
    assert.ok(created.base_uri.startsWith(`${gw.url}/consumers/${group}/`), created.base_uri);
    await request(`${gw.url}/consumers/${group}/instances/${created.instance_id}`, { method: 'DELETE' });
  });

  it('with PUBLIC_HOSTS, names only an allowed host', async () => {
    const allowed = await baseUriWith(allowList, {
      'x-forwarded-host': 'api.example.com',
      'x-forwarded-proto': 'https',
    });
    assert.match(allowed, /^https:\/\/api\.example\.com\/consumers\//);
    const other = await baseUriWith(allowList, { 'x-forwarded-host': 'other.example', 'x-forwarded-proto': 'https' });
    assert.match(other, /^https:\/\/api\.example\.com\/consumers\//);
  });

  it('ignores forwarded headers from a hop TRUST_PROXY does not trust', async () => {
    const uri = await baseUriWith(untrusting, {
      'x-forwarded-host': 'api.example.com',
      'x-forwarded-prefix': '/prod',
      forwarded: 'host=api.example.com;proto=https',
    });
    assert.ok(uri.startsWith(`${untrusting.url}/consumers/`), uri);
  });
});

describe('/docs under a prefix, without a browser', () => {
  it('links everything relative to the page, and sends /docs/ back to ../docs so relative links stay right', async () => {
    const page = await (await fetch(`${gw.url}/docs`)).text();
    assert.doesNotMatch(page, /(?:src|href)="\//, 'no root-relative URL in the page');
    const init = await (await fetch(`${gw.url}/docs/init.js`)).text();
    assert.match(init, /url: 'openapi\.yaml'/);
    const slash = await fetch(`${gw.url}/docs/`, { redirect: 'manual' });
    assert.equal(slash.status, 301);
    assert.equal(slash.headers.get('location'), '../docs');
  });
});

describe('PUBLIC_URL with a path', () => {
  it('gives base_uris under that path, and the path alone reaches the instance', async () => {
    const g = await startTestGateway({ PUBLIC_URL: 'https://api.example.com/prod/' });
    try {
      const group = uniqueName('pub');
      const res = await post(`${g.url}/consumers/${group}`, V2, { format: 'json' });
      const base = res.body.base_uri as string;
      assert.equal(base, `https://api.example.com/prod/consumers/${group}/instances/${res.body.instance_id}`);
      // A client that keeps only the path of base_uri and talks to the gateway directly.
      const direct = `${g.url}${new URL(base).pathname}`;
      const topic = await createTopic(1);
      assert.equal((await post(`${direct}/subscription`, V2, { topics: [topic] })).status, 204);
      assert.deepEqual((await request(`${direct}/subscription`)).body, { topics: [topic] });
      assert.equal((await request(direct, { method: 'DELETE' })).status, 204);
    } finally {
      await g.close();
    }
  });
});
