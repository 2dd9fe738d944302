/**
 * The compatibility rules, one row of the README's table per case: Avro by the specification's
 * resolution (avsc), JSON Schema and protobuf by the common changes; and the levels, transitive
 * or not.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { SchemaType } from '../../src/core/ports.js';
import { incompatibilities, type CompatibilityLevel } from '../../src/registry/compatibility.js';
import { parseSchema } from '../../src/registry/schemas.js';
import { RegistryState } from '../../src/registry/state.js';

const parse = (type: SchemaType, s: unknown) => parseSchema(type, typeof s === 'string' ? s : JSON.stringify(s), []);
const ok = (level: CompatibilityLevel, type: SchemaType, candidate: unknown, ...earlier: unknown[]) =>
  incompatibilities(
    level,
    parse(type, candidate),
    earlier.map((e) => parse(type, e)),
  );

const rec = (...fields: Array<Record<string, unknown>>) => ({ type: 'record', name: 'R', fields });

describe('Avro compatibility', () => {
  const v1 = rec({ name: 'a', type: 'int' });
  it('adding a field: with a default is BACKWARD, without one is only FORWARD', () => {
    assert.deepEqual(
      ok('BACKWARD', 'AVRO', rec({ name: 'a', type: 'int' }, { name: 'b', type: 'int', default: 1 }), v1),
      [],
    );
    assert.notDeepEqual(ok('BACKWARD', 'AVRO', rec({ name: 'a', type: 'int' }, { name: 'b', type: 'int' }), v1), []);
    assert.deepEqual(ok('FORWARD', 'AVRO', rec({ name: 'a', type: 'int' }, { name: 'b', type: 'int' }), v1), []);
    assert.notDeepEqual(ok('FULL', 'AVRO', rec({ name: 'a', type: 'int' }, { name: 'b', type: 'int' }), v1), []);
  });
  it('type promotion int → long reads old data; long → int does not', () => {
    assert.deepEqual(ok('BACKWARD', 'AVRO', rec({ name: 'a', type: 'long' }), v1), []);
    assert.notDeepEqual(ok('FORWARD', 'AVRO', rec({ name: 'a', type: 'long' }), v1), []);
  });
  it('enum: adding a symbol is BACKWARD, removing one is not', () => {
    const e = (...symbols: string[]) => rec({ name: 'c', type: { type: 'enum', name: 'C', symbols } });
    assert.deepEqual(ok('BACKWARD', 'AVRO', e('RED', 'GREEN', 'BLUE'), e('RED', 'GREEN')), []);
    assert.notDeepEqual(ok('BACKWARD', 'AVRO', e('RED'), e('RED', 'GREEN')), []);
  });
  it('transitive levels check every earlier version, the others only the latest', () => {
    const x1 = rec({ name: 'a', type: 'int' });
    const x2 = rec({ name: 'a', type: 'int' }, { name: 'b', type: 'int', default: 0 });
    const x3 = rec({ name: 'b', type: 'int' }, { name: 'a', type: 'int' });
    // x3 reads x2's data (b present), not x1's (b missing, no default).
    assert.deepEqual(ok('BACKWARD', 'AVRO', x3, x1, x2), []);
    assert.notDeepEqual(ok('BACKWARD_TRANSITIVE', 'AVRO', x3, x1, x2), []);
  });
});

describe('JSON Schema compatibility (README table)', () => {
  const base = { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] };
  const withNote = { ...base, properties: { ...base.properties, note: { type: 'string' } } };
  it('adding an optional property: BACKWARD and FORWARD', () => {
    assert.deepEqual(ok('FULL', 'JSON', withNote, base), []);
  });
  it('adding a required property: not BACKWARD', () => {
    assert.notDeepEqual(ok('BACKWARD', 'JSON', { ...withNote, required: ['id', 'note'] }, base), []);
    assert.deepEqual(ok('FORWARD', 'JSON', { ...withNote, required: ['id', 'note'] }, base), []);
  });
  it('removing a required constraint: BACKWARD only', () => {
    const loose = { ...base, required: [] };
    assert.deepEqual(ok('BACKWARD', 'JSON', loose, base), []);
    assert.notDeepEqual(ok('FORWARD', 'JSON', loose, base), []);
  });
  it('changing a type: incompatible; widening integer → number: BACKWARD', () => {
    assert.notDeepEqual(ok('BACKWARD', 'JSON', { ...base, properties: { id: { type: 'string' } } }, base), []);
    assert.deepEqual(ok('BACKWARD', 'JSON', { ...base, properties: { id: { type: 'number' } } }, base), []);
    assert.notDeepEqual(ok('FORWARD', 'JSON', { ...base, properties: { id: { type: 'number' } } }, base), []);
  });
  it('enums: adding a value is BACKWARD, removing one is FORWARD', () => {
    const e = (...values: string[]) => ({ type: 'object', properties: { c: { enum: values } } });
    assert.deepEqual(ok('BACKWARD', 'JSON', e('a', 'b'), e('a')), []);
    assert.notDeepEqual(ok('BACKWARD', 'JSON', e('a'), e('a', 'b')), []);
    assert.deepEqual(ok('FORWARD', 'JSON', e('a'), e('a', 'b')), []);
  });
  it('closing additional properties, or removing a property from a closed object: not BACKWARD', () => {
    assert.notDeepEqual(ok('BACKWARD', 'JSON', { ...base, additionalProperties: false }, base), []);
    const closed = { ...withNote, additionalProperties: false };
    assert.notDeepEqual(ok('BACKWARD', 'JSON', { ...base, additionalProperties: false }, closed), []);
  });
  it('tightening a bound: not BACKWARD; loosening: BACKWARD', () => {
    const s = (max: number) => ({ type: 'string', maxLength: max });
    assert.notDeepEqual(ok('BACKWARD', 'JSON', s(5), s(10)), []);
    assert.deepEqual(ok('BACKWARD', 'JSON', s(10), s(5)), []);
  });
});

describe('protobuf compatibility (README table)', () => {
  const p = (body: string) => `syntax = "proto3";\npackage t;\nmessage M {\n${body}\n}\nenum E { A = 0; B = 1; }\n`;
  const v1 = p('string name = 1; int32 n = 2;');
  it('adding or removing a field: compatible both ways', () => {
    assert.deepEqual(ok('FULL', 'PROTOBUF', p('string name = 1; int32 n = 2; bool f = 3;'), v1), []);
    assert.deepEqual(ok('FULL', 'PROTOBUF', p('string name = 1;'), v1), []);
  });
  it('changing a field type: incompatible unless the wire type matches (int32 ↔ int64, string ↔ bytes)', () => {
    assert.notDeepEqual(ok('BACKWARD', 'PROTOBUF', p('string name = 1; double n = 2;'), v1), []);
    assert.deepEqual(ok('FULL', 'PROTOBUF', p('bytes name = 1; int64 n = 2;'), v1), []);
  });
  it('singular ↔ repeated: incompatible', () => {
    assert.notDeepEqual(ok('BACKWARD', 'PROTOBUF', p('repeated string name = 1; int32 n = 2;'), v1), []);
  });
  it('removing an enum value or the first message: incompatible', () => {
    const noB = v1.replace('B = 1; ', '');
    assert.notDeepEqual(ok('BACKWARD', 'PROTOBUF', noB, v1), []);
    assert.deepEqual(ok('FORWARD', 'PROTOBUF', noB, v1), []);
    assert.notDeepEqual(
      ok('BACKWARD', 'PROTOBUF', 'syntax = "proto3";\npackage t;\nmessage Other { int32 x = 1; }', v1),
      [],
    );
  });
});

describe('reading the _schemas record format', () => {
  const k = (o: unknown) => Buffer.from(JSON.stringify(o));
  it('applies SCHEMA, CONFIG, DELETE_SUBJECT, tombstones, and skips NOOP and junk', () => {
    const state = new RegistryState();
    state.apply(k({ keytype: 'NOOP', magic: 0 }), null);
    state.apply(Buffer.from('not json'), Buffer.from('{'));
    state.apply(
      k({ keytype: 'SCHEMA', subject: 's', version: 1, magic: 1 }),
      k({ subject: 's', version: 1, id: 3, schema: '"int"', deleted: false }),
    );
    state.apply(
      k({ keytype: 'SCHEMA', subject: 's', version: 2, magic: 1 }),
      k({ subject: 's', version: 2, id: 4, schema: '"long"', deleted: false }),
    );
    state.apply(k({ keytype: 'CONFIG', subject: null, magic: 0 }), k({ compatibilityLevel: 'FULL' }));
    assert.deepEqual(state.versions('s', false), [1, 2]);
    assert.equal(state.globalLevel, 'FULL');
    assert.equal(state.maxId, 4);
    state.apply(k({ keytype: 'DELETE_SUBJECT', subject: 's', magic: 0 }), k({ subject: 's', version: 1 }));
    assert.deepEqual(state.versions('s', false), [2]);
    state.apply(k({ keytype: 'SCHEMA', subject: 's', version: 1, magic: 1 }), null);
    assert.deepEqual(state.versions('s', true), [2]);
    assert.equal(state.schemas.get(3), undefined);
  });
  it('refuses a record that claims an id another schema holds (every replica alike)', () => {
    const conflicts: string[] = [];
    const state = new RegistryState((m) => conflicts.push(m));
    state.apply(
      k({ keytype: 'SCHEMA', subject: 'a', version: 1, magic: 1 }),
      k({ subject: 'a', version: 1, id: 1, schema: '"int"', deleted: false }),
    );
    state.apply(
      k({ keytype: 'SCHEMA', subject: 'b', version: 1, magic: 1 }),
      k({ subject: 'b', version: 1, id: 1, schema: '"long"', deleted: false }),
    );
    assert.deepEqual(state.subjectNames(true), ['a']);
    assert.equal(conflicts.length, 1);
  });
});

describe('hostile schemas', () => {
  it('a recursive JSON Schema ($ref to itself) is compared without running away', () => {
    const tree = { type: 'object', properties: { name: { type: 'string' }, child: { $ref: '#' } } };
    const tree2 = { ...tree, properties: { ...tree.properties, note: { type: 'string' } } };
    assert.deepEqual(ok('FULL_TRANSITIVE', 'JSON', tree2, tree), []);
  });
});
