// Avro, JSON Schema and protobuf against the real embedded registry and a real broker, checked by an
// independent implementation of the Confluent wire format (@kafkajs/confluent-schema-registry):
// it decodes what the gateway wrote, and the gateway decodes what it wrote.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import protobuf from 'protobufjs';
import { ConsumerClient } from './support/consumer-client.js';
import { needsOwnGateway, post } from './support/gateway.js';
import { closeAdmin, createTopic, kafka, readRecords, recordCount, uniqueName } from './support/kafka.js';
import { avroRecord, startRegistryGateway, type RegistryGateway } from './support/registry.js';

const AVRO = 'application/vnd.kafka.avro.v2+json';
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
});
