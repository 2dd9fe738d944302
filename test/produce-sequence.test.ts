// The idempotent producer never acknowledges a record it did not write. kafkajs numbers a
// partition's batches when it builds a request, so two requests to one partition in flight at
// once would carry the same sequence and Kafka would answer the second as a duplicate of the first.
// Concurrent requests large enough to need several sends to one partition show it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningGateway } from '../src/gateway.js';
import { JSON_V2, post, startTestGateway } from './support/gateway.js';
import { closeAdmin, createTopic, readRecords, recordCount } from './support/kafka.js';

let gw: RunningGateway;
before(async () => {
  gw = await startTestGateway({ PRODUCE_MAX_IN_FLIGHT: '8' });
});
after(async () => {
  await gw.close();
  await closeAdmin();
});

describe('produce: one request per partition in flight', () => {
  it('stores every acknowledged record when concurrent requests need several sends to one partition', async () => {
    const topic = await createTopic(2);
    const requests = 12;
    const perRequest = 450;
    const replies = await Promise.all(
      Array.from({ length: requests }, (_, r) =>
        post(`${gw.url}/topics/${topic}/partitions/0`, JSON_V2, {
          records: Array.from({ length: perRequest }, (_, i) => ({ value: { r, i } })),
        }),
      ),
    );
    const acked = new Set<string>();
    for (const reply of replies) {
      assert.equal(reply.status, 200);
      for (const o of reply.body.offsets as Array<{ offset: number; error_code: number | null }>) {
        assert.equal(o.error_code, null);
        acked.add(String(o.offset));
      }
    }
    assert.equal(acked.size, requests * perRequest, 'every acknowledged record has its own offset');
    assert.equal(await recordCount(topic), requests * perRequest, 'and every one is in Kafka');
    const stored = await readRecords(topic, requests * perRequest, 30_000);
    assert.equal(new Set(stored.map((s) => s.value!.toString())).size, requests * perRequest);
  });
});
