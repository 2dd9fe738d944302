// Streaming consume under the attack on issue 13: a forged Last-Event-ID is not echoed back into
// every event, every id the stream writes is accepted back, and a stream ends when the caller's
// JWT expires.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningGateway } from '../src/gateway.js';
import { ConsumerClient } from './support/consumer-client.js';
import { JSON_V2, post, startTestGateway } from './support/gateway.js';
import { closeAdmin, createTopic, uniqueName } from './support/kafka.js';
import { AUDIENCE, HS_SECRET, ISSUER, hsToken } from './support/security.js';
import { openStream, recordsOf } from './support/sse.js';
import { waitUntil } from './support/wait.js';

let gw: RunningGateway;
let jwtGw: RunningGateway;

before(async () => {
  gw = await startTestGateway({ STREAM_HEARTBEAT_MS: '200' });
  jwtGw = await startTestGateway({
    STREAM_HEARTBEAT_MS: '200',
    AUTH_METHODS: 'jwt',
    JWT_ALGORITHMS: 'HS256',
    JWT_SECRET: HS_SECRET,
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    JWT_CLOCK_TOLERANCE_S: '0',
  });
});
after(async () => {
  await gw?.close();
  await jwtGw?.close();
  await closeAdmin();
});

async function topicWith(url: string, count: number, headers: Record<string, string> = {}): Promise<string> {
  const topic = await createTopic(1);
  const records = Array.from({ length: count }, (_, n) => ({ value: { n } }));
  const res = await post(`${url}/topics/${topic}`, JSON_V2, { records }, headers);
  assert.equal(res.status, 200, res.text);
  return topic;
}

describe('streaming consume (SSE) under attack', () => {
  it('drops positions of partitions the instance is not assigned from Last-Event-ID, and its ids are accepted back', async () => {
    const topic = await topicWith(gw.url, 20);
    const c = await ConsumerClient.create(gw.url, uniqueName('sse'), {
      format: 'json',
      'auto.offset.reset': 'earliest',
    });
    await c.subscribe([topic]);
    // 40 made-up topics of 60 partitions each (about 12 KB): before the fix every event repeated them.
    const forged = Array.from(
      { length: 40 },
      (_, i) => `z${String(i).padStart(3, '0')}@` + Array.from({ length: 60 }, (_, p) => `${p}=1`).join(','),
    ).join('|');
    const stream = await openStream(`${c.baseUri}/records`, { 'last-event-id': `${forged}|${topic}@0=5` });
    assert.equal(stream.status, 200);
    const events = await stream.waitFor(15);
    stream.destroy();
    assert.deepEqual(
      recordsOf(events).map((r) => r.offset),
      Array.from({ length: 15 }, (_, i) => i + 5),
      'resumed at the real position',
    );
    for (const e of events) assert.match(e.id!, new RegExp(`^${topic}@0=\\d+$`), 'no forged entry echoed');
    const again = await openStream(`${c.baseUri}/records`, { 'last-event-id': events.at(-1)!.id! });
    assert.equal(again.status, 200, 'the last id is accepted back');
    again.destroy();
  });

  it('keeps ids short for long topic names: every id is accepted back and resumes exactly', async () => {
    // The attack used 70 topics named with 240 characters; ten show the same growth.
    const prefix = uniqueName('long') + '-' + 'x'.repeat(220);
    const topics: string[] = [];
    for (let i = 0; i < 10; i++) topics.push(await createTopic(1, `${prefix}-${i}`));
    for (const topic of topics) {
      const res = await post(`${gw.url}/topics/${topic}`, JSON_V2, { records: [{ value: 1 }, { value: 2 }] });
      assert.equal(res.status, 200, res.text);
    }
    const c = await ConsumerClient.create(gw.url, uniqueName('sse'), {
      format: 'json',
      'auto.offset.reset': 'earliest',
    });
    await c.subscribe(topics);
    const first = await openStream(`${c.baseUri}/records`);
    const got = await first.waitFor(11);
    first.destroy();
    const received = got.slice(0, 11);
    const rest = await openStream(`${c.baseUri}/records`, { 'last-event-id': received.at(-1)!.id! });
    assert.equal(rest.status, 200, 'the id is accepted back');
    received.push(...(await rest.waitFor(9)));
    await new Promise((r) => setTimeout(r, 300));
    rest.destroy();
    const seen = recordsOf(received.concat(rest.events.slice(9))).map((r) => `${r.topic}:${r.offset}`);
    assert.equal(new Set(seen).size, seen.length, 'nothing repeated');
    assert.equal(seen.length, 20, 'nothing lost');
    const longest = Math.max(...received.map((e) => e.id!.length));
    assert.ok(longest < 400, `ids stay short: the longest was ${longest} characters`);
  });

  it('ends the stream with one 40101 failure event when the JWT expires', async () => {
    const auth = { authorization: `Bearer ${hsToken({ sub: 'device-1' }, { expiresIn: 3 })}` };
    const topic = await topicWith(jwtGw.url, 3, auth);
    const c = await ConsumerClient.create(
      jwtGw.url,
      uniqueName('sse'),
      { format: 'json', 'auto.offset.reset': 'earliest' },
      auth,
    );
    await c.subscribe([topic]);
    const stream = await openStream(`${c.baseUri}/records`, auth);
    assert.equal(stream.status, 200);
    await stream.waitFor(3);
    await waitUntil('the stream ends', () => stream.ended, { timeoutMs: 10_000 });
    const failures = stream.events.filter((e) => e.event === 'failure');
    assert.equal(failures.length, 1);
    assert.equal(JSON.parse(failures[0]!.data).error_code, 40101);
  });
});
