// The schema formats through an external registry (SCHEMA_REGISTRY_URL): a gateway uses another
// gateway process's embedded registry over HTTP, as it would use Confluent Schema Registry. Records
// produced through either gateway are read through the other, by the same ids.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningGateway } from '../src/gateway.js';
import { ConsumerClient } from './support/consumer-client.js';
import { needsOwnGateway, post, startTestGateway } from './support/gateway.js';
import { closeAdmin, createTopic, uniqueName } from './support/kafka.js';
import { GatewayProcess } from './support/gateway-process.js';
import { avroRecord } from './support/registry.js';

const AVRO = 'application/vnd.kafka.avro.v2+json';
const PROTOBUF = 'application/vnd.kafka.protobuf.v2+json';
const JSONSCHEMA = 'application/vnd.kafka.jsonschema.v2+json';

describe('schema formats through an external registry', { skip: needsOwnGateway }, () => {
  let embedded: GatewayProcess;
  let external: RunningGateway;

  before(async () => {
    embedded = await GatewayProcess.start({ SHUTDOWN_DELAY_MS: '0' }, { withRegistry: true });
    external = await startTestGateway({ SCHEMA_REGISTRY_URL: embedded.registryUrl! });
  });
  after(async () => {
    await external?.close();
    await embedded?.stop();
    await closeAdmin();
  });

  async function readThrough(gatewayUrl: string, topic: string, format: string, accept: string, count: number) {
    const consumer = await ConsumerClient.create(gatewayUrl, uniqueName('g'), {
      format,
      'auto.offset.reset': 'earliest',
    });
    try {
      await consumer.subscribe([topic]);
      return await consumer.fetchUntil(count, accept);
    } finally {
      await consumer.delete();
    }
  }

  it('avro produced through the external-registry gateway reads back through the embedded one, and back', async () => {
    const topic = await createTopic(1);
    const schema = avroRecord('Ping', [{ name: 'n', type: 'int' }]);
    const viaExternal = await post(`${external.url}/topics/${topic}`, AVRO, {
      value_schema: schema,
      records: [{ value: { n: 1 } }],
    });
    assert.equal(viaExternal.status, 200, viaExternal.text);
    const viaEmbedded = await post(`${embedded.url}/topics/${topic}`, AVRO, {
      value_schema_id: viaExternal.body.value_schema_id,
      records: [{ value: { n: 2 } }],
    });
    assert.equal(viaEmbedded.status, 200, viaEmbedded.text);
    for (const url of [embedded.url, external.url]) {
      const records = await readThrough(url, topic, 'avro', AVRO, 2);
      assert.deepEqual(
        records.map((r) => r.value),
        [{ n: 1 }, { n: 2 }],
      );
    }
  });

  it('protobuf keys and values, and the registry errors keep their meaning through the client', async () => {
    const topic = await createTopic(1);
    const res = await post(`${external.url}/topics/${topic}`, PROTOBUF, {
      key_schema: 'syntax = "proto3"; message K { string id = 1; }',
      value_schema: 'syntax = "proto3"; message V { int32 level = 1; }',
      records: [{ key: { id: 'a' }, value: { level: 3 } }],
    });
    assert.equal(res.status, 200, res.text);
    const [record] = await readThrough(embedded.url, topic, 'protobuf', PROTOBUF, 1);
    assert.deepEqual(record!.key, { id: 'a' });
    assert.deepEqual(record!.value, { level: 3 });
    const unknown = await post(`${external.url}/topics/${topic}`, PROTOBUF, {
      value_schema_id: 987654,
      records: [{ value: { level: 1 } }],
    });
    assert.equal(unknown.status, 422, unknown.text);
    assert.equal(unknown.body.error_code, 42207);
  });

  it('jsonschema produced through the embedded gateway reads back through the external-registry one, numbers as written', async () => {
    const topic = await createTopic(1);
    const res = await post(`${embedded.url}/topics/${topic}`, JSONSCHEMA, {
      value_schema: JSON.stringify({ type: 'object', properties: { bpm: { type: 'number' } }, required: ['bpm'] }),
      records: [{ value: { bpm: 72.5 } }],
    });
    assert.equal(res.status, 200, res.text);
    const [record] = await readThrough(external.url, topic, 'jsonschema', JSONSCHEMA, 1);
    assert.deepEqual(record!.value, { bpm: 72.5 });
  });
});
