/**
 * Record rendering alone (http/consumers/records.ts): fetched records → the v2 response body, per
 * format, without a gateway or a broker.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteWriter } from '../../src/core/byte-writer.js';
import type { ConsumedRecord } from '../../src/core/ports.js';
import { FIELD_RENDERERS, fieldRenderer, renderRecords } from '../../src/http/consumers/records.js';

const record = (
  offset: number,
  value: string | Buffer | null,
  extra: Partial<ConsumedRecord> = {},
): ConsumedRecord => ({
  topic: 'tweets',
  partition: 1,
  offset,
  key: null,
  value: typeof value === 'string' ? Buffer.from(value) : value,
  timestamp: 1_767_225_600_000,
  headers: [],
  ...extra,
});

describe('record rendering', () => {
  it('json: the stored JSON text as is, so 64-bit numbers stay exact; strict mode writes the five v2 fields', () => {
    const out = renderRecords([record(0, '{"id":1150000000000000002}')], FIELD_RENDERERS.json, false);
    assert.equal(
      out.body.toString(),
      '[{"topic":"tweets","key":null,"value":{"id":1150000000000000002},"partition":1,"offset":0}]',
    );
    assert.equal(out.count, 1);
    assert.equal(out.failure, undefined);
  });

  it('binary: base64 of the exact bytes; lenient mode adds timestamp and base64 headers', () => {
    const bytes = Buffer.from([0, 1, 2, 255]);
    const out = renderRecords(
      [
        record(7, bytes, {
          key: Buffer.from('k'),
          headers: [
            { key: 'h', value: Buffer.from('v') },
            { key: 'n', value: null },
          ],
        }),
      ],
      FIELD_RENDERERS.binary,
      true,
    );
    assert.deepEqual(JSON.parse(out.body.toString()), [
      {
        topic: 'tweets',
        key: Buffer.from('k').toString('base64'),
        value: bytes.toString('base64'),
        partition: 1,
        offset: 7,
        timestamp: 1_767_225_600_000,
        headers: [
          { key: 'h', value: Buffer.from('v').toString('base64') },
          { key: 'n', value: null },
        ],
      },
    ]);
    assert.equal(out.bytes, 5, 'raw key+value bytes');
  });

  it('topics with characters JSON must escape are written escaped', () => {
    const out = renderRecords([record(0, null, { topic: 'a"b' })], FIELD_RENDERERS.binary, false);
    assert.equal(JSON.parse(out.body.toString())[0].topic, 'a"b');
  });

  it('json stops before a record that is not JSON: the ones before it are answered, it comes next', () => {
    const out = renderRecords([record(0, '1'), record(1, 'not json'), record(2, '3')], FIELD_RENDERERS.json, false);
    assert.equal(out.count, 1);
    assert.deepEqual(
      JSON.parse(out.body.toString()).map((r: { value: unknown }) => r.value),
      [1],
    );
    assert.equal(out.failure?.errorCode, 40801);
    assert.match(out.failure!.message, /tweets-1 offset 1 as JSON/);
  });

  it('json fails at once when the first record is not JSON, naming its offset, so the client can seek past it', () => {
    const out = renderRecords([record(5, '{')], FIELD_RENDERERS.json, false);
    assert.equal(out.count, 0);
    assert.equal(out.body.toString(), '[]');
    assert.match(out.failure!.message, /offset 5/);
  });

  it('an empty fetch is an empty array', () => {
    const out = renderRecords([], FIELD_RENDERERS.json, true);
    assert.deepEqual({ ...out, body: out.body.toString() }, { body: '[]', count: 0, bytes: 0, failure: undefined });
  });

  it('picks the renderer by format', async () => {
    assert.equal((await fieldRenderer('json', [])).format, 'json');
    const out = new ByteWriter();
    (await fieldRenderer('binary', [])).write(Buffer.from('hi'), out);
    assert.equal(out.view().toString(), '"aGk="');
  });
});
