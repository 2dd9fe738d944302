// Streaming consume in a deployment: two replicas behind a load balancer without sticky sessions
// (a reconnect may land on the replica that does not hold the instance), an nginx stage in front
// (TLS at the edge, a path prefix), and authentication at the door.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningGateway } from '../src/gateway.js';
import { ConsumerClient } from './support/consumer-client.js';
import { JSON_V2, post, startTestGateway } from './support/gateway.js';
import { closeAdmin, createTopic, kafka, uniqueName } from './support/kafka.js';
import { freePort } from './support/net.js';
import { noNginx, startStageProxy, type StageProxy } from './support/nginx.js';
import { newKey, sha256 } from './support/security.js';
import { openStream, recordsOf, type SseEvent } from './support/sse.js';
import { waitUntil } from './support/wait.js';

let one: RunningGateway;
let two: RunningGateway;
let locked: RunningGateway;
const stages: StageProxy[] = [];
const alice = newKey();
const bob = newKey();
const producer = kafka.producer();

before(async () => {
  const [p1, p2] = await Promise.all([freePort(), freePort()]);
  [one, two, locked] = await Promise.all([
    startTestGateway({ PORT: String(p1), NODE_ID: 'n1', PEER_URLS: `n2=http://127.0.0.1:${p2}` }),
    startTestGateway({ PORT: String(p2), NODE_ID: 'n2', PEER_URLS: `n1=http://127.0.0.1:${p1}` }),
    startTestGateway({ AUTH_METHODS: 'apikey', API_KEYS: `alice:${sha256(alice)},bob:${sha256(bob)}` }),
  ]);
  await producer.connect();
});
after(async () => {
  await producer.disconnect();
  for (const s of stages) await s.stop();
  await Promise.all([one.close(), two.close(), locked.close()]);
  await closeAdmin();
});

async function filledTopic(total: number): Promise<string> {
  const topic = await createTopic(2);
  const text = 'y'.repeat(2_000);
  for (let i = 0; i < total; i += 500) {
    const records = Array.from({ length: Math.min(500, total - i) }, (_, j) => ({
      key: `k${j % 5}`,
      value: { n: i + j, text },
    }));
    const res = await post(`${one.url}/topics/${topic}`, JSON_V2, { records });
    assert.equal(res.status, 200, res.text);
  }
  return topic;
}

function assertExactlyOnce(events: SseEvent[], total: number): void {
  const seen = recordsOf(events).map((r) => `${r.partition}:${r.offset}`);
  assert.equal(new Set(seen).size, seen.length, 'no record was delivered twice');
  assert.equal(seen.length, total, 'every record was delivered');
}

describe('streaming consume across replicas', () => {
  it('resumes on the other replica (forwarded and piped) with no record lost or repeated', async () => {
    const total = 1_500;
    const topic = await filledTopic(total);
    const owner = await ConsumerClient.create(one.url, uniqueName('sse-lb'), {
      format: 'json',
      'auto.offset.reset': 'earliest',
    });
    await owner.subscribe([topic]);
    const received: SseEvent[] = [];
    let lastId: string | undefined;
    // Owner, then the other replica (forwarded), then the owner again: a load balancer's choices.
    for (const [via, cut] of [
      [one.url, 100],
      [two.url, 300],
      [one.url, 200],
    ] as const) {
      const url = `${owner.via(via).baseUri}/records`;
      const stream = await openStream(url, lastId === undefined ? {} : { 'last-event-id': lastId });
      assert.equal(stream.status, 200);
      if (via === two.url) assert.equal(stream.headers['x-kafka-rest-forwarded-by'], 'n1');
      await stream.waitFor(Math.min(cut, total - received.length));
      stream.destroy();
      received.push(...stream.events);
      lastId = stream.lastEventId;
      if (received.length >= total) break;
    }
    if (received.length < total) {
      const rest = await openStream(`${owner.via(two.url).baseUri}/records`, { 'last-event-id': lastId! });
      try {
        await rest.waitFor(total - received.length, 30_000);
      } finally {
        rest.destroy();
      }
      received.push(...rest.events);
    }
    assertExactlyOnce(received, total);
  });

  it('a forwarded stream passes events on as they are written (no buffering at the relay)', async () => {
    const topic = await createTopic(1);
    const c = await ConsumerClient.create(one.url, uniqueName('sse-lb'), { format: 'json' });
    await c.subscribe([topic]);
    const stream = await openStream(`${c.via(two.url).baseUri}/records`);
    assert.equal(stream.status, 200);
    // The first heartbeat only comes after STREAM_HEARTBEAT_MS: wait for the group join by a fetch-free probe.
    await waitUntil(
      'the instance to join its group',
      async () => (await c.get('/assignments')).body.partitions.length > 0,
    );
    const sent = Date.now();
    await producer.send({ topic, messages: [{ value: JSON.stringify({ relayed: true }) }] });
    const [event] = await stream.waitFor(1);
    assert.deepEqual(JSON.parse(event!.data).value, { relayed: true });
    assert.ok(Date.now() - sent < 2_000, 'delivered through the relay within 2 s');
    stream.destroy();
  });
});

describe('streaming consume through an nginx stage', { skip: noNginx }, () => {
  for (const proxyBuffering of [false, true]) {
    it(`delivers each event at once with proxy_buffering ${proxyBuffering ? 'on (X-Accel-Buffering: no)' : 'off (the README recipe)'}`, async () => {
      const stage = await startStageProxy(one.url, '/prod', { proxyBuffering });
      stages.push(stage);
      const topic = await createTopic(1);
      const c = await ConsumerClient.create(one.url, uniqueName('sse-nginx'), { format: 'json' });
      await c.subscribe([topic]);
      const path = new URL(c.baseUri).pathname;
      const stream = await openStream(`${stage.url}${path}/records`, {}, { ca: stage.ca });
      assert.equal(stream.status, 200);
      assert.match(stream.headers['content-type'] ?? '', /^text\/event-stream/);
      await waitUntil(
        'the instance to join its group',
        async () => (await c.get('/assignments')).body.partitions.length > 0,
      );
      for (let n = 1; n <= 3; n++) {
        const sent = Date.now();
        await producer.send({ topic, messages: [{ value: JSON.stringify({ n }) }] });
        const events = await stream.waitFor(n);
        assert.deepEqual(JSON.parse(events[n - 1]!.data).value, { n });
        const latency = Date.now() - sent;
        assert.ok(latency < 2_000, `event ${n} came ${latency} ms after its produce`);
      }
      stream.destroy();
    });
  }
});

describe('streaming consume behind authentication', () => {
  it('applies the door and instance ownership exactly as a fetch does', async () => {
    const topic = await createTopic(1);
    const mine = await ConsumerClient.create(
      locked.url,
      uniqueName('sse-auth'),
      { format: 'json' },
      { 'x-api-key': alice },
    );
    await mine.subscribe([topic]);
    const url = `${mine.baseUri}/records`;
    let stream = await openStream(url);
    assert.equal(stream.status, 401, 'no credential');
    stream = await openStream(url, { 'x-api-key': bob });
    assert.equal(stream.status, 404, "another caller's instance is not found");
    assert.equal(JSON.parse(await stream.text).error_code, 40403);
    stream = await openStream(url, { 'x-api-key': alice });
    assert.equal(stream.status, 200);
    stream.destroy();
  });
});
