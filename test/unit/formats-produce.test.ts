// Producing avro, jsonschema and protobuf over the fakes (broker-free): what reaches "Kafka" is the
// Confluent wire format, every record is checked before anything is sent, and each failure has
// Confluent's code. The real registry and broker are in test/formats.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import avro from 'avsc';
import { SchemaFormats } from '../../src/formats/schema-formats.js';
import { FakeKafka, startFakeGateway } from '../support/fakes.js';
import { FakeRegistry } from '../support/fake-registry.js';

async function post(url: string, contentType: string, body: unknown) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body: text });
  const answer = await res.text();
  return { status: res.status, text: answer, body: JSON.parse(answer) };
}

const AVRO = 'application/vnd.kafka.avro.v2+json';
const JSONSCHEMA = 'application/vnd.kafka.jsonschema.v2+json';
const PROTOBUF = 'application/vnd.kafka.protobuf.v2+json';

const user = {
  type: 'record',
  name: 'User',
  fields: [
    { name: 'name', type: 'string' },
    { name: 'age', type: 'int' },
  ],
};
const userSchema = JSON.stringify(user);

describe('produce with schema formats (fakes)', () => {
  const kafka = new FakeKafka({ users: 2, readings: 1, events: 1, other: 1 });
  const registry = new FakeRegistry();
  let gateway: { url: string; close: () => Promise<void> };
  const produced = (topic: string) => (kafka.log.get(topic) ?? []).flat();

  before(async () => {
    gateway = await startFakeGateway(kafka, {}, { schemaFormats: new SchemaFormats(registry) });
  });
  after(() => gateway.close());

  it('avro: registers the value schema under <topic>-value, writes the wire format, answers the id', async () => {
    const res = await post(`${gateway.url}/topics/users`, AVRO, {
      value_schema: userSchema,
      records: [{ value: { name: 'ada', age: 36 } }, { value: { name: 'alan', age: 41 }, partition: 1 }],
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.key_schema_id, null);
    const id = res.body.value_schema_id as number;
    assert.deepEqual(registry.subjects.get('users-value'), [id]);
    const [first] = produced('users');
    assert.equal(first!.key, null);
    const bytes = first!.value!;
    assert.equal(bytes[0], 0);
    assert.equal(bytes.readUInt32BE(1), id);
    assert.deepEqual(
      { ...avro.Type.forSchema(user as avro.Schema).fromBuffer(bytes.subarray(5)) },
      { name: 'ada', age: 36 },
    );
  });

  it('avro: the same schema text again costs no registry call; value_schema_id works too', async () => {
    const before = registry.calls.register;
    const again = await post(`${gateway.url}/topics/users`, AVRO, {
      value_schema: userSchema,
      records: [{ value: { name: 'b', age: 1 } }],
    });
    assert.equal(again.status, 200, again.text);
    assert.equal(registry.calls.register, before);
    const byId = await post(`${gateway.url}/topics/users`, AVRO, {
      value_schema_id: again.body.value_schema_id,
      records: [{ value: { name: 'c', age: 2 } }],
    });
    assert.equal(byId.status, 200, byId.text);
    assert.equal(byId.body.value_schema_id, again.body.value_schema_id);
  });

  it('avro keys: key_schema registered under <topic>-key; unions in Avro JSON encoding', async () => {
    const res = await post(`${gateway.url}/topics/users`, AVRO, {
      key_schema: '"string"',
      value_schema: JSON.stringify({ type: 'record', name: 'Note', fields: [{ name: 'n', type: ['null', 'string'] }] }),
      records: [
        { key: 'k1', value: { n: { string: 'x' } } },
        { key: 'k2', value: { n: null } },
      ],
    });
    assert.equal(res.status, 200, res.text);
    assert.ok(registry.subjects.get('users-key')?.includes(res.body.key_schema_id));
    const last = produced('users')
      .filter((r) => r.key !== null)
      .at(-1)!;
    assert.deepEqual([...last.key!.subarray(5)], [4, 0x6b, 0x32]); // Avro string "k2"
  });

  it('42201 for keys without a key schema, 42202 for values without a value schema; nothing produced', async () => {
    const count = produced('other').length;
    const noKey = await post(`${gateway.url}/topics/other`, AVRO, {
      value_schema: userSchema,
      records: [{ key: 'k', value: { name: 'a', age: 1 } }],
    });
    assert.equal(noKey.status, 422);
    assert.equal(noKey.body.error_code, 42201);
    const noValue = await post(`${gateway.url}/topics/other`, AVRO, { records: [{ value: { name: 'a', age: 1 } }] });
    assert.equal(noValue.status, 422);
    assert.equal(noValue.body.error_code, 42202);
    assert.equal(produced('other').length, count);
  });

  it('a record that breaks the schema fails the request (400) naming each record and field; nothing produced', async () => {
    const count = produced('other').length;
    const res = await post(`${gateway.url}/topics/other`, AVRO, {
      value_schema: userSchema,
      records: [{ value: { name: 'ok', age: 1 } }, { value: { name: 5, age: 'x' } }],
    });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body.error_code, 400);
    assert.deepEqual(
      res.body.validation_errors.map((e: { path: string }) => e.path),
      ['records[1].value/name', 'records[1].value/age'],
    );
    assert.equal(produced('other').length, count);
  });

  it('schema problems: text that does not parse is 400, an invalid schema 42205, an unknown id 42207', async () => {
    const unparsable = await post(`${gateway.url}/topics/other`, AVRO, {
      value_schema: '{"type":',
      records: [{ value: 1 }],
    });
    assert.equal(unparsable.status, 400);
    assert.match(unparsable.body.message, /Error parsing schema with format = AVRO/);
    const invalid = await post(`${gateway.url}/topics/other`, AVRO, {
      value_schema: '{"type":"record","name":"X","fields":[{"name":"a","type":"nope"}]}',
      records: [{ value: { a: 1 } }],
    });
    assert.equal(invalid.status, 422);
    assert.equal(invalid.body.error_code, 42205);
    const unknown = await post(`${gateway.url}/topics/other`, AVRO, { value_schema_id: 9999, records: [{ value: 1 }] });
    assert.equal(unknown.status, 422);
    assert.equal(unknown.body.error_code, 42207);
    assert.match(unknown.body.message, /Schema 9999 not found/);
  });

  it('a schema id of another type is 42207', async () => {
    const avroId = registry.subjects.get('users-value')![0]!;
    const res = await post(`${gateway.url}/topics/other`, JSONSCHEMA, {
      value_schema_id: avroId,
      records: [{ value: 1 }],
    });
    assert.equal(res.status, 422);
    assert.equal(res.body.error_code, 42207);
    assert.match(res.body.message, /AVRO schema, not JSON/);
  });

  it('jsonschema: the value is checked against the schema, then written as UTF-8 JSON behind the header', async () => {
    const schema = JSON.stringify({
      type: 'object',
      properties: { heartrate: { type: 'integer', minimum: 0 } },
      required: ['heartrate'],
    });
    const bad = await post(`${gateway.url}/topics/readings`, JSONSCHEMA, {
      value_schema: schema,
      records: [{ value: { heartrate: 70 } }, { value: { heartrate: -1 } }, { value: {} }],
    });
    assert.equal(bad.status, 400, bad.text);
    assert.deepEqual(bad.body.validation_errors, [
      { path: 'records[1].value/heartrate', message: 'must be >= 0' },
      { path: 'records[2].value', message: 'must have property "heartrate"' },
    ]);
    assert.equal(produced('readings').length, 0);
    // Sent as text: a JS number could not carry this value.
    const exact = `{"value_schema":${JSON.stringify(schema)},"records":[{"value":{"heartrate":70,"reading":0.10000000000000000001}}]}`;
    const ok = await post(`${gateway.url}/topics/readings`, JSONSCHEMA, exact);
    assert.equal(ok.status, 200, ok.text);
    const bytes = produced('readings')[0]!.value!;
    assert.equal(bytes.readUInt32BE(1), ok.body.value_schema_id);
    // Numbers travel exactly as sent, as in the json format.
    assert.equal(bytes.subarray(5).toString(), '{"heartrate":70,"reading":0.10000000000000000001}');
  });

  it('protobuf: the first message, message indexes [0], JSON names or proto names, strict fields', async () => {
    const schema =
      'syntax = "proto3";\nmessage Event { string device_id = 1; int64 at = 2; Kind kind = 3; }\nenum Kind { A = 0; B = 1; }';
    const ok = await post(`${gateway.url}/topics/events`, PROTOBUF, {
      value_schema: schema,
      records: [{ value: { device_id: 'd1', at: '9007199254740993', kind: 'B' } }, { value: { deviceId: 'd2' } }],
    });
    assert.equal(ok.status, 200, ok.text);
    const bytes = produced('events')[0]!.value!;
    assert.equal(bytes[5], 0, 'message indexes [0]');
    // field 1 (string "d1"), field 2 (varint 2^53+1), field 3 (enum 1)
    assert.equal(bytes.subarray(6).toString('hex'), '0a026431108180808080808010' + '1801');
    const bad = await post(`${gateway.url}/topics/events`, PROTOBUF, {
      value_schema: schema,
      records: [{ value: { device: 'x', at: 1.5, kind: 'C' } }],
    });
    assert.equal(bad.status, 400, bad.text);
    assert.deepEqual(
      bad.body.validation_errors.map((e: { path: string }) => e.path),
      ['records[0].value/device', 'records[0].value/at', 'records[0].value/kind'],
    );
  });

  it('without a registry the schema formats are refused with 415', async () => {
    const plain = await startFakeGateway(kafka);
    try {
      const res = await post(`${plain.url}/topics/other`, AVRO, { value_schema: userSchema, records: [{ value: {} }] });
      assert.equal(res.status, 415);
    } finally {
      await plain.close();
    }
  });

  it('numbers JSON.parse cannot hold: big integers pass an integer check, 1e400 is data, never a 500', async () => {
    const integer = JSON.stringify({ type: 'object', properties: { n: { type: 'integer' } } });
    const big = await post(
      `${gateway.url}/topics/other`,
      JSONSCHEMA,
      `{"value_schema":${JSON.stringify(integer)},"records":[{"value":{"n":4611686018427387904}}]}`,
    );
    assert.equal(big.status, 200, big.text);
    assert.equal(produced('other').at(-1)!.value!.subarray(5).toString(), '{"n":4611686018427387904}');
    // Past a double's range: JSON Schema takes it as a number (stored as written); Avro's double as infinity.
    const huge = await post(
      `${gateway.url}/topics/other`,
      JSONSCHEMA,
      `{"value_schema":${JSON.stringify(JSON.stringify({ type: 'object' }))},"records":[{"value":{"n":1e400}}]}`,
    );
    assert.equal(huge.status, 200, huge.text);
    assert.equal(produced('other').at(-1)!.value!.subarray(5).toString(), '{"n":1e400}');
    const double = JSON.stringify({ type: 'record', name: 'D', fields: [{ name: 'd', type: 'double' }] });
    const avroHuge = await post(
      `${gateway.url}/topics/other`,
      AVRO,
      `{"value_schema":${JSON.stringify(double)},"records":[{"value":{"d":1e400}}]}`,
    );
    assert.equal(avroHuge.status, 200, avroHuge.text);
    // Protobuf int64 as a JSON number past 2^53, exactly.
    const proto = 'syntax = "proto3"; message P { int64 n = 1; }';
    const pb = await post(
      `${gateway.url}/topics/other`,
      PROTOBUF,
      `{"value_schema":${JSON.stringify(proto)},"records":[{"value":{"n":4611686018427387905}}]}`,
    );
    assert.equal(pb.status, 200, pb.text);
    // field 1 varint: 0x08, then 2^62 + 1 in 7-bit groups
    // After magic, id and message indexes [0]: field 1 varint, 2^62 + 1 in 7-bit groups.
    assert.equal(produced('other').at(-1)!.value!.subarray(6).toString('hex'), '08818080808080808040');
  });
});
