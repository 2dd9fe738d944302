// Fast 404s everywhere (issue 10 item 5): committing or reading committed offsets of a topic or
// partition that does not exist answers 40401/40402 at once, as produce does, not 500 after seconds.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningGateway } from '../src/gateway.js';
import { ConsumerClient } from './support/consumer-client.js';
import { startTestGateway } from './support/gateway.js';
import { closeAdmin, createTopic, uniqueName } from './support/kafka.js';

let gw: RunningGateway;
before(async () => {
  gw = await startTestGateway();
});
after(async () => {
  await gw.close();
  await closeAdmin();
});

describe('consumers: unknown topics and partitions', () => {
  it('answers commits and committed-offset reads of unknown topics or partitions with 404 at once', async () => {
    const topic = await createTopic(2);
    const c = await ConsumerClient.create(gw.url, uniqueName('g'));
    const cases: Array<[string, number, number]> = [
      [uniqueName('missing'), 0, 40401],
      [topic, 7, 40402],
    ];
    for (const [t, partition, code] of cases) {
      const t0 = Date.now();
      const commit = await c.post('/offsets', { offsets: [{ topic: t, partition, offset: 1 }] });
      assert.equal(commit.status, 404);
      assert.equal(commit.body.error_code, code);
      const read = await c.get('/offsets', {}, { partitions: [{ topic: t, partition }] });
      assert.equal(read.status, 404);
      assert.equal(read.body.error_code, code);
      assert.ok(Date.now() - t0 < 3_000, `answered in ${Date.now() - t0} ms`);
    }
    const ok = await c.post('/offsets', { offsets: [{ topic, partition: 1, offset: 1 }] });
    assert.equal(ok.status, 200);
    await c.delete();
  });
});
