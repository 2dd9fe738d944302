// Which Accept reads which consumer instance (broker-free): as Confluent, the three schema formats
// share one reader, so any of their types reads any of their instances; json and binary do not.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { negotiateFetch } from '../../src/http/negotiation.js';

const type = (f: string) => `application/vnd.kafka.${f}.v2+json`;

describe('fetch negotiation for the schema formats', () => {
  it('any schema-format Accept reads any schema-format instance, in both modes', () => {
    for (const strict of [false, true])
      for (const instance of ['avro', 'jsonschema', 'protobuf'] as const)
        for (const accept of ['avro', 'jsonschema', 'protobuf'])
          assert.deepEqual(negotiateFetch(type(accept), instance, strict), { type: type(accept), matches: true });
  });

  it('json and binary Accepts do not read a schema-format instance (40601), nor the reverse', () => {
    assert.equal(negotiateFetch(type('json'), 'avro', false).matches, false);
    assert.equal(negotiateFetch(type('binary'), 'protobuf', true).matches, false);
    assert.equal(negotiateFetch(type('avro'), 'json', false).matches, false);
  });

  it("lenient: no Accept or */* means the instance's own format; strict: binary, as Confluent", () => {
    assert.deepEqual(negotiateFetch(undefined, 'avro', false), { type: type('avro'), matches: true });
    assert.deepEqual(negotiateFetch('*/*', 'protobuf', false), { type: type('protobuf'), matches: true });
    assert.equal(negotiateFetch(undefined, 'avro', true).matches, false);
  });
});
