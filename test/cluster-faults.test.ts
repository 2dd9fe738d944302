// Faults on a real replicated cluster (KRaft nodes, RF 3, min.insync.replicas=2) while a real
// gateway process produces and consumes: brokers killed (-9), stopped gracefully, two of three
// down, the gateway itself SIGKILLed. Counted per record — HTTP 200 and that record's error_code
// null is "acknowledged" — every acknowledged record must be in Kafka afterwards; duplicates are
// counted; every commit answered 200 must be in the group's committed offsets. Which broker leads
// or coordinates is asked of the cluster, never assumed. The run prints the table it measured.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  cluster,
  ConsumeLedger,
  coordinatorOf,
  liveBrokerIds,
  placement,
  printFaultTable,
  ProduceLedger,
  until,
  type FaultRow,
} from './support/cluster.js';
import { GatewayProcess } from './support/gateway-process.js';
import { admin, closeAdmin, createTopic, kafka, uniqueName } from './support/kafka.js';

/** The gateways here answer a produce within this (retries included), plus a little slack. */
const PRODUCE_TIMEOUT_MS = 8_000;
const ANSWER_SLACK_MS = 4_000;
const rows: FaultRow[] = [];
let gw: GatewayProcess;

// Real-time waits on purpose: each is part of a fault's timeline on a real cluster (how long a
// broker stays down or frozen, a session timeout), which is what these tests measure.
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Gateway settings; FAULTS_GATEWAY_ENV (JSON) adds some, to compare configurations by hand. */
const gatewayEnv = {
  PRODUCE_TIMEOUT_MS: String(PRODUCE_TIMEOUT_MS),
  ...(JSON.parse(process.env.FAULTS_GATEWAY_ENV ?? '{}') as Record<string, string>),
};

before(async () => {
  gw = await GatewayProcess.start(gatewayEnv);
});
afterEach(async () => {
  // Whatever a test did to the cluster, the next one starts on a healthy one.
  await cluster.heal();
});
after(async () => {
  printFaultTable(rows);
  await gw?.stop();
  await closeAdmin();
});

/** Produce load through `url()` while `fault` runs, then heal and count every record. */
async function produceThrough(
  name: string,
  fault: (topic: string) => Promise<void>,
  url: () => string = () => gw.url,
): Promise<FaultRow & { storedAfterFailure: number }> {
  const info = await cluster.info();
  const topic = await createTopic(info.nodes.length);
  const ledger = new ProduceLedger(topic, 5, PRODUCE_TIMEOUT_MS + 60_000);
  ledger.start(url, 4);
  await sleep(1_500);
  await fault(topic);
  await sleep(1_500);
  await ledger.stop();
  await cluster.heal();
  const row = await ledger.verify(name);
  rows.push(row);
  return row;
}

async function fillTopic(partitions: number, perPartition: number): Promise<string> {
  const topic = await createTopic(partitions);
  const producer = kafka.producer();
  await producer.connect();
  for (let p = 0; p < partitions; p++) {
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: perPartition }, (_, i) => ({ partition: p, value: `p${p}-r${i}` })),
    });
  }
  await producer.disconnect();
  return topic;
}

/** Consume-and-commit through the gateway while `fault(group)` runs, then check every 200 commit. */
async function consumeThrough(name: string, fault: (group: string) => Promise<void>) {
  const partitions = 3;
  const perPartition = 1_000;
  const topic = await fillTopic(partitions, perPartition);
  const ledger = new ConsumeLedger(uniqueName('faults'), topic, partitions, partitions * perPartition);
  await ledger.create(gw.url);
  // Fetch ahead first, so the fault hits a client with plenty still to process and commit.
  await ledger.consumeUntil(1_500, 60_000);
  let faulting = true;
  const faultDone = fault(ledger.group).finally(() => (faulting = false));
  while (faulting) await ledger.step();
  await faultDone;
  await ledger.consumeUntil(ledger.total, 120_000);
  await ledger.commitFinal();
  await ledger.delete();
  const row = await ledger.verify(name);
  rows.push(row);
  return row;
}

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
});

describe('produce under broker faults: no acknowledged record lost', () => {
  it('leader of a partition killed (-9) and restarted mid-stream', async () => {
    const row = await produceThrough('produce: leader kill -9 + restart', async (topic) => {
      const leader = (await placement(topic))[0]!.leader;
      await cluster.node(leader, 'kill');
      // Kafka moves leadership to an in-sync replica once it fences the dead broker.
      await until('a new leader for partition 0', async () => (await placement(topic))[0]!.leader !== leader, 30_000);
      await sleep(2_000);
      await cluster.node(leader, 'start');
    });
    assert.ok(row.acked > 0);
    assert.equal(row.lost, 0, 'acknowledged records missing from Kafka');
    assert.equal(row.duplicated, 0, "duplicates from the gateway's own retries (the producer is idempotent)");
    assert.ok(row.slowestMs <= PRODUCE_TIMEOUT_MS + ANSWER_SLACK_MS, `slowest answer ${row.slowestMs} ms`);
  });

  it('the active controller shut down gracefully (SIGTERM) and restarted', async () => {
    const row = await produceThrough('produce: controller SIGTERM + restart', async () => {
      const controller = await cluster.controller();
      await cluster.node(controller, 'stop');
      await until('another controller', async () => (await cluster.controller()) !== controller, 30_000);
      await sleep(2_000);
      await cluster.node(controller, 'start');
    });
    assert.ok(row.acked > 0);
    assert.equal(row.lost, 0);
    assert.equal(row.duplicated, 0);
    assert.ok(row.slowestMs <= PRODUCE_TIMEOUT_MS + ANSWER_SLACK_MS, `slowest answer ${row.slowestMs} ms`);
  });

  let twoDown: (FaultRow & { storedAfterFailure: number }) | undefined;
  it('two of three brokers down: answers stay bounded, nothing acknowledged is lost', async () => {
    const info = await cluster.info();
    // More than replicas - min.insync.replicas brokers down: no partition can take acks=all writes.
    const down = info.nodes.slice(0, info.replicationFactor - info.minInsync + 1).map((n) => n.id);
    const row = await produceThrough('produce: 2 of 3 brokers down', async () => {
      await Promise.all(down.map((id) => cluster.node(id, 'kill')));
      await sleep(PRODUCE_TIMEOUT_MS + 4_000);
      await Promise.all(down.map((id) => cluster.node(id, 'start')));
    });
    twoDown = row;
    assert.ok(row.failed > 0, 'some requests must have failed while the cluster could not take writes');
    assert.equal(row.lost, 0);
    assert.equal(row.duplicated, 0);
    assert.ok(row.slowestMs <= PRODUCE_TIMEOUT_MS + ANSWER_SLACK_MS, `slowest answer ${row.slowestMs} ms`);
  });

  // Was a `todo` (a failure here did not fail the run) until the producer answered a missing offset
  // with 50003 (6a446e5): now a regression fails.
  it('two of three brokers down: every failed record is the retriable 50003', () => {
    assert.ok(twoDown, 'the two-brokers-down test ran first');
    assert.doesNotMatch(twoDown.note ?? '', /50002|500\/|no answer/, 'a failure must be the retriable 50003');
  });

  it('the gateway process killed (-9) mid-stream: what it acknowledged is in Kafka', async () => {
    let victim: GatewayProcess | undefined = await GatewayProcess.start(gatewayEnv);
    const row = await produceThrough(
      'produce: gateway SIGKILL',
      async () => {
        await victim!.stop('SIGKILL');
        victim = undefined;
      },
      // After the kill, the load goes on against the surviving gateway.
      () => victim?.url ?? gw.url,
    );
    assert.ok(row.acked > 0);
    assert.equal(row.lost, 0);
    assert.equal(row.duplicated, 0);
  });
});

describe('consume with commits under broker faults: every 200 commit is stored', () => {
  it("the group's coordinator killed (-9) and restarted mid-stream", async () => {
    const row = await consumeThrough('consume: coordinator kill -9 + restart', async (group) => {
      const coordinator = await coordinatorOf(group);
      await cluster.node(coordinator, 'kill');
      await until('a new coordinator', async () => (await coordinatorOf(group)) !== coordinator, 30_000);
      await sleep(5_000);
      await cluster.node(coordinator, 'start');
    });
    assert.equal(row.commitsLost, 0, 'commits answered 200 are missing from the group');
    assert.deepEqual(row.wrongCodes, [], 'a failed commit must be the retriable 50003');
    assert.equal(row.undelivered, 0, 'records never delivered');
  });

  it('a broker that is not the coordinator killed (-9) and restarted mid-stream', async () => {
    const row = await consumeThrough('consume: other broker kill -9 + restart', async (group) => {
      const coordinator = await coordinatorOf(group);
      const victim = (await liveBrokerIds()).find((id) => id !== coordinator)!;
      await cluster.node(victim, 'kill');
      await sleep(8_000);
      await cluster.node(victim, 'start');
    });
    assert.equal(row.commitsLost, 0);
    assert.deepEqual(row.wrongCodes, []);
    assert.equal(row.undelivered, 0);
  });
});

describe('closing an instance during a coordinator failover is final', () => {
  it('instances deleted while their consumers crash and rejoin leave no member behind', async () => {
    const topic = await fillTopic(3, 50);
    const groups = [uniqueName('final-a'), uniqueName('final-b')];
    const ledgers = groups.map((g) => new ConsumeLedger(g, topic, 3, 150));
    for (const l of ledgers) {
      await l.create(gw.url);
      await l.consumeUntil(1, 30_000);
    }
    const a = await admin();
    const members = async () =>
      (await a.describeGroups(groups)).groups.map((g) => g.members.length).reduce((x, y) => x + y, 0);
    assert.equal(await members(), groups.length);

    const coordinator = await coordinatorOf(groups[0]!);
    await cluster.node(coordinator, 'kill');
    // Once Kafka fenced the dead broker (~6 s) kafkajs has crashed and its restart is joining the
    // group at the new coordinator, which waits for the old member: close in the middle of that.
    await sleep(9_000);
    await ledgers[0]!.delete();
    await sleep(6_000);
    await ledgers[1]!.delete();
    await cluster.node(coordinator, 'start');

    // A member that left without LeaveGroup is dropped after its session timeout (kafkajs: 30 s),
    // counted from when the restarted coordinator has loaded the group again; a join that was
    // pending when the instance closed can hold the group in its rebalance for up to kafkajs's
    // rebalance timeout (60 s) first. Both run long on a loaded machine (90 s was passed twice in
    // clean-clone runs). A zombie never leaves: it fails this wait, and the check after it catches
    // a rejoin.
    await until('no member of a deleted instance', async () => (await members()) === 0, 150_000);
    await sleep(10_000);
    assert.equal(await members(), 0, 'a restart rejoined the group after the instance was deleted');
  });
});
