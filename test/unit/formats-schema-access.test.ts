/**
 * Schema ids under a policy, at the SchemaFormats port (v2 forProduce and v3 schemaById): an id
 * registered only under subjects of topics the caller may not describe answers exactly as an id
 * that does not exist, and a registry that cannot say which subjects use an id fails closed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError, RegistryErrors } from '../../src/core/errors.js';
import type { SchemaRegistry, SchemaText } from '../../src/core/ports.js';
import { SchemaFormats } from '../../src/formats/schema-formats.js';

const schemas = new Map<number, { text: SchemaText; subjects: string[] }>([
  [1, { text: { schemaType: 'AVRO', schema: '"string"', references: [] }, subjects: ['bob.hr-value'] }],
  [2, { text: { schemaType: 'AVRO', schema: '"long"', references: [] }, subjects: ['alice.t-value'] }],
]);
const lookup = (id: number) => {
  const found = schemas.get(id);
  if (found === undefined) throw RegistryErrors.schemaNotFound(id);
  return found;
};
const base: SchemaRegistry = {
  register: async () => 0,
  schemaById: async (id) => lookup(id).text,
  version: async () => {
    throw RegistryErrors.subjectNotFound('x');
  },
};
const withUses: SchemaRegistry = { ...base, subjectsOf: async (id) => lookup(id).subjects };
const alice = (topic: string) => topic.startsWith('alice.');

async function answer(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof GatewayError);
    return `${err.errorCode} ${err.message}`;
  }
}

describe('schema ids and the caller', () => {
  it('v3 schemaById: a foreign id reads as a missing one; an own id works; no policy: any id', async () => {
    const formats = new SchemaFormats(withUses);
    const missing = await answer(formats.schemaById(99, alice));
    assert.match(missing, /^42207 .*Schema 99 not found/);
    assert.equal(await answer(formats.schemaById(1, alice)), missing.replaceAll('99', '1'));
    assert.equal(await answer(formats.schemaById(2, alice)), 'ok');
    assert.equal(await answer(formats.schemaById(1)), 'ok');
  });

  it('v2 forProduce by id, and a registry without subjectsOf fails closed', async () => {
    assert.equal(
      await answer(new SchemaFormats(withUses).forProduce('alice.t', 'value', 'avro', { id: 2 }, alice)),
      'ok',
    );
    const closed = new SchemaFormats(base);
    assert.match(await answer(closed.forProduce('alice.t', 'value', 'avro', { id: 2 }, alice)), /Schema 2 not found/);
    assert.equal(await answer(closed.forProduce('alice.t', 'value', 'avro', { id: 2 })), 'ok');
  });
});
