// Consumer groups over v3 as an operator watches them: a real kafkajs consumer in a group, its
// members and assignments, and lag that matches what Kafka itself says (committed and end offsets
// read with a native admin client).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Consumer } from 'kafkajs';
import type { RunningGateway } from '../src/gateway.js';
import { startTestGateway } from './support/gateway.js';
import { admin, closeAdmin, createTopic, kafka, uniqueName } from './support/kafka.js';
import { clusterIdOf, v3 } from './support/v3.js';

let gw: RunningGateway;
let cluster: string;
let lagged: string; // records, committed offsets set by the test; nobody consumes it
let watched: string; // the member's subscription (empty)
let group: string;
let consumer: Consumer;
const G = () => `/v3/clusters/${cluster}/consumer-groups/${group}`;

before(async () => {
  lagged = await createTopic(3);
  watched = await createTopic(2);
  group = uniqueName('v3group');
  const producer = kafka.producer();
  await producer.connect();
  for (const partition of [0, 1, 2]) {
    await producer.send({
      topic: lagged,
      messages: Array.from({ length: 10 + partition * 5 }, (_, i) => ({ value: `m${i}`, partition })),
    });
  }
  await producer.disconnect();
  // Committed: 4 of 10 on p0, 20 of 15 on p1 (past the end: lag 0), none on p2.
  const a = await admin();
  await a.setOffsets({
    groupId: group,
    topic: lagged,
    partitions: [
      { partition: 0, offset: '4' },
      { partition: 1, offset: '20' },
    ],
  });
  consumer = kafka.consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topics: [watched] });
  await consumer.run({ eachMessage: async () => undefined });
  // Stable with the member's assignment before the tests look.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const d = await a.describeGroups([group]);
    if (d.groups[0]?.state === 'Stable' && d.groups[0].members.length === 1) break;
    if (Date.now() > deadline) throw new Error('the group did not become stable');
    await new Promise((r) => setTimeout(r, 100));
  }
  gw = await startTestGateway();
  cluster = await clusterIdOf(gw.url);
});
after(async () => {
  await consumer?.disconnect();
  await gw?.close();
  await closeAdmin();
});

describe('v3 consumer groups', () => {
  it('list and get: the group is STABLE with its assignor and links', async () => {
    const list = await v3(gw.url, `/v3/clusters/${cluster}/consumer-groups`);
    assert.equal(list.status, 200);
    assert.equal(list.body.kind, 'KafkaConsumerGroupList');
    const mine = list.body.data.find((g: { consumer_group_id: string }) => g.consumer_group_id === group);
    assert.ok(mine, 'the group is listed');
    const one = await v3(gw.url, G());
    assert.equal(one.status, 200);
    assert.equal(one.body.kind, 'KafkaConsumerGroup');
    assert.equal(one.body.state, 'STABLE');
    assert.equal(one.body.is_simple, false);
    assert.equal(one.body.partition_assignor, 'RoundRobinAssigner');
    assert.equal(one.body.consumers.related, `${gw.url}${G()}/consumers`);
    assert.equal(one.body.lag_summary.related, `${gw.url}${G()}/lag-summary`);
  });

  it('members and their assignments are the ones Kafka reports', async () => {
    const described = (await (await admin()).describeGroups([group])).groups[0]!;
    const member = described.members[0]!;
    const list = await v3(gw.url, `${G()}/consumers`);
    assert.equal(list.status, 200);
    assert.equal(list.body.kind, 'KafkaConsumerList');
    assert.equal(list.body.data.length, 1);
    const c = list.body.data[0];
    assert.equal(c.consumer_id, member.memberId);
    assert.equal(c.client_id, member.clientId);
    assert.equal(c.instance_id, null);
    const one = await v3(gw.url, `${G()}/consumers/${encodeURIComponent(member.memberId)}`);
    assert.equal(one.status, 200);
    assert.deepEqual(one.body, c);

    const assignments = await v3(gw.url, `${G()}/consumers/${encodeURIComponent(member.memberId)}/assignments`);
    assert.equal(assignments.status, 200);
    assert.equal(assignments.body.kind, 'KafkaConsumerAssignmentList');
    assert.deepEqual(
      assignments.body.data.map((a: { topic_name: string; partition_id: number }) => [a.topic_name, a.partition_id]),
      [
        [watched, 0],
        [watched, 1],
      ],
    );
    const a1 = await v3(
      gw.url,
      `${G()}/consumers/${encodeURIComponent(member.memberId)}/assignments/${watched}/partitions/1`,
    );
    assert.equal(a1.status, 200);
    assert.equal(a1.body.lag.related, `${gw.url}${G()}/lags/${watched}/partitions/1`);
    const notMine = await v3(
      gw.url,
      `${G()}/consumers/${encodeURIComponent(member.memberId)}/assignments/${lagged}/partitions/0`,
    );
    assert.equal(notMine.status, 404);
    const nobody = await v3(gw.url, `${G()}/consumers/nobody`);
    assert.equal(nobody.status, 404);
    assert.deepEqual(nobody.body, { error_code: 404, message: 'Consumer nobody could not be found.' });
  });

  it("lags match Kafka's committed and end offsets (lag = max(0, end − committed)), largest first", async () => {
    const a = await admin();
    const committed = await a.fetchOffsets({ groupId: group, topics: [lagged] });
    const ends = await a.fetchTopicOffsets(lagged);
    const expected = committed[0]!.partitions
      .filter((p) => Number(p.offset) >= 0)
      .map((p) => {
        const end = Number(ends.find((e) => e.partition === p.partition)!.high);
        return { partition: p.partition, current: Number(p.offset), end, lag: Math.max(0, end - Number(p.offset)) };
      })
      .sort((x, y) => y.lag - x.lag);
    assert.deepEqual(
      expected.map((e) => [e.partition, e.current, e.end, e.lag]),
      [
        [0, 4, 10, 6],
        [1, 20, 15, 0],
      ],
    );
    const res = await v3(gw.url, `${G()}/lags`);
    assert.equal(res.status, 200);
    assert.equal(res.body.kind, 'KafkaConsumerLagList');
    assert.deepEqual(
      res.body.data.map((l: Record<string, unknown>) => [
        l.topic_name,
        l.partition_id,
        l.current_offset,
        l.log_end_offset,
        l.lag,
      ]),
      expected.map((e) => [lagged, e.partition, e.current, e.end, e.lag]),
    );
    // Nobody owns these partitions (the member reads another topic).
    assert.equal(res.body.data[0].consumer_id, '');

    const one = await v3(gw.url, `${G()}/lags/${lagged}/partitions/0`);
    assert.equal(one.status, 200);
    assert.equal(one.body.kind, 'KafkaConsumerLag');
    assert.equal(one.body.lag, 6);
    const uncommitted = await v3(gw.url, `${G()}/lags/${lagged}/partitions/2`);
    assert.equal(uncommitted.status, 404);

    const summary = await v3(gw.url, `${G()}/lag-summary`);
    assert.equal(summary.status, 200);
    assert.equal(summary.body.kind, 'KafkaConsumerGroupLagSummary');
    assert.equal(summary.body.max_lag, 6);
    assert.equal(summary.body.total_lag, 6);
    assert.equal(summary.body.max_lag_topic_name, lagged);
    assert.equal(summary.body.max_lag_partition_id, 0);
    assert.equal(
      summary.body.max_lag_partition.related,
      `${gw.url}/v3/clusters/${cluster}/topics/${lagged}/partitions/0`,
    );
  });

  it('lag follows a new commit', async () => {
    const other = uniqueName('v3lag');
    await (await admin()).setOffsets({ groupId: other, topic: lagged, partitions: [{ partition: 2, offset: '5' }] });
    const res = await v3(gw.url, `/v3/clusters/${cluster}/consumer-groups/${other}/lags`);
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.data.map((l: Record<string, unknown>) => [l.partition_id, l.current_offset, l.log_end_offset, l.lag]),
      [[2, 5, 20, 15]],
    );
  });

  it('unknown group: 404 for get, consumers, lags and lag-summary', async () => {
    const missing = uniqueName('v3nogroup');
    for (const path of ['', '/consumers', '/lags', '/lag-summary']) {
      const res = await v3(gw.url, `/v3/clusters/${cluster}/consumer-groups/${missing}${path}`);
      assert.equal(res.status, 404, path);
      assert.equal(res.body.error_code, 404, path);
    }
  });

  it('a group with members but no commits: lags 404 "Consumer lags not found.", lag-summary 404', async () => {
    const a = await admin();
    const committed = await a.fetchOffsets({ groupId: group, topics: [watched] });
    assert.ok(
      committed[0]!.partitions.every((p) => Number(p.offset) < 0),
      'nothing committed on the watched topic',
    );
    const empty = uniqueName('v3empty');
    const c = kafka.consumer({ groupId: empty, sessionTimeout: 10_000, heartbeatInterval: 500 });
    await c.connect();
    await c.subscribe({ topics: [watched] });
    await c.run({ eachMessage: async () => undefined });
    try {
      const deadline = Date.now() + 30_000;
      while ((await a.describeGroups([empty])).groups[0]?.state !== 'Stable') {
        if (Date.now() > deadline) throw new Error('the group did not become stable');
        await new Promise((r) => setTimeout(r, 100));
      }
      const lags = await v3(gw.url, `/v3/clusters/${cluster}/consumer-groups/${empty}/lags`);
      assert.equal(lags.status, 404);
      assert.deepEqual(lags.body, { error_code: 404, message: 'Consumer lags not found.' });
      const summary = await v3(gw.url, `/v3/clusters/${cluster}/consumer-groups/${empty}/lag-summary`);
      assert.equal(summary.status, 404);
    } finally {
      await c.disconnect();
    }
  });
});
