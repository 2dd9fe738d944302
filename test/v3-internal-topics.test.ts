// The gateway's own topics and Kafka's internal ones over v3 (issue 14, gaps): the schema
// registry's topic (SCHEMA_REGISTRY_TOPIC) could be reconfigured or deleted by a topic admin, and
// topic lists showed __consumer_offsets (Confluent hides internal topics).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningGateway } from '../src/gateway.js';
import { startTestGateway } from './support/gateway.js';
import { admin, closeAdmin, uniqueName } from './support/kafka.js';
import { clusterIdOf, v3 } from './support/v3.js';
import { waitUntil } from './support/wait.js';

let gw: RunningGateway;
let cluster: string;
// A registry topic of this test's own: the shared broker's `_schemas` is not ours to risk.
const registryTopic = uniqueName('_schemas');

before(async () => {
  gw = await startTestGateway({
    SCHEMA_REGISTRY_ENABLED: 'true',
    SCHEMA_REGISTRY_PORT: '0',
    SCHEMA_REGISTRY_TOPIC: registryTopic,
  });
  cluster = await clusterIdOf(gw.url);
  await waitUntil('the registry topic', async () => (await (await admin()).listTopics()).includes(registryTopic));
});
after(async () => {
  await gw?.close();
  await (await admin()).deleteTopics({ topics: [registryTopic] }).catch(() => undefined);
  await closeAdmin();
});

const C = () => `/v3/clusters/${cluster}`;

describe("the gateway's own and Kafka's internal topics", () => {
  it('the schema registry topic cannot be deleted or reconfigured over v3: 403 40301, and it stays', async () => {
    const put = await v3(gw.url, `${C()}/topics/${registryTopic}/configs/retention.ms`, {
      method: 'PUT',
      body: { value: '1000' },
    });
    assert.equal(put.status, 403, put.text);
    assert.equal(put.body.error_code, 40301);
    const alter = await v3(gw.url, `${C()}/topics/${registryTopic}/configs:alter`, {
      body: { data: [{ name: 'cleanup.policy', value: 'delete' }] },
    });
    assert.equal(alter.status, 403, alter.text);
    const reset = await v3(gw.url, `${C()}/topics/${registryTopic}/configs/cleanup.policy`, { method: 'DELETE' });
    assert.equal(reset.status, 403, reset.text);
    const del = await v3(gw.url, `${C()}/topics/${registryTopic}`, { method: 'DELETE' });
    assert.equal(del.status, 403, del.text);
    assert.equal(del.body.error_code, 40301);
    assert.ok((await (await admin()).listTopics()).includes(registryTopic));
  });

  it('topic lists (v3 and v2) leave out Kafka-internal topics (`__…`)', async () => {
    // Any consumer group makes Kafka create __consumer_offsets.
    assert.ok((await (await admin()).listTopics()).includes('__consumer_offsets'));
    const listed = await v3(gw.url, `${C()}/topics`);
    assert.equal(listed.status, 200);
    const names = (listed.body.data as Array<{ topic_name: string }>).map((t) => t.topic_name);
    assert.ok(names.length > 0);
    assert.ok(!names.some((n) => n.startsWith('__')), names.filter((n) => n.startsWith('__')).join(','));
    const v2 = await fetch(`${gw.url}/topics`);
    const v2names = (await v2.json()) as string[];
    assert.ok(!v2names.some((n) => n.startsWith('__')));
  });
});
