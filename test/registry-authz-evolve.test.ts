/**
 * Who may change a subject's schema (issue 12 B4). A caller with only `produce` on a topic may
 * register the first version of its subjects (as Confluent serializers do on first use) and use
 * schemas already registered, but a new version of an existing subject needs `admin`, through the
 * registry API and through a produce with a raw schema alike; otherwise one device could replace
 * the schema every producer is validated against. And a JSON Schema the produce validators (RE2)
 * cannot compile is refused at registration (42201), so it cannot block the topic afterwards.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { post } from './support/gateway.js';
import { closeAdmin, createTopic, uniqueName } from './support/kafka.js';
import { sr, startRegistryGateway, type RegistryGateway } from './support/registry.js';
import { newKey, sha256, tempDir, writeFile } from './support/security.js';

const JSONSCHEMA_V2 = 'application/vnd.kafka.jsonschema.v2+json';
const tmp = tempDir();
const keys = { dev: newKey(), admin: newKey() };
let reg: RegistryGateway;
let topic: string;
let fresh: string;

const strict = JSON.stringify({
  type: 'object',
  properties: { deviceid: { type: 'string' }, heartrate: { type: 'integer' } },
  required: ['deviceid', 'heartrate'],
  additionalProperties: false,
});
const as = (who: keyof typeof keys) => sr(reg.url, { 'x-api-key': keys[who] });
const produce = (who: keyof typeof keys, t: string, body: unknown) =>
  post(`${reg.gw.url}/topics/${t}`, JSONSCHEMA_V2, body, { 'x-api-key': keys[who] });

before(async () => {
  topic = await createTopic(1, uniqueName('atk12hr'));
  fresh = await createTopic(1, uniqueName('atk12new'));
  const policy = `
rules:
  - who: { id: 'apikey:dev' }
    allow:
      - operations: [produce, describe]
        topics: ['${topic}', '${fresh}']
  - who: { id: 'apikey:admin' }
    allow:
      - operations: [admin, produce, describe]
        topics: ['*']
`;
  reg = await startRegistryGateway({
    env: {
      AUTH_METHODS: 'apikey',
      API_KEYS: Object.entries(keys)
        .map(([name, key]) => `${name}:${sha256(key)}`)
        .join(','),
      POLICY_FILE: writeFile(tmp.dir, 'policy.yaml', policy),
    },
  });
  const v1 = await as('admin').post(`/subjects/${topic}-value/versions`, { schemaType: 'JSON', schema: strict });
  assert.equal(v1.status, 200, v1.text);
});
after(async () => {
  await reg?.gw.close();
  await closeAdmin();
  tmp.remove();
});

describe('registering a new version needs admin', () => {
  it('a producer cannot add a version through the registry API (40301); re-registering v1 is fine', async () => {
    const open = await as('dev').post(`/subjects/${topic}-value/versions`, { schemaType: 'JSON', schema: '{}' });
    assert.equal(open.status, 403, open.text);
    assert.equal(open.body.error_code, 40301);
    const same = await as('dev').post(`/subjects/${topic}-value/versions`, { schemaType: 'JSON', schema: strict });
    assert.equal(same.status, 200, same.text);
    assert.deepEqual((await as('dev').get(`/subjects/${topic}-value/versions`)).body, [1]);
  });

  it('a producer cannot add a version with a raw schema on produce (40301), nothing is written', async () => {
    const res = await produce('dev', topic, {
      value_schema: '{}',
      records: [{ value: { deviceid: 'd1', heartrate: 'fast', evil: true } }],
    });
    assert.equal(res.status, 403, res.text);
    assert.equal(res.body.error_code, 40301);
    assert.deepEqual((await as('admin').get(`/subjects/${topic}-value/versions`)).body, [1]);
  });

  it('a producer may register the first version of a subject, an admin may evolve it', async () => {
    const first = await produce('dev', fresh, {
      value_schema: strict,
      records: [{ value: { deviceid: 'd1', heartrate: 60 } }],
    });
    assert.equal(first.status, 200, first.text);
    const evolved = JSON.stringify({ ...JSON.parse(strict), additionalProperties: true });
    const byAdmin = await as('admin').post(`/subjects/${fresh}-value/versions`, {
      schemaType: 'JSON',
      schema: evolved,
    });
    assert.equal(byAdmin.status, 200, byAdmin.text);
  });

  it('a JSON Schema pattern RE2 cannot compile (look-behind) is 42201 at registration', async () => {
    const res = await as('admin').post(`/subjects/${uniqueName('re2')}-value/versions`, {
      schemaType: 'JSON',
      schema: JSON.stringify({ properties: { note: { type: 'string', pattern: '(?<=a)b' } } }),
    });
    assert.equal(res.status, 422, res.text);
    assert.equal(res.body.error_code, 42201);
  });
});
