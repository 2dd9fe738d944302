// The Confluent wire format, byte by byte (broker-free): magic 0, a 4-byte big-endian id, then for
// protobuf the message indexes (zig-zag varints, [0] written as a single 0), then the payload.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WireFormatError, decodeMessageIndexes, encodeMessageIndexes, frame, unframe } from '../../src/formats/wire.js';

describe('Confluent wire format', () => {
  it('frames a payload behind magic byte 0 and the big-endian schema id', () => {
    const bytes = frame(0x01020304, Buffer.from('hi'));
    assert.deepEqual([...bytes], [0, 1, 2, 3, 4, 0x68, 0x69]);
    assert.deepEqual(unframe(bytes), { id: 0x01020304, rest: Buffer.from('hi') });
    assert.equal(unframe(frame(4294967295, Buffer.alloc(0))).id, 4294967295);
  });

  it('refuses bytes that are not framed: too short, or another magic byte', () => {
    assert.throws(() => unframe(Buffer.from([0, 0, 0])), WireFormatError);
    assert.throws(() => unframe(Buffer.from('{"a":1}')), /magic byte 123/);
  });

  it('writes message indexes [0] as one 0 byte, others as count then zig-zag varints', () => {
    assert.deepEqual([...encodeMessageIndexes([0])], [0]);
    // [1]: count 1 → 2, index 1 → 2; [2, 0]: count 2 → 4, 2 → 4, 0 → 0; 64 → 128 → two varint bytes.
    assert.deepEqual([...encodeMessageIndexes([1])], [2, 2]);
    assert.deepEqual([...encodeMessageIndexes([2, 0])], [4, 4, 0]);
    assert.deepEqual([...encodeMessageIndexes([64])], [2, 0x80, 0x01]);
    for (const indexes of [[0], [1], [2, 0], [64], [3, 1, 200]]) {
      const payload = Buffer.from([9, 9]);
      const decoded = decodeMessageIndexes(Buffer.concat([encodeMessageIndexes(indexes), payload]));
      assert.deepEqual(decoded, { indexes, payload });
    }
  });

  it('places protobuf message indexes between the id and the payload', () => {
    assert.deepEqual([...frame(7, Buffer.from([0x0a]), [0])], [0, 0, 0, 0, 7, 0, 0x0a]);
    assert.deepEqual([...frame(7, Buffer.from([0x0a]), [1])], [0, 0, 0, 0, 7, 2, 2, 0x0a]);
  });

  it('refuses cut-short or absurd message indexes', () => {
    assert.throws(() => decodeMessageIndexes(Buffer.from([4, 4])), /cut short/);
    assert.throws(() => decodeMessageIndexes(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01])), WireFormatError);
    assert.throws(() => decodeMessageIndexes(Buffer.from([3])), /count/);
  });
});
