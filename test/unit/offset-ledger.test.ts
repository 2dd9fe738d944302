/**
 * The offset ledger alone: a consumer instance may commit only what its client received. Each
 * case hands records to a "response", settles it the way the route does (delivered(count) once the
 * response was written) and checks what commit-all / auto-commit would store.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OffsetLedger } from '../../src/kafka/consumers/offset-ledger.js';

const rec = (topic: string, partition: number, offset: number) => ({ topic, partition, offset });
const batch = (topic: string, partition: number, from: number, n: number) =>
  Array.from({ length: n }, (_, i) => rec(topic, partition, from + i));

describe('offset ledger: never commit what the client did not receive', () => {
  it('records handed to a response that is not settled yet are not committable', () => {
    const ledger = new OffsetLedger();
    ledger.handOut(batch('t', 0, 0, 5));
    assert.deepEqual(ledger.uncommitted(), []);
    // …but the position moved past them, so the next fetch does not hand them out twice.
    assert.equal(ledger.position({ topic: 't', partition: 0 }), 5);
  });

  it('a fully written response makes the offset after its last record committable', () => {
    const ledger = new OffsetLedger();
    assert.deepEqual(ledger.handOut(batch('t', 0, 10, 3)).settle(3), []);
    assert.deepEqual(ledger.uncommitted(), [{ topic: 't', partition: 0, offset: 13 }]);
  });

  it('a response cut short commits only the records written, and rewinds to the first one lost', () => {
    const ledger = new OffsetLedger();
    const rewind = ledger.handOut(batch('t', 0, 0, 5)).settle(2);
    assert.deepEqual(ledger.uncommitted(), [{ topic: 't', partition: 0, offset: 2 }]);
    assert.deepEqual(rewind, [{ topic: 't', partition: 0, offset: 2 }]);
  });

  it('a response that never reached the client commits nothing and rewinds every partition', () => {
    const ledger = new OffsetLedger();
    const records = [...batch('t', 0, 4, 2), ...batch('t', 1, 7, 2), ...batch('u', 0, 0, 1)];
    const rewind = ledger.handOut(records).settle(0);
    assert.deepEqual(ledger.uncommitted(), []);
    assert.deepEqual(rewind, [
      { topic: 't', partition: 0, offset: 4 },
      { topic: 't', partition: 1, offset: 7 },
      { topic: 'u', partition: 0, offset: 0 },
    ]);
  });

  it('with several partitions, a partition whose records were all lost gets no commit', () => {
    const ledger = new OffsetLedger();
    const rewind = ledger.handOut([...batch('t', 0, 0, 2), ...batch('t', 1, 0, 2)]).settle(3);
    assert.deepEqual(ledger.uncommitted(), [
      { topic: 't', partition: 0, offset: 2 },
      { topic: 't', partition: 1, offset: 1 },
    ]);
    assert.deepEqual(rewind, [{ topic: 't', partition: 1, offset: 1 }]);
  });

  it('only the first settle counts: a second, larger count cannot move the commit ahead', () => {
    const ledger = new OffsetLedger();
    const out = ledger.handOut(batch('t', 0, 0, 4));
    out.settle(1);
    assert.deepEqual(out.settle(4), []);
    assert.deepEqual(ledger.uncommitted(), [{ topic: 't', partition: 0, offset: 1 }]);
  });

  it('a count outside 0…records (negative, too large, not a number) cannot commit ahead', () => {
    for (const [count, expected] of [
      [-1, []],
      [Number.NaN, []],
      [99, [{ topic: 't', partition: 0, offset: 3 }]],
      [1.7, [{ topic: 't', partition: 0, offset: 1 }]],
    ] as const) {
      const ledger = new OffsetLedger();
      ledger.handOut(batch('t', 0, 0, 3)).settle(count);
      assert.deepEqual(ledger.uncommitted(), expected, `count ${count}`);
    }
  });

  it('a later response settled before an earlier one still commits only received records', () => {
    const ledger = new OffsetLedger();
    const first = ledger.handOut(batch('t', 0, 0, 2));
    const second = ledger.handOut(batch('t', 0, 2, 2));
    second.settle(0);
    assert.deepEqual(ledger.uncommitted(), []);
    first.settle(2);
    assert.deepEqual(ledger.uncommitted(), [{ topic: 't', partition: 0, offset: 2 }]);
  });

  it('a seek moves the position but makes nothing committable', () => {
    const ledger = new OffsetLedger();
    ledger.seek({ topic: 't', partition: 0 }, 42);
    assert.equal(ledger.position({ topic: 't', partition: 0 }), 42);
    assert.deepEqual(ledger.uncommitted(), []);
  });

  it('what this instance committed is not committed again until the client receives more', () => {
    const ledger = new OffsetLedger();
    ledger.handOut(batch('t', 0, 0, 2)).settle(2);
    ledger.committed(ledger.uncommitted());
    assert.deepEqual(ledger.uncommitted(), []);
    ledger.handOut(batch('t', 0, 2, 1)).settle(1);
    assert.deepEqual(ledger.uncommitted(), [{ topic: 't', partition: 0, offset: 3 }]);
  });

  it('an explicit commit of other offsets does not hide what the client received', () => {
    const ledger = new OffsetLedger();
    ledger.handOut(batch('t', 0, 0, 5)).settle(5);
    ledger.committed([{ topic: 't', partition: 0, offset: 1 }]);
    assert.deepEqual(ledger.uncommitted(), [{ topic: 't', partition: 0, offset: 5 }]);
  });

  it('revocation returns what was received and not committed of the lost partitions, and forgets them', () => {
    const ledger = new OffsetLedger();
    ledger.handOut([...batch('t', 0, 0, 3), ...batch('t', 1, 0, 2), ...batch('t', 2, 0, 4)]).settle(9);
    ledger.committed([{ topic: 't', partition: 2, offset: 4 }]);
    const pending = ledger.revoke([
      { topic: 't', partition: 1 },
      { topic: 't', partition: 2 },
    ]);
    assert.deepEqual(pending, [{ topic: 't', partition: 1, offset: 2 }]);
    assert.deepEqual(ledger.uncommitted(), [{ topic: 't', partition: 0, offset: 3 }]);
    assert.equal(ledger.position({ topic: 't', partition: 1 }), undefined);
    assert.equal(ledger.position({ topic: 't', partition: 0 }), 3);
  });

  it('a reset (new subscription or assignment) forgets positions, received and committed offsets', () => {
    const ledger = new OffsetLedger();
    ledger.handOut(batch('t', 0, 0, 2)).settle(2);
    ledger.seek({ topic: 't', partition: 1 }, 9);
    ledger.reset();
    assert.deepEqual(ledger.uncommitted(), []);
    assert.equal(ledger.position({ topic: 't', partition: 0 }), undefined);
    assert.equal(ledger.position({ topic: 't', partition: 1 }), undefined);
  });
  it('a response settled after its partition was revoked does not make it committable (the new owner commits it)', () => {
    const ledger = new OffsetLedger();
    const pending = ledger.handOut([...batch('t', 0, 2000, 3), ...batch('t', 1, 0, 3)]);
    ledger.revoke([{ topic: 't', partition: 0 }]);
    // The new owner reads t-0 to 5000 and commits; then the slow socket takes the old batch.
    const rewind = pending.settle(6);
    assert.deepEqual(ledger.uncommitted(), [{ topic: 't', partition: 1, offset: 3 }]);
    assert.deepEqual(rewind, []);
    assert.equal(ledger.position({ topic: 't', partition: 0 }), undefined, 'nothing known of t-0 any more');
  });

  it('nor after a new subscription replaced the old one', () => {
    const ledger = new OffsetLedger();
    const pending = ledger.handOut(batch('t', 0, 0, 3));
    ledger.reset();
    assert.deepEqual(pending.settle(3), []);
    assert.deepEqual(ledger.uncommitted(), []);
  });
});
