// At-least-once without loss: commits never go past what a client received, even though the
// gateway reads ahead of its clients. Checked by handing a group from one instance to the next.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningGateway } from '../src/gateway.js';
import { ConsumerClient, type FetchedRecord } from './support/consumer-client.js';
import { BINARY_V2, needsOwnGateway, startTestGateway } from './support/gateway.js';
import { admin, closeAdmin, createTopic, kafka, uniqueName } from './support/kafka.js';

const PARTITIONS = 3;
const PER_PARTITION = 200;

let gw: RunningGateway;
before(async () => {
  // Against GATEWAY_URL the gateway's own auto-commit interval applies (the periodic test skips).
  gw = await startTestGateway(needsOwnGateway ? {} : { CONSUMER_AUTO_COMMIT_INTERVAL_MS: '200' });
});
after(async () => {
  await gw?.close();
  await closeAdmin();
});

async function fillTopic(): Promise<string> {
  const topic = await createTopic(PARTITIONS);
  const producer = kafka.producer();
  await producer.connect();
  for (let p = 0; p < PARTITIONS; p++) {
    await producer.send({
      topic,
      messages: Array.from({ length: PER_PARTITION }, (_, i) => ({ partition: p, value: `p${p}-r${i}` })),
    });
  }
  await producer.disconnect();
  return topic;
}

/** Next offset after the last record received, per partition. */
function nextOffsets(records: FetchedRecord[]): Map<number, number> {
  const next = new Map<number, number>();
  for (const r of records) next.set(r.partition, Math.max(next.get(r.partition) ?? 0, r.offset + 1));
  return next;
}

async function committed(group: string, topic: string): Promise<Map<number, number>> {
  const [t] = await (await admin()).fetchOffsets({ groupId: group, topics: [topic] });
  return new Map(t!.partitions.filter((p) => Number(p.offset) >= 0).map((p) => [p.partition, Number(p.offset)]));
}

/** Reads small pieces (max_bytes) so the gateway's read-ahead is far beyond what the client got. */
async function readSome(c: ConsumerClient, atLeast: number): Promise<FetchedRecord[]> {
  const out: FetchedRecord[] = [];
  while (out.length < atLeast) out.push(...(await c.fetch(BINARY_V2, '?max_bytes=40')));
  return out;
}

function assertEveryRecordOnce(all: FetchedRecord[]): void {
  const seen = new Set(all.map((r) => `${r.partition}:${r.offset}`));
  for (let p = 0; p < PARTITIONS; p++) {
    for (let i = 0; i < PER_PARTITION; i++) assert.ok(seen.has(`${p}:${i}`), `record ${p}:${i} was skipped`);
  }
}

describe('consumers: no record lost or skipped', () => {
  it('auto-commit: deleting an instance commits exactly what its client received, and the next instance continues there', async () => {
    const topic = await fillTopic();
    const group = uniqueName('loss-auto');
    const a = await ConsumerClient.create(gw.url, group, { 'auto.offset.reset': 'earliest' });
    await a.subscribe([topic]);
    const partA = await readSome(a, 30);
    assert.ok(partA.length < (PARTITIONS * PER_PARTITION) / 2, 'only part of the topic was read');
    assert.equal((await a.delete()).status, 204);

    // The group's committed offsets are what the client received, not what the gateway had read ahead.
    assert.deepEqual(await committed(group, topic), nextOffsets(partA));

    const b = await ConsumerClient.create(gw.url, group, { 'auto.offset.reset': 'earliest' });
    await b.subscribe([topic]);
    const partB = await b.fetchUntil(PARTITIONS * PER_PARTITION - partA.length, BINARY_V2);
    const firstOfB = new Map<number, number>();
    for (const r of partB) if (!firstOfB.has(r.partition)) firstOfB.set(r.partition, r.offset);
    for (const [p, next] of nextOffsets(partA))
      assert.equal(firstOfB.get(p), next, `partition ${p} resumes right after`);
    assertEveryRecordOnce([...partA, ...partB]);
    assert.equal(partA.length + partB.length, PARTITIONS * PER_PARTITION, 'and nothing twice');
    await b.delete();
  });

  it(
    'periodic auto-commit never commits read-ahead the client has not received',
    { skip: needsOwnGateway },
    async () => {
      const topic = await fillTopic();
      const group = uniqueName('loss-periodic');
      const a = await ConsumerClient.create(gw.url, group, { 'auto.offset.reset': 'earliest' });
      await a.subscribe([topic]);
      const got = await readSome(a, 20);
      // CONSUMER_AUTO_COMMIT_INTERVAL_MS=200: wait for a few rounds with the instance idle.
      const deadline = Date.now() + 5_000;
      let offsets = await committed(group, topic);
      while (offsets.size < nextOffsets(got).size && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        offsets = await committed(group, topic);
      }
      assert.deepEqual(offsets, nextOffsets(got));
      await a.delete();
    },
  );

  it('commit-all with an empty body commits what was returned; uncommitted records come again, none skipped', async () => {
    const topic = await fillTopic();
    const group = uniqueName('loss-manual');
    const a = await ConsumerClient.create(gw.url, group, {
      'auto.offset.reset': 'earliest',
      'auto.commit.enable': 'false',
    });
    await a.subscribe([topic]);
    const committedPart = await readSome(a, 25);
    const res = await a.post('/offsets');
    assert.equal(res.status, 200);
    assert.deepEqual(await committed(group, topic), nextOffsets(committedPart));
    const uncommitted = await readSome(a, 10);
    assert.equal((await a.delete()).status, 204);
    assert.deepEqual(
      await committed(group, topic),
      nextOffsets(committedPart),
      'no commit on delete without auto-commit',
    );

    const b = await ConsumerClient.create(gw.url, group, { 'auto.offset.reset': 'earliest' });
    await b.subscribe([topic]);
    const rest = await b.fetchUntil(PARTITIONS * PER_PARTITION - committedPart.length, BINARY_V2);
    assertEveryRecordOnce([...committedPart, ...rest]);
    // The records read after the commit are delivered again: at least once.
    const again = new Set(rest.map((r) => `${r.partition}:${r.offset}`));
    for (const r of uncommitted) assert.ok(again.has(`${r.partition}:${r.offset}`));
    await b.delete();
  });
});
