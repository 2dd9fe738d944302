// One offline partition must not take the gateway down (issue 17). On the replicated test cluster,
// a broker holding a partition of a replication-factor-1 topic stops: that partition has no leader
// anywhere. Every route on healthy topics answers as before and in the usual time, GET /topics still
// lists everything, the unhealthy topic reports leader -1 and produce to it answers 50003 quickly.
// Topics the gateway creates from its policy file get the cluster's default replication factor.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningGateway } from '../src/gateway.js';
import { tolerateOfflinePartitions } from '../src/kafka/client.js';
import { createTopicAndWait } from '../src/kafka/create-topic.js';
import { cluster, placement, until } from './support/cluster.js';
import { ConsumerClient } from './support/consumer-client.js';
import { JSON_V2, post, request, startTestGateway, type Reply } from './support/gateway.js';
import { admin, closeAdmin, createTopic, uniqueName } from './support/kafka.js';

let gw: RunningGateway;
let healthy: string;
let unhealthy: string;
let created: string;
let stopped: number | undefined;
/** The usual answer time of a metadata or produce request here, with room for a loaded CI machine. */
const USUAL_MS = 3_000;

before(async () => {
  healthy = await createTopic(3);
  unhealthy = uniqueName('rf1');
  await createTopicAndWait(await admin(), { topic: unhealthy, numPartitions: 3, replicationFactor: 1 });
  created = uniqueName('policy');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'policy-'));
  const policy = path.join(dir, 'topics.yaml');
  writeFileSync(policy, `topics:\n  - name: ${created}\n    create: { partitions: 2 }\n`);
  gw = await startTestGateway({ TOPICS_CONFIG: policy, PRODUCE_TIMEOUT_MS: '5000', METADATA_MAX_AGE_MS: '1000' });
});
after(async () => {
  await gw?.close();
  if (stopped !== undefined) await cluster.heal();
  await closeAdmin();
});

async function timed(call: () => Promise<Reply>): Promise<Reply & { ms: number }> {
  const started = Date.now();
  const reply = await call();
  return { ...reply, ms: Date.now() - started };
}

describe('partial cluster failure', () => {
  it("a topic the gateway creates gets the cluster's default replication factor", async () => {
    const info = await cluster.info();
    for (const p of await placement(created)) assert.equal(p.replicas.length, info.replicationFactor);
  });

  it('a leaderless partition elsewhere: healthy topics work as before, the unhealthy one says so', async () => {
    // The gateway has produced to both topics, so both are in its producer's metadata.
    for (const t of [healthy, unhealthy]) {
      const res = await post(`${gw.url}/topics/${t}`, JSON_V2, { records: [{ key: 'k', value: 1 }] });
      assert.equal(res.body.offsets[0].error_code, null, res.text);
    }
    const before = await placement(unhealthy);
    const victim = before.find((p) => p.replicas.length === 1)!.leader;
    const offline = before.filter((p) => p.leader === victim).map((p) => p.partition);
    stopped = victim;
    await cluster.node(victim, 'stop');

    // Kafka moves the healthy topic's leaders; the RF-1 partition has nowhere to go.
    await until('the gateway to report the offline partition', async () => {
      const res = await request(`${gw.url}/topics/${unhealthy}/partitions`);
      return res.status === 200 && res.body.some((p: { leader: number }) => p.leader === -1);
    });
    const parts = (await request(`${gw.url}/topics/${unhealthy}/partitions`)).body as Array<{
      partition: number;
      leader: number;
    }>;
    assert.deepEqual(
      parts.filter((p) => p.leader === -1).map((p) => p.partition),
      offline,
    );

    // Every route on healthy topics, including one the gateway has never seen.
    // (kafkajs's own admin would refuse the whole cluster's metadata now: the gateway's tolerance helps.)
    const fresh = await tolerateOfflinePartitions(() => createTopic(2));
    const checks: Array<[string, () => Promise<Reply>]> = [
      ['GET /topics', () => request(`${gw.url}/topics`)],
      [`GET /topics/${healthy}`, () => request(`${gw.url}/topics/${healthy}`)],
      [`GET /topics/${healthy}/partitions`, () => request(`${gw.url}/topics/${healthy}/partitions`)],
      [`GET /topics/${healthy}/partitions/1`, () => request(`${gw.url}/topics/${healthy}/partitions/1`)],
      [
        `GET /topics/${healthy}/partitions/0/offsets`,
        () => request(`${gw.url}/topics/${healthy}/partitions/0/offsets`),
      ],
      ['GET /brokers', () => request(`${gw.url}/brokers`)],
      [`POST /topics/${healthy}`, () => post(`${gw.url}/topics/${healthy}`, JSON_V2, { records: [{ value: 2 }] })],
      [
        `POST /topics/${fresh} (not cached yet)`,
        () => post(`${gw.url}/topics/${fresh}`, JSON_V2, { records: [{ value: 3 }] }),
      ],
    ];
    for (const [what, call] of checks) {
      const res = await timed(call);
      assert.equal(res.status, 200, `${what}: ${res.text}`);
      if (what.startsWith('POST')) assert.equal(res.body.offsets[0].error_code, null, `${what}: ${res.text}`);
      assert.ok(res.ms < USUAL_MS, `${what} took ${res.ms} ms`);
    }
    const listed = (await request(`${gw.url}/topics`)).body as string[];
    assert.ok(listed.includes(healthy) && listed.includes(unhealthy) && listed.includes(fresh));

    // Produce to the offline partition: a retriable per-record error, quickly.
    const res = await timed(() =>
      post(`${gw.url}/topics/${unhealthy}/partitions/${offline[0]}`, JSON_V2, { records: [{ value: 4 }] }),
    );
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.offsets[0].error_code, 50003, res.text);
    assert.ok(res.ms < USUAL_MS, `produce to the offline partition took ${res.ms} ms`);

    // Found by the re-attack: unkeyed records go to the partitions that have a leader...
    for (let i = 0; i < 10; i++) {
      const unkeyed = await post(`${gw.url}/topics/${unhealthy}`, JSON_V2, { records: [{ value: i }] });
      assert.equal(unkeyed.body.offsets[0].error_code, null, `unkeyed record ${i}: ${unkeyed.text}`);
    }
    // ...consumer offsets of healthy topics are read, committed and sought as before...
    const group = uniqueName('partial');
    const consumer = await post(`${gw.url}/consumers/${group}`, 'application/vnd.kafka.v2+json', {});
    const base = consumer.body.base_uri as string;
    const V2 = 'application/vnd.kafka.v2+json';
    const partitions = { partitions: [{ topic: healthy, partition: 0 }] };
    const consumerChecks: Array<[string, () => Promise<Reply>]> = [
      ['assign', () => post(`${base}/assignments`, V2, partitions)],
      ['seek to end', () => post(`${base}/positions/end`, V2, partitions)],
      ['commit', () => post(`${base}/offsets`, V2, { offsets: [{ topic: healthy, partition: 0, offset: 0 }] })],
      ['read committed', () => new ConsumerClient(base, consumer.body.instance_id).get('/offsets', {}, partitions)],
    ];
    // (A group whose coordinator was on the stopped broker waits for Kafka to move it: retriable 50003 meanwhile.)
    await until('the group coordinator to answer', async () => {
      const r = await post(`${base}/assignments`, V2, partitions);
      if (r.status !== 204) assert.equal(r.body.error_code, 50003, r.text);
      return r.status === 204;
    });
    for (const [what, call] of consumerChecks) {
      const r = await timed(call);
      assert.ok(r.status === 200 || r.status === 204, `${what}: ${r.status} ${r.text}`);
      assert.ok(r.ms < 2 * USUAL_MS, `${what} took ${r.ms} ms`);
    }
    // ...and a gateway starting now starts.
    const late = await startTestGateway({ PRODUCE_TIMEOUT_MS: '5000' });
    try {
      assert.equal((await request(`${late.url}/topics/${healthy}`)).status, 200);
    } finally {
      await late.close();
    }
  });
});
