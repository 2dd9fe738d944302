/**
 * The embedded schema registry's REST API as a Confluent Schema Registry client uses it, against
 * the real broker: register, look up, read, evolve under each compatibility level, delete (soft,
 * then permanent), references, and every Confluent error code on the way.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { closeAdmin, readRecords } from './support/kafka.js';
import { SR, avroRecord, sr, startRegistryGateway, type RegistryGateway } from './support/registry.js';

let reg: RegistryGateway;
let api: ReturnType<typeof sr>;

before(async () => {
  reg = await startRegistryGateway();
  api = sr(reg.url);
});
after(async () => {
  await reg?.gw.close();
  await closeAdmin();
});

const user1 = avroRecord('User', [{ name: 'name', type: 'string' }]);
const user2 = avroRecord('User', [
  { name: 'name', type: 'string' },
  { name: 'age', type: 'int', default: 0 },
]);

describe('schema registry API', () => {
  it('registers an Avro schema, idempotently, and serves it by subject, version and id', async () => {
    const first = await api.post('/subjects/users-value/versions', { schema: user1 });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.headers.get('content-type'), SR);
    const id = first.body.id as number;
    assert.ok(Number.isInteger(id) && id > 0);
    // Same schema (other whitespace, plain JSON media type) → same id, no new version.
    const again = await api.post('/subjects/users-value/versions', {
      schema: JSON.stringify(JSON.parse(user1), null, 2),
    });
    assert.deepEqual(again.body, { id });
    assert.deepEqual((await api.get('/subjects/users-value/versions')).body, [1]);
    assert.ok((await api.get('/subjects')).body.includes('users-value'));
    const v1 = await api.get('/subjects/users-value/versions/1');
    assert.deepEqual(v1.body, { subject: 'users-value', version: 1, id, schema: user1 });
    assert.deepEqual((await api.get('/subjects/users-value/versions/latest')).body, v1.body);
    assert.deepEqual((await api.get('/subjects/users-value/versions/latest/schema')).body, JSON.parse(user1));
    assert.deepEqual((await api.get(`/schemas/ids/${id}`)).body, { schema: user1 });
    assert.deepEqual((await api.get(`/schemas/ids/${id}/schema`)).body, JSON.parse(user1));
    assert.deepEqual((await api.get(`/schemas/ids/${id}/versions`)).body, [{ subject: 'users-value', version: 1 }]);
    assert.deepEqual((await api.get('/schemas/types')).body.sort(), ['AVRO', 'JSON', 'PROTOBUF']);
    // The same schema under another subject keeps its id (ids name schemas, not subjects).
    assert.deepEqual((await api.post('/subjects/users2-value/versions', { schema: user1 })).body, { id });

    // Lookup.
    const found = await api.post('/subjects/users-value', { schema: user1 });
    assert.deepEqual(found.body, v1.body);
    const notThere = await api.post('/subjects/users-value', { schema: user2 });
    assert.equal(notThere.status, 404);
    assert.equal(notThere.body.error_code, 40403);
    assert.equal((await api.post('/subjects/nobody-value', { schema: user1 })).body.error_code, 40401);
  });

  it('answers Confluent error codes for missing and invalid things', async () => {
    const cases: Array<[Promise<{ status: number; body: { error_code: number } }>, number, number]> = [
      [api.get('/subjects/missing-value/versions'), 404, 40401],
      [api.get('/subjects/missing-value/versions/1'), 404, 40401],
      [api.get('/subjects/users-value/versions/99'), 404, 40402],
      [api.get('/subjects/users-value/versions/abc'), 422, 42202],
      [api.get('/subjects/users-value/versions/0'), 422, 42202],
      [api.get('/schemas/ids/987654'), 404, 40403],
      [api.post('/subjects/bad-value/versions', { schema: '{"type":"record","name":"X"}' }), 422, 42201],
      [api.post('/subjects/bad-value/versions', { schema: 'not json' }), 422, 42201],
      [api.post('/subjects/bad-value/versions', { schema: '{"type": 12}', schemaType: 'JSON' }), 422, 42201],
      [api.post('/subjects/bad-value/versions', { schema: 'message {', schemaType: 'PROTOBUF' }), 422, 42201],
      [api.post('/subjects/bad-value/versions', { schema: user1, schemaType: 'XML' }), 422, 42201],
      [
        api.post('/subjects/bad-value/versions', {
          schema: user1,
          references: [{ name: 'x', subject: 'nothing-here', version: 1 }],
        }),
        422,
        42201,
      ],
      [api.post('/subjects/bad-value/versions', { schema: user1, references: 'x' }), 422, 42201],
      [api.post('/subjects/bad-value/versions', { schema: user1, schemaType: 7 }), 422, 42201],
      [api.post('/subjects/bad-value/versions', { schemaType: 'AVRO' }), 422, 42201],
      [api.post('/subjects/bad-value/versions', [1, 2]), 422, 42201],
      [api.post('/subjects/bad-value/versions', { schema: 'x'.repeat(2 * 1024 * 1024) }), 413, 413],
      [api.put('/config/users-value', { compatibility: 'SIDEWAYS' }), 422, 42203],
      [api.put('/config', { compatibility: 'sometimes' }), 422, 42203],
      [api.get('/config/users-value'), 404, 40408],
      [api.get('/nowhere'), 404, 404],
    ];
    for (const [reply, status, code] of cases) {
      const r = await reply;
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(r.body.error_code, code, JSON.stringify(r.body));
    }
    const patch = await api.put('/subjects', {});
    assert.equal(patch.status, 405);
    assert.equal(patch.headers.get('allow'), 'GET');
    assert.equal((await api.get('/subjects/a/versions/1/nothing')).status, 404);
    const bad = await api.post('/subjects/bad-value/versions', 'this is not json');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error_code, 400);
  });

  it('refuses an incompatible change (409) and accepts a compatible one, per compatibility level', async () => {
    const breaking = avroRecord('User', [
      { name: 'name', type: 'string' },
      { name: 'email', type: 'string' },
    ]);
    const refused = await api.post('/subjects/users-value/versions', { schema: breaking });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error_code, 409);
    assert.match(refused.body.message, /incompatible/);
    const check = await api.post('/compatibility/subjects/users-value/versions/latest?verbose=true', {
      schema: breaking,
    });
    assert.equal(check.body.is_compatible, false);
    assert.ok(check.body.messages.length > 0);
    assert.deepEqual((await api.post('/compatibility/subjects/users-value/versions/1', { schema: user2 })).body, {
      is_compatible: true,
    });
    assert.equal(
      (await api.post('/compatibility/subjects/nobody/versions/1', { schema: user2 })).body.error_code,
      40401,
    );
    assert.equal(
      (await api.post('/compatibility/subjects/users-value/versions/7', { schema: user2 })).body.error_code,
      40402,
    );

    const evolved = await api.post('/subjects/users-value/versions', { schema: user2 });
    assert.equal(evolved.status, 200);
    assert.deepEqual((await api.get('/subjects/users-value/versions')).body, [1, 2]);

    // NONE lets anything in; the subject's level is its own, the global one stays.
    assert.deepEqual((await api.put('/config/users-value', { compatibility: 'NONE' })).body, { compatibility: 'NONE' });
    assert.deepEqual((await api.get('/config/users-value')).body, { compatibilityLevel: 'NONE' });
    assert.deepEqual((await api.get('/config')).body, { compatibilityLevel: 'BACKWARD' });
    assert.equal((await api.post('/subjects/users-value/versions', { schema: breaking })).status, 200);
    assert.deepEqual((await api.del('/config/users-value')).body, { compatibilityLevel: 'NONE' });
    assert.deepEqual((await api.get('/config/users-value?defaultToGlobal=true')).body, {
      compatibilityLevel: 'BACKWARD',
    });

    // FORWARD_TRANSITIVE on a fresh subject: removing a default-less field breaks old readers.
    const a = avroRecord('T', [
      { name: 'x', type: 'int' },
      { name: 'y', type: 'int' },
    ]);
    await api.put('/config/tt-value', { compatibility: 'forward_transitive' });
    assert.equal((await api.post('/subjects/tt-value/versions', { schema: a })).status, 200);
    const withoutY = avroRecord('T', [{ name: 'x', type: 'int' }]);
    assert.equal((await api.post('/subjects/tt-value/versions', { schema: withoutY })).status, 409);
    const withZ = avroRecord('T', [
      { name: 'x', type: 'int' },
      { name: 'y', type: 'int' },
      { name: 'z', type: 'string' },
    ]);
    assert.equal((await api.post('/subjects/tt-value/versions', { schema: withZ })).status, 200);

    // Global level.
    assert.deepEqual((await api.put('/config', { compatibility: 'FULL' })).body, { compatibility: 'FULL' });
    assert.deepEqual((await api.get('/config')).body, { compatibilityLevel: 'FULL' });
    await api.put('/config', { compatibility: 'BACKWARD' });
  });

  it('checks JSON Schema and protobuf evolution: optional additions pass, type changes do not', async () => {
    const j1 = { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] };
    const j2 = { ...j1, properties: { ...j1.properties, note: { type: 'string' } } };
    const j3 = { ...j1, properties: { id: { type: 'string' } } };
    const j4 = { ...j2, required: ['id', 'note'] };
    const json = (s: unknown) => ({ schemaType: 'JSON', schema: JSON.stringify(s) });
    const first = await api.post('/subjects/dev-json-value/versions', json(j1));
    assert.equal(first.status, 200, first.text);
    assert.equal((await api.post('/subjects/dev-json-value/versions', json(j2))).status, 200);
    assert.equal((await api.post('/subjects/dev-json-value/versions', json(j3))).status, 409);
    assert.equal((await api.post('/subjects/dev-json-value/versions', json(j4))).status, 409);
    const stored = await api.get('/subjects/dev-json-value/versions/2');
    assert.equal(stored.body.schemaType, 'JSON');
    // 2020-12 compiles too.
    const modern = { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'array', prefixItems: [{}] };
    assert.equal((await api.post('/subjects/modern-value/versions', json(modern))).status, 200);
    // …and is held to its own meta-schema (prefixItems must not be empty in 2020-12).
    const broken = { ...modern, prefixItems: [] };
    assert.equal((await api.post('/subjects/modern-value/versions', json(broken))).body.error_code, 42201);

    const p1 = 'syntax = "proto3";\npackage demo;\nmessage Reading {\n  string device = 1;\n  int32 bpm = 2;\n}\n';
    const p2 = p1.replace('int32 bpm = 2;', 'int32 bpm = 2;\n  string note = 3;');
    const p3 = p1.replace('int32 bpm = 2;', 'double bpm = 2;');
    const proto = (s: string) => ({ schemaType: 'PROTOBUF', schema: s });
    assert.equal((await api.post('/subjects/dev-proto-value/versions', proto(p1))).status, 200);
    assert.equal((await api.post('/subjects/dev-proto-value/versions', proto(p2))).status, 200);
    const bad = await api.post('/subjects/dev-proto-value/versions', proto(p3));
    assert.equal(bad.status, 409);
    assert.match(bad.body.message, /bpm/);
    // The raw schema of a protobuf version is its .proto text.
    const raw = await fetch(`${reg.url}/subjects/dev-proto-value/versions/latest/schema`);
    assert.equal(await raw.text(), p2);
  });

  it('resolves references to other subjects, and keeps a referenced version from being deleted', async () => {
    const address = JSON.stringify({
      type: 'record',
      name: 'Address',
      namespace: 'demo',
      fields: [{ name: 'city', type: 'string' }],
    });
    assert.equal((await api.post('/subjects/address/versions', { schema: address })).status, 200);
    const person = JSON.stringify({
      type: 'record',
      name: 'Person',
      namespace: 'demo',
      fields: [{ name: 'home', type: 'demo.Address' }],
    });
    const refs = [{ name: 'demo.Address', subject: 'address', version: 1 }];
    const registered = await api.post('/subjects/person-value/versions', { schema: person, references: refs });
    assert.equal(registered.status, 200, registered.text);
    const byId = await api.get(`/schemas/ids/${registered.body.id}`);
    assert.deepEqual(byId.body, { references: refs, schema: person });
    assert.deepEqual((await api.get('/subjects/address/versions/1/referencedby')).body, [registered.body.id]);
    // Without the reference the type is unknown: invalid.
    assert.equal((await api.post('/subjects/person2-value/versions', { schema: person })).body.error_code, 42201);
    const refused = await api.del('/subjects/address/versions/1');
    assert.equal(refused.status, 422);
    assert.equal(refused.body.error_code, 42206);

    // JSON Schema and protobuf references.
    const point = { type: 'object', properties: { x: { type: 'number' } } };
    await api.post('/subjects/point/versions', { schemaType: 'JSON', schema: JSON.stringify(point) });
    const shape = { type: 'object', properties: { at: { $ref: 'point.json' } } };
    const jr = await api.post('/subjects/shape-value/versions', {
      schemaType: 'JSON',
      schema: JSON.stringify(shape),
      references: [{ name: 'point.json', subject: 'point', version: 1 }],
    });
    assert.equal(jr.status, 200, jr.text);
    await api.post('/subjects/common.proto/versions', {
      schemaType: 'PROTOBUF',
      schema: 'syntax = "proto3";\npackage common;\nmessage Unit { string name = 1; }\n',
    });
    const pr = await api.post('/subjects/measure-value/versions', {
      schemaType: 'PROTOBUF',
      schema:
        'syntax = "proto3";\nimport "common.proto";\nimport "google/protobuf/timestamp.proto";\n' +
        'message Measure { common.Unit unit = 1; google.protobuf.Timestamp at = 2; }\n',
      references: [{ name: 'common.proto', subject: 'common.proto', version: 1 }],
    });
    assert.equal(pr.status, 200, pr.text);
  });

  it('soft-deletes, then permanently deletes, versions and subjects with Confluent codes', async () => {
    const s = 'gone-value';
    await api.post(`/subjects/${s}/versions`, { schema: user1 });
    await api.post(`/subjects/${s}/versions`, { schema: user2 });
    assert.equal((await api.del(`/subjects/${s}/versions/1?permanent=true`)).body.error_code, 40407);
    assert.deepEqual((await api.del(`/subjects/${s}/versions/1`)).body, 1);
    assert.equal((await api.del(`/subjects/${s}/versions/1`)).body.error_code, 40406);
    assert.equal((await api.del(`/subjects/${s}/versions/9`)).body.error_code, 40402);
    assert.deepEqual((await api.get(`/subjects/${s}/versions`)).body, [2]);
    assert.deepEqual((await api.get(`/subjects/${s}/versions?deleted=true`)).body, [1, 2]);
    assert.equal((await api.get(`/subjects/${s}/versions/1`)).body.error_code, 40402);
    assert.equal((await api.get(`/subjects/${s}/versions/1?deleted=true`)).body.version, 1);
    assert.deepEqual((await api.del(`/subjects/${s}/versions/1?permanent=true`)).body, 1);
    assert.deepEqual((await api.get(`/subjects/${s}/versions?deleted=true`)).body, [2]);

    assert.equal((await api.del(`/subjects/${s}?permanent=true`)).body.error_code, 40405);
    assert.deepEqual((await api.del(`/subjects/${s}`)).body, [2]);
    assert.equal((await api.del(`/subjects/${s}`)).body.error_code, 40404);
    assert.ok(!(await api.get('/subjects')).body.includes(s));
    assert.ok((await api.get('/subjects?deleted=true')).body.includes(s));
    assert.equal((await api.get(`/subjects/${s}/versions`)).body.error_code, 40401);
    assert.deepEqual((await api.del(`/subjects/${s}?permanent=true`)).body, [2]);
    assert.equal((await api.del(`/subjects/${s}`)).body.error_code, 40401);
    assert.ok(!(await api.get('/subjects?deleted=true')).body.includes(s));
    // Registering again after a permanent delete starts a new history.
    const back = await api.post(`/subjects/${s}/versions`, { schema: user1 });
    assert.equal(back.status, 200);
    assert.deepEqual((await api.get(`/subjects/${s}/versions`)).body, [1]);
  });

  it('stores everything in the topic in the record format Confluent Schema Registry and Karapace use', async () => {
    const subject = 'format-value';
    const { id } = (await api.post(`/subjects/${subject}/versions`, { schema: user1 })).body as { id: number };
    await api.put(`/config/${subject}`, { compatibility: 'FULL' });
    await api.del(`/subjects/${subject}`);
    const records = (await readRecords(reg.topic, 1, 10_000).then(async () => readAll(reg.topic))).filter((r) =>
      r.key.includes(`"${subject}"`),
    );
    assert.deepEqual(
      records.map((r) => [JSON.parse(r.key), r.value === null ? null : JSON.parse(r.value)]),
      [
        [
          { keytype: 'SCHEMA', subject, version: 1, magic: 1 },
          { subject, version: 1, id, schema: user1, deleted: false },
        ],
        [{ keytype: 'CONFIG', subject, magic: 0 }, { compatibilityLevel: 'FULL' }],
        [
          { keytype: 'SCHEMA', subject, version: 1, magic: 1 },
          { subject, version: 1, id, schema: user1, deleted: true },
        ],
        [
          { keytype: 'DELETE_SUBJECT', subject, magic: 0 },
          { subject, version: 1 },
        ],
      ],
    );
  });
});

async function readAll(topic: string): Promise<Array<{ key: string; value: string | null }>> {
  const { recordCount } = await import('./support/kafka.js');
  const n = await recordCount(topic);
  return (await readRecords(topic, n, 10_000)).map((r) => ({
    key: r.key?.toString('utf8') ?? '',
    value: r.value === null ? null : r.value.toString('utf8'),
  }));
}
