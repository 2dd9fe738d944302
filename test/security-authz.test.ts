// Authorization from a policy file: devices may only produce their own readings, a dashboard may
// only consume, and every endpoint enforces it (produce, metadata listing and lookups, consumer
// groups, subscribe/assign); another identity cannot use someone else's consumer instance.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningGateway } from '../src/gateway.js';
import { parsePolicy } from '../src/policy/authz/policy-file.js';
import { may } from '../src/policy/authz/policy.js';
import { JSON_V2, V2, post, request, startTestGateway } from './support/gateway.js';
import { closeAdmin, createTopic, recordCount, uniqueName } from './support/kafka.js';
import { AUDIENCE, HS_SECRET, ISSUER, hsToken, newKey, sha256, tempDir, writeFile } from './support/security.js';

const tmp = tempDir();
const run = uniqueName('r'); // keeps this run's topic names apart from other runs'
const opsKey = newKey();
const POLICY = `
rules:
  - who: { kind: jwt, claims: { role: device } }      # each device: its own readings topic only
    allow:
      - operations: [produce]
        topics: ['readings.${run}.{name}']
  - who: { id: 'jwt:dashboard-*' }                     # dashboards: read every device's readings
    allow:
      - operations: [consume]
        topics: ['readings.${run}.*']
        groups: ['dashboard-*']
  - who: { kind: apikey, id: 'apikey:ops' }
    allow:
      - operations: [admin]
        topics: ['*']
        groups: ['*']
`;

let gw: RunningGateway;
let mine: string;
let theirs: string;
let secret: string;
before(async () => {
  gw = await startTestGateway({
    AUTH_METHODS: 'jwt,apikey',
    JWT_ALGORITHMS: 'HS256',
    JWT_SECRET: HS_SECRET,
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    API_KEYS: `ops:${sha256(opsKey)}`,
    POLICY_FILE: writeFile(tmp.dir, 'policy.yaml', POLICY),
    METADATA_MAX_AGE_MS: '100',
  });
  mine = await createTopic(1, `readings.${run}.device-1`);
  theirs = await createTopic(1, `readings.${run}.device-2`);
  secret = await createTopic(1, uniqueName('payroll'));
});
after(async () => {
  await gw?.close();
  await closeAdmin();
  tmp.remove();
});

const bearer = (sub: string, claims: Record<string, unknown> = {}) => ({
  authorization: `Bearer ${hsToken({ sub, ...claims })}`,
});
const device1 = () => bearer('device-1', { role: 'device' });
const dashboard = () => bearer('dashboard-main');
const produce = (topic: string, headers: Record<string, string>) =>
  post(`${gw.url}/topics/${topic}`, JSON_V2, { records: [{ value: { bpm: 70 } }] }, headers);

describe('produce is limited to the topics the policy grants', () => {
  it('a device produces its own readings', async () => {
    const before = await recordCount(mine);
    const res = await produce(mine, device1());
    assert.equal(res.status, 200, res.text);
    assert.equal(await recordCount(mine), before + 1);
  });

  it("a device producing to another device's topic gets 403 40301 and nothing is produced", async () => {
    const res = await produce(theirs, device1());
    assert.equal(res.status, 403);
    assert.equal(res.body.error_code, 40301);
    assert.match(res.body.message, /Not authorized to produce to topic/);
    assert.equal(await recordCount(theirs), 0);
  });

  it('a token without the device role, and the consume-only dashboard, cannot produce', async () => {
    assert.equal((await produce(mine, bearer('device-1'))).status, 403);
    assert.equal((await produce(mine, dashboard())).status, 403);
    assert.equal((await produce(`readings.${run}.dashboard-main`, dashboard())).status, 403);
  });

  it('an admin API key may produce anywhere', async () => {
    const res = await produce(secret, { 'x-api-key': opsKey });
    assert.equal(res.status, 200);
    assert.equal(await recordCount(secret), 1);
  });
});

describe('metadata shows only what the caller may describe', () => {
  it('GET /topics lists only permitted topics', async () => {
    const asDevice = await request(`${gw.url}/topics`, { headers: device1() });
    assert.equal(asDevice.status, 200);
    assert.ok(asDevice.body.includes(mine));
    assert.ok(!asDevice.body.includes(theirs));
    assert.ok(!asDevice.body.includes(secret));
    const asDashboard = await request(`${gw.url}/topics`, { headers: dashboard() });
    assert.ok(asDashboard.body.includes(mine) && asDashboard.body.includes(theirs));
    assert.ok(!asDashboard.body.includes(secret));
  });

  it('looking up a topic outside the grant is 403', async () => {
    assert.equal((await request(`${gw.url}/topics/${mine}`, { headers: device1() })).status, 200);
    for (const path of [
      `/topics/${theirs}`,
      `/topics/${theirs}/partitions`,
      `/topics/${secret}/partitions/0/offsets`,
    ]) {
      const res = await request(`${gw.url}${path}`, { headers: device1() });
      assert.equal(res.status, 403, path);
      assert.equal(res.body.error_code, 40301);
    }
  });
});

describe('policy decisions', () => {
  const policy = parsePolicy(
    {
      rules: [
        { who: { claims: { scope: 'produce:metrics' } }, allow: [{ operations: ['produce'], topics: ['metrics-*'] }] },
        { who: { kind: 'cert' }, allow: [{ operations: ['consume'], topics: ['t'], groups: ['g-{name}'] }] },
      ],
    },
    'test',
  );

  it('matches OAuth scopes among space-separated words, and substitutes the caller name literally', () => {
    const svc = { id: 'jwt:svc', kind: 'jwt' as const, claims: { scope: 'read produce:metrics' } };
    assert.ok(may(policy, svc, 'produce', { topic: 'metrics-cpu' }));
    assert.ok(may(policy, svc, 'describe', { topic: 'metrics-cpu' }), 'produce implies describe');
    assert.ok(!may(policy, svc, 'consume', { topic: 'metrics-cpu' }));
    const cert = { id: 'cert:a.b', kind: 'cert' as const };
    assert.ok(may(policy, cert, 'consume', { group: 'g-a.b' }));
    assert.ok(!may(policy, cert, 'consume', { group: 'g-aXb' }), 'a dot in a name is not a wildcard');
    assert.ok(!may(policy, { id: 'anonymous', kind: 'anonymous' }, 'describe', { topic: 't' }));
  });

  it('rejects a policy file with an unknown operation or key', () => {
    assert.throws(() => parsePolicy({ rules: [{ allow: [{ operations: ['write'], topics: ['*'] }] }] }), /write/);
    assert.throws(() => parsePolicy({ rules: [{ who: { role: 'x' }, allow: [] }] }), /unknown key|non-empty/);
  });
});

describe('consumers', () => {
  it('creating a consumer needs consume on the group; subscribe and assign need consume on each topic', async () => {
    const create = (group: string, headers: Record<string, string>) =>
      post(`${gw.url}/consumers/${group}`, V2, { format: 'json', 'auto.offset.reset': 'earliest' }, headers);
    const denied = await create('billing', dashboard());
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error_code, 40301);
    assert.equal((await create(`dashboard-${run}`, device1())).status, 403);

    const created = await create(`dashboard-${run}`, dashboard());
    assert.equal(created.status, 200, created.text);
    const base = `${gw.url}/consumers/dashboard-${run}/instances/${created.body.instance_id}`;
    const subscribe = (topics: string[]) => post(`${base}/subscription`, V2, { topics }, dashboard());
    const forbidden = await subscribe([mine, secret]);
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body.error_code, 40301);
    const assign = await post(
      `${base}/assignments`,
      V2,
      { partitions: [{ topic: secret, partition: 0 }] },
      dashboard(),
    );
    assert.equal(assign.status, 403);
    assert.equal((await subscribe([mine, theirs])).status, 204);

    // Another identity cannot touch the dashboard's instance: it does not exist for them.
    const hijack = await request(`${base}/records`, {
      headers: { ...device1(), accept: 'application/vnd.kafka.json.v2+json' },
    });
    assert.equal(hijack.status, 404);
    assert.equal(hijack.body.error_code, 40403);
    const hijackDelete = await request(base, {
      method: 'DELETE',
      headers: { ...bearer('dashboard-other'), 'content-type': V2 },
    });
    assert.equal(hijackDelete.status, 404);
    assert.equal(
      (await request(base, { method: 'DELETE', headers: { ...dashboard(), 'content-type': V2 } })).status,
      204,
    );
  });
});
