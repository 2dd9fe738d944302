// The v3 cluster API as an operator uses it: find the cluster, create a topic with settings, look
// at its partitions and settings, change and reset them, delete it — each step checked in Kafka
// with a native admin client — and every way such a request can be wrong.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import type { RunningGateway } from '../src/gateway.js';
import { startTestGateway } from './support/gateway.js';
import { admin, closeAdmin, createTopic, uniqueName } from './support/kafka.js';
import { clusterIdOf, v3 } from './support/v3.js';

let gw: RunningGateway;
let prefixed: RunningGateway;
let cluster: string;
let existing: string;
const C = () => `/v3/clusters/${cluster}`;

async function topicConfig(topic: string, name: string): Promise<string | null | undefined> {
  const a = await admin();
  const d = await a.describeConfigs({
    resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configNames: [name] }],
    includeSynonyms: false,
  });
  return d.resources[0]?.configEntries.find((e) => e.configName === name)?.configValue;
}

before(async () => {
  existing = await createTopic(3);
  gw = await startTestGateway();
  prefixed = await startTestGateway({ PUBLIC_URL: 'https://gw.example.com/prod' });
  cluster = await clusterIdOf(gw.url);
});
after(async () => {
  await Promise.all([gw?.close(), prefixed?.close()]);
  await closeAdmin();
});

describe('v3 clusters and brokers', () => {
  it('GET /v3/clusters lists the one cluster, with the id Kafka reports and related links', async () => {
    const res = await v3(gw.url, '/v3/clusters');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.body.kind, 'KafkaClusterList');
    assert.equal(res.body.metadata.next, null);
    assert.equal(res.body.data.length, 1);
    const described = await (await admin()).describeCluster();
    const c = res.body.data[0];
    assert.equal(c.kind, 'KafkaCluster');
    assert.equal(c.cluster_id, described.clusterId);
    assert.equal(c.metadata.self, `${gw.url}/v3/clusters/${described.clusterId}`);
    assert.equal(c.topics.related, `${gw.url}/v3/clusters/${described.clusterId}/topics`);
    assert.equal(c.controller.related, `${gw.url}/v3/clusters/${described.clusterId}/brokers/${described.controller}`);
    const one = await v3(gw.url, C());
    assert.equal(one.status, 200);
    assert.deepEqual(one.body, c);
  });

  it('links are built like base_uri: behind PUBLIC_URL with a stage prefix they name the prefix', async () => {
    const res = await v3(prefixed.url, `${C()}/topics/${existing}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.metadata.self, `https://gw.example.com/prod/v3/clusters/${cluster}/topics/${existing}`);
    // …and the prefix is accepted in front of the path too (a client that keeps the link's path).
    const viaPrefix = await v3(prefixed.url, `/prod${C()}/topics/${existing}`);
    assert.equal(viaPrefix.status, 200);
  });

  it('brokers list and get; an unknown broker is 404', async () => {
    const described = await (await admin()).describeCluster();
    const list = await v3(gw.url, `${C()}/brokers`);
    assert.equal(list.status, 200);
    assert.equal(list.body.kind, 'KafkaBrokerList');
    assert.deepEqual(
      list.body.data.map((b: { broker_id: number }) => b.broker_id),
      described.brokers.map((b) => b.nodeId).sort((a, b) => a - b),
    );
    const id = described.brokers[0]!.nodeId;
    const one = await v3(gw.url, `${C()}/brokers/${id}`);
    assert.equal(one.status, 200);
    assert.equal(one.body.kind, 'KafkaBroker');
    assert.equal(one.body.host, described.brokers[0]!.host);
    assert.equal(one.body.port, described.brokers[0]!.port);
    const missing = await v3(gw.url, `${C()}/brokers/99999`);
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, { error_code: 404, message: 'Broker 99999 cannot be found.' });
  });

  it('every path with another cluster id is 404 "Cluster <id> cannot be found."', async () => {
    for (const path of [
      '',
      '/topics',
      `/topics/${existing}`,
      `/topics/${existing}/configs`,
      '/brokers',
      '/consumer-groups',
    ]) {
      const res = await v3(gw.url, `/v3/clusters/not-this-one${path}`);
      assert.equal(res.status, 404, path);
      assert.equal(res.headers.get('content-type'), 'application/json');
      assert.deepEqual(res.body, { error_code: 404, message: 'Cluster not-this-one cannot be found.' }, path);
    }
  });
});

describe('v3 in the contract', () => {
  it('the served openapi.yaml (what /docs renders) holds every v3 operation', async () => {
    const res = await fetch(`${gw.url}/openapi.yaml`);
    assert.equal(res.status, 200);
    const text = await res.text();
    for (const id of [
      'listKafkaClusters',
      'createKafkaTopic',
      'updateKafkaTopicConfigBatch',
      'produceRecord',
      'listKafkaConsumerLags',
      'getKafkaConsumerGroupLagSummary',
    ])
      assert.ok(text.includes(`operationId: ${id}`), id);
    assert.ok(text.includes('/v3/clusters/{cluster_id}/topics/{topic_name}/configs:alter:'));
  });
});

describe('v3 topics', () => {
  it('create → 201 with Location, the topic exists in Kafka with its partitions and settings; get, list, partitions', async () => {
    const name = uniqueName('v3topic');
    const res = await v3(gw.url, `${C()}/topics`, {
      body: {
        topic_name: name,
        partitions_count: 4,
        replication_factor: 1,
        configs: [{ name: 'cleanup.policy', value: 'compact' }],
      },
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.headers.get('location'), `${gw.url}${C()}/topics/${name}`);
    assert.equal(res.body.kind, 'KafkaTopic');
    assert.equal(res.body.topic_name, name);
    assert.equal(res.body.partitions_count, 4);
    assert.equal(res.body.replication_factor, 1);
    const meta = await (await admin()).fetchTopicMetadata({ topics: [name] });
    assert.equal(meta.topics[0]!.partitions.length, 4);
    assert.equal(await topicConfig(name, 'cleanup.policy'), 'compact');

    const got = await v3(gw.url, `${C()}/topics/${name}`);
    assert.equal(got.status, 200);
    assert.equal(got.body.partitions_count, 4);
    assert.equal(got.body.is_internal, false);
    assert.equal(got.body.partitions.related, `${gw.url}${C()}/topics/${name}/partitions`);

    const list = await v3(gw.url, `${C()}/topics`);
    assert.equal(list.status, 200);
    assert.equal(list.body.kind, 'KafkaTopicList');
    const names = list.body.data.map((t: { topic_name: string }) => t.topic_name);
    assert.ok(names.includes(name) && names.includes(existing));
    assert.deepEqual(names, [...names].sort(), 'sorted by name');

    const parts = await v3(gw.url, `${C()}/topics/${name}/partitions`);
    assert.equal(parts.status, 200);
    assert.equal(parts.body.kind, 'KafkaPartitionList');
    assert.deepEqual(
      parts.body.data.map((p: { partition_id: number }) => p.partition_id),
      [0, 1, 2, 3],
    );
    const p2 = await v3(gw.url, `${C()}/topics/${name}/partitions/2`);
    assert.equal(p2.status, 200);
    assert.equal(p2.body.kind, 'KafkaPartition');
    assert.equal(p2.body.partition_id, 2);
    const leader = meta.topics[0]!.partitions.find((p) => p.partitionId === 2)!.leader;
    assert.equal(p2.body.leader.related, `${gw.url}${C()}/topics/${name}/partitions/2/replicas/${leader}`);
    const p9 = await v3(gw.url, `${C()}/topics/${name}/partitions/9`);
    assert.equal(p9.status, 404);
    assert.equal(p9.body.error_code, 40402);
  });

  it('create twice → 400 40002; validate_only → 200 and nothing created; Kafka refusing the spec → 400 40002', async () => {
    const name = uniqueName('v3dup');
    assert.equal((await v3(gw.url, `${C()}/topics`, { body: { topic_name: name, partitions_count: 1 } })).status, 201);
    const again = await v3(gw.url, `${C()}/topics`, { body: { topic_name: name, partitions_count: 1 } });
    assert.equal(again.status, 400);
    assert.equal(again.body.error_code, 40002);
    assert.match(again.body.message, /already exists/);

    const dry = uniqueName('v3dry');
    const validate = await v3(gw.url, `${C()}/topics`, {
      body: { topic_name: dry, partitions_count: 2, validate_only: true },
    });
    assert.equal(validate.status, 200, validate.text);
    assert.equal(validate.body.topic_name, dry);
    assert.ok(!(await (await admin()).listTopics()).includes(dry), 'validate_only created nothing');

    const tooMany = await v3(gw.url, `${C()}/topics`, {
      body: { topic_name: uniqueName('v3rf'), partitions_count: 1, replication_factor: 50 },
    });
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.body.error_code, 40002);
    const badConfig = await v3(gw.url, `${C()}/topics`, {
      body: { topic_name: uniqueName('v3cfg'), configs: [{ name: 'cleanup.policy', value: 'sometimes' }] },
    });
    assert.equal(badConfig.status, 400);
    assert.equal(badConfig.body.error_code, 40002);
  });

  it('create: a bad name or missing name is refused by the contract; empty body 422; not JSON 415', async () => {
    const bad = await v3(gw.url, `${C()}/topics`, { body: { topic_name: 'bad name!' } });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.headers.get('content-type'), 'application/json');
    assert.deepEqual(Object.keys(bad.body).sort(), ['error_code', 'message']);
    const missing = await v3(gw.url, `${C()}/topics`, { body: { partitions_count: 1 } });
    assert.equal(missing.status, 422);
    const empty = await v3(gw.url, `${C()}/topics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(empty.status, 422);
    const text = await v3(gw.url, `${C()}/topics`, { body: 'topic_name=x', headers: { 'content-type': 'text/plain' } });
    assert.equal(text.status, 415);
    assert.equal(text.body.error_code, 415);
  });

  it('unknown topic: 404 40403 for get, partitions, configs and delete', async () => {
    const missing = uniqueName('v3missing');
    for (const [method, path] of [
      ['GET', `/topics/${missing}`],
      ['GET', `/topics/${missing}/partitions`],
      ['GET', `/topics/${missing}/configs`],
      ['DELETE', `/topics/${missing}`],
    ] as const) {
      const res = await v3(gw.url, `${C()}${path}`, { method });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.deepEqual(res.body, { error_code: 40403, message: 'This server does not host this topic-partition.' });
    }
  });

  it("Kafka's internal topics (`__…`) are never created, deleted or reconfigured: 403 40301 before Kafka is asked", async () => {
    // A name that only looks internal, so a broken guard could not harm the broker's real ones.
    const name = `__${uniqueName('v3internal')}`;
    for (const [method, path, body] of [
      ['POST', '/topics', { topic_name: name }],
      ['DELETE', `/topics/${name}`, undefined],
      ['PUT', `/topics/${name}/configs/retention.ms`, { value: '1000' }],
      ['DELETE', `/topics/${name}/configs/retention.ms`, undefined],
      ['POST', `/topics/${name}/configs:alter`, { data: [{ name: 'retention.ms', value: '1' }] }],
    ] as const) {
      const res = await v3(gw.url, `${C()}${path}`, { method, body });
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.equal(res.body.error_code, 40301);
      assert.match(res.body.message, /is internal to Kafka/);
    }
    assert.ok(!(await (await admin()).listTopics()).includes(name));
  });

  it('delete → 204 and the topic is gone from Kafka', async () => {
    const name = await createTopic(1, uniqueName('v3del'));
    const res = await v3(gw.url, `${C()}/topics/${name}`, { method: 'DELETE' });
    assert.equal(res.status, 204);
    assert.ok(!(await (await admin()).listTopics()).includes(name));
  });
});

describe('v3 topic configs', () => {
  it('list, get, set (PUT), reset (DELETE), batch alter — each visible in Kafka', async () => {
    const name = await createTopic(1, uniqueName('v3conf'));
    const list = await v3(gw.url, `${C()}/topics/${name}/configs`);
    assert.equal(list.status, 200);
    assert.equal(list.body.kind, 'KafkaTopicConfigList');
    const names = list.body.data.map((c: { name: string }) => c.name);
    assert.ok(names.includes('retention.ms') && names.includes('cleanup.policy'));
    assert.deepEqual(names, [...names].sort());

    const put = await v3(gw.url, `${C()}/topics/${name}/configs/retention.ms`, {
      method: 'PUT',
      body: { value: '86400000' },
    });
    assert.equal(put.status, 204, put.text);
    assert.equal(await topicConfig(name, 'retention.ms'), '86400000');
    const got = await v3(gw.url, `${C()}/topics/${name}/configs/retention.ms`);
    assert.equal(got.status, 200);
    assert.equal(got.body.kind, 'KafkaTopicConfig');
    assert.equal(got.body.value, '86400000');
    assert.equal(got.body.is_default, false);
    assert.equal(got.body.source, 'DYNAMIC_TOPIC_CONFIG');

    const batch = await v3(gw.url, `${C()}/topics/${name}/configs:alter`, {
      body: {
        data: [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'retention.ms', operation: 'DELETE' },
        ],
      },
    });
    assert.equal(batch.status, 204, batch.text);
    assert.equal(await topicConfig(name, 'cleanup.policy'), 'compact');
    assert.equal(await topicConfig(name, 'retention.ms'), '604800000', 'reset to the default');

    const reset = await v3(gw.url, `${C()}/topics/${name}/configs/cleanup.policy`, { method: 'DELETE' });
    assert.equal(reset.status, 204);
    assert.equal(await topicConfig(name, 'cleanup.policy'), 'delete');
  });

  it('unknown setting 404; an invalid value 400 40002 and nothing changes; validate_only changes nothing', async () => {
    const name = await createTopic(1, uniqueName('v3conf'));
    const unknown = await v3(gw.url, `${C()}/topics/${name}/configs/no.such.setting`);
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.body, { error_code: 404, message: 'Config no.such.setting cannot be found.' });
    const putUnknown = await v3(gw.url, `${C()}/topics/${name}/configs/no.such.setting`, {
      method: 'PUT',
      body: { value: '1' },
    });
    assert.equal(putUnknown.status, 404);

    const invalid = await v3(gw.url, `${C()}/topics/${name}/configs:alter`, {
      body: {
        data: [
          { name: 'retention.ms', value: '1000' },
          { name: 'cleanup.policy', value: 'sometimes' },
        ],
      },
    });
    assert.equal(invalid.status, 400, invalid.text);
    assert.equal(invalid.body.error_code, 40002);
    assert.equal(await topicConfig(name, 'retention.ms'), '604800000', 'all or nothing');

    const dry = await v3(gw.url, `${C()}/topics/${name}/configs:alter`, {
      body: { data: [{ name: 'retention.ms', value: '1000' }], validate_only: true },
    });
    assert.equal(dry.status, 204);
    assert.equal(await topicConfig(name, 'retention.ms'), '604800000');

    // An empty change list breaks the contract's minItems: a constraint violation, 422 as Confluent's.
    const badBody = await v3(gw.url, `${C()}/topics/${name}/configs:alter`, { body: { data: [] } });
    assert.equal(badBody.status, 422);
  });
});
