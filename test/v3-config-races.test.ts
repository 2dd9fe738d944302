// Concurrent setting changes to one topic through the gateway (issue 14, finding 4): kafkajs has
// no IncrementalAlterConfigs, so each change reads every override and writes them back whole. Eight
// parallel changes of eight different settings all answered 204 while only some were kept. Changes
// to one topic are now serialized inside the gateway: every 204 is a change Kafka holds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { admin, createTopic } from './support/kafka.js';
import { v3, v3TestGateway } from './support/v3.js';

const gw = v3TestGateway();

async function overrides(topic: string): Promise<Map<string, string>> {
  const d = await (
    await admin()
  ).describeConfigs({
    resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic }],
    includeSynonyms: false,
  });
  const out = new Map<string, string>();
  for (const e of d.resources[0]?.configEntries ?? [])
    if ((e as { configSource?: number }).configSource === 1) out.set(e.configName, e.configValue);
  return out;
}

const NAMES = [
  'retention.ms',
  'segment.ms',
  'delete.retention.ms',
  'min.compaction.lag.ms',
  'max.compaction.lag.ms',
  'file.delete.delay.ms',
  'flush.ms',
  'segment.jitter.ms',
];

describe('v3 topic settings under concurrency', () => {
  it('eight parallel PUTs of eight settings: every 204 is kept', async () => {
    const topic = await createTopic(1);
    const answers = await Promise.all(
      NAMES.map((name) =>
        v3(gw.url, `/v3/clusters/${gw.cluster}/topics/${topic}/configs/${name}`, {
          method: 'PUT',
          body: { value: '86400001' },
        }),
      ),
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      NAMES.map(() => 204),
    );
    const now = await overrides(topic);
    for (const name of NAMES) assert.equal(now.get(name), '86400001', `${name} lost`);
  });
});
