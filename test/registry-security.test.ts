/**
 * The registry's door is the gateway's: the same credentials, and with a policy file, subjects are
 * governed through their topic (`orders-value` is topic `orders`): describe reads, produce
 * registers, admin deletes and sets compatibility; nothing else gets in (fail closed). Two
 * replicas with PEER_SECRET forward a writer's registration to the leader with its identity.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { closeAdmin } from './support/kafka.js';
import { avroRecord, sr, startRegistryGateway, type RegistryGateway } from './support/registry.js';
import { newKey, sha256, tempDir, writeFile } from './support/security.js';

const tmp = tempDir();
const keys = { reader: newKey(), writer: newKey(), admin: newKey(), stranger: newKey() };
const POLICY = `
rules:
  - who: { id: 'apikey:reader' }
    allow:
      - operations: [describe]
        topics: ['orders']
  - who: { id: 'apikey:writer' }
    allow:
      - operations: [produce]
        topics: ['orders']
  - who: { id: 'apikey:admin' }
    allow:
      - operations: [admin]
        topics: ['*']
`;

let leader: RegistryGateway;
let follower: RegistryGateway;
const as = (name: keyof typeof keys, reg: RegistryGateway = leader) => sr(reg.url, { 'x-api-key': keys[name] });
const schema = avroRecord('Order', [{ name: 'id', type: 'string' }]);

before(async () => {
  const env = {
    AUTH_METHODS: 'apikey',
    API_KEYS: Object.entries(keys)
      .map(([name, key]) => `${name}:${sha256(key)}`)
      .join(','),
    POLICY_FILE: writeFile(tmp.dir, 'policy.yaml', POLICY),
    PEER_SECRET: 'a-peer-secret-of-at-least-32-characters!',
  };
  leader = await startRegistryGateway({ env });
  follower = await startRegistryGateway({ topic: leader.topic, group: leader.group, env: { ...env, NODE_ID: 'n2' } });
});
after(async () => {
  await Promise.allSettled([leader?.gw.close(), follower?.gw.close()]);
  await closeAdmin();
  tmp.remove();
});

describe('schema registry authorization', () => {
  it('refuses callers without a credential (401) or with a wrong one', async () => {
    const none = await sr(leader.url).get('/subjects');
    assert.equal(none.status, 401);
    assert.equal(none.body.error_code, 40101);
    assert.equal((await sr(leader.url, { 'x-api-key': 'nope' }).get('/subjects')).status, 401);
  });

  it('lets a writer register (through either replica), a reader read, an admin delete; nothing more', async () => {
    // The writer registers on both replicas: one forwards to the leader, with the writer's identity.
    const viaLeader = await as('writer').post('/subjects/orders-value/versions', { schema });
    assert.equal(viaLeader.status, 200, viaLeader.text);
    const viaFollower = await as('writer', follower).post('/subjects/orders-value/versions', { schema });
    assert.deepEqual(viaFollower.body, viaLeader.body);
    const otherTopic = await as('writer').post('/subjects/payroll-value/versions', { schema });
    assert.equal(otherTopic.status, 403);
    assert.equal(otherTopic.body.error_code, 40301);

    const reader = as('reader');
    assert.equal((await reader.get('/subjects/orders-value/versions/latest')).body.id, viaLeader.body.id);
    assert.equal((await reader.get(`/schemas/ids/${viaLeader.body.id}`)).status, 200);
    assert.equal((await reader.post('/subjects/orders-value', { schema })).status, 200);
    assert.equal((await reader.post('/subjects/orders-value/versions', { schema })).status, 403);
    assert.equal((await reader.del('/subjects/orders-value')).status, 403);
    assert.equal((await reader.put('/config/orders-value', { compatibility: 'NONE' })).status, 403);
    assert.equal((await reader.put('/config', { compatibility: 'NONE' })).status, 403);

    // Someone with no rule sees no subjects and no schemas (a schema id answers as unknown).
    const stranger = as('stranger');
    assert.deepEqual((await stranger.get('/subjects')).body, []);
    assert.equal((await stranger.get(`/schemas/ids/${viaLeader.body.id}`)).body.error_code, 40403);
    assert.equal((await stranger.get('/subjects/orders-value/versions')).status, 403);
    assert.deepEqual((await reader.get('/subjects')).body, ['orders-value']);

    const admin = as('admin', follower);
    assert.deepEqual((await admin.put('/config/orders-value', { compatibility: 'FULL' })).body, {
      compatibility: 'FULL',
    });
    assert.deepEqual((await admin.del('/subjects/orders-value')).body, [1]);
  });
});
