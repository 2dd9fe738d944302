// Framing a v3 produce stream (broker-free): concatenated JSON objects split wherever the chunks
// break — inside strings, escapes and multi-byte characters — and what cannot be framed is named.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonObjectSplitter } from '../../src/v3/json-stream.js';

function splitAll(text: string, chunkSize: number, max = 0): { texts: string[]; error?: string } {
  const s = new JsonObjectSplitter(max);
  const bytes = Buffer.from(text);
  const texts: string[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) {
    const out = s.push(bytes.subarray(i, i + chunkSize));
    texts.push(...out.texts);
    if (out.error !== undefined) return { texts, error: out.error.message };
  }
  return { texts };
}

describe('v3 JSON object splitter', () => {
  const records = [
    '{"value":{"type":"STRING","data":"a } { \\" \\\\"}}',
    '{"key":{"type":"JSON","data":[1,{"x":"é€😀"}]},"value":null}',
    '{}',
  ];
  const body = `${records[0]}\r\n  ${records[1]}${records[2]}\n`;

  it('splits concatenated or line-separated objects at every chunk size', () => {
    for (const size of [1, 2, 3, 7, 64, 4096])
      assert.deepEqual(splitAll(body, size), { texts: records }, `chunks of ${size}`);
  });

  it('a top-level value that is not an object is a framing error, after the objects before it', () => {
    const out = splitAll('{"a":1} [1]', 3);
    assert.deepEqual(out.texts, ['{"a":1}']);
    assert.match(out.error!, /expected '\{' to start a record, found "\["/);
  });

  it('an object above the limit is a framing error, whether it arrives whole or in pieces', () => {
    const big = `{"v":"${'x'.repeat(100)}"}`;
    for (const size of [5, 1000]) {
      const out = splitAll(`{"a":1}${big}`, size, 50);
      assert.deepEqual(out.texts, ['{"a":1}']);
      assert.match(out.error!, /larger than allowed threshold/);
    }
  });

  it('knows when the input stopped inside an object', () => {
    const s = new JsonObjectSplitter(0);
    s.push(Buffer.from('{"a":{"b":'));
    assert.equal(s.midObject, true);
    s.push(Buffer.from('1}}'));
    assert.equal(s.midObject, false);
  });
});
