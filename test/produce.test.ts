// Produce over HTTP, as devices and tools send it, checked by reading Kafka with a native client.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'lossless-json';
import type { RunningGateway } from '../src/gateway.js';
import { BINARY_V2, JSON_V2, V2, post, startTestGateway } from './support/gateway.js';
import { closeAdmin, createTopic, readRecords, recordCount } from './support/kafka.js';
import { compact, compactField, sampleLines } from './support/data.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let gw: RunningGateway;
before(async () => {
  gw = await startTestGateway();
});
after(async () => {
  await gw?.close();
  await closeAdmin();
});

describe('produce: real traffic from the sample data', () => {
  it('stores the heart-rate request exactly as Postman sends it', async () => {
    const topic = await createTopic(1);
    const body =
      '{"records":[{"value":{"deviceid": "AppleWatch4","heartrate": "72","timestamp":"2019-10-07 12:46:13"}}]}';
    const res = await post(`${gw.url}/topics/${topic}`, JSON_V2, body);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), V2);
    assert.deepEqual(res.body, {
      offsets: [{ partition: 0, offset: 0, error_code: null, error: null }],
      key_schema_id: null,
      value_schema_id: null,
    });
    const [stored] = await readRecords(topic, 1);
    assert.equal(
      stored!.value!.toString(),
      '{"deviceid":"AppleWatch4","heartrate":"72","timestamp":"2019-10-07 12:46:13"}',
    );
    assert.equal(stored!.key, null);
  });

  it('stores clickstream batches of 100 in order, byte for byte', async () => {
    const topic = await createTopic(1);
    const lines = sampleLines('clickstream.jsonl');
    for (let i = 0; i < lines.length; i += 100) {
      const batch = lines.slice(i, i + 100);
      const res = await post(
        `${gw.url}/topics/${topic}`,
        JSON_V2,
        `{"records":[${batch.map((l) => `{"value":${l}}`).join(',')}]}`,
      );
      assert.equal(res.status, 200);
      assert.equal(res.body.offsets.length, 100);
      res.body.offsets.forEach((o: { offset: number }, j: number) => assert.equal(o.offset, i + j));
    }
    const stored = await readRecords(topic, lines.length);
    assert.deepEqual(
      stored.map((r) => r.value!.toString()),
      lines.map(compact),
    );
  });

  it("keeps a stream processor's aggregates as written: 36.0 stays 36.0", async () => {
    const topic = await createTopic(1);
    const lines = sampleLines('session-agg.jsonl');
    const res = await post(
      `${gw.url}/topics/${topic}`,
      JSON_V2,
      `{"records":[${lines.map((l) => `{"value":${l}}`).join(',')}]}`,
    );
    assert.equal(res.status, 200);
    const stored = await readRecords(topic, lines.length);
    assert.deepEqual(
      stored.map((r) => r.value!.toString()),
      lines.map(compact),
    );
    assert.ok(stored[0]!.value!.toString().includes('"percentSessionswithBuy":36.0'));
  });

  it('stores every number literal exactly as sent, including ones JavaScript would re-print', async () => {
    const topic = await createTopic(1);
    const value = '{"a":36.0,"b":1e400,"c":-0,"d":1.5E3,"e":0.00000012,"f":1234567890.1234567,"g":[2.50,-0.0],"h":0.5}';
    const res = await post(`${gw.url}/topics/${topic}`, JSON_V2, `{"records":[{"key":1.0,"value":${value}}]}`);
    assert.equal(res.status, 200);
    const [stored] = await readRecords(topic, 1);
    assert.equal(stored!.value!.toString(), value);
    assert.equal(stored!.key!.toString(), '1.0');
  });

  it('keeps 64-bit tweet ids exact, hashes keys like Java, and forces 5G to partition 5', async () => {
    const topic = await createTopic(6);
    const lines = sampleLines('tweets.jsonl');
    const records = lines.map((l) => {
      const t = parse(l) as { key: string; partition: unknown; value: unknown };
      return `{"key":${JSON.stringify(t.key)},"value":${stringify(t.value)}${t.partition === null ? '' : `,"partition":${stringify(t.partition)}`}}`;
    });
    const res = await post(`${gw.url}/topics/${topic}`, JSON_V2, `{"records":[${records.join(',')}]}`);
    assert.equal(res.status, 200);

    const sample = lines.map((l) => parse(l) as { key: string | null; partition: unknown });
    const keys = sample.map((t) => t.key);
    const javaPartitions = javaPartitionsFor(
      6,
      keys.map((k) => JSON.stringify(k)),
    );
    res.body.offsets.forEach((o: { partition: number; error_code: null }, i: number) => {
      assert.equal(o.error_code, null);
      const forced = sample[i]!.partition;
      if (forced !== null) assert.equal(o.partition, Number(forced), `record ${i} forced`);
      else if (keys[i] !== null) assert.equal(o.partition, javaPartitions[i], `record ${i} (${keys[i]}) hashed`);
    });
    assert.ok(sample.some((t) => t.key === '5G' && t.partition !== null));

    const stored = await readRecords(topic, lines.length);
    const byPlace = new Map(stored.map((r) => [`${r.partition}/${r.offset}`, r]));
    res.body.offsets.forEach((o: { partition: number; offset: number }, i: number) => {
      const r = byPlace.get(`${o.partition}/${o.offset}`)!;
      assert.equal(r.value!.toString(), compactField(lines[i]!, 'value'));
      assert.equal(r.key === null ? null : r.key.toString(), keys[i] === null ? null : JSON.stringify(keys[i]));
    });
    assert.ok(
      stored.some((r) => r.value!.toString().includes('"id":1150000000000000001')),
      'id not rounded',
    );
  });

  it('stores keyed word events with nested structs, one request each, in order', async () => {
    const topic = await createTopic(3);
    const lines = sampleLines('words.jsonl').slice(0, 50);
    const results: Array<{ partition: number; offset: number }> = [];
    for (const line of lines) {
      const res = await post(`${gw.url}/topics/${topic}`, JSON_V2, `{"records":[${line}]}`);
      assert.equal(res.status, 200);
      results.push(res.body.offsets[0]);
    }
    // Same key ⇒ same partition ⇒ consecutive offsets.
    const stored = await readRecords(topic, lines.length);
    for (const [i, line] of lines.entries()) {
      const r = stored.find((s) => s.partition === results[i]!.partition && s.offset === results[i]!.offset)!;
      assert.equal(r.value!.toString(), compactField(line, 'value'));
      assert.equal(r.key!.toString(), compactField(line, 'key'));
    }
  });

  it('accepts one small mouse position per request, each acknowledged with the next offset', async () => {
    const topic = await createTopic(1);
    const lines = sampleLines('mouse.jsonl').slice(0, 30);
    for (const [i, line] of lines.entries()) {
      const res = await post(`${gw.url}/topics/${topic}`, JSON_V2, `{"records":[{"value":${line}}]}`);
      assert.equal(res.body.offsets[0].offset, i);
    }
    const stored = await readRecords(topic, lines.length);
    assert.deepEqual(
      stored.map((r) => r.value!.toString()),
      lines.map(compact),
    );
  });
});

describe('produce: formats, keys, partitions, headers', () => {
  it('binary: stores the exact decoded bytes, with and without padding', async () => {
    const topic = await createTopic(1);
    const bytes = Buffer.from([0, 1, 2, 253, 254, 255, 10, 13]);
    const res = await post(`${gw.url}/topics/${topic}`, BINARY_V2, {
      records: [
        { value: 'S2Fma2E=' },
        { key: 'a2V5', value: bytes.toString('base64') },
        { value: 'S2Fma2E' },
        { value: '' },
      ],
    });
    assert.equal(res.status, 200);
    const stored = await readRecords(topic, 4);
    assert.equal(stored[0]!.value!.toString(), 'Kafka');
    assert.deepEqual(stored[1]!.value, bytes);
    assert.equal(stored[1]!.key!.toString(), 'key');
    assert.equal(stored[2]!.value!.toString(), 'Kafka');
    assert.equal(stored[3]!.value!.length, 0);
  });

  it('null and absent values are Kafka nulls (tombstones); keys too', async () => {
    const topic = await createTopic(1);
    const res = await post(`${gw.url}/topics/${topic}`, JSON_V2, { records: [{ key: 'k', value: null }, {}] });
    assert.equal(res.status, 200);
    const stored = await readRecords(topic, 2);
    assert.equal(stored[0]!.value, null);
    assert.equal(stored[0]!.key!.toString(), '"k"');
    assert.equal(stored[1]!.value, null);
    assert.equal(stored[1]!.key, null);
  });

  it('path partition is the default; a record partition wins', async () => {
    const topic = await createTopic(3);
    const res = await post(`${gw.url}/topics/${topic}/partitions/1`, JSON_V2, {
      records: [{ value: 1 }, { value: 2, partition: 2 }, { key: 'x', value: 3 }],
    });
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.offsets.map((o: { partition: number }) => o.partition),
      [1, 2, 1],
    );
  });

  it('unkeyed records of one request share a partition (sticky), spread across requests', async () => {
    const topic = await createTopic(3);
    const seen = new Set<number>();
    for (let i = 0; i < 6; i++) {
      const res = await post(`${gw.url}/topics/${topic}`, JSON_V2, {
        records: [{ value: i }, { value: i }, { value: i }],
      });
      const parts = new Set(res.body.offsets.map((o: { partition: number }) => o.partition));
      assert.equal(parts.size, 1);
      seen.add([...parts][0] as number);
    }
    assert.equal(seen.size, 3);
  });

  it('record headers (extension) reach Kafka', async () => {
    const topic = await createTopic(1);
    const res = await post(`${gw.url}/topics/${topic}`, JSON_V2, {
      records: [{ value: { a: 1 }, headers: [{ key: 'source', value: Buffer.from('watch').toString('base64') }] }],
    });
    assert.equal(res.status, 200);
    const [stored] = await readRecords(topic, 1);
    assert.equal(String(stored!.headers!.source), 'watch');
  });

  it('plain application/json (and no Content-Type) is the json format in lenient mode', async () => {
    const topic = await createTopic(1);
    assert.equal(
      (await post(`${gw.url}/topics/${topic}`, 'application/json', { records: [{ value: { a: 1 } }] })).status,
      200,
    );
    assert.equal((await post(`${gw.url}/topics/${topic}`, undefined, { records: [{ value: { a: 2 } }] })).status, 200);
    const stored = await readRecords(topic, 2);
    assert.deepEqual(
      stored.map((r) => r.value!.toString()),
      ['{"a":1}', '{"a":2}'],
    );
  });

  it('many concurrent single-record requests each get their own correct offset', async () => {
    const topic = await createTopic(2);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        post(`${gw.url}/topics/${topic}`, JSON_V2, { records: [{ key: `k${i % 7}`, value: { i } }] }),
      ),
    );
    const stored = await readRecords(topic, 200);
    const byPlace = new Map(stored.map((r) => [`${r.partition}/${r.offset}`, r.value!.toString()]));
    results.forEach((res, i) => {
      const o = res.body.offsets[0];
      assert.equal(byPlace.get(`${o.partition}/${o.offset}`), JSON.stringify({ i }));
    });
  });
});

describe('produce: nothing written twice', () => {
  it('a partition that is not ready yet is retried alone: every record of a fresh topic is stored once', async () => {
    // Right after a topic is created, Kafka may answer NOT_LEADER_OR_FOLLOWER for some of its
    // partitions while accepting the others: the retry must not write the accepted ones again.
    for (let round = 0; round < 5; round++) {
      const topic = await createTopic(6);
      const records = Array.from({ length: 60 }, (_, i) => ({ partition: i % 6, value: { round, i } }));
      const res = await post(`${gw.url}/topics/${topic}`, JSON_V2, { records });
      assert.equal(res.status, 200);
      assert.ok(res.body.offsets.every((o: { error_code: unknown }) => o.error_code === null));
      assert.equal(await recordCount(topic), 60, `round ${round}: records in Kafka`);
      const stored = await readRecords(topic, 60);
      assert.deepEqual(
        stored.map((r) => `${r.partition}/${r.offset}`).sort(),
        res.body.offsets.map((o: { partition: number; offset: number }) => `${o.partition}/${o.offset}`).sort(),
      );
    }
  });
});

/** Asks kafka-clients (Java) which partition each key goes to. */
function javaPartitionsFor(partitions: number, keys: string[]): number[] {
  const cp = path.join(root, '.cache/kafka', readKafkaVersion(), '*');
  const out = execFileSync(
    'java',
    ['-cp', cp, path.join(root, 'test/support/JavaPartitioner.java'), String(partitions), ...keys],
    {
      encoding: 'utf8',
    },
  );
  return out.trim().split('\n').map(Number);
}

function readKafkaVersion(): string {
  return /<kafka\.version>([^<]+)</.exec(
    execFileSync('cat', [path.join(root, 'scripts/kafka/pom.xml')], { encoding: 'utf8' }),
  )![1]!;
}
