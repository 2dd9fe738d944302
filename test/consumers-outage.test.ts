// A commit answered 200 is stored, whatever happens to Kafka meanwhile. On a broker of its own
// (the shared one must not go down under other tests), the broker stops while a client consumes
// and commits; every commit is answered either 200 (stored) or a retriable 50003 — never 200 for
// a commit Kafka never saw, never the non-retriable 50002 — and the group's committed offsets,
// read natively once the broker is back, are at least every offset a 200 acknowledged.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import type { RunningGateway } from '../src/gateway.js';
import { ConsumerClient } from './support/consumer-client.js';
import { BINARY_V2, startTestGateway } from './support/gateway.js';
import { startPrivateKafka, uniqueName, type PrivateKafka } from './support/kafka.js';
import { createTopicAndWait } from '../src/kafka/create-topic.js';

const PARTITIONS = 2;
let kafka: PrivateKafka;
let native: Kafka;
let gw: RunningGateway;

before(async () => {
  kafka = await startPrivateKafka();
  native = new Kafka({ brokers: [kafka.brokers], clientId: 'test-outage', logLevel: logLevel.NOTHING });
  gw = await startTestGateway({ KAFKA_BROKERS: kafka.brokers });
});
after(async () => {
  await gw?.close();
  await kafka?.stop();
});

interface CommitAnswer {
  at: number;
  status: number;
  errorCode?: number;
  offsets: Map<number, number>;
}

async function committedOffsets(group: string, topic: string): Promise<Map<number, number>> {
  const admin = native.admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return new Map(t!.partitions.map((p) => [p.partition, Number(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

describe('consumers: commits across a broker outage', () => {
  it('answers every commit 200-and-stored or 50003, and the first commit after the broker returns is stored', async () => {
    const admin = native.admin();
    await admin.connect();
    const topic = uniqueName('outage');
    await createTopicAndWait(admin, { topic, numPartitions: PARTITIONS });
    await admin.disconnect();
    const producer = native.producer();
    await producer.connect();
    for (let p = 0; p < PARTITIONS; p++) {
      await producer.send({
        topic,
        messages: Array.from({ length: 500 }, (_, i) => ({ partition: p, value: `${i}` })),
      });
    }
    await producer.disconnect();

    const group = uniqueName('outage-group');
    const c = await ConsumerClient.create(gw.url, group, {
      'auto.offset.reset': 'earliest',
      'auto.commit.enable': 'false',
    });
    await c.subscribe([topic]);
    await c.fetchUntil(1, BINARY_V2);

    // Commits of ever-growing offsets, one after another, before, during and after the outage.
    const answers: CommitAnswer[] = [];
    let next = 1;
    const commitOnce = async () => {
      const offsets = new Map(Array.from({ length: PARTITIONS }, (_, p) => [p, next] as [number, number]));
      next++;
      const res = await c.post('/offsets', {
        offsets: [...offsets].map(([partition, offset]) => ({ topic, partition, offset: offset - 1 })),
      });
      answers.push({ at: Date.now(), status: res.status, errorCode: res.body?.error_code, offsets });
      return res;
    };
    for (let i = 0; i < 3; i++) assert.equal((await commitOnce()).status, 200);

    await kafka.kill();
    const downAt = Date.now();
    // The outage: nothing can be stored, so no commit may be answered 200.
    while (Date.now() - downAt < 8_000) {
      await commitOnce();
      await new Promise((r) => setTimeout(r, 200));
    }
    await kafka.start();
    const upAt = Date.now();
    // Back: commits answer 50003 until the consumer has rejoined, then 200 (and are stored).
    let stored: CommitAnswer | undefined;
    while (stored === undefined && Date.now() - upAt < 90_000) {
      const res = await commitOnce();
      if (res.status === 200) stored = answers[answers.length - 1];
      else await new Promise((r) => setTimeout(r, 500));
    }

    const during = answers.filter((a) => a.at > downAt && a.at < upAt);
    const tally = (list: CommitAnswer[]) => {
      const counts = new Map<string, number>();
      for (const a of list) {
        const k = `${a.status}${a.errorCode ? `/${a.errorCode}` : ''}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      return [...counts].map(([k, n]) => `${k}×${n}`).join(' ');
    };
    console.log(
      `[outage commits] down: ${tally(during)}; after restart: ${tally(answers.filter((a) => a.at >= upAt))}`,
    );
    assert.ok(during.length > 0);
    for (const a of during) assert.notEqual(a.status, 200, 'a commit was answered 200 while the broker was down');
    for (const a of answers.filter((x) => x.status !== 200)) {
      assert.equal(a.errorCode, 50003, `a failed commit must be retriable: ${a.status} ${a.errorCode}`);
    }
    assert.ok(stored, 'no commit succeeded within 90 s of the broker returning');

    // Every 200 is in Kafka: the group's offsets are at least the last acknowledged commit.
    const inKafka = await committedOffsets(group, topic);
    for (const [p, offset] of stored.offsets) {
      assert.ok((inKafka.get(p) ?? -1) >= offset, `partition ${p}: stored ${inKafka.get(p)}, last 200 ${offset}`);
    }
    await c.delete();
  });

  it('an instance closed while Kafka is down stays closed: no kafkajs restart rejoins its group afterwards', async () => {
    const admin = native.admin();
    await admin.connect();
    const topic = uniqueName('zombie');
    await createTopicAndWait(admin, { topic, numPartitions: PARTITIONS });
    const producer = native.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: Array.from({ length: 20 }, (_, i) => ({ partition: i % 2, value: `${i}` })),
    });
    await producer.disconnect();

    // Four ways an instance ends, each at another moment of kafkajs's crash-and-restart cycle.
    const expiring = await startTestGateway({ KAFKA_BROKERS: kafka.brokers, CONSUMER_INSTANCE_TIMEOUT_MS: '6000' });
    const leaving = await startTestGateway({ KAFKA_BROKERS: kafka.brokers });
    const settings = { 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'false' };
    const groups = {
      deletedEarly: uniqueName('zombie-del1'),
      deletedLate: uniqueName('zombie-del2'),
      expired: uniqueName('zombie-exp'),
      shutDown: uniqueName('zombie-shut'),
    };
    const deletedEarly = await ConsumerClient.create(gw.url, groups.deletedEarly, settings);
    const deletedLate = await ConsumerClient.create(gw.url, groups.deletedLate, settings);
    const expired = await ConsumerClient.create(expiring.url, groups.expired, settings);
    const shutDown = await ConsumerClient.create(leaving.url, groups.shutDown, settings);
    for (const c of [deletedEarly, deletedLate, expired, shutDown]) {
      await c.subscribe([topic]);
      await c.fetchUntil(1, BINARY_V2);
    }
    const all = Object.values(groups);
    const members = async () => {
      const { groups: described } = await admin.describeGroups(all);
      return new Map(described.map((g) => [g.groupId, g.members.length]));
    };
    assert.deepEqual([...(await members()).values()], [1, 1, 1, 1]);
    await admin.disconnect();

    await kafka.kill();
    // A timeline of a real broker outage (the thing under test): these waits are the outage's length.
    const at = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await at(1_000);
    assert.equal((await deletedEarly.delete()).status, 204);
    await at(2_000);
    await leaving.close();
    await at(3_000);
    assert.equal((await deletedLate.delete()).status, 204);
    await at(3_000); // the idle instance has expired by now (6 s)
    await kafka.start();
    const upAt = Date.now();

    // Kafka forgets a member that left without LeaveGroup after its session timeout (kafkajs: 30 s);
    // a member still there later is one that some restart brought back.
    await admin.connect();
    try {
      let seen = new Map<string, number>();
      for (;;) {
        seen = await members().catch(() => seen);
        if (seen.size === all.length && [...seen.values()].every((n) => n === 0)) break;
        if (Date.now() - upAt > 45_000) break;
        await at(1_000);
      }
      assert.deepEqual(
        Object.fromEntries(seen),
        Object.fromEntries(all.map((g) => [g, 0])),
        'members of closed instances still in their groups 45 s after Kafka returned',
      );
      // And nobody comes back later (kafkajs restarts back off up to several seconds).
      await at(10_000);
      assert.deepEqual([...(await members()).values()], [0, 0, 0, 0]);
    } finally {
      await admin.disconnect();
      await expiring.close();
    }
  });
});
