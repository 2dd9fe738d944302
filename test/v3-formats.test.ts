// v3 produce with schema types (AVRO, JSONSCHEMA, PROTOBUF) against a real broker and the embedded
// registry, as Confluent's v3 takes them: by schema_id, by schema_version or the latest, or by raw
// schema text (registered), under TOPIC_NAME / RECORD_NAME / TOPIC_RECORD_NAME subjects. What
// lands in Kafka is read back by an independent decoder (@kafkajs/confluent-schema-registry).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { needsOwnGateway, startTestGateway } from './support/gateway.js';
import { closeAdmin, createTopic, readRecords, recordCount, uniqueName } from './support/kafka.js';
import { avroRecord, startRegistryGateway, type RegistryGateway } from './support/registry.js';
import { ProduceStream, clusterIdOf, produceText, reportsOf } from './support/v3.js';

const reading = avroRecord('Reading', [
  { name: 'device', type: 'string' },
  { name: 'heartrate', type: 'int' },
  { name: 'note', type: ['null', 'string'], default: null },
]);
const heartSchema = JSON.stringify({
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'Heart',
  type: 'object',
  properties: { device: { type: 'string' }, heartrate: { type: 'integer', minimum: 0 } },
  required: ['device', 'heartrate'],
});
const eventProto = `syntax = "proto3";
package demo;
message Event {
  string device_id = 1;
  int64 at = 2;
  repeated string tags = 3;
}
`;

describe('v3 produce with schema types', { skip: needsOwnGateway }, () => {
  let sr: RegistryGateway;
  let client: SchemaRegistry;
  let cluster: string;

  const records = (topic: string) => `${sr.gw.url}/v3/clusters/${cluster}/topics/${topic}/records`;
  /** Sends records concatenated in one body; the reports in order. */
  const produce = async (topic: string, ...recs: unknown[]) => {
    const res = await produceText(records(topic), recs.map((r) => JSON.stringify(r)).join('\n'));
    assert.equal(res.status, 200, res.text);
    return reportsOf(res.text);
  };

  before(async () => {
    sr = await startRegistryGateway();
    client = new SchemaRegistry({ host: sr.url });
    cluster = await clusterIdOf(sr.gw.url);
  });
  after(async () => {
    await sr.gw.close();
    await closeAdmin();
  });

  it('raw schema: registered under <topic>-value, reported with subject/id/version, readable by Confluent', async () => {
    const topic = await createTopic(1);
    const reports = await produce(
      topic,
      {
        key: { type: 'STRING', data: 'watch-1' },
        value: { type: 'AVRO', schema: reading, data: { device: 'watch-1', heartrate: 72, note: { string: 'ok' } } },
      },
      { value: { type: 'AVRO', schema: reading, data: { device: 'watch-2', heartrate: 90, note: null } } },
    );
    const id = await client.getLatestSchemaId(`${topic}-value`);
    const stored = await readRecords(topic, 2);
    for (const [i, r] of reports.entries()) {
      assert.equal(r.error_code, 200, JSON.stringify(r));
      assert.deepEqual(r.value, {
        type: 'AVRO',
        size: stored[i]!.value!.length,
        subject: `${topic}-value`,
        schema_id: id,
        schema_version: 1,
      });
    }
    assert.deepEqual(reports[0]!.key, { type: 'STRING', size: 7 });
    assert.equal(stored[0]!.key!.toString(), 'watch-1');
    assert.deepEqual({ ...(await client.decode(stored[0]!.value!)) }, { device: 'watch-1', heartrate: 72, note: 'ok' });
    assert.deepEqual({ ...(await client.decode(stored[1]!.value!)) }, { device: 'watch-2', heartrate: 90, note: null });
  });

  it('schema_id: each type, format taken from the registry; key and value schemas at once', async () => {
    const topic = await createTopic(1);
    const avro = await client.register({ type: SchemaType.AVRO, schema: reading }, { subject: `${topic}-value` });
    const json = await client.register({ type: SchemaType.JSON, schema: heartSchema }, { subject: `${topic}-key` });
    const proto = await client.register(
      { type: SchemaType.PROTOBUF, schema: eventProto },
      { subject: `${topic}-proto` },
    );
    const reports = await produce(
      topic,
      {
        key: { schema_id: json.id, data: { device: 'w', heartrate: 1 } },
        value: { schema_id: avro.id, data: { device: 'w', heartrate: 61, note: null } },
      },
      { value: { schema_id: proto.id, subject: `${topic}-proto`, data: { deviceId: 'w', at: '42', tags: ['a'] } } },
    );
    assert.deepEqual(
      reports.map((r) => r.error_code),
      [200, 200],
      JSON.stringify(reports),
    );
    const stored = await readRecords(topic, 2);
    assert.deepEqual(reports[0]!.key, {
      type: 'JSONSCHEMA',
      size: stored[0]!.key!.length,
      subject: `${topic}-key`,
      schema_id: json.id,
      schema_version: 1,
    });
    assert.deepEqual(reports[0]!.value, {
      type: 'AVRO',
      size: stored[0]!.value!.length,
      subject: `${topic}-value`,
      schema_id: avro.id,
      schema_version: 1,
    });
    assert.deepEqual(reports[1]!.value, {
      type: 'PROTOBUF',
      size: stored[1]!.value!.length,
      subject: `${topic}-proto`,
      schema_id: proto.id,
      schema_version: 1,
    });
    assert.deepEqual(await client.decode(stored[0]!.key!), { device: 'w', heartrate: 1 });
    assert.deepEqual({ ...(await client.decode(stored[0]!.value!)) }, { device: 'w', heartrate: 61, note: null });
    const event = (await client.decode(stored[1]!.value!)) as { deviceId: string; at: { toString(): string } };
    assert.equal(event.deviceId, 'w');
    assert.equal(event.at.toString(), '42');
  });

  it('schema_version and the latest (no type, no selector) of the subject', async () => {
    const topic = await createTopic(1);
    const subject = `${topic}-value`;
    const v1 = await client.register({ type: SchemaType.JSON, schema: heartSchema }, { subject });
    const looser = JSON.stringify({ ...JSON.parse(heartSchema), required: ['device'] });
    const v2 = await client.register({ type: SchemaType.JSON, schema: looser }, { subject });
    const reports = await produce(
      topic,
      { value: { schema_version: 1, data: { device: 'a', heartrate: 5 } } },
      { value: { data: { device: 'b' } } },
      { value: { schema_version: 1, data: { device: 'c' } } },
    );
    assert.deepEqual(
      reports.map((r) => r.error_code),
      [200, 200, 400],
      JSON.stringify(reports),
    );
    assert.deepEqual(
      [reports[0]!.value, reports[1]!.value].map((v) => {
        const { schema_id, schema_version, subject: s, type } = v as Record<string, unknown>;
        return { schema_id, schema_version, s, type };
      }),
      [
        { schema_id: v1.id, schema_version: 1, s: subject, type: 'JSONSCHEMA' },
        { schema_id: v2.id, schema_version: 2, s: subject, type: 'JSONSCHEMA' },
      ],
    );
    assert.match(String(reports[2]!.message), /value\.data.*heartrate/);
    const stored = await readRecords(topic, 2);
    assert.deepEqual(await client.decode(stored[0]!.value!), { device: 'a', heartrate: 5 });
    assert.deepEqual(await client.decode(stored[1]!.value!), { device: 'b' });
    assert.equal(await recordCount(topic), 2);
  });

  it('RECORD_NAME and TOPIC_RECORD_NAME subjects from the raw schema (protobuf) and by schema_id (avro)', async () => {
    const topic = await createTopic(1);
    const avroName = uniqueName('Rec').replace(/[^A-Za-z0-9_]/g, '_');
    const avroSchema = avroRecord(avroName, [{ name: 'n', type: 'int' }]);
    const avro = await client.register({ type: SchemaType.AVRO, schema: avroSchema }, { subject: avroName });
    const pkg = uniqueName('pkg').replace(/[^A-Za-z0-9_]/g, '_');
    const proto = eventProto.replace('package demo;', `package ${pkg};`);
    const reports = await produce(
      topic,
      { value: { type: 'PROTOBUF', schema: proto, subject_name_strategy: 'RECORD_NAME', data: { deviceId: 'x' } } },
      {
        value: { type: 'PROTOBUF', schema: proto, subject_name_strategy: 'TOPIC_RECORD_NAME', data: { deviceId: 'y' } },
      },
      { value: { schema_id: avro.id, subject_name_strategy: 'RECORD_NAME', data: { n: 3 } } },
    );
    assert.deepEqual(
      reports.map((r) => [r.error_code, (r.value as Record<string, unknown> | undefined)?.subject]),
      [
        [200, `${pkg}.Event`],
        [200, `${topic}-${pkg}.Event`],
        [200, avroName],
      ],
      JSON.stringify(reports),
    );
    assert.equal(
      await client.getLatestSchemaId(`${pkg}.Event`),
      (reports[0]!.value as { schema_id: number }).schema_id,
    );
    const stored = await readRecords(topic, 3);
    assert.equal(((await client.decode(stored[1]!.value!)) as { deviceId: string }).deviceId, 'y');
    assert.deepEqual({ ...(await client.decode(stored[2]!.value!)) }, { n: 3 });
  });

  it('null data with a schema: a null field in Kafka, the schema still resolved and reported', async () => {
    const topic = await createTopic(1);
    const reports = await produce(topic, {
      key: { type: 'JSONSCHEMA', schema: heartSchema, data: null },
      value: { type: 'AVRO', schema: reading, data: null },
    });
    assert.equal(reports[0]!.error_code, 200, JSON.stringify(reports));
    const value = reports[0]!.value as Record<string, unknown>;
    assert.equal(value.type, 'AVRO');
    assert.equal(value.size, 0);
    assert.equal(value.subject, `${topic}-value`);
    assert.equal(value.schema_id, await client.getLatestSchemaId(`${topic}-value`));
    assert.equal((reports[0]!.key as Record<string, unknown>).type, 'JSONSCHEMA');
    const [stored] = await readRecords(topic, 1);
    assert.equal(stored!.key, null);
    assert.equal(stored!.value, null);
  });

  it('every refused combination is that record’s error report, and nothing of it is produced', async () => {
    const topic = await createTopic(1);
    const avro = await client.register({ type: SchemaType.AVRO, schema: reading }, { subject: `${topic}-value` });
    const other = await client.register(
      { type: SchemaType.AVRO, schema: avroRecord('Other', [{ name: 's', type: 'string' }]) },
      { subject: uniqueName('s') },
    );
    const good = { device: 'd', heartrate: 1, note: null };
    const cases: Array<[string, unknown, number, RegExp?]> = [
      ['BINARY with schema_id', { type: 'BINARY', data: 'AQID', schema_id: avro.id }, 400, /Unsupported argument/],
      ['STRING with subject', { type: 'STRING', data: 'x', subject: 's' }, 400],
      ['JSON with schema', { type: 'JSON', data: 1, schema: reading }, 400],
      ['JSON with subject_name_strategy', { type: 'JSON', data: 1, subject_name_strategy: 'TOPIC_NAME' }, 400],
      ['BINARY with schema_version', { type: 'BINARY', data: 'AQID', schema_version: 1 }, 400],
      ['schema_id with type', { type: 'AVRO', schema_id: avro.id, data: good }, 400, /type cannot be used/],
      ['schema_id with schema_version', { schema_id: avro.id, schema_version: 1, data: good }, 400],
      ['schema_id with schema', { schema_id: avro.id, schema: reading, data: good }, 400],
      ['schema_version with type', { type: 'AVRO', schema_version: 1, data: good }, 400],
      ['schema_version with schema', { schema_version: 1, schema: reading, data: good }, 400],
      ['schema without type', { schema: reading, data: good }, 400, /needs a type/],
      ['a schema type and nothing else', { type: 'AVRO', data: good }, 400],
      ['subject and strategy', { subject: `${topic}-value`, subject_name_strategy: 'TOPIC_NAME', data: good }, 400],
      ['RECORD_NAME with schema_version', { schema_version: 1, subject_name_strategy: 'RECORD_NAME', data: good }, 400],
      [
        'TOPIC_RECORD_NAME, latest',
        { subject_name_strategy: 'TOPIC_RECORD_NAME', data: good },
        400,
        /Cannot use schema_subject_strategy=TOPIC_RECORD_NAME without schema_id or schema/,
      ],
      ['unknown strategy', { schema_id: avro.id, subject_name_strategy: 'NAME', data: good }, 400],
      ['schema_id not a number', { schema_id: 'one', data: good }, 400],
      ['data that does not fit', { schema_id: avro.id, data: { device: 'd' } }, 400, /value\.data/],
      ['unknown schema_id', { schema_id: 987654, data: good }, 42207],
      ['schema_id not under the subject', { schema_id: other.id, data: { s: 'x' } }, 42207],
      ['no version 9', { schema_version: 9, data: good }, 42207],
      ['latest of a subject that does not exist', { subject: uniqueName('none'), data: good }, 42207],
      ['raw schema that is not JSON', { type: 'AVRO', schema: '{nope', data: good }, 400],
      ['raw schema that is invalid', { type: 'AVRO', schema: '{"type":"record"}', data: good }, 42205],
      ['raw schema of another type than its text', { type: 'PROTOBUF', schema: reading, data: good }, 400],
    ];
    const reports = await produce(topic, ...cases.map(([, value]) => ({ value })));
    assert.equal(reports.length, cases.length);
    cases.forEach(([name, , code, text], i) => {
      assert.equal(reports[i]!.error_code, code, `${name}: ${JSON.stringify(reports[i])}`);
      assert.equal(typeof reports[i]!.message, 'string', name);
      if (text !== undefined) assert.match(String(reports[i]!.message), text, name);
    });
    assert.equal(await recordCount(topic), 0);
  });

  it('a stream mixing good and bad schema records: reports in order, only the good ones in Kafka', async () => {
    const topic = await createTopic(1);
    const stream = new ProduceStream(records(topic));
    const send = (value: unknown) => stream.write(JSON.stringify({ value }));
    const avro = { type: 'AVRO', schema: reading };
    await send({ ...avro, data: { device: 'a', heartrate: 1, note: null } });
    await send({ ...avro, data: { device: 'bad' } });
    await send({ type: 'STRING', data: 'plain' });
    await send({ schema_id: 987655, data: {} });
    await send({ ...avro, data: { device: 'b', heartrate: 2, note: null } });
    await send({ schema_version: 1, data: { device: 'c', heartrate: 3, note: null } });
    await send({ type: 'JSONSCHEMA', schema_id: 1, data: {} });
    stream.end();
    const codes: unknown[] = [];
    for (let r = await stream.next(); r !== undefined; r = await stream.next()) codes.push(r.error_code);
    assert.deepEqual(codes, [200, 400, 200, 42207, 200, 200, 400]);
    const stored = await readRecords(topic, 4);
    assert.equal(stored.length, 4);
    assert.equal(await recordCount(topic), 4);
    assert.equal(((await client.decode(stored[0]!.value!)) as { device: string }).device, 'a');
    assert.equal(stored[1]!.value!.toString(), 'plain');
    assert.equal(((await client.decode(stored[2]!.value!)) as { device: string }).device, 'b');
    assert.equal(((await client.decode(stored[3]!.value!)) as { device: string }).device, 'c');
  });
});

describe('v3 produce with schema types, no registry', { skip: needsOwnGateway }, () => {
  it('a schema type or selector is that record’s 42206; a Data without type stays JSON', async () => {
    const gw = await startTestGateway({});
    try {
      const topic = await createTopic(1);
      const cluster = await clusterIdOf(gw.url);
      const body = [{ value: { schema_id: 1, data: {} } }, { value: { data: { a: 1 } } }, { key: { type: 'PROTOBUF' } }]
        .map((r) => JSON.stringify(r))
        .join('');
      const res = await produceText(`${gw.url}/v3/clusters/${cluster}/topics/${topic}/records`, body);
      const reports = reportsOf(res.text);
      assert.deepEqual(
        reports.map((r) => [r.error_code, r.message]),
        [
          [42206, 'Payload error. Schema Registry must be configured when using schemas.'],
          [200, undefined],
          [42206, 'Payload error. Schema Registry must be configured when using schemas.'],
        ],
      );
      assert.deepEqual(reports[1]!.value, { type: 'JSON', size: 7 });
      const [stored] = await readRecords(topic, 1);
      assert.equal(stored!.value!.toString(), '{"a":1}');
      assert.equal(await recordCount(topic), 1);
    } finally {
      await gw.close();
    }
  });
});

describe('v3 produce with schema types, registry down', { skip: needsOwnGateway }, () => {
  it('a schema record gets a retriable 50003 in its place; its neighbours are produced', async () => {
    // An external registry that does not answer (nothing listens on port 1).
    const gw = await startTestGateway({ SCHEMA_REGISTRY_URL: 'http://127.0.0.1:1' });
    try {
      const topic = await createTopic(1);
      const cluster = await clusterIdOf(gw.url);
      const body = [
        { value: { type: 'STRING', data: 'before' } },
        { value: { schema_id: 1, data: {} } },
        { value: { type: 'AVRO', schema: reading, data: { device: 'x', heartrate: 1, note: null } } },
        { value: { type: 'STRING', data: 'after' } },
      ]
        .map((r) => JSON.stringify(r))
        .join('');
      const res = await produceText(`${gw.url}/v3/clusters/${cluster}/topics/${topic}/records`, body);
      const reports = reportsOf(res.text);
      assert.deepEqual(
        reports.map((r) => r.error_code),
        [200, 50003, 50003, 200],
        res.text,
      );
      const stored = await readRecords(topic, 2);
      assert.deepEqual(
        stored.map((r) => r.value!.toString()),
        ['before', 'after'],
      );
      assert.equal(await recordCount(topic), 2);
    } finally {
      await gw.close();
      await closeAdmin();
    }
  });
});
