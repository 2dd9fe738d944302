// A second member joining the group rebalances it while an instance is being read. The instance
// must keep reading the partitions it keeps, from where its client is: not stop (partitions it
// had paused for a slow reader stayed paused in kafkajs across the rejoin) and not start over at
// the group's committed offset (records the client already had came again).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningGateway } from '../src/gateway.js';
import { ConsumerClient, type FetchedRecord } from './support/consumer-client.js';
import { JSON_V2, needsOwnGateway, startTestGateway } from './support/gateway.js';
import { closeAdmin, createTopic, kafka, uniqueName } from './support/kafka.js';
import { waitUntil } from './support/wait.js';

let gw: RunningGateway;
before(async () => {
  // A small read-ahead, so a reader that stops fetching pauses its partitions quickly.
  gw = await startTestGateway(needsOwnGateway ? {} : { CONSUMER_MAX_BUFFER_BYTES: String(64 * 1024) });
});
after(async () => {
  await gw?.close();
  await closeAdmin();
});

async function fillTopic(perPartition: number, valueBytes: number): Promise<string> {
  const topic = await createTopic(2);
  const producer = kafka.producer();
  await producer.connect();
  for (const partition of [0, 1]) {
    await producer.send({
      topic,
      messages: Array.from({ length: perPartition }, (_, i) => ({
        partition,
        value: JSON.stringify({ i, pad: 'x'.repeat(valueBytes) }),
      })),
    });
  }
  await producer.disconnect();
  return topic;
}

const SETTINGS = { format: 'json', 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'false' };

/** A second member joins the group (its first fetch joins it); resolves once `a` holds one partition. */
async function secondMemberJoins(group: string, topic: string, a: ConsumerClient): Promise<ConsumerClient> {
  const b = await ConsumerClient.create(gw.url, group, SETTINGS);
  await b.subscribe([topic]);
  await b.get('/records?timeout=3000&max_bytes=1');
  await waitUntil(
    'the rebalance to leave the first instance one partition',
    async () => ((await a.get('/assignments')).body as { partitions: unknown[] }).partitions.length === 1,
    { timeoutMs: 30_000, everyMs: 200 },
  );
  return b;
}

describe('consumers: a rebalance while an instance is read', () => {
  it('an instance whose partitions were paused for a slow reader reads them again after a rebalance', async () => {
    const topic = await fillTopic(400, 1000);
    const group = uniqueName('g');
    const a = await ConsumerClient.create(gw.url, group, SETTINGS);
    await a.subscribe([topic]);
    assert.ok((await a.fetch(JSON_V2, '?max_bytes=1')).length > 0);
    // The client stops reading: the 64 KiB read-ahead fills and the gateway pauses the partitions.
    await new Promise((r) => setTimeout(r, 2_500));
    const b = await secondMemberJoins(group, topic, a);
    const after = await a.fetchUntil(100, JSON_V2, 15_000);
    assert.ok(after.length >= 100);
    await b.delete();
    await a.delete();
  });

  it('a partition the instance keeps continues after the last record its client received', async () => {
    const topic = await fillTopic(100, 10);
    const group = uniqueName('g');
    const a = await ConsumerClient.create(gw.url, group, SETTINGS);
    await a.subscribe([topic]);
    // Some records of both partitions, not all; nothing committed.
    const before: FetchedRecord[] = [];
    while (new Set(before.map((r) => r.partition)).size < 2 || before.length < 40) {
      before.push(...(await a.fetch(JSON_V2, '?max_bytes=300')));
    }
    assert.ok(before.length < 200);
    const b = await secondMemberJoins(group, topic, a);
    const kept = ((await a.get('/assignments')).body as { partitions: Array<{ partition: number }> }).partitions[0]!
      .partition;
    const last = Math.max(...before.filter((r) => r.partition === kept).map((r) => r.offset));
    const next = (await a.fetchUntil(1, JSON_V2, 15_000)).filter((r) => r.partition === kept);
    assert.ok(next.length > 0);
    assert.equal(
      next[0]!.offset,
      last + 1,
      `partition ${kept} restarted at ${next[0]!.offset}, the client had ${last}`,
    );
    await b.delete();
    await a.delete();
  });
});
