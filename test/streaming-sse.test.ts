// Streaming consume as a small device uses it: create an instance, subscribe, hold
// `GET …/records` open with `Accept: text/event-stream`, and get every record as an event; drop
// the connection and come back with Last-Event-ID, and nothing is lost or repeated.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningGateway } from '../src/gateway.js';
import { ConsumerClient } from './support/consumer-client.js';
import { JSON_V2, post, startTestGateway } from './support/gateway.js';
import { closeAdmin, createTopic, kafka, uniqueName } from './support/kafka.js';
import { openStream, recordsOf, type SseStream } from './support/sse.js';
import { waitUntil } from './support/wait.js';

let gw: RunningGateway;
const producer = kafka.producer();

before(async () => {
  gw = await startTestGateway({
    STREAM_HEARTBEAT_MS: '200',
    STREAM_MAX_PER_IDENTITY: '3',
    CONSUMER_AUTO_COMMIT_INTERVAL_MS: '100',
  });
  await producer.connect();
});
after(async () => {
  await producer.disconnect();
  await gw?.close();
  await closeAdmin();
});

async function jsonTopic(partitions: number, count: number, pad = 0): Promise<string> {
  const topic = await createTopic(partitions);
  const text = 'a\nb "q"' + ' '.repeat(pad);
  const records = Array.from({ length: count }, (_, n) => ({ key: `k${n % 7}`, value: { n, text } }));
  for (let i = 0; i < records.length; i += 500) {
    const res = await post(`${gw.url}/topics/${topic}`, JSON_V2, { records: records.slice(i, i + 500) });
    assert.equal(res.status, 200, res.text);
  }
  return topic;
}

async function subscribed(topic: string, body: Record<string, unknown> = {}): Promise<ConsumerClient> {
  const c = await ConsumerClient.create(gw.url, uniqueName('sse'), {
    format: 'json',
    'auto.offset.reset': 'earliest',
    ...body,
  });
  await c.subscribe([topic]);
  return c;
}

const positionsOf = (rs: Array<{ partition: number; offset: number }>) => rs.map((r) => `${r.partition}:${r.offset}`);

function assertExactlyOnce(received: Array<{ partition: number; offset: number }>, total: number): void {
  const seen = positionsOf(received);
  assert.equal(new Set(seen).size, seen.length, 'no record was delivered twice');
  assert.equal(seen.length, total, 'every record was delivered');
}

describe('streaming consume (SSE)', () => {
  it('sends each record as an event, rendered as the v2 fetch renders it, with a resumable id', async () => {
    const topic = await jsonTopic(1, 5);
    const streamed = await subscribed(topic);
    const stream = await openStream(`${streamed.baseUri}/records`);
    assert.equal(stream.status, 200);
    assert.match(stream.headers['content-type'] ?? '', /^text\/event-stream/);
    assert.equal(stream.headers['cache-control'], 'no-cache, no-transform');
    assert.equal(stream.headers['x-accel-buffering'], 'no');
    const events = await stream.waitFor(5);
    stream.destroy();

    const fetched = await (await subscribed(topic)).fetchUntil(5);
    assert.deepEqual(recordsOf(events), fetched, 'data is exactly the v2 record');
    assert.deepEqual(
      events.map((e) => e.id),
      [1, 2, 3, 4, 5].map((n) => `${topic}@0=${n}`),
      'the id is the position after the event',
    );
  });

  it('keeps an idle stream alive with heartbeat comments and delivers a record produced later at once', async () => {
    const topic = await createTopic(1);
    const c = await subscribed(topic);
    const stream = await openStream(`${c.baseUri}/records`);
    await waitUntil('two heartbeats', () => stream.comments >= 2);
    const sent = Date.now();
    await producer.send({ topic, messages: [{ value: JSON.stringify({ late: true }) }] });
    const [event] = await stream.waitFor(1);
    const latency = Date.now() - sent;
    assert.deepEqual(JSON.parse(event!.data).value, { late: true });
    assert.ok(latency < 2_000, `an event ${latency} ms after its produce`);
    stream.destroy();
  });

  it('resumes exactly after the last event received when the connection drops (Last-Event-ID)', async () => {
    // 2,000 records of 2 KB: more than the sockets hold, so each cut lands mid-stream.
    const total = 2_000;
    const topic = await jsonTopic(3, total, 2_000);
    const c = await subscribed(topic);
    const received: SseStream['events'] = [];
    let lastId: string | undefined;
    // Three drops at arbitrary points, each followed by a reconnect naming the last event received.
    for (const cut of [37, 150, 211]) {
      if (received.length + cut >= total) break;
      const stream = await openStream(`${c.baseUri}/records`, lastId === undefined ? {} : { 'last-event-id': lastId });
      assert.equal(stream.status, 200, await Promise.race([stream.text, Promise.resolve('')]));
      await stream.waitFor(cut);
      stream.destroy();
      // Whatever arrived before the cut counts; the rest of the batch in flight is lost with the socket.
      received.push(...stream.events);
      lastId = stream.lastEventId;
    }
    const rest = await openStream(`${c.baseUri}/records`, { 'last-event-id': lastId! });
    try {
      await rest.waitFor(total - received.length);
    } finally {
      rest.destroy();
    }
    received.push(...rest.events);
    assertExactlyOnce(recordsOf(received), total);
  });

  it('answers errors before the stream starts as HTTP errors, and refuses a malformed Last-Event-ID', async () => {
    const c = await ConsumerClient.create(gw.url, uniqueName('sse'), { format: 'json' });
    let stream = await openStream(`${c.baseUri}/records`);
    assert.equal(stream.status, 409, 'not subscribed: 40903, so an EventSource gives up instead of looping');
    assert.equal(JSON.parse(await stream.text).error_code, 40903);
    await c.subscribe([await createTopic(1)]);
    stream = await openStream(`${c.baseUri}/records`, { 'last-event-id': 'x@y' });
    assert.equal(stream.status, 400);
    assert.match(JSON.parse(await stream.text).message, /Last-Event-ID/);
    stream = await openStream(`${gw.url}/consumers/g/instances/nope/records`);
    assert.equal(stream.status, 404);
  });

  it('limits open streams per caller (429 naming STREAM_MAX_PER_IDENTITY)', async () => {
    const topic = await createTopic(1);
    const open: SseStream[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await openStream(`${(await subscribed(topic)).baseUri}/records`);
      assert.equal(s.status, 200);
      open.push(s);
    }
    const refused = await openStream(`${(await subscribed(topic)).baseUri}/records`);
    assert.equal(refused.status, 429);
    assert.match(JSON.parse(await refused.text).message, /STREAM_MAX_PER_IDENTITY/);
    open[0]!.destroy();
    const c = await subscribed(topic);
    await waitUntil('a stream slot freed', async () => {
      const s = await openStream(`${c.baseUri}/records`);
      if (s.status === 200) open.push(s);
      else s.destroy();
      return s.status === 200;
    });
    for (const s of open) s.destroy();
  });

  it('a reconnect on the same instance replaces the stream still open on it', async () => {
    const total = 300;
    const topic = await jsonTopic(2, total);
    const c = await subscribed(topic);
    const first = await openStream(`${c.baseUri}/records`);
    await first.waitFor(10);
    first.pause();
    // The client saw 10 events and reconnects while the old connection is still open.
    const tenth = first.events[9]!.id!;
    const second = await openStream(`${c.baseUri}/records`, { 'last-event-id': tenth });
    await waitUntil('the old stream closed', () => first.ended);
    await second.waitFor(total - 10);
    second.destroy();
    assertExactlyOnce(recordsOf([...first.events.slice(0, 10), ...second.events]), total);
  });

  it('a slow reader holds the stream back: bounded memory, commits never ahead of what was written', async () => {
    const topic = await createTopic(1);
    const big = 'x'.repeat(100_000);
    const total = 400; // 40 MB waiting in Kafka
    for (let i = 0; i < total; i += 5) {
      await producer.send({
        topic,
        messages: Array.from({ length: 5 }, (_, j) => ({ value: JSON.stringify({ n: i + j, big }) })),
      });
    }
    const c = await subscribed(topic, { format: 'binary' });
    const stream = await openStream(`${c.baseUri}/records`);
    await stream.waitFor(3);
    stream.pause();
    const before = process.memoryUsage();
    // The server stops writing once the socket backs up; auto-commit (every 100 ms) keeps running.
    let committed = -1;
    await waitUntil(
      'auto-commit to settle while the reader is stalled',
      async () => {
        const res = await c.get('/offsets', {}, { partitions: [{ topic, partition: 0 }] });
        const now = (res.body.offsets[0]?.offset as number | undefined) ?? -1;
        const settled = now > 0 && now === committed;
        committed = now;
        return settled;
      },
      { timeoutMs: 20_000, everyMs: 500 },
    );
    const after = process.memoryUsage();
    const grew = after.rss + after.arrayBuffers - (before.rss + before.arrayBuffers);
    assert.ok(grew < 30_000_000, `memory grew ${Math.round(grew / 1e6)} MB while 40 MB waited`);
    assert.ok(committed < total / 2, `committed offset ${committed} of ${total}: only what went to the socket`);
    // Reading again: every record arrives, in order, and the commit never passed what arrived.
    stream.resume();
    const events = await stream.waitFor(total, 60_000);
    stream.destroy();
    const offsets = recordsOf(events).map((r) => r.offset);
    assert.deepEqual(
      offsets,
      Array.from({ length: total }, (_, n) => n),
    );
  });

  it('ends open streams promptly when the gateway shuts down', async () => {
    const own = await startTestGateway({ STREAM_HEARTBEAT_MS: '200', SHUTDOWN_TIMEOUT_MS: '20000' });
    const topic = await createTopic(1);
    const c = await ConsumerClient.create(own.url, uniqueName('sse'), { format: 'json' });
    await c.subscribe([topic]);
    const stream = await openStream(`${c.baseUri}/records`);
    await waitUntil('the stream to open', () => stream.comments >= 1);
    const started = Date.now();
    await own.close();
    const took = Date.now() - started;
    await waitUntil('the stream to end', () => stream.ended);
    assert.ok(took < 10_000, `shutdown took ${took} ms with a stream open`);
  });

  it('ends with a failure event when the instance is deleted mid-stream', async () => {
    const topic = await createTopic(1);
    const c = await subscribed(topic);
    const stream = await openStream(`${c.baseUri}/records`);
    await waitUntil('the stream to open', () => stream.comments >= 1);
    assert.equal((await c.delete()).status, 204);
    await waitUntil('the stream to end', () => stream.ended);
    const failure = stream.events.find((e) => e.event === 'failure');
    assert.ok(failure, 'a failure event');
    assert.equal(JSON.parse(failure.data).error_code, 40403);
  });
});
