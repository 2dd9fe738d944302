// Event ids of a stream: what the gateway writes, it reads back exactly; anything else in
// Last-Event-ID (untrusted) is a 400, never a crash or a seek somewhere odd.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '../../src/core/errors.js';
import { PositionTracker, decodePositions, positionList, resolveTopics } from '../../src/streaming/event-id.js';

describe('stream event ids', () => {
  it('round-trips the positions of several topics and partitions', () => {
    const t = new PositionTracker();
    t.advance('orders', 0, 43);
    t.advance('payments.eu-1', 2, 8);
    const id = t.advance('orders', 3, 7);
    assert.equal(id, 'orders@0=43,3=7|payments.eu-1@2=8');
    assert.deepEqual(positionList(decodePositions(id)), [
      { topic: 'orders', partition: 0, offset: 43 },
      { topic: 'orders', partition: 3, offset: 7 },
      { topic: 'payments.eu-1', partition: 2, offset: 8 },
    ]);
    // A resumed stream carries the positions it resumed from into its next ids.
    const resumed = new PositionTracker(decodePositions(id));
    assert.equal(resumed.advance('payments.eu-1', 2, 9), 'orders@0=43,3=7|payments.eu-1@2=9');
  });

  it('names a long topic by a short hash, resolved back only against the assigned topics', () => {
    const long = `orders-${'x'.repeat(240)}`;
    const id = new PositionTracker().advance(long, 3, 7);
    assert.match(id, /^~[A-Za-z0-9_-]{11}@3=7$/);
    assert.deepEqual(positionList(resolveTopics(decodePositions(id), ['orders', long])), [
      { topic: long, partition: 3, offset: 7 },
    ]);
    assert.deepEqual(positionList(resolveTopics(decodePositions(id), ['orders'])), [], 'not assigned: dropped');
  });

  for (const bad of [
    'orders',
    'orders@',
    'orders@0',
    'orders@0=1=2',
    'orders@-1=5',
    'orders@0=01',
    'orders@0=1,0=2',
    'orders@0=1|orders@1=2',
    'or/ders@0=1',
    '@0=1',
    'orders@0=99999999999999999',
    'orders@4294967296=1',
    `${'t'.repeat(250)}@0=1`,
    'x'.repeat(20_000),
  ]) {
    it(`refuses ${JSON.stringify(bad.slice(0, 40))} with a 400 naming the header`, () => {
      assert.throws(
        () => decodePositions(bad),
        (err: unknown) => err instanceof GatewayError && err.errorCode === 400 && /Last-Event-ID/.test(err.message),
      );
    });
  }
});
