// Operating the gateway as an SRE would: probes, Prometheus metrics, request logs with ids,
// trace context carried into Kafka, the contract and docs served by the gateway itself.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { startGateway, type RunningGateway } from '../src/gateway.js';
import { createLogger } from '../src/observability/logger.js';
import { JSON_V2, V2, post, request, startTestGateway, testConfig } from './support/gateway.js';
import { admin, brokers, closeAdmin, createTopic, readRecords } from './support/kafka.js';

const HEART_RATE = { deviceid: 'AppleWatch4', heartrate: '72', timestamp: '2019-10-07 12:46:13' };

/** A gateway whose log lines are kept in memory, parsed. */
async function gatewayWithLogs(env: Record<string, string> = {}): Promise<{ gw: RunningGateway; lines: Json[] }> {
  const lines: Json[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Json);
      done();
    },
  });
  const config = testConfig({ KAFKA_BROKERS: brokers.join(','), HOST: '127.0.0.1', PORT: '0', ...env });
  const gw = await startGateway(config, createLogger('debug', sink));
  return { gw, lines };
}
type Json = Record<string, unknown>;

/** Value of one Prometheus sample, e.g. metric('gateway_produced_records_total', {topic: 't'}). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

async function scrape(url: string): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

let gw: RunningGateway;
before(async () => {
  gw = await startTestGateway();
});
after(async () => {
  await gw?.close();
  await closeAdmin();
});

describe('probes', () => {
  it('answers /healthz and /readyz while Kafka is up, as JSON and never cached', async () => {
    const health = await request(`${gw.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(health.body, { status: 'ok' });
    assert.equal(health.headers.get('cache-control'), 'no-store');
    const ready = await request(`${gw.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: 'ready', checks: { kafka: 'ok' } });
  });

  it('reports the reason when a registered dependency fails (503)', async () => {
    const own = await startTestGateway();
    try {
      own.readiness.add({
        name: 'redis',
        check: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')),
      });
      const ready = await request(`${own.url}/readyz`);
      assert.equal(ready.status, 503);
      assert.deepEqual(ready.body, {
        status: 'not ready',
        checks: { kafka: 'ok', redis: 'connect ECONNREFUSED 127.0.0.1:6379' },
      });
    } finally {
      await own.close();
    }
  });

  it('does not hide any v2 route: the API answers as before next to the probes', async () => {
    const topic = await createTopic(1);
    const topics = await request(`${gw.url}/topics`);
    assert.equal(topics.status, 200);
    assert.ok((topics.body as string[]).includes(topic));
    const root = await request(`${gw.url}/`);
    assert.deepEqual(root.body, {});
    // Only GET is defined on the probes; other methods fall through to the API's 404.
    const postProbe = await post(`${gw.url}/healthz`, JSON_V2, '{}');
    assert.equal(postProbe.status, 404);
  });
});

describe('metrics', () => {
  it('counts a produce: records and bytes per topic, the request by route pattern and status', async () => {
    const topic = await createTopic(1);
    const records = [HEART_RATE, { ...HEART_RATE, heartrate: '73' }, { ...HEART_RATE, heartrate: '74' }];
    const res = await post(`${gw.url}/topics/${topic}`, JSON_V2, { records: records.map((value) => ({ value })) });
    assert.equal(res.status, 200);
    const bad = await post(`${gw.url}/topics/${topic}`, JSON_V2, '{"records":[{"value":1}],"extra":true}');
    assert.equal(bad.status, 400);

    const scraped = await scrape(`${gw.url}/metrics`);
    assert.equal(scraped.status, 200);
    assert.match(scraped.type, /^text\/plain; version=0\.0\.4/);
    const text = scraped.text;
    assert.equal(sample(text, 'gateway_produced_records_total', { topic }), 3);
    const bytes = records.map((r) => JSON.stringify(r).length).reduce((a, b) => a + b);
    assert.equal(sample(text, 'gateway_produced_bytes_total', { topic }), bytes);
    const labels = { method: 'POST', route: '/topics/:topic', status: '200' };
    assert.ok(sample(text, 'gateway_http_requests_total', labels)! >= 1);
    assert.ok(sample(text, 'gateway_http_request_duration_seconds_count', labels)! >= 1);
    assert.ok(sample(text, 'gateway_validation_failures_total', { error_code: '400' })! >= 1);
    // Raw URLs (with topic names) never become label values.
    assert.ok(!text.includes(`route="/topics/${topic}"`));
    assert.notEqual(sample(text, 'nodejs_eventloop_lag_seconds'), undefined);
    assert.equal(sample(text, 'gateway_consumer_instances'), 0);
  });

  it('counts 503s among rejections, and unknown paths under one route label', async () => {
    const own = await startTestGateway();
    try {
      own.readiness.add({ name: 'redis', check: () => Promise.reject(new Error('down')) });
      assert.equal((await request(`${own.url}/readyz`)).status, 503);
      assert.equal((await request(`${own.url}/no/such/path`)).status, 404);
      const { text } = await scrape(`${own.url}/metrics`);
      assert.equal(sample(text, 'gateway_http_rejections_total', { status: '503' }), 1);
      assert.equal(sample(text, 'gateway_http_requests_total', { route: 'unmatched', status: '404' }), 1);
    } finally {
      await own.close();
    }
  });

  it('counts records the producer could not deliver as Kafka producer errors', async () => {
    const own = await startTestGateway({ PRODUCE_TIMEOUT_MS: '2000' });
    try {
      const topic = await createTopic(1);
      // The gateway saw the topic a moment ago; it disappears before the records are sent.
      assert.equal((await post(`${own.url}/topics/${topic}`, JSON_V2, { records: [{ value: 1 }] })).status, 200);
      await (await admin()).deleteTopics({ topics: [topic] });
      const res = await post(`${own.url}/topics/${topic}`, JSON_V2, { records: [{ value: 2 }, { value: 3 }] });
      assert.equal(res.status, 200);
      assert.ok(res.body.offsets.every((o: { error_code: number | null }) => o.error_code !== null));
      const { text } = await scrape(`${own.url}/metrics`);
      assert.ok(sample(text, 'gateway_kafka_errors_total', { client: 'producer' })! >= 2);
      assert.equal(sample(text, 'gateway_produced_records_total', { topic }), 1);
    } finally {
      await own.close();
    }
  });

  it('tracks consumer instances as they are created and deleted', async () => {
    const group = `ops-${Date.now()}`;
    const created = await post(`${gw.url}/consumers/${group}`, V2, { name: 'watcher', format: 'json' });
    assert.equal(created.status, 200);
    assert.equal(sample((await scrape(`${gw.url}/metrics`)).text, 'gateway_consumer_instances'), 1);
    const deleted = await request(`${gw.url}/consumers/${group}/instances/watcher`, {
      method: 'DELETE',
      headers: { 'content-type': V2 },
    });
    assert.equal(deleted.status, 204);
    assert.equal(sample((await scrape(`${gw.url}/metrics`)).text, 'gateway_consumer_instances'), 0);
  });

  it('serves /metrics on a separate management port when METRICS_PORT is set', async () => {
    const own = await startTestGateway({ METRICS_PORT: '0' });
    try {
      assert.ok(own.managementUrl !== undefined && own.managementUrl !== own.url);
      const scraped = await scrape(`${own.managementUrl}/metrics`);
      assert.equal(scraped.status, 200);
      assert.match(scraped.text, /gateway_http_requests_total/);
      assert.equal((await request(`${own.managementUrl}/readyz`)).status, 200);
      assert.equal((await request(`${own.url}/metrics`)).status, 404);
      // The management port serves nothing of the API.
      assert.equal((await request(`${own.managementUrl}/topics`)).status, 404);
    } finally {
      await own.close();
    }
  });
});

describe('request logs', () => {
  it('writes one JSON line per request with its id, route, status, duration and caller', async () => {
    const { gw: own, lines } = await gatewayWithLogs();
    try {
      const topic = await createTopic(1);
      const given = await post(
        `${own.url}/topics/${topic}`,
        JSON_V2,
        { records: [{ value: HEART_RATE }] },
        {
          'x-request-id': 'watch-42.req-7',
        },
      );
      assert.equal(given.status, 200);
      assert.equal(given.headers.get('x-request-id'), 'watch-42.req-7');
      const generated = await request(`${own.url}/topics/${topic}`);
      const id = generated.headers.get('x-request-id') ?? '';
      assert.match(id, /^[0-9a-f-]{36}$/);
      // An id that could forge log lines is replaced, not echoed.
      const forged = await request(`${own.url}/topics`, { headers: { 'x-request-id': 'a b\tc' } });
      assert.notEqual(forged.headers.get('x-request-id'), 'a b\tc');

      const requestLines = () => lines.filter((l) => l.msg === 'request');
      await waitFor(() => requestLines().length >= 3);
      const produce = requestLines().filter((l) => l.reqId === 'watch-42.req-7');
      assert.equal(produce.length, 1, 'exactly one line for the request');
      assert.equal(produce[0]!.method, 'POST');
      assert.equal(produce[0]!.route, '/topics/:topic');
      assert.equal(produce[0]!.status, 200);
      assert.equal(produce[0]!.identity, 'anonymous');
      assert.equal(typeof produce[0]!.ms, 'number');
      assert.equal(requestLines().filter((l) => l.reqId === id).length, 1);
    } finally {
      await own.close();
    }
  });

  it('never writes a bearer token or an API key into the logs', async () => {
    const { gw: own, lines } = await gatewayWithLogs();
    try {
      const res = await request(`${own.url}/topics`, {
        headers: { authorization: 'Bearer eyJ.secret-token.sig', 'x-api-key': 'key-super-secret' },
      });
      assert.equal(res.status, 200);
      await waitFor(() => lines.some((l) => l.msg === 'request' && l.path === '/topics'));
      // Anything that logs request headers (error logs, other components) is redacted too.
      own.logger.warn({ req: { headers: { authorization: 'Bearer eyJ.secret-token.sig', 'x-api-key': 'k' } } }, 'x');
      own.logger.warn({ headers: { 'x-api-key': 'key-super-secret' }, apiKey: 'key-super-secret' }, 'y');
      await waitFor(() => lines.some((l) => l.msg === 'y'));
      const all = JSON.stringify(lines);
      assert.ok(!all.includes('secret-token'), 'bearer token leaked');
      assert.ok(!all.includes('key-super-secret'), 'API key leaked');
      assert.ok(all.includes('[redacted]'));
    } finally {
      await own.close();
    }
  });
});

describe('tracing', () => {
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const tracestate = 'vendor=opaque1,other=x';

  it('carries traceparent and tracestate of a produce into every record when TRACING_ENABLED', async () => {
    const own = await startTestGateway({ TRACING_ENABLED: 'true' });
    try {
      const topic = await createTopic(1);
      const res = await post(
        `${own.url}/topics/${topic}`,
        JSON_V2,
        { records: [{ value: HEART_RATE }, { value: HEART_RATE, headers: [{ key: 'source', value: 'd2F0Y2g=' }] }] },
        { traceparent, tracestate },
      );
      assert.equal(res.status, 200);
      const stored = await readRecords(topic, 2);
      for (const r of stored) {
        assert.equal(String(r.headers?.traceparent), traceparent);
        assert.equal(String(r.headers?.tracestate), tracestate);
      }
      assert.equal(String(stored[1]!.headers?.source), 'watch', "the record's own headers are kept");
    } finally {
      await own.close();
    }
  });

  it('adds nothing when tracing is off (the default) or the traceparent is malformed', async () => {
    const own = await startTestGateway({ TRACING_ENABLED: 'true' });
    try {
      const topic = await createTopic(1);
      await post(`${gw.url}/topics/${topic}`, JSON_V2, { records: [{ value: HEART_RATE }] }, { traceparent });
      const bad = '00-00000000000000000000000000000000-00f067aa0ba902b7-01';
      await post(`${own.url}/topics/${topic}`, JSON_V2, { records: [{ value: HEART_RATE }] }, { traceparent: bad });
      const stored = await readRecords(topic, 2);
      for (const r of stored) assert.equal(r.headers?.traceparent, undefined);
    } finally {
      await own.close();
    }
  });
});

describe('contract and docs served by the gateway', () => {
  it('serves openapi.yaml pointing "Try it out" at this gateway, with the heart-rate example', async () => {
    const res = await fetch(`${gw.url}/openapi.yaml`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/yaml/);
    const yaml = await res.text();
    // Relative to the document, so it also works behind a stage prefix (test/proxy-nginx.test.ts).
    assert.match(yaml, /^servers:\n {2}- url: \.\n/m);
    assert.match(yaml, /operationId: produceToTopic/);
    assert.match(yaml, /deviceid: AppleWatch4/);
    assert.match(yaml, /example: heartrate/);
  });

  it('serves /docs from local files only, with a policy that allows no foreign scripts', async () => {
    const page = await fetch(`${gw.url}/docs`);
    assert.equal(page.status, 200);
    const html = await page.text();
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /connect-src 'self'/);
    const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(urls.length >= 3);
    for (const u of urls) {
      // Relative to the page, so it also works under a stage prefix (test/proxy-nginx.test.ts).
      assert.ok(u.startsWith('docs/'), `${u} is not served by the gateway`);
      assert.equal((await fetch(new URL(u, `${gw.url}/docs`))).status, 200, u);
    }
    const init = await (await fetch(`${gw.url}/docs/init.js`)).text();
    assert.doesNotMatch(init, /https?:\/\//, 'the page must not load anything from the internet');
    // Pages other than the docs keep helmet's strict policy.
    const api = await fetch(`${gw.url}/topics`);
    assert.match(api.headers.get('content-security-policy') ?? '', /script-src 'self';/);
    assert.match(api.headers.get('content-security-policy') ?? '', /upgrade-insecure-requests/);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
