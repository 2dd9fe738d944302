// Schemas by id through the SchemaRegistry port (broker-free, over an in-memory registry):
// references resolved through the registry for all three types, one compile per id, and the
// decoder's answers for bytes it cannot read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '../../src/core/errors.js';
import { SchemaFormats } from '../../src/formats/schema-formats.js';
import { frame } from '../../src/formats/wire.js';
import { FakeRegistry } from '../support/fake-registry.js';

describe('schema formats over the registry port', () => {
  it('avro: a record type from another subject, by reference', async () => {
    const registry = new FakeRegistry();
    await registry.register('point', {
      schemaType: 'AVRO',
      schema: JSON.stringify({ type: 'record', name: 'demo.Point', fields: [{ name: 'x', type: 'int' }] }),
      references: [],
    });
    const id = await registry.register('shape-value', {
      schemaType: 'AVRO',
      schema: JSON.stringify({
        type: 'record',
        name: 'demo.Shape',
        fields: [{ name: 'corners', type: { type: 'array', items: 'demo.Point' } }],
      }),
      references: [{ name: 'demo.Point', subject: 'point', version: 1 }],
    });
    const formats = new SchemaFormats(registry);
    const codec = await formats.forProduce('shape', 'value', 'avro', { id });
    const bytes = codec.encode({ corners: [{ x: 1 }, { x: 2 }] });
    const decoder = await formats.decoderFor([bytes]);
    assert.equal(decoder.render(bytes), '{"corners":[{"x":1},{"x":2}]}');
  });

  it('jsonschema: a $ref to a referenced schema by its name', async () => {
    const registry = new FakeRegistry();
    await registry.register('address', {
      schemaType: 'JSON',
      schema: JSON.stringify({ type: 'object', properties: { zip: { type: 'string' } }, required: ['zip'] }),
      references: [],
    });
    const id = await registry.register('customer-value', {
      schemaType: 'JSON',
      schema: JSON.stringify({ type: 'object', properties: { home: { $ref: 'address.json' } } }),
      references: [{ name: 'address.json', subject: 'address', version: 1 }],
    });
    const codec = await new SchemaFormats(registry).forProduce('customer', 'value', 'jsonschema', { id });
    assert.ok(codec.encode({ home: { zip: '75001' } }).length > 5);
    assert.throws(
      () => codec.encode({ home: {} }),
      (err: { issues: unknown }) => {
        assert.deepEqual(err.issues, [{ path: '/home', message: 'must have property "zip"' }]);
        return true;
      },
    );
  });

  it('protobuf: an imported file from another subject; nested messages by message indexes', async () => {
    const registry = new FakeRegistry();
    await registry.register('common', {
      schemaType: 'PROTOBUF',
      schema: 'syntax = "proto3"; package demo; message Where { double lat = 1; double lon = 2; }',
      references: [],
    });
    const id = await registry.register('fix-value', {
      schemaType: 'PROTOBUF',
      schema:
        'syntax = "proto3"; package demo; import "common.proto";\n' +
        'message Fix { Where at = 1; message Note { string text = 1; } }',
      references: [{ name: 'common.proto', subject: 'common', version: 1 }],
    });
    const formats = new SchemaFormats(registry);
    const codec = await formats.forProduce('fix', 'value', 'protobuf', { id });
    const bytes = codec.encode({ at: { lat: 48.85, lon: 2.35 } });
    const nested = frame(id, Buffer.from([0x0a, 0x02, 0x68, 0x69]), [0, 0]); // Fix.Note { text: "hi" }
    const decoder = await formats.decoderFor([bytes, nested]);
    assert.equal(decoder.render(bytes), '{"at":{"lat":48.85,"lon":2.35}}');
    assert.equal(decoder.render(nested), '{"text":"hi"}');
  });

  it("jsonschema: a client's pattern cannot take exponential time (RE2), and each pattern keeps its meaning", async () => {
    const registry = new FakeRegistry();
    const formats = new SchemaFormats(registry);
    const schema = JSON.stringify({
      type: 'object',
      properties: { s: { type: 'string', pattern: '^(a+)+$' } },
      patternProperties: { '^x-': { type: 'integer' } },
    });
    const codec = await formats.forProduce('t', 'value', 'jsonschema', { schema });
    const started = Date.now();
    assert.throws(
      () => codec.encode({ s: `${'a'.repeat(5000)}!`, 'x-1': 'no' }),
      (err: { issues: unknown }) => {
        assert.deepEqual(err.issues, [
          { path: '/s', message: 'must match pattern "^(a+)+$"' },
          { path: '/x-1', message: 'must be integer' },
        ]);
        return true;
      },
    );
    assert.ok(Date.now() - started < 1000, 'a backtracking engine would not return');
    // Look-around is not RE2: such a schema is refused as invalid (42205), not run.
    const lookahead = JSON.stringify({ type: 'string', pattern: '(?=a)' });
    await assert.rejects(formats.forProduce('u', 'value', 'jsonschema', { schema: lookahead }), { errorCode: 42205 });
    // Nor a pattern whose RE2 program is huge (linear time, but in a huge program).
    const huge = JSON.stringify({ type: 'string', pattern: '[a-z]{1000}[0-9]{1000}x{500}' });
    await assert.rejects(formats.forProduce('v', 'value', 'jsonschema', { schema: huge }), { errorCode: 42205 });
  });

  it('avro: a block count its bytes cannot hold is refused at once, not looped over', async () => {
    const registry = new FakeRegistry();
    const schema = JSON.stringify({
      type: 'record',
      name: 'R',
      fields: [
        { name: 'xs', type: { type: 'array', items: 'int' } },
        { name: 'ns', type: { type: 'array', items: 'null' } },
        { name: 'm', type: { type: 'map', values: 'int' } },
      ],
    });
    const id = await registry.register('t-value', { schemaType: 'AVRO', schema, references: [] });
    const formats = new SchemaFormats(registry);
    const codec = await formats.forProduce('t', 'value', 'avro', { id });
    const fine = codec.encode({ xs: [1, 2], ns: [null], m: { a: 1 } });
    const huge = [0xfe, 0xff, 0xff, 0xff, 0x0f]; // a block of 2^31 - 1 items
    const claims = [
      frame(id, Buffer.from([...huge, 0x02])), // ints, with one byte left
      frame(id, Buffer.from([0x00, ...huge])), // nulls (each takes no byte)
      frame(id, Buffer.from([0x00, 0x00, ...huge])), // map entries
    ];
    const decoder = await formats.decoderFor([fine, ...claims]);
    assert.equal(decoder.render(fine), '{"xs":[1,2],"ns":[null],"m":{"a":1}}');
    const started = Date.now();
    for (const bytes of claims) assert.throws(() => decoder.render(bytes), /claims 2147483647 items/);
    assert.ok(Date.now() - started < 1000);
  });

  it('compiles a schema once per id, and registers a schema text once per subject', async () => {
    const registry = new FakeRegistry();
    const formats = new SchemaFormats(registry);
    for (let i = 0; i < 5; i++) await formats.forProduce('t', 'value', 'avro', { schema: '"string"' });
    assert.equal(registry.calls.register, 1);
    assert.equal(registry.calls.schemaById, 1);
  });

  it('a decoder names why bytes cannot be read: not framed, unknown id, not decodable', async () => {
    const registry = new FakeRegistry();
    const id = await registry.register('t-value', { schemaType: 'AVRO', schema: '"int"', references: [] });
    const formats = new SchemaFormats(registry);
    const plain = Buffer.from('{"a":1}');
    const unknown = frame(4242, Buffer.from([2]));
    const cut = frame(id, Buffer.from([0x80]));
    const decoder = await formats.decoderFor([plain, unknown, cut]);
    assert.throws(() => decoder.render(plain), /magic byte 123/);
    assert.throws(() => decoder.render(unknown), /schema 4242: .*Schema 4242 not found/);
    assert.throws(() => decoder.render(cut));
    assert.equal(decoder.render(null), 'null');
  });

  it('produce-side errors carry Confluent codes', async () => {
    const registry = new FakeRegistry();
    const formats = new SchemaFormats(registry);
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 0,
        (err: GatewayError) => err.errorCode,
      );
    assert.equal(await code(formats.forProduce('t', 'value', 'avro', { schema: '{' })), 400);
    assert.equal(await code(formats.forProduce('t', 'value', 'avro', { schema: '{"type":"nope"}' })), 42205);
    assert.equal(await code(formats.forProduce('t', 'value', 'protobuf', { schema: 'syntax = "proto3";' })), 42205);
    assert.equal(await code(formats.forProduce('t', 'value', 'jsonschema', { id: 77 })), 42207);
  });
});
