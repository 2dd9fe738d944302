// A topic's plain-json validation schema from the schema registry (valueSchemaFromRegistry): the
// policy's file schema seeds the subject, records are checked against its latest version with
// the usual precise 42206 errors, and an operator evolves it through the registry API at run time.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { JSON_V2, needsOwnGateway, post } from './support/gateway.js';
import { closeAdmin, recordCount, uniqueName } from './support/kafka.js';
import { sr, startRegistryGateway, type RegistryGateway } from './support/registry.js';
import { waitUntil } from './support/wait.js';

const v1 = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  required: ['deviceid', 'heartrate'],
  properties: { deviceid: { type: 'string' }, heartrate: { type: 'string', pattern: '^[0-9]+$' } },
  additionalProperties: false,
};
// v2 adds an optional reading: old records still pass (BACKWARD compatible).
const v2 = { ...v1, properties: { ...v1.properties, spo2: { type: 'integer', minimum: 0, maximum: 100 } } };

describe('topic JSON Schemas from the registry', { skip: needsOwnGateway }, () => {
  const topic = uniqueName('heartrate');
  let gw: RegistryGateway;

  before(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'topics-'));
    const policy = path.join(dir, 'topics.json');
    writeFileSync(
      policy,
      JSON.stringify({
        topics: [{ name: topic, create: { partitions: 1 }, valueSchema: v1, valueSchemaFromRegistry: 'latest' }],
      }),
    );
    gw = await startRegistryGateway({ env: { TOPICS_CONFIG: policy } });
  });
  after(async () => {
    await gw.gw.close();
    await closeAdmin();
  });

  const produce = (value: unknown) => post(`${gw.gw.url}/topics/${topic}`, JSON_V2, { records: [{ value }] });

  it('v3 produce is checked against the registry schema from the first request', async () => {
    const res = await fetch(`${gw.gw.url}/v3/clusters/any/topics/${topic}/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ value: { type: 'JSON', data: { deviceid: 'w1', heartrate: 'fast' } } }),
    });
    const report = JSON.parse((await res.text()).trim()) as { error_code: number; message: string };
    assert.equal(report.error_code, 42206, JSON.stringify(report));
    assert.match(report.message, /heartrate: must match pattern/);
  });

  it('seeds <topic>-value with the policy schema and validates plain json against it (42206, precise)', async () => {
    const versions = await sr(gw.url).get(`/subjects/${topic}-value/versions`);
    assert.deepEqual(versions.body, [1]);
    const bad = await produce({ deviceid: 'w1', heartrate: 'fast' });
    assert.equal(bad.status, 422, bad.text);
    assert.equal(bad.body.error_code, 42206);
    assert.deepEqual(bad.body.validation_errors, [
      { path: 'records[0].value/heartrate', message: 'must match pattern "^[0-9]+$"' },
    ]);
    const ok = await produce({ deviceid: 'w1', heartrate: '72' });
    assert.equal(ok.status, 200, ok.text);
    // Plain json stays plain json: no schema id in the answer, no wire-format header in Kafka.
    assert.equal(ok.body.value_schema_id, null);
  });

  it('an evolved schema registered through the registry API applies at once, without a restart', async () => {
    const before = await produce({ deviceid: 'w1', heartrate: '72', spo2: 97 });
    assert.equal(before.status, 422, 'v1 does not allow spo2');
    const reg = await sr(gw.url).post(`/subjects/${topic}-value/versions`, {
      schemaType: 'JSON',
      schema: JSON.stringify(v2),
    });
    assert.equal(reg.status, 200, reg.text);
    await waitUntil(
      'v2 applies',
      async () => (await produce({ deviceid: 'w1', heartrate: '72', spo2: 97 })).status === 200,
    );
    const out = await produce({ deviceid: 'w1', heartrate: '72', spo2: 140 });
    assert.equal(out.status, 422);
    assert.deepEqual(out.body.validation_errors, [{ path: 'records[0].value/spo2', message: 'must be <= 100' }]);
    assert.equal(await recordCount(topic), 2);
  });

  it('an incompatible change is refused by the registry, and the topic keeps its schema', async () => {
    const incompatible = { ...v2, properties: { ...v2.properties, heartrate: { type: 'integer' } } };
    const reg = await sr(gw.url).post(`/subjects/${topic}-value/versions`, {
      schemaType: 'JSON',
      schema: JSON.stringify(incompatible),
    });
    assert.equal(reg.status, 409, reg.text);
    const still = await produce({ deviceid: 'w1', heartrate: '73' });
    assert.equal(still.status, 200, still.text);
  });
});
