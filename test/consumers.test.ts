// Consumer instances over HTTP, as dashboards, scripts and devices use them, against the real broker.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'lossless-json';
import type { RunningGateway } from '../src/gateway.js';
import { ConsumerClient, type FetchedRecord } from './support/consumer-client.js';
import { compact, sampleLines } from './support/data.js';
import {
  BINARY_V2,
  JSON_V2,
  V2,
  needsOwnGateway,
  post,
  request,
  startTestGateway,
  waitForConsumerInstances,
} from './support/gateway.js';
import { admin, closeAdmin, createTopic, kafka, uniqueName } from './support/kafka.js';
import { waitUntil } from './support/wait.js';

let gw: RunningGateway;
let strictGw: RunningGateway | undefined;
before(async () => {
  [gw, strictGw] = await Promise.all([
    startTestGateway(),
    needsOwnGateway ? undefined : startTestGateway({ STRICT_MEDIA_TYPES: 'true' }),
  ]);
});
after(async () => {
  await Promise.all([gw.close(), strictGw?.close()]);
  await closeAdmin();
});

async function produceJson(topic: string, lines: string[], extra: (l: string) => string = () => ''): Promise<void> {
  for (let i = 0; i < lines.length; i += 100) {
    const batch = lines.slice(i, i + 100).map((l) => `{"value":${l}${extra(l)}}`);
    const res = await post(`${gw.url}/topics/${topic}`, JSON_V2, `{"records":[${batch.join(',')}]}`);
    assert.equal(res.status, 200, res.text);
  }
}

describe('consumers: the scenarios of the sample data', () => {
  it('reads stream-processor aggregates from the beginning with a json consumer, the first fetch already full', async () => {
    const topic = await createTopic(1);
    const lines = sampleLines('department-agg.jsonl');
    await produceJson(topic, lines);
    const c = await ConsumerClient.create(gw.url, uniqueName('dashboard'), {
      format: 'json',
      'auto.offset.reset': 'earliest',
    });
    await c.subscribe([topic]);
    // No "first fetch returns []": it waits for the group join, then answers as soon as records are ready.
    const first = await c.fetch();
    assert.ok(first.length > 0, 'the first fetch after subscribing returned records');
    const rest = await c.fetchUntil(lines.length - first.length);
    const all = [...first, ...rest];
    assert.deepEqual(
      all.map((r) => JSON.stringify(r.value)),
      lines.map(compact),
    );
    assert.deepEqual(
      all.map((r) => r.offset),
      lines.map((_, i) => i),
    );
    assert.equal(all[0]!.topic, topic);
    assert.equal(all[0]!.key, null);
    assert.equal(typeof all[0]!.timestamp, 'number');
    assert.deepEqual(all[0]!.headers, []);
    assert.equal((await c.delete()).status, 204);
  });

  it('reads keyed tweets in tweets_group from latest, commits by hand, and a second instance resumes after the commit', async () => {
    const topic = await createTopic(6);
    const group = uniqueName('tweets_group');
    const lines = sampleLines('tweets.jsonl');
    const records = lines.map((l) => {
      const t = parse(l) as { key: string; partition: unknown; value: unknown };
      const partition = t.partition === null ? '' : `,"partition":${stringify(t.partition)}`;
      return `{"key":${JSON.stringify(t.key)},"value":${stringify(t.value)}${partition}}`;
    });
    // Produced before the consumer exists: `latest` must skip these.
    let res = await post(`${gw.url}/topics/${topic}`, JSON_V2, `{"records":[${records.slice(0, 50).join(',')}]}`);
    assert.equal(res.status, 200);
    const beforeJoin = res.body.offsets as Array<{ partition: number; offset: number }>;

    const first = await ConsumerClient.create(gw.url, group, {
      name: 'tweets-reader-1',
      format: 'json',
      'auto.offset.reset': 'latest',
      'auto.commit.enable': 'false',
    });
    assert.equal(first.instanceId, 'tweets-reader-1');
    await first.subscribe([topic]);
    assert.deepEqual(await first.fetch(JSON_V2, '?timeout=300'), [], 'latest: nothing produced before the join');
    const assigned = await first.get('/assignments');
    assert.equal(assigned.body.partitions.length, 6);

    res = await post(`${gw.url}/topics/${topic}`, JSON_V2, `{"records":[${records.slice(50).join(',')}]}`);
    assert.equal(res.status, 200);
    const got = await fetchAllText(first, 150);
    // 64-bit ids arrive exactly as produced, keys as JSON strings, 5G on partition 5.
    const expected = lines.slice(50).map((l) => (parse(l) as { value: unknown }).value);
    const byId = new Map(got.map((r) => [stringify(r.value.id), r]));
    for (const v of expected as Array<{ id: unknown }>) assert.ok(byId.has(stringify(v.id)), `id ${stringify(v.id)}`);
    for (const r of got) if (r.key === '5G') assert.equal(r.partition, 5);

    // Commit by hand what was processed: the last offset of each partition (stored +1).
    const last = new Map<number, number>();
    for (const r of got) last.set(r.partition, Math.max(last.get(r.partition) ?? -1, r.offset));
    const offsets = [...last].map(([partition, offset]) => ({ topic, partition, offset }));
    res = await first.post('/offsets', { offsets });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, []);
    res = await first.get('/offsets', {}, { partitions: [...last.keys()].map((partition) => ({ topic, partition })) });
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.offsets.sort((a: { partition: number }, b: { partition: number }) => a.partition - b.partition),
      offsets.map((o) => ({ ...o, offset: o.offset + 1, metadata: '' })).sort((a, b) => a.partition - b.partition),
    );
    assert.equal((await first.delete()).status, 204);

    // More tweets, then a new instance of the group resumes exactly after the commit.
    res = await post(`${gw.url}/topics/${topic}`, JSON_V2, `{"records":[${records.slice(0, 20).join(',')}]}`);
    // earliest only matters for partitions nothing was committed on (those start at 0, where the new tweets are).
    const second = await ConsumerClient.create(gw.url, group, { format: 'json', 'auto.offset.reset': 'earliest' });
    assert.match(second.instanceId, /^rest-consumer-n1-[0-9a-f-]{36}$/);
    await second.subscribe([topic]);
    // The new tweets, plus (from offset 0) any partition the first instance never committed on:
    // unkeyed tweets go to a random partition per request, so one may hold only pre-join records.
    const expectedOffsets = [
      ...(res.body.offsets as Array<{ partition: number; offset: number }>),
      ...beforeJoin.filter((o) => !last.has(o.partition)),
    ];
    const resumed = await fetchAllText(second, expectedOffsets.length);
    assert.deepEqual(
      resumed.map((r) => `${r.partition}:${r.offset}`).sort(),
      expectedOffsets.map((o) => `${o.partition}:${o.offset}`).sort(),
    );
    await second.delete();
  });

  it('round-trips arbitrary bytes through a binary consumer, with null keys and headers', async () => {
    const topic = await createTopic(1);
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const values = [all, Buffer.alloc(0), Buffer.from([0xff, 0xfe, 0x00, 0x0a]), all.subarray(200)];
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: values.map((v, i) => ({
        key: i === 0 ? null : Buffer.from([i, 0]),
        value: v,
        headers: { trace: Buffer.from([0, 1, 2]) },
      })),
    });
    await producer.send({ topic, messages: [{ key: 'k', value: null }] });
    await producer.disconnect();

    const c = await ConsumerClient.create(gw.url, uniqueName('bytes'), { 'auto.offset.reset': 'earliest' });
    await c.subscribe([topic]);
    // No Accept (curl's */*) on a binary instance: binary, as Confluent.
    const res = await c.get('/records');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), BINARY_V2);
    const got = [...(res.body as FetchedRecord[]), ...(await c.fetchUntil(5 - res.body.length, BINARY_V2))];
    assert.deepEqual(
      got.map((r) => r.value),
      [...values.map((v) => v.toString('base64')), null],
    );
    assert.equal(got[0]!.key, null);
    assert.equal(got[1]!.key, Buffer.from([1, 0]).toString('base64'));
    assert.deepEqual(got[0]!.headers, [{ key: 'trace', value: 'AAEC' }]);
    await c.delete();
  });

  it('a binary consumer reads a JSON produce as the base64 of its compact bytes', async () => {
    const topic = await createTopic(1);
    const res = await post(`${gw.url}/topics/${topic}`, JSON_V2, '{"records":[{"value": {"foo": "bar"}}]}');
    assert.equal(res.status, 200);
    const c = await ConsumerClient.create(gw.url, uniqueName('json-as-bytes'), { 'auto.offset.reset': 'earliest' });
    await c.subscribe([topic]);
    const [record] = await c.fetchUntil(1, BINARY_V2);
    assert.equal(record!.value, 'eyJmb28iOiJiYXIifQ==');
    await c.delete();
  });
});

describe('consumers: create', () => {
  it('creates with defaults and an empty body; base_uri points at this gateway', async () => {
    const group = uniqueName('g');
    const res = await request(`${gw.url}/consumers/${group}`, { method: 'POST' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), V2);
    assert.match(res.body.instance_id, /^rest-consumer-n1-/);
    assert.equal(res.body.base_uri, `${gw.url}/consumers/${group}/instances/${res.body.instance_id}`);
  });

  it('answers 409 40902 for a duplicate name, and 42204 for each bad setting', async () => {
    const group = uniqueName('g');
    assert.equal((await post(`${gw.url}/consumers/${group}`, V2, { name: 'dup' })).status, 200);
    const dup = await post(`${gw.url}/consumers/${group}`, V2, { name: 'dup' });
    assert.equal(dup.status, 409);
    assert.deepEqual(dup.body, {
      error_code: 40902,
      message: 'Consumer with specified consumer ID already exists in the specified consumer group.',
    });
    for (const bad of [
      { 'auto.offset.reset': 'oldest' },
      { format: 'avro' },
      { format: 'xml' },
      { 'auto.commit.enable': 'sometimes' },
      { 'fetch.min.bytes': 10_000_001 },
      { 'consumer.request.timeout.ms': -5 },
    ]) {
      const res = await post(`${gw.url}/consumers/${group}`, V2, bad);
      assert.equal(res.status, 422, JSON.stringify(bad));
      assert.equal(res.body.error_code, 42204, JSON.stringify(bad));
      assert.match(res.body.message, /^Invalid consumer configuration: /);
    }
    // Only whitelisted fields: a security-relevant Kafka setting is refused, never passed through
    // (other Kafka properties are ignored in lenient mode: test/compat-clients.test.ts).
    const passthrough = await post(`${gw.url}/consumers/${group}`, V2, { 'sasl.jaas.config': 'x' });
    assert.equal(passthrough.status, 422);
    assert.equal(passthrough.body.error_code, 42204);
    // The same name in another group is another instance.
    assert.equal((await post(`${gw.url}/consumers/${uniqueName('g')}`, V2, { name: 'dup' })).status, 200);
  });

  it('answers 415 for a form-encoded body', async () => {
    const res = await post(`${gw.url}/consumers/${uniqueName('g')}`, 'application/x-www-form-urlencoded', 'a=b');
    assert.equal(res.status, 415);
  });
});

describe('consumers: subscription, assignment, seek and errors', () => {
  it('subscribes by list and by pattern, reports and clears the subscription', async () => {
    const prefix = uniqueName('pat');
    const [a, b] = await Promise.all([createTopic(1, `${prefix}-a`), createTopic(1, `${prefix}-b`)]);
    const c = await ConsumerClient.create(gw.url, uniqueName('g'));
    await c.subscribe([a]);
    assert.deepEqual((await c.get('/subscription')).body, { topics: [a] });
    let res = await c.post('/subscription', { topic_pattern: `${prefix}-.*` });
    assert.equal(res.status, 204);
    assert.deepEqual((await c.get('/subscription')).body, { topics: [a, b] });
    res = await c.post('/subscription', { topic_pattern: '(' });
    assert.equal(res.status, 422, 'a pattern RE2 cannot compile is a 422 that says why');
    assert.match(res.body.message, /topic_pattern/);
    assert.equal((await c.delete('/subscription')).status, 204);
    assert.deepEqual((await c.get('/subscription')).body, { topics: [] });
    res = await c.post('/subscription');
    assert.equal(res.status, 422, 'subscribe needs a body');
    await c.delete();
  });

  it('mixing subscribe and assign, seeking an unassigned partition and fetching with neither answer 409 40903', async () => {
    const topic = await createTopic(2);
    const c = await ConsumerClient.create(gw.url, uniqueName('g'));
    let res = await c.get('/records');
    assert.equal(res.status, 409);
    assert.equal(res.body.error_code, 40903);
    await c.subscribe([topic]);
    res = await c.post('/assignments', { partitions: [{ topic, partition: 0 }] });
    assert.equal(res.status, 409);
    assert.deepEqual(res.body, {
      error_code: 40903,
      message: 'Illegal state: Subscription to topics, partitions and pattern are mutually exclusive',
    });
    await c.delete('/subscription');
    res = await c.post('/assignments', { partitions: [{ topic, partition: 0 }] });
    assert.equal(res.status, 204);
    res = await c.post('/subscription', { topics: [topic] });
    assert.equal(res.status, 409);
    res = await c.post('/positions', { offsets: [{ topic, partition: 1, offset: 0 }] });
    assert.equal(res.status, 409);
    assert.equal(res.body.message, `Illegal state: No current assignment for partition ${topic}-1`);
    res = await c.post('/positions/beginning', { partitions: [{ topic, partition: 1 }] });
    assert.equal(res.status, 409);
    assert.equal(res.body.error_code, 40903);
    await c.delete();
  });

  it('reads assigned partitions from committed offsets, and seeks by offset, timestamp, beginning and end', async () => {
    const topic = await createTopic(2);
    const group = uniqueName('assigned');
    const producer = kafka.producer();
    await producer.connect();
    const t0 = Date.now() - 60_000;
    await producer.send({
      topic,
      messages: Array.from({ length: 10 }, (_, i) => ({
        value: `v${i}`,
        partition: 0,
        timestamp: String(t0 + i * 1000),
      })),
    });
    await producer.send({ topic, messages: [{ value: 'other', partition: 1 }] });

    const c = await ConsumerClient.create(gw.url, group, {
      'auto.offset.reset': 'earliest',
      'auto.commit.enable': false,
    });
    let res = await c.post('/assignments', { partitions: [{ topic, partition: 0 }] });
    assert.equal(res.status, 204);
    assert.deepEqual((await c.get('/assignments')).body, { partitions: [{ topic, partition: 0 }] });
    assert.deepEqual((await c.get('/subscription')).body, { topics: [] });
    let got = await c.fetchUntil(10, BINARY_V2);
    assert.deepEqual(
      got.map((r) => r.offset),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    assert.ok(got.every((r) => r.partition === 0));

    // Commit without group membership, then a new assigned instance starts there.
    res = await c.post('/offsets', { offsets: [{ topic, partition: 0, offset: 3, metadata: 'm' }] });
    assert.equal(res.status, 200);
    res = await c.get(
      '/offsets',
      {},
      {
        partitions: [
          { topic, partition: 0 },
          { topic, partition: 1 },
        ],
      },
    );
    assert.deepEqual(res.body, { offsets: [{ topic, partition: 0, offset: 4, metadata: 'm' }] });

    res = await c.post('/positions', { offsets: [{ topic, partition: 0, offset: 7 }] });
    assert.equal(res.status, 204);
    got = await c.fetchUntil(3, BINARY_V2);
    assert.deepEqual(
      got.map((r) => r.offset),
      [7, 8, 9],
    );
    res = await c.post('/positions', {
      timestamps: [{ topic, partition: 0, timestamp: new Date(t0 + 5500).toISOString() }],
    });
    assert.equal(res.status, 204);
    got = await c.fetchUntil(4, BINARY_V2);
    assert.deepEqual(
      got.map((r) => r.offset),
      [6, 7, 8, 9],
    );
    assert.equal((await c.post('/positions/beginning', { partitions: [{ topic, partition: 0 }] })).status, 204);
    got = await c.fetchUntil(10, BINARY_V2);
    assert.equal(got[0]!.offset, 0);
    assert.equal((await c.post('/positions/end', { partitions: [{ topic, partition: 0 }] })).status, 204);
    assert.deepEqual(await c.fetch(BINARY_V2, '?timeout=300'), []);
    await producer.send({ topic, messages: [{ value: 'new', partition: 0 }] });
    got = await c.fetchUntil(1, BINARY_V2);
    assert.deepEqual(
      got.map((r) => [r.offset, r.value]),
      [[10, Buffer.from('new').toString('base64')]],
    );
    await c.delete();

    const d = await ConsumerClient.create(gw.url, group, { 'auto.offset.reset': 'earliest' });
    await d.post('/assignments', { partitions: [{ topic, partition: 0 }] });
    got = await d.fetchUntil(1, BINARY_V2);
    assert.equal(got[0]!.offset, 4, 'starts at the committed offset');
    res = await d.post('/assignments', { partitions: [{ topic: uniqueName('missing'), partition: 0 }] });
    assert.equal(res.status, 404);
    assert.equal(res.body.error_code, 40401);
    res = await d.post('/assignments', { partitions: [{ topic, partition: 7 }] });
    assert.equal(res.body.error_code, 40402);
    await d.delete();
    await producer.disconnect();
  });

  it('answers 40402 to a committed-offsets GET without a body, 200 [] to an empty commit', async () => {
    const c = await ConsumerClient.create(gw.url, uniqueName('g'));
    let res = await c.get('/offsets');
    assert.equal(res.status, 404);
    assert.deepEqual(res.body, { error_code: 40402, message: 'Partition not found.' });
    res = await c.post('/offsets');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, []);
    assert.equal(res.headers.get('content-type'), V2);
    await c.delete();
  });

  it('answers 404 40403 on every endpoint of a deleted or unknown instance', async () => {
    const c = await ConsumerClient.create(gw.url, uniqueName('g'));
    assert.equal((await c.delete()).status, 204);
    const replies = await Promise.all([
      c.delete(),
      c.post('/subscription', { topics: ['x'] }),
      c.get('/subscription'),
      c.delete('/subscription'),
      c.post('/assignments', { partitions: [] }),
      c.get('/assignments'),
      c.post('/offsets'),
      c.get('/offsets', {}, { partitions: [] }),
      c.post('/positions', {}),
      c.post('/positions/beginning', { partitions: [] }),
      c.post('/positions/end', { partitions: [] }),
      c.get('/records'),
    ]);
    for (const r of replies) {
      assert.equal(r.status, 404);
      assert.deepEqual(r.body, { error_code: 40403, message: 'Consumer instance not found.' });
    }
  });
});

describe('consumers: fetch negotiation', () => {
  it('lenient: */*, no Accept and application/json mean the instance format; another format is 406 40601', async () => {
    const topic = await createTopic(1);
    await produceJson(topic, ['{"a":1}']);
    const c = await ConsumerClient.create(gw.url, uniqueName('g'), { format: 'json', 'auto.offset.reset': 'earliest' });
    await c.subscribe([topic]);
    let res = await c.get('/records', { accept: '*/*' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), JSON_V2);
    assert.deepEqual(
      res.body.map((r: FetchedRecord) => r.value),
      [{ a: 1 }],
    );
    res = await c.get('/records?timeout=10', { accept: 'application/json' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    res = await c.get('/records', { accept: BINARY_V2 });
    assert.equal(res.status, 406);
    assert.equal(res.headers.get('content-type'), BINARY_V2);
    assert.deepEqual(res.body, {
      error_code: 40601,
      message: 'The requested embedded data format does not match the deserializer for this consumer instance',
    });
    await c.delete();
  });

  it(
    'strict: */* means binary, so a json instance answers 40601, and records carry only the five v2 fields',
    { skip: needsOwnGateway },
    async () => {
      const strict = strictGw!;
      const topic = await createTopic(1);
      await produceJson(topic, ['{"a":2}']);
      const json = await ConsumerClient.create(strict.url, uniqueName('g'), { format: 'json' });
      let res = await json.get('/records', { accept: '*/*' });
      assert.equal(res.status, 406);
      assert.equal(res.body.error_code, 40601);
      res = await json.get('/records', { accept: 'application/json' });
      assert.equal(res.status, 406);
      await json.delete();

      const bin = await ConsumerClient.create(strict.url, uniqueName('g'), { 'auto.offset.reset': 'earliest' });
      await bin.subscribe([topic]);
      res = await bin.get('/records', { accept: V2 });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), V2);
      assert.deepEqual(res.body, [
        { topic, key: null, value: Buffer.from('{"a":2}').toString('base64'), partition: 0, offset: 0 },
      ]);
      await bin.delete();
    },
  );

  it('a json instance stops before a record that is not JSON and answers 40801 for it, naming its offset', async () => {
    const topic = await createTopic(1);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ value: '{"ok":1}' }, { value: 'not json' }, { value: '{"ok":3}' }] });
    await producer.disconnect();
    const c = await ConsumerClient.create(gw.url, uniqueName('g'), { format: 'json', 'auto.offset.reset': 'earliest' });
    await c.subscribe([topic]);
    const first = await c.fetch();
    assert.deepEqual(
      first.map((r) => r.value),
      [{ ok: 1 }],
    );
    const res = await c.get('/records');
    assert.equal(res.status, 408);
    assert.equal(res.body.error_code, 40801);
    assert.match(res.body.message, new RegExp(`${topic}-0 offset 1`));
    assert.equal((await c.post('/positions', { offsets: [{ topic, partition: 0, offset: 2 }] })).status, 204);
    assert.deepEqual(
      (await c.fetchUntil(1)).map((r) => r.value),
      [{ ok: 3 }],
    );
    await c.delete();
  });

  it('a json instance answers 40801 for bytes that are not UTF-8 rather than rendering text Kafka never held', async () => {
    const topic = await createTopic(1);
    const producer = kafka.producer();
    await producer.connect();
    // A JSON string whose content is the byte 0xff: decoding it would have yielded U+FFFD.
    await producer.send({ topic, messages: [{ value: Buffer.from([0x22, 0xff, 0x22]) }] });
    await producer.disconnect();
    const c = await ConsumerClient.create(gw.url, uniqueName('g'), { format: 'json', 'auto.offset.reset': 'earliest' });
    await c.subscribe([topic]);
    const res = await c.get('/records?timeout=5000');
    assert.equal(res.status, 408);
    assert.equal(res.body.error_code, 40801);
    assert.match(res.body.message, new RegExp(`${topic}-0 offset 0 as JSON`));
    await c.delete();
  });

  it('returns as soon as records are ready rather than waiting out the timeout', async () => {
    const topic = await createTopic(1);
    const group = uniqueName('g');
    const c = await ConsumerClient.create(gw.url, group, {
      'auto.offset.reset': 'earliest',
      'consumer.request.timeout.ms': 30_000,
    });
    await c.subscribe([topic]);
    const pending = c.get('/records', { accept: BINARY_V2 });
    // The record arrives while the fetch is waiting: once the group has given the instance its
    // partition, the fetch is past the join and in its long poll.
    await waitUntil('the instance to own its partition', async () => {
      const { groups } = await (await admin()).describeGroups([group]);
      return groups[0]?.state === 'Stable' && groups[0].members.length === 1;
    });
    await produceJson(topic, ['1']);
    const res = await pending;
    assert.equal(res.status, 200);
    assert.equal(res.body.length, 1, 'the long poll ended with the record, not after 30 s');
    await c.delete();
  });
});

describe('consumers: lifecycle', () => {
  it(
    'expires idle instances, caps their number with 429, and leaves groups on shutdown',
    { skip: needsOwnGateway },
    async () => {
      const small = await startTestGateway({ CONSUMER_INSTANCE_TIMEOUT_MS: '1000', MAX_CONSUMER_INSTANCES: '2' });
      const group = uniqueName('life');
      const topic = await createTopic(1);
      try {
        const a = await ConsumerClient.create(small.url, group);
        await ConsumerClient.create(small.url, group);
        const third = await post(`${small.url}/consumers/${group}`, V2, {});
        assert.equal(third.status, 429);
        assert.equal(third.body.error_code, 429);
        assert.ok(Number(third.headers.get('retry-after')) >= 1);
        // Expired without being touched (any request to an instance refreshes it): watched through /metrics.
        await waitForConsumerInstances(small.url, 0);
        const gone = await a.get('/subscription');
        assert.equal(gone.status, 404);
        assert.equal(gone.body.error_code, 40403);

        const b = await ConsumerClient.create(small.url, group, { 'consumer.request.timeout.ms': 500 });
        await b.subscribe([topic]);
        await b.fetch(BINARY_V2);
        const before = await (await admin()).describeGroups([group]);
        assert.equal(before.groups[0]!.members.length, 1);
      } finally {
        await small.close();
      }
      // Shutdown closed the instance: it left the group at once instead of waiting for a session timeout.
      const described = await (await admin()).describeGroups([group]);
      assert.equal(described.groups[0]!.members.length, 0);
    },
  );
});

/** Fetches json records keeping 64-bit numbers exact. */
async function fetchAllText(
  c: ConsumerClient,
  count: number,
): Promise<Array<{ key: unknown; value: { id: unknown }; partition: number; offset: number }>> {
  const out: Array<{ key: unknown; value: { id: unknown }; partition: number; offset: number }> = [];
  const deadline = Date.now() + 20_000;
  while (out.length < count) {
    if (Date.now() > deadline) assert.fail(`only ${out.length} of ${count} records arrived`);
    const res = await c.get('/records', { accept: JSON_V2 });
    assert.equal(res.status, 200);
    const batch = parse(res.text, null, (n) => (Number.isSafeInteger(Number(n)) ? Number(n) : BigInt(n))) as Array<{
      key: unknown;
      value: { id: unknown };
      partition: number;
      offset: number;
    }>;
    out.push(...batch);
  }
  return out;
}
