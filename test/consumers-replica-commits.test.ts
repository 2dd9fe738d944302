// Two replicas started the same way (NODE_ID left at its default, as replicas behind a load
// balancer often are) both commit for manually assigned partitions: neither fences the other's
// offset commits, so every commit answered 200 is stored.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningGateway } from '../src/gateway.js';
import { ConsumerClient } from './support/consumer-client.js';
import { startTestGateway } from './support/gateway.js';
import { admin, closeAdmin, createTopic, uniqueName } from './support/kafka.js';

let a: RunningGateway;
let b: RunningGateway;
before(async () => {
  [a, b] = await Promise.all([startTestGateway(), startTestGateway()]);
});
after(async () => {
  await Promise.all([a.close(), b.close()]);
  await closeAdmin();
});

describe('manual-assignment commits from two replicas with the same settings', () => {
  it('stores every commit answered 200, whichever replica commits in turn', async () => {
    const topic = await createTopic(1);
    const group = uniqueName('g');
    const onA = await ConsumerClient.create(a.url, group);
    const onB = await ConsumerClient.create(b.url, group);
    for (const c of [onA, onB]) {
      const res = await c.post('/assignments', { partitions: [{ topic, partition: 0 }] });
      assert.equal(res.status, 204);
    }
    const kafkaAdmin = await admin();
    for (const [i, c] of [onA, onB, onA, onB].entries()) {
      const res = await c.post('/offsets', { offsets: [{ topic, partition: 0, offset: i * 10 }] });
      assert.equal(res.status, 200, `commit ${i}: ${res.text}`);
      const [stored] = await kafkaAdmin.fetchOffsets({ groupId: group, topics: [topic] });
      assert.equal(stored!.partitions[0]!.offset, String(i * 10 + 1), `commit ${i} is stored`);
    }
  });
});
