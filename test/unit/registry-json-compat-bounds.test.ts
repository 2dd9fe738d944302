/**
 * JSON Schema compatibility after issue 12's attack: recursive $refs are compared once per pair
 * (B3, no exponential walk), every keyword the rules do not model must stay the same, refs that
 * cannot be resolved locally and the depth cutoff answer "not compatible" (B9), and a schema nested
 * too deep for the parser's stack is 42201, not a crash (B10).
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { incompatibilities } from '../../src/registry/compatibility.js';
import { canonicalText, parseSchema } from '../../src/registry/schemas.js';

const json = (s: unknown) => parseSchema('JSON', JSON.stringify(s), []);
const backward = (candidate: unknown, old: unknown) => incompatibilities('BACKWARD', json(candidate), [json(old)]);

const recursive = (extra: Record<string, unknown> = {}) => ({
  definitions: {
    n: {
      type: 'object',
      properties: { a: { $ref: '#/definitions/n' }, b: { $ref: '#/definitions/n' }, ...extra },
    },
  },
  $ref: '#/definitions/n',
});

describe('JSON Schema compatibility is bounded (B3)', () => {
  it('a recursive schema with two self-references per level answers in well under a second', () => {
    const started = performance.now();
    assert.deepEqual(backward(recursive({ c: { type: 'string' } }), recursive()), []);
    assert.notDeepEqual(backward(recursive({ a: { type: 'string' } }), recursive()), []);
    assert.ok(performance.now() - started < 1000, `took ${performance.now() - started} ms`);
  });
  it('a schema with more $refs than a validity check may take is 42201, answered quickly', () => {
    // 40 definitions, each referring to every other: Ajv alone would take seconds to compile it.
    const defs: Record<string, unknown> = {};
    for (let i = 0; i < 40; i++)
      defs[`d${i}`] = {
        type: 'object',
        properties: Object.fromEntries(
          Array.from({ length: 40 }, (_, j) => [`p${j}`, { $ref: `#/definitions/d${j}` }]),
        ),
      };
    const started = performance.now();
    assert.throws(
      () => json({ definitions: defs, $ref: '#/definitions/d0' }),
      (err: { errorCode?: number; message: string }) => err.errorCode === 42201 && /\$ref/.test(err.message),
    );
    assert.ok(performance.now() - started < 1000, `took ${performance.now() - started} ms`);
  });
});

describe('JSON Schema keywords not modelled must not change (B9)', () => {
  const base = { type: 'object', properties: { n: { type: 'number' }, l: { type: 'array' } } };
  const withProp = (name: string, extra: Record<string, unknown>) => ({
    ...base,
    properties: { ...base.properties, [name]: { ...(base.properties as Record<string, object>)[name], ...extra } },
  });
  for (const [name, candidate] of [
    ['multipleOf', withProp('n', { multipleOf: 2 })],
    ['uniqueItems', withProp('l', { uniqueItems: true })],
    ['contains', withProp('l', { contains: { type: 'string' } })],
    ['dependentRequired', { ...base, dependentRequired: { n: ['l'] } }],
    ['propertyNames', { ...base, propertyNames: { maxLength: 1 } }],
    ['maxProperties', { ...base, maxProperties: 0 }],
  ] as const)
    it(`adding ${name} is not BACKWARD compatible`, () => {
      assert.notDeepEqual(backward(candidate, base), []);
    });
  it('annotations (title, description) may change', () => {
    assert.deepEqual(backward({ ...base, title: 'T', description: 'd' }, base), []);
  });
  it('a $ref with a sibling maximum (2020-12) counts the sibling', () => {
    const old = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $defs: { n: { type: 'number' } },
      properties: { x: { $ref: '#/$defs/n' } },
    };
    const candidate = { ...old, properties: { x: { $ref: '#/$defs/n', maximum: 5 } } };
    assert.notDeepEqual(backward(candidate, old), []);
  });
  it('a type change behind a $id or $anchor reference is not compatible (not resolved locally)', () => {
    const byId = (t: string) => ({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $defs: { n: { $id: 'n.json', type: t } },
      properties: { x: { $ref: 'n.json' } },
    });
    assert.notDeepEqual(backward(byId('string'), byId('integer')), []);
    const byAnchor = (t: string) => ({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $defs: { n: { $anchor: 'N', type: t } },
      properties: { x: { $ref: '#N' } },
    });
    assert.notDeepEqual(backward(byAnchor('string'), byAnchor('integer')), []);
  });
  it('a type change 70 levels deep is not compatible (the depth cutoff never says compatible)', () => {
    const deep = (t: string) => {
      let s: Record<string, unknown> = { type: t };
      for (let i = 0; i < 70; i++) s = { type: 'object', properties: { x: s } };
      return s;
    };
    assert.notDeepEqual(backward(deep('integer'), deep('string')), []);
  });
  it('the common safe changes stay compatible', () => {
    assert.deepEqual(backward({ ...base, properties: { ...base.properties, c: { type: 'string' } } }, base), []);
    assert.deepEqual(backward({ ...base, properties: { ...base.properties, n: {} } }, base), []);
  });
});

describe('deeply nested schemas are invalid, not a crash (B10)', () => {
  const nestedJson = (depth: number) => {
    let s = '{"type":"string"}';
    for (let i = 0; i < depth; i++) s = `{"type":"object","properties":{"x":${s}}}`;
    return s;
  };
  const nestedAvro = (depth: number) => {
    let s = '"string"';
    for (let i = 0; i < depth; i++) s = `{"type":"record","name":"R${i}","fields":[{"name":"x","type":${s}}]}`;
    return s;
  };
  for (const [type, text] of [
    ['JSON', nestedJson(100_000)],
    ['AVRO', nestedAvro(100_000)],
  ] as const)
    it(`${type} nested 100,000 deep → 42201`, () => {
      assert.throws(
        () => parseSchema(type, canonicalText(type, text, true), []),
        (err: { errorCode?: number; message: string }) => err.errorCode === 42201 && /nested|deep/i.test(err.message),
      );
    });
});

describe('protobuf first message (B8)', () => {
  it('is the first message declared, wherever the line breaks are (the codec’s choice)', () => {
    const v1 = parseSchema('PROTOBUF', 'syntax = "proto3";\nmessage A { int32 x = 1; }', []);
    const v2 = parseSchema(
      'PROTOBUF',
      'syntax = "proto3"; message Z { string x = 1; }\nmessage A { int32 x = 1; }',
      [],
    );
    assert.deepEqual(incompatibilities('BACKWARD', v2, [v1]), ['backward: the first message changed from A to Z']);
  });
});
