/**
 * A fetch of many small schema-format records, each under its own cap, still has a total: the
 * fetch stops at the budget and answers the records before (the rest come next fetch); the first
 * record always goes, so a fetch never answers nothing for want of budget.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConsumedRecord } from '../../src/core/ports.js';
import { FETCH_RENDER_BUDGET } from '../../src/formats/bounded-json.js';
import { renderRecords, type FieldRenderer } from '../../src/http/consumers/records.js';

const records: ConsumedRecord[] = Array.from({ length: 10 }, (_, offset) => ({
  topic: 't',
  key: null,
  value: Buffer.from([0, 0, 0, 0, 1, 0]),
  partition: 0,
  offset,
  timestamp: 0,
  headers: [],
}));
// Six bytes each that render 1,002 bytes each (an enum with a long symbol, say).
const renderer = (maxOutputBytes?: number): FieldRenderer => ({
  format: 'avro',
  write: (bytes, out) => out.ascii(bytes === null ? 'null' : `"${'x'.repeat(1000)}"`),
  maxOutputBytes,
});

describe('the schema formats’ fetch budget', () => {
  it('stops before the record that would pass it, without a failure', () => {
    const out = renderRecords(records, renderer(3_500), false);
    assert.equal(out.count, 3);
    assert.equal(out.failure, undefined);
    assert.equal((JSON.parse(out.body.toString()) as unknown[]).length, 3);
  });

  it('always answers the first record', () => {
    assert.equal(renderRecords(records, renderer(10), false).count, 1);
  });

  it('applies to the schema formats only, at the default fetch size', () => {
    assert.equal(renderRecords(records, renderer(), false).count, 10);
    assert.equal(FETCH_RENDER_BUDGET, 64 * 1024 * 1024);
  });
});
