/**
 * Decoding is bounded by output size: a few bytes that stand for megabytes of JSON fail as soon as
 * the text would pass the cap, and everything below the cap renders as JSON.stringify would.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compile } from '../../src/formats/codecs.js';
import { OutputTooLargeError, boundedJson, renderCap } from '../../src/formats/bounded-json.js';

const zigzag = (n: number) =>
  Buffer.from([n * 2 < 0x80 ? n * 2 : ((n * 2) & 0x7f) | 0x80, ...(n * 2 < 0x80 ? [] : [(n * 2) >> 7])]);

describe('bounded JSON rendering', () => {
  it('renders what JSON.stringify renders, bigints as exact integers', () => {
    const value = { a: [1, 'x"y', null, true, { b: undefined, c: 2.5 }], d: '\u0001', e: Number.NaN };
    assert.equal(boundedJson(value, 1000), JSON.stringify(value));
    assert.equal(boundedJson({ n: 2n ** 63n - 1n }, 100), '{"n":9223372036854775807}');
  });

  it('throws once the text would pass the cap', () => {
    assert.throws(() => boundedJson(['x'.repeat(50), 'y'.repeat(50)], 80), OutputTooLargeError);
    assert.equal(boundedJson(['x'.repeat(50)], 80).length, 54);
  });

  it('caps by the encoded size, with a floor and a ceiling', () => {
    assert.equal(renderCap(10), 64 * 1024);
    assert.equal(renderCap(1024 * 1024), 16 * 1024 * 1024);
    assert.equal(renderCap(2008), 256 * 2008);
  });

  it('avro: 2,000 one-byte enum values with a 100,000-character symbol fail fast', () => {
    const schema = { type: 'array', items: { type: 'enum', name: 'E', symbols: ['S' + 'x'.repeat(100_000)] } };
    const codec = compile(1, { schemaType: 'AVRO', schema: JSON.stringify(schema), references: [], dependencies: [] });
    const rest = Buffer.concat([zigzag(2000), Buffer.alloc(2000), Buffer.from([0])]);
    const started = Date.now();
    assert.throws(() => codec.decode(rest, renderCap(rest.length + 5)), /longer than 514048 characters/);
    assert.ok(Date.now() - started < 500);
    // One item renders under a cap it fits in (not under the 64 KiB floor: 100,005 characters).
    const one = Buffer.concat([zigzag(1), Buffer.alloc(1), Buffer.from([0])]);
    assert.throws(() => codec.decode(one, renderCap(one.length + 5)), OutputTooLargeError);
    assert.equal(codec.decode(one, 200_000).length, 100_005);
  });

  it('protobuf: repeated empty messages of a wide type fail before toObject builds them', () => {
    const fields = Array.from({ length: 500 }, (_, i) => `int32 field_with_a_long_name_${i} = ${i + 1};`).join(' ');
    const schema = `syntax = "proto3"; message Outer { repeated Wide items = 1; } message Wide { ${fields} }`;
    const codec = compile(1, { schemaType: 'PROTOBUF', schema, references: [], dependencies: [] });
    // indexes [0] as the single byte 0, then 20,000 × (field 1, length 0).
    const payload = Buffer.alloc(40_000);
    for (let i = 0; i < payload.length; i += 2) payload[i] = 0x0a;
    const rest = Buffer.concat([Buffer.from([0]), payload]);
    const started = Date.now();
    assert.throws(() => codec.decode(rest, renderCap(rest.length + 5)), OutputTooLargeError);
    assert.ok(Date.now() - started < 1000, `${Date.now() - started} ms`);
    const small = Buffer.from([0, 0x0a, 0x00]);
    assert.equal(Object.keys(JSON.parse(codec.decode(small, renderCap(8))).items[0]).length, 500);
  });
});
