// Avro, JSON Schema and protobuf against the real embedded registry and a real broker, checked by an
// independent implementation of the Confluent wire format (@kafkajs/confluent-schema-registry):
// it decodes what the gateway wrote, and the gateway decodes what it wrote.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import protobuf from 'protobufjs';
import { ConsumerClient } from './support/consumer-client.js';
import { needsOwnGateway, post, request } from './support/gateway.js';
import { closeAdmin, createTopic, kafka, readRecords, recordCount, uniqueName } from './support/kafka.js';
import { SR, avroRecord, startRegistryGateway, type RegistryGateway } from './support/registry.js';

const AVRO = 'application/vnd.kafka.avro.v2+json';

/** Confluent wire format by hand: magic 0, the 4-byte id, the payload. */
const framed = (id: number, payload: Buffer) => {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(id, 1);
  return Buffer.concat([header, payload]);
};
/** Avro's long: zig-zag, then 7-bit groups, low first. */
const avroLong = (n: bigint) => {
  let z = BigInt.asUintN(64, (n << 1n) ^ (n >> 63n));
  const out: number[] = [];
  while (z > 0x7fn) {
    out.push(Number((z & 0x7fn) | 0x80n));
    z >>= 7n;
  }
  out.push(Number(z));
  return Buffer.from(out);
};
const JSONSCHEMA = 'application/vnd.kafka.jsonschema.v2+json';
const PROTOBUF = 'application/vnd.kafka.protobuf.v2+json';

const reading = avroRecord('Reading', [
  { name: 'device', type: 'string' },
  { name: 'heartrate', type: 'int' },
  { name: 'note', type: ['null', 'string'], default: null },
]);
const heartSchema = JSON.stringify({
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  properties: { device: { type: 'string' }, heartrate: { type: 'integer', minimum: 0 } },
  required: ['device', 'heartrate'],
});
const eventProto = `syntax = "proto3";
package demo;
message Event {
  string device_id = 1;
  int64 at = 2;
  Kind kind = 3;
  repeated string tags = 4;
}
enum Kind { UNKNOWN = 0; BEAT = 1; ALARM = 2; }
message Alarm {
  string device_id = 1;
  int32 level = 2;
}
`;

describe('schema formats end to end', { skip: needsOwnGateway }, () => {
  let sr: RegistryGateway;
  let client: SchemaRegistry;
  const producer = kafka.producer();

  before(async () => {
    sr = await startRegistryGateway();
    client = new SchemaRegistry({ host: sr.url });
    await producer.connect();
  });
  after(async () => {
    await producer.disconnect();
    await sr.gw.close();
    await closeAdmin();
  });

  it('avro: the gateway writes what the Confluent library reads; the answer carries both ids', async () => {
    const topic = await createTopic(1);
    const res = await post(`${sr.gw.url}/topics/${topic}`, AVRO, {
      key_schema: '"string"',
      value_schema: reading,
      records: [
        { key: 'watch-1', value: { device: 'watch-1', heartrate: 72, note: null } },
        { key: 'watch-2', value: { device: 'watch-2', heartrate: 180, note: { string: 'running' } } },
      ],
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(typeof res.body.key_schema_id, 'number');
    assert.equal(typeof res.body.value_schema_id, 'number');
    // Registered under TopicNameStrategy, as Confluent's serializers look them up.
    const latest = await client.getLatestSchemaId(`${topic}-value`);
    assert.equal(latest, res.body.value_schema_id);

    const stored = await readRecords(topic, 2);
    assert.equal(await client.decode(stored[0]!.key!), 'watch-1');
    assert.deepEqual(
      { ...(await client.decode(stored[1]!.value!)) },
      {
        device: 'watch-2',
        heartrate: 180,
        note: 'running',
      },
    );
  });

  it('avro: an avro consumer instance renders what the library wrote (Avro JSON encoding)', async () => {
    const topic = await createTopic(1);
    const { id } = await client.register({ type: SchemaType.AVRO, schema: reading }, { subject: `${topic}-value` });
    await producer.send({
      topic,
      messages: [{ value: await client.encode(id, { device: 'd9', heartrate: 60, note: 'calm' }) }],
    });
    const consumer = await ConsumerClient.create(sr.gw.url, uniqueName('g'), {
      format: 'avro',
      'auto.offset.reset': 'earliest',
    });
    try {
      await consumer.subscribe([topic]);
      const [record] = await consumer.fetchUntil(1, AVRO);
      assert.deepEqual(record!.value, { device: 'd9', heartrate: 60, note: { string: 'calm' } });
      assert.equal(record!.key, null);
    } finally {
      await consumer.delete();
    }
  });

  it('jsonschema: validated against the schema before anything is sent, readable by the library', async () => {
    const topic = await createTopic(1);
    const bad = await post(`${sr.gw.url}/topics/${topic}`, JSONSCHEMA, {
      value_schema: heartSchema,
      records: [{ value: { device: 'a', heartrate: 70 } }, { value: { device: 'b', heartrate: -4 } }],
    });
    assert.equal(bad.status, 400, bad.text);
    assert.deepEqual(bad.body.validation_errors, [{ path: 'records[1].value/heartrate', message: 'must be >= 0' }]);
    assert.equal(await recordCount(topic), 0, 'nothing produced');

    const ok = await post(`${sr.gw.url}/topics/${topic}`, JSONSCHEMA, {
      value_schema: heartSchema,
      records: [{ value: { device: 'a', heartrate: 70 } }],
    });
    assert.equal(ok.status, 200, ok.text);
    const [stored] = await readRecords(topic, 1);
    assert.deepEqual(await client.decode(stored!.value!), { device: 'a', heartrate: 70 });

    // And the other way: the library's bytes, read by a jsonschema instance.
    await producer.send({
      topic,
      messages: [{ value: await client.encode(ok.body.value_schema_id, { device: 'lib', heartrate: 55 }) }],
    });
    const consumer = await ConsumerClient.create(sr.gw.url, uniqueName('g'), {
      format: 'jsonschema',
      'auto.offset.reset': 'earliest',
    });
    try {
      await consumer.subscribe([topic]);
      const records = await consumer.fetchUntil(2, JSONSCHEMA);
      assert.deepEqual(
        records.map((r) => r.value),
        [
          { device: 'a', heartrate: 70 },
          { device: 'lib', heartrate: 55 },
        ],
      );
    } finally {
      await consumer.delete();
    }
  });

  it('protobuf: message indexes and payload as the library reads them, and back', async () => {
    const topic = await createTopic(1);
    const res = await post(`${sr.gw.url}/topics/${topic}`, PROTOBUF, {
      value_schema: eventProto,
      records: [{ value: { device_id: 'w1', at: '1767225600000', kind: 'ALARM', tags: ['a', 'b'] } }],
    });
    assert.equal(res.status, 200, res.text);
    const [stored] = await readRecords(topic, 1);
    const decoded = await client.decode(stored!.value!);
    assert.deepEqual(decoded.toJSON(), { deviceId: 'w1', at: '1767225600000', kind: 'ALARM', tags: ['a', 'b'] });

    // The other way, by hand: @kafkajs/confluent-schema-registry writes protobuf without message
    // indexes (not Confluent's format), so these bytes follow Confluent's spec directly: magic 0,
    // the id, indexes [1] (count 1, index 1, zig-zag: 0x02 0x02) for the file's second message.
    const root = protobuf.parse(eventProto).root;
    const alarm = root.lookupType('demo.Alarm');
    const payload = Buffer.from(alarm.encode(alarm.fromObject({ deviceId: 'lib', level: 3 })).finish());
    const id = Buffer.alloc(4);
    id.writeUInt32BE(res.body.value_schema_id);
    await producer.send({
      topic,
      messages: [{ value: Buffer.concat([Buffer.from([0]), id, Buffer.from([2, 2]), payload]) }],
    });
    const consumer = await ConsumerClient.create(sr.gw.url, uniqueName('g'), {
      format: 'protobuf',
      'auto.offset.reset': 'earliest',
    });
    try {
      await consumer.subscribe([topic]);
      const records = await consumer.fetchUntil(2, PROTOBUF);
      assert.deepEqual(records[0]!.value, { deviceId: 'w1', at: '1767225600000', kind: 'ALARM', tags: ['a', 'b'] });
      assert.deepEqual(records[1]!.value, { deviceId: 'lib', level: 3 });
    } finally {
      await consumer.delete();
    }
  });

  it('value_schema_id reuses a registered schema; an incompatible new schema is refused (42207), nothing produced', async () => {
    const topic = await createTopic(1);
    const first = await post(`${sr.gw.url}/topics/${topic}`, AVRO, {
      value_schema: reading,
      records: [{ value: { device: 'x', heartrate: 1, note: null } }],
    });
    assert.equal(first.status, 200, first.text);
    const byId = await post(`${sr.gw.url}/topics/${topic}`, AVRO, {
      value_schema_id: first.body.value_schema_id,
      records: [{ value: { device: 'y', heartrate: 2, note: null } }],
    });
    assert.equal(byId.status, 200, byId.text);
    assert.equal(byId.body.value_schema_id, first.body.value_schema_id);

    // A new required field without a default cannot read old records: BACKWARD refuses it.
    const incompatible = avroRecord('Reading', [
      { name: 'device', type: 'string' },
      { name: 'heartrate', type: 'int' },
      { name: 'spo2', type: 'int' },
    ]);
    const refused = await post(`${sr.gw.url}/topics/${topic}`, AVRO, {
      value_schema: incompatible,
      records: [{ value: { device: 'z', heartrate: 3, spo2: 97 } }],
    });
    assert.equal(refused.status, 422, refused.text);
    assert.equal(refused.body.error_code, 42207);
    assert.match(refused.body.message, /incompatible/);
    assert.equal(await recordCount(topic), 2);
  });

  it('a schema-format instance answers 40801 for a record that is not in the wire format', async () => {
    const topic = await createTopic(1);
    await producer.send({ topic, messages: [{ value: '{"plain":"json"}' }] });
    const consumer = await ConsumerClient.create(sr.gw.url, uniqueName('g'), {
      format: 'avro',
      'auto.offset.reset': 'earliest',
    });
    try {
      await consumer.subscribe([topic]);
      const deadline = Date.now() + 20_000;
      let res = await consumer.get('/records', { accept: AVRO });
      while (res.status === 200 && Date.now() < deadline) res = await consumer.get('/records', { accept: AVRO });
      assert.equal(res.status, 408, res.text);
      assert.equal(res.body.error_code, 40801);
      assert.match(res.body.message, /offset 0/);
    } finally {
      await consumer.delete();
    }
  });
  it('avro longs use all 64 bits: exact JSON integers in, the same bytes as Java writes, exact integers out', async () => {
    const topic = await createTopic(1);
    const schema = avroRecord('Tweet', [{ name: 'id', type: 'long' }]);
    const values = ['4611686018427387904', '1150000000000000002', '9223372036854775807', '-9223372036854775808', '7'];
    // Sent as text: the numbers must reach the gateway exactly as written.
    const body = `{"value_schema":${JSON.stringify(schema)},"records":[${values.map((v) => `{"value":{"id":${v}}}`).join(',')}]}`;
    const res = await post(`${sr.gw.url}/topics/${topic}`, AVRO, body);
    assert.equal(res.status, 200, res.text);
    const stored = await readRecords(topic, values.length);
    assert.deepEqual(
      stored.map((r) => r.value!.subarray(5).toString('hex')),
      values.map((v) => avroLong(BigInt(v)).toString('hex')),
    );

    // Out of range, or a string (Confluent takes JSON numbers only): 400, nothing produced.
    for (const bad of ['9223372036854775808', '"4611686018427387904"', '1.5']) {
      const refused = await post(
        `${sr.gw.url}/topics/${topic}`,
        AVRO,
        `{"value_schema_id":${res.body.value_schema_id},"records":[{"value":{"id":${bad}}}]}`,
      );
      assert.equal(refused.status, 400, `${bad}: ${refused.text}`);
      assert.match(refused.text, /records\[0\]\.value\/id/);
    }
    assert.equal(await recordCount(topic), values.length);

    // A record a Java producer wrote (2^62), read back as an exact JSON integer, as are ours.
    await producer.send({ topic, messages: [{ value: framed(res.body.value_schema_id, avroLong(2n ** 62n)) }] });
    const consumer = await ConsumerClient.create(sr.gw.url, uniqueName('g'), {
      format: 'avro',
      'auto.offset.reset': 'earliest',
    });
    try {
      await consumer.subscribe([topic]);
      let text = '';
      const deadline = Date.now() + 20_000;
      while ((text.match(/"id":/g) ?? []).length < values.length + 1 && Date.now() < deadline) {
        const page = await consumer.get('/records', { accept: AVRO });
        assert.equal(page.status, 200, page.text);
        text += page.text;
      }
      const ids = [...text.matchAll(/"value":\{"id":(-?\d+)\}/g)].map((m) => m[1]);
      assert.deepEqual(ids, [...values, String(2n ** 62n)]);
    } finally {
      await consumer.delete();
    }
  });

  it('a small avro record that would render huge is 40801, decided early; the gateway stays responsive', async () => {
    const topic = await createTopic(1);
    // 2,008 bytes: an array of 2,000 enum values, each rendering a 100,000-character symbol (200 MB).
    const schema = JSON.stringify({
      type: 'array',
      items: { type: 'enum', name: 'E', symbols: ['S' + 'x'.repeat(100_000)] },
    });
    const registered = await post(`${sr.url}/subjects/${topic}-value/versions`, SR, { schema });
    assert.equal(registered.status, 200, registered.text);
    const id = registered.body.id as number;
    const bomb = framed(id, Buffer.concat([avroLong(2000n), Buffer.alloc(2000), Buffer.from([0])]));
    // A fitting record after it, to show the consumer can seek past the bomb and go on.
    const fine = framed(id, Buffer.concat([avroLong(1n), Buffer.alloc(1), Buffer.from([0])]));
    await producer.send({ topic, messages: [{ value: bomb }, { value: fine }] });
    const consumer = await ConsumerClient.create(sr.gw.url, uniqueName('g'), {
      format: 'avro',
      'auto.offset.reset': 'earliest',
    });
    try {
      await consumer.subscribe([topic]);
      // While the gateway fetches and renders, other requests are answered promptly: one after
      // another, the slowest is measured.
      let fetching = true;
      let slowest = 0;
      const probes = (async () => {
        while (fetching) {
          const t = Date.now();
          const r = await request(`${sr.gw.url}/topics/${topic}`, {
            headers: { accept: 'application/vnd.kafka.v2+json' },
          });
          assert.equal(r.status, 200);
          slowest = Math.max(slowest, Date.now() - t);
        }
      })();
      const deadline = Date.now() + 20_000;
      let res = await consumer.get('/records', { accept: AVRO });
      while (res.status === 200 && res.text === '[]' && Date.now() < deadline) {
        res = await consumer.get('/records', { accept: AVRO });
      }
      fetching = false;
      await probes;
      assert.ok(slowest < 1000, `a concurrent GET took ${slowest} ms`);
      assert.equal(res.status, 408, res.text.slice(0, 300));
      assert.equal(res.body.error_code, 40801);
      assert.match(res.body.message, /offset 0/);
      assert.match(res.body.message, /longer than/);
      assert.ok(res.text.length < 10_000);
    } finally {
      await consumer.delete();
    }
  });
});
