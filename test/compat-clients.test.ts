// The clients people already have: REST-proxy libraries written against older Confluent versions
// or Karapace, devices that gzip their batches, and the answers those clients expect. Lenient
// (default) accepts them; STRICT_MEDIA_TYPES=true keeps Confluent-current's exact answers.
import assert from 'node:assert/strict';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { pino } from 'pino';
import { startGateway, type RunningGateway } from '../src/gateway.js';
import { expectedKafkaCondition } from '../src/kafka/client.js';
import { BINARY_V2, JSON_V2, V2, post, request, startTestGateway, testConfig } from './support/gateway.js';
import { brokers, closeAdmin, createTopic, readRecords, uniqueName } from './support/kafka.js';

const DEMO_TOPICS = path.join(path.dirname(fileURLToPath(import.meta.url)), '../config/demo/topics.yaml');
let gw: RunningGateway;
let strictGw: RunningGateway;
let topic: string;
const logs: Array<{ level: number; msg: string; [k: string]: unknown }> = [];
before(async () => {
  // The lenient gateway's log is kept, to see what it says about ignored consumer properties.
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') logs.push(JSON.parse(line) as never);
      done();
    },
  });
  // The demo topic exists before this gateway starts: creating it again is expected, not an error.
  [strictGw, topic] = await Promise.all([
    startTestGateway({ STRICT_MEDIA_TYPES: 'true', TOPICS_CONFIG: DEMO_TOPICS }),
    createTopic(1),
  ]);
  const config = testConfig({
    KAFKA_BROKERS: brokers.join(','),
    HOST: '127.0.0.1',
    PORT: '0',
    MAX_BODY_BYTES: '65536',
    TOPICS_CONFIG: DEMO_TOPICS,
  });
  gw = await startGateway(config, pino({ level: 'info' }, sink));
});
after(async () => {
  await Promise.all([gw.close(), strictGw.close()]);
  await closeAdmin();
});

const READING = { deviceid: 'AppleWatch4', heartrate: '72', timestamp: '2019-10-07 12:46:13' };

describe('media types: Content-Type is judged before Accept', () => {
  it('answers 415, as Confluent, when both the Content-Type and the Accept of a produce are wrong', async () => {
    const res = await post(
      `${gw.url}/topics/${topic}`,
      'text/plain',
      { records: [{ value: 1 }] },
      { accept: 'text/html' },
    );
    assert.equal(res.status, 415, res.text);
    assert.equal(res.body.error_code, 415);
  });

  it('answers 415 for a consumer request with both wrong, in strict mode too', async () => {
    for (const g of [gw, strictGw]) {
      const res = await post(`${g.url}/consumers/${uniqueName('g')}`, 'text/plain', {}, { accept: 'text/html' });
      assert.equal(res.status, 415, res.text);
    }
  });
});

describe('media types: v1 and version-less vendor types (older Confluent clients)', () => {
  it('stores a produce sent as application/vnd.kafka.json.v1+json like its v2 equivalent', async () => {
    const t = await createTopic(1);
    const res = await post(`${gw.url}/topics/${t}`, 'application/vnd.kafka.json.v1+json', {
      records: [{ value: READING }],
    });
    assert.equal(res.status, 200, res.text);
    const [stored] = await readRecords(t, 1);
    assert.deepEqual(JSON.parse(stored!.value!.toString()), READING);
  });

  it('reads application/vnd.kafka.v1+json and application/vnd.kafka+json produces as binary, as Confluent v1 did', async () => {
    const t = await createTopic(1);
    for (const type of [
      'application/vnd.kafka.v1+json',
      'application/vnd.kafka+json',
      'application/vnd.kafka.binary.v1+json',
    ]) {
      const res = await post(`${gw.url}/topics/${t}`, type, {
        records: [{ value: Buffer.from('beat').toString('base64') }],
      });
      assert.equal(res.status, 200, `${type}: ${res.text}`);
    }
    const stored = await readRecords(t, 3);
    assert.deepEqual(
      stored.map((r) => r.value!.toString()),
      ['beat', 'beat', 'beat'],
    );
  });

  it('stores application/vnd.kafka.json+json as json and answers Accept: */json and v1 types', async () => {
    const t = await createTopic(1);
    for (const accept of ['*/json', 'application/vnd.kafka.v1+json', 'application/vnd.kafka+json']) {
      const res = await post(
        `${gw.url}/topics/${t}`,
        'application/vnd.kafka.json+json',
        { records: [{ value: READING }] },
        { accept },
      );
      assert.equal(res.status, 200, `${accept}: ${res.text}`);
      assert.match(res.headers.get('content-type') ?? '', /json/);
    }
    const topics = await request(`${gw.url}/topics`, { headers: { accept: 'application/vnd.kafka.v1+json' } });
    assert.equal(topics.status, 200, topics.text);
  });

  it('keeps refusing them in strict mode (415 / 406)', async () => {
    const produce = await post(`${strictGw.url}/topics/${topic}`, 'application/vnd.kafka.json.v1+json', {
      records: [{ value: 1 }],
    });
    assert.equal(produce.status, 415);
    const meta = await request(`${strictGw.url}/topics`, { headers: { accept: '*/json' } });
    assert.equal(meta.status, 406);
  });

  it('lets a v1 json consumer fetch with Accept: application/vnd.kafka.json.v1+json', async () => {
    const t = await createTopic(1);
    await post(`${gw.url}/topics/${t}`, JSON_V2, { records: [{ value: READING }] });
    const group = uniqueName('v1');
    const created = await post(`${gw.url}/consumers/${group}`, 'application/vnd.kafka.v1+json', {
      format: 'json',
      'auto.offset.reset': 'earliest',
    });
    assert.equal(created.status, 200, created.text);
    const base = `${gw.url}/consumers/${group}/instances/${created.body.instance_id}`;
    try {
      const sub = await post(`${base}/subscription`, 'application/vnd.kafka.v1+json', { topics: [t] });
      assert.equal(sub.status, 204, sub.text);
      const got = await request(`${base}/records?timeout=10000`, {
        headers: { accept: 'application/vnd.kafka.json.v1+json' },
      });
      assert.equal(got.status, 200, got.text);
      assert.deepEqual(got.body[0].value, READING);
    } finally {
      await request(base, { method: 'DELETE' });
    }
  });
});

describe('consumer creation with the Kafka properties clients commonly send', () => {
  it('accepts common properties, applies the known ones and logs the ignored ones as a warning', async () => {
    const group = uniqueName('props');
    const res = await post(`${gw.url}/consumers/${group}`, V2, {
      name: 'karapace-style',
      format: 'binary',
      'auto.offset.reset': 'earliest',
      'fetch.min.bytes': 1,
      'consumer.request.timeout.ms': 500,
      'topic.metadata.refresh.interval.ms': 30000,
      'session.timeout.ms': '10000',
      'max.poll.records': 500,
    });
    assert.equal(res.status, 200, res.text);
    const warning = logs.find((l) => l.msg === 'consumer properties ignored at create' && l.group === group);
    assert.ok(warning, 'a warning names the ignored properties');
    assert.equal(warning.level, 40);
    assert.deepEqual(warning.ignored, ['topic.metadata.refresh.interval.ms', 'session.timeout.ms', 'max.poll.records']);
    // consumer.request.timeout.ms was applied: an empty fetch answers after about 500 ms, not the 1 s default.
    const base = `${gw.url}/consumers/${group}/instances/karapace-style`;
    try {
      await post(`${base}/assignments`, V2, { partitions: [{ topic, partition: 0 }] });
      await request(`${base}/records`, { headers: { accept: BINARY_V2 } });
      const t0 = Date.now();
      const empty = await request(`${base}/records`, { headers: { accept: BINARY_V2 } });
      assert.equal(empty.status, 200);
      assert.ok(Date.now() - t0 < 900, `fetch waited ${Date.now() - t0} ms`);
    } finally {
      await request(base, { method: 'DELETE' });
    }
  });

  it('still refuses properties that choose brokers, credentials, TLS material or classes (CVE-2023-25194)', async () => {
    for (const key of [
      'bootstrap.servers',
      'sasl.jaas.config',
      'sasl.mechanism',
      'ssl.truststore.location',
      'security.protocol',
      'interceptor.classes',
      'key.deserializer',
      'partition.assignment.strategy.class',
    ]) {
      const res = await post(`${gw.url}/consumers/${uniqueName('bad')}`, V2, { format: 'json', [key]: 'x' });
      assert.equal(res.status, 422, `${key}: ${res.text}`);
      assert.equal(res.body.error_code, 42204, key);
      assert.match(res.body.message, new RegExp(key.replace(/\./g, '\\.')));
    }
  });

  it('keeps answering 400 for an unknown property in strict mode', async () => {
    const res = await post(`${strictGw.url}/consumers/${uniqueName('s')}`, V2, {
      format: 'json',
      'max.poll.records': 5,
    });
    assert.equal(res.status, 400, res.text);
  });
});

describe('auto.offset.reset: none', () => {
  it('fails a fetch for a partition with no committed offset, reads after a seek, and starts at a committed offset', async () => {
    const t = await createTopic(1);
    await post(`${gw.url}/topics/${t}`, JSON_V2, { records: [1, 2, 3].map((n) => ({ value: { n } })) });
    const group = uniqueName('none');
    const open = async () => {
      const res = await post(`${gw.url}/consumers/${group}`, V2, { format: 'json', 'auto.offset.reset': 'none' });
      assert.equal(res.status, 200, res.text);
      return res.body.base_uri as string;
    };
    const first = await open();
    const second = await open();
    try {
      await post(`${first}/assignments`, V2, { partitions: [{ topic: t, partition: 0 }] });
      const refused = await request(`${first}/records?timeout=3000`, { headers: { accept: JSON_V2 } });
      assert.equal(refused.status, 409, refused.text);
      assert.equal(refused.body.error_code, 40903);
      assert.match(refused.body.message, new RegExp(`${t}-0`));

      assert.equal(
        (await post(`${first}/positions/beginning`, V2, { partitions: [{ topic: t, partition: 0 }] })).status,
        204,
      );
      const read = await request(`${first}/records?timeout=5000`, { headers: { accept: JSON_V2 } });
      assert.equal(read.status, 200, read.text);
      assert.deepEqual(
        read.body.map((r: { value: { n: number } }) => r.value.n),
        [1, 2, 3],
      );
      await post(`${first}/offsets`, V2, { offsets: [{ topic: t, partition: 0, offset: 0 }] });

      // The group now has a committed offset: another instance starts right after it.
      await post(`${second}/assignments`, V2, { partitions: [{ topic: t, partition: 0 }] });
      const resumed = await request(`${second}/records?timeout=5000`, { headers: { accept: JSON_V2 } });
      assert.equal(resumed.status, 200, resumed.text);
      assert.deepEqual(
        resumed.body.map((r: { value: { n: number } }) => r.value.n),
        [2, 3],
      );
    } finally {
      await Promise.all([request(first, { method: 'DELETE' }), request(second, { method: 'DELETE' })]);
    }
  });
});

describe('older clients consumer settings', () => {
  it("accepts old Confluent's smallest/largest and Kafka's enable.auto.commit spelling", async () => {
    const t = await createTopic(1);
    await post(`${gw.url}/topics/${t}`, JSON_V2, { records: [{ value: { n: 1 } }] });
    const created = await post(`${gw.url}/consumers/${uniqueName('old')}`, V2, {
      format: 'json',
      'auto.offset.reset': 'smallest',
      'enable.auto.commit': 'false',
    });
    assert.equal(created.status, 200, created.text);
    const base = created.body.base_uri as string;
    try {
      await post(`${base}/subscription`, V2, { topics: [t] });
      const res = await request(`${base}/records?timeout=5000`, { headers: { accept: JSON_V2 } });
      assert.deepEqual(
        res.body.map((r: { value: { n: number } }) => r.value.n),
        [1],
        'smallest = earliest',
      );
      const largest = await post(`${gw.url}/consumers/${uniqueName('old')}`, V2, { 'auto.offset.reset': 'largest' });
      assert.equal(largest.status, 200, largest.text);
      await request(largest.body.base_uri as string, { method: 'DELETE' });
    } finally {
      await request(base, { method: 'DELETE' });
    }
  });
});

describe('auto.offset.reset: none, subscribed', () => {
  it('after a 409 and a commit, reads from the committed offset on (no record skipped)', async () => {
    const t = await createTopic(1);
    await post(`${gw.url}/topics/${t}`, JSON_V2, { records: [0, 1, 2, 3].map((n) => ({ value: { n } })) });
    const created = await post(`${gw.url}/consumers/${uniqueName('none-sub')}`, V2, {
      format: 'json',
      'auto.offset.reset': 'none',
      'auto.commit.enable': 'false',
    });
    const base = created.body.base_uri as string;
    try {
      await post(`${base}/subscription`, V2, { topics: [t] });
      const refused = await request(`${base}/records?timeout=3000`, { headers: { accept: JSON_V2 } });
      assert.equal(refused.status, 409, refused.text);
      assert.equal(
        (await post(`${base}/offsets`, V2, { offsets: [{ topic: t, partition: 0, offset: 0 }] })).status,
        200,
      );
      await post(`${gw.url}/topics/${t}`, JSON_V2, { records: [{ value: { n: 4 } }] });
      const seen: number[] = [];
      for (let i = 0; i < 10 && seen.length < 4; i++) {
        const res = await request(`${base}/records?timeout=1000`, { headers: { accept: JSON_V2 } });
        assert.equal(res.status, 200, res.text);
        seen.push(...res.body.map((r: { value: { n: number } }) => r.value.n));
      }
      assert.deepEqual(seen, [1, 2, 3, 4]);
    } finally {
      await request(base, { method: 'DELETE' });
    }
  });
});

describe('subscribe bodies', () => {
  it('answers 409 40903 to topics and topic_pattern together, and subscribes to nothing', async () => {
    const group = uniqueName('both');
    const created = await post(`${gw.url}/consumers/${group}`, V2, { format: 'json' });
    const base = `${gw.url}/consumers/${group}/instances/${created.body.instance_id}`;
    try {
      const res = await post(`${base}/subscription`, V2, { topics: [topic], topic_pattern: 'x.*' });
      assert.equal(res.status, 409, res.text);
      assert.equal(res.body.error_code, 40903);
      const sub = await request(`${base}/subscription`);
      assert.deepEqual(sub.body.topics, []);
    } finally {
      await request(base, { method: 'DELETE' });
    }
  });

  it('answers 422 to a subscribe body of the wrong JSON types', async () => {
    const group = uniqueName('types');
    const created = await post(`${gw.url}/consumers/${group}`, V2, { format: 'json' });
    const base = `${gw.url}/consumers/${group}/instances/${created.body.instance_id}`;
    try {
      for (const bad of [{ topics: topic }, { topics: [1, 2] }, { topic_pattern: 5 }]) {
        const res = await post(`${base}/subscription`, V2, bad);
        assert.equal(res.status, 422, `${JSON.stringify(bad)}: ${res.text}`);
        assert.equal(res.body.error_code, 422);
      }
    } finally {
      await request(base, { method: 'DELETE' });
    }
  });
});

describe('produce answers older clients rely on', () => {
  it('answers 404 40401 to a schema-format produce to an unknown topic (the topic is checked first)', async () => {
    const res = await post(`${gw.url}/topics/${uniqueName('missing')}`, 'application/vnd.kafka.avro.v2+json', {
      value_schema: '{"type":"string"}',
      records: [{ value: 'x' }],
    });
    assert.equal(res.status, 404, res.text);
    assert.equal(res.body.error_code, 40401);
  });

  it('answers 422 to a body without records, as Confluent', async () => {
    const res = await post(`${gw.url}/topics/${topic}`, JSON_V2, { foo: 'bar' });
    assert.equal(res.status, 422, res.text);
    assert.equal(res.body.error_code, 422);
  });
});

describe('compression', () => {
  it('stores a gzip-compressed produce body from a device batching readings', async () => {
    const t = await createTopic(1);
    const records = Array.from({ length: 200 }, (_, i) => ({
      value: { ...READING, heartrate: String(60 + (i % 40)) },
    }));
    const body = zlib.gzipSync(JSON.stringify({ records }));
    const res = await request(`${gw.url}/topics/${t}`, {
      method: 'POST',
      headers: { 'content-type': JSON_V2, 'content-encoding': 'gzip' },
      body,
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.offsets.length, 200);
    assert.equal((await readRecords(t, 200)).length, 200);
  });

  it('answers 413 to a gzip bomb: the decompressed size counts against the body limit, nothing is produced', async () => {
    const t = await createTopic(1);
    // 64 KB limit; 50 MB of JSON whitespace compresses to ~50 KB.
    const inner = Buffer.alloc(50 * 1024 * 1024, 0x20);
    const bomb = zlib.gzipSync(Buffer.concat([Buffer.from('{"records":[{"value":1}]'), inner, Buffer.from('}')]));
    assert.ok(bomb.length < 65536);
    const before = process.memoryUsage().rss;
    const res = await request(`${gw.url}/topics/${t}`, {
      method: 'POST',
      headers: { 'content-type': JSON_V2, 'content-encoding': 'gzip' },
      body: bomb,
    });
    assert.equal(res.status, 413, res.text);
    assert.equal(res.body.error_code, 413);
    assert.ok(process.memoryUsage().rss - before < 40 * 1024 * 1024, 'the bomb was not inflated in memory');
    const offsets = await request(`${gw.url}/topics/${t}/partitions/0/offsets`);
    assert.equal(offsets.body.end_offset, 0);
  });

  it('compresses large answers with gzip or br when asked, and leaves small ones and other clients alone', async () => {
    const t = await createTopic(1);
    const records = Array.from({ length: 100 }, () => ({ value: READING }));
    await post(`${gw.url}/topics/${t}`, JSON_V2, { records });
    const group = uniqueName('zip');
    const created = await post(`${gw.url}/consumers/${group}`, V2, { format: 'json', 'auto.offset.reset': 'earliest' });
    const base = `${gw.url}/consumers/${group}/instances/${created.body.instance_id}`;
    try {
      await post(`${base}/subscription`, V2, { topics: [t] });
      const { status, headers, body } = await rawGet(`${base}/records?timeout=10000`, {
        'accept-encoding': 'gzip',
        accept: JSON_V2,
      });
      assert.equal(status, 200);
      assert.equal(headers['content-encoding'], 'gzip');
      assert.match(String(headers.vary), /Accept-Encoding/);
      const text = zlib.gunzipSync(body).toString();
      assert.equal(JSON.parse(text).length, 100);
      assert.ok(body.length * 4 < text.length, `gzip ${body.length} of ${text.length} bytes`);

      const spec = await rawGet(`${gw.url}/openapi.yaml`, { 'accept-encoding': 'br;q=1, gzip;q=0.5' });
      assert.equal(spec.headers['content-encoding'], 'br');
      assert.match(zlib.brotliDecompressSync(spec.body).toString(), /operationId: produceToTopic/);

      const plain = await rawGet(`${gw.url}/openapi.yaml`, {});
      assert.equal(plain.headers['content-encoding'], undefined);
      // One partition's metadata: short whatever else the broker holds (GET /topics grows with it).
      const small = await rawGet(`${gw.url}/topics/${t}/partitions/0`, { 'accept-encoding': 'gzip' });
      assert.equal(small.headers['content-encoding'], undefined, 'a short answer is sent as is');
    } finally {
      await request(base, { method: 'DELETE' });
    }
  });
});

/** A GET whose body is left as sent (fetch would decompress it). */
async function rawGet(url: string, headers: Record<string, string>) {
  const http = await import('node:http');
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>(
    (resolve, reject) => {
      http
        .get(url, { headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
        })
        .on('error', reject);
    },
  );
}

describe('expected conditions are not logged as errors', () => {
  it('starts without an error log when the demo topic already exists', () => {
    const errors = logs.filter((l) => l.level >= 50);
    assert.deepEqual(errors, []);
  });

  it('classes kafkajs reports of a coordinator still loading on a fresh cluster as expected', () => {
    // The log entries kafkajs writes while a fresh cluster's __consumer_offsets is loading.
    for (const error of [
      "The coordinator is loading and hence can't process requests",
      'The coordinator is not available',
      'This is not the correct coordinator for this group',
      'Topic with this name already exists',
    ]) {
      assert.equal(expectedKafkaCondition({ message: 'Response JoinGroup(key: 11, version: 5)', error }), true, error);
    }
    assert.equal(expectedKafkaCondition({ message: 'Connection error', error: 'connect ECONNREFUSED' }), false);
    assert.equal(
      expectedKafkaCondition({ message: 'Response Produce(key: 0, version: 7)', error: 'Not enough in-sync replicas' }),
      false,
    );
  });
});
