/**
 * The read-ahead buffer alone (kafka/consumers/buffer.ts): bounded by bytes, per-partition order,
 * and the waits a fetch does on it — on mocked timers, so a 30 s long-poll takes no time here.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConsumedRecord } from '../../src/core/ports.js';
import { RecordBuffer } from '../../src/kafka/consumers/buffer.js';

const rec = (partition: number, offset: number, bytes = 10): ConsumedRecord => ({
  topic: 't',
  partition,
  offset,
  key: null,
  value: Buffer.alloc(bytes),
  timestamp: 0,
  headers: [],
});

/** Whether `p` has settled after the microtasks already queued have run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('record buffer', () => {
  it('counts bytes and records; takes at most max_bytes but always one record', () => {
    const buffer = new RecordBuffer();
    buffer.push([rec(0, 0, 100), rec(0, 1, 100)]);
    assert.equal(buffer.bytes, 200);
    assert.equal(buffer.size, 2);
    assert.deepEqual(
      buffer.take(50).map((r) => r.offset),
      [0],
      'a record larger than max_bytes still comes',
    );
    assert.equal(buffer.bytes, 100);
    assert.deepEqual(
      buffer.take(1_000).map((r) => r.offset),
      [1],
    );
    assert.equal(buffer.size, 0);
  });

  it('keeps each partition in order and drops one partition’s read-ahead on a seek', () => {
    const buffer = new RecordBuffer();
    buffer.push([rec(0, 0), rec(0, 1)]);
    buffer.push([rec(1, 5), rec(1, 6)]);
    buffer.drop((tp) => tp.partition === 1);
    assert.equal(buffer.size, 2);
    assert.deepEqual(
      buffer.take(1_000).map((r) => `${r.partition}:${r.offset}`),
      ['0:0', '0:1'],
    );
  });

  it('visits partitions in turn, so one busy partition cannot starve another', () => {
    const buffer = new RecordBuffer();
    buffer.push([rec(0, 0), rec(0, 1), rec(0, 2)]);
    buffer.push([rec(1, 0)]);
    const first = buffer.take(10).map((r) => r.partition);
    const second = buffer.take(10).map((r) => r.partition);
    assert.notDeepEqual(first, second, 'the second take starts at the other partition');
  });

  it('a wait ends when records arrive, long before its timeout', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const buffer = new RecordBuffer();
    const wait = buffer.waitForChange(30_000);
    assert.equal(await settled(wait), false);
    buffer.push([rec(0, 0)]);
    assert.equal(await settled(wait), true);
  });

  it('a wait ends at its timeout when nothing happens', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const buffer = new RecordBuffer();
    const wait = buffer.waitForChange(30_000);
    t.mock.timers.tick(29_999);
    assert.equal(await settled(wait), false);
    t.mock.timers.tick(1);
    assert.equal(await settled(wait), true);
  });

  it('a wait ends when the client goes away (abort) or on wake (close, seek), and leaves no waiter behind', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const buffer = new RecordBuffer();
    const abort = new AbortController();
    const aborted = buffer.waitForChange(30_000, abort.signal);
    const woken = buffer.waitForChange(30_000);
    abort.abort();
    assert.equal(await settled(aborted), true);
    assert.equal(await settled(woken), false);
    buffer.wake();
    assert.equal(await settled(woken), true);
  });
});
