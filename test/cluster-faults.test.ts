// Faults on a real replicated cluster (3 KRaft nodes, RF 3, min.insync.replicas=2): brokers killed,
// stopped, frozen and restarted while the gateway produces and consumes.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { cluster, liveBrokerIds, placement } from './support/cluster.js';
import { closeAdmin, createTopic } from './support/kafka.js';

after(async () => {
  await closeAdmin();
});

describe('the replicated test cluster', () => {
  it('has every node registered and replicates new topics to min(3, nodes) brokers', async () => {
    const info = await cluster.info();
    assert.deepEqual(
      await liveBrokerIds(),
      info.nodes.map((n) => n.id),
    );
    const topic = await createTopic(3);
    for (const p of await placement(topic)) {
      assert.equal(p.replicas.length, info.replicationFactor);
      assert.equal(p.isr.length, info.replicationFactor);
    }
  });

  it('restarts a killed node as the same broker', async () => {
    const info = await cluster.info();
    const victim = info.nodes[info.nodes.length - 1]!.id;
    await cluster.node(victim, 'kill');
    await cluster.heal();
    assert.deepEqual(
      await liveBrokerIds(),
      info.nodes.map((n) => n.id),
    );
  });
});
