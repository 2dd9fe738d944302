// v3 behind the policy file: a reader may describe its topics and groups, only an admin may
// create, delete or reconfigure, a producer may only produce — and whatever no rule allows is
// refused (403), with lists showing only what the caller may see. Rate limits count v3 calls.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningGateway } from '../src/gateway.js';
import { startTestGateway } from './support/gateway.js';
import { admin, closeAdmin, createTopic, recordCount, uniqueName } from './support/kafka.js';
import { newKey, sha256, tempDir, writeFile } from './support/security.js';
import { clusterIdOf, produceText, reportsOf, v3 } from './support/v3.js';

const tmp = tempDir();
const run = uniqueName('v3a');
const keys = { reader: newKey(), ops: newKey(), device: newKey(), nobody: newKey() };
const POLICY = `
rules:
  - who: { id: 'apikey:reader' }
    allow:
      - operations: [describe]
        topics: ['${run}.*']
        groups: ['${run}-*']
  - who: { id: 'apikey:ops' }
    allow:
      - operations: [admin]
        topics: ['${run}.*']
        groups: ['${run}-*']
  - who: { id: 'apikey:device' }
    allow:
      - operations: [produce]
        topics: ['${run}.readings']
`;

let gw: RunningGateway;
let limited: RunningGateway;
let cluster: string;
let visible: string;
let hidden: string;
let readings: string;
const as = (who: keyof typeof keys) => ({ 'x-api-key': keys[who] });

before(async () => {
  gw = await startTestGateway({
    AUTH_METHODS: 'apikey',
    API_KEYS: Object.entries(keys)
      .map(([name, key]) => `${name}:${sha256(key)}`)
      .join(','),
    POLICY_FILE: writeFile(tmp.dir, 'policy.yaml', POLICY),
  });
  limited = await startTestGateway({ RATE_LIMIT_METADATA: '3', RATE_LIMIT_WINDOW_MS: '60000' });
  visible = await createTopic(1, `${run}.visible`);
  readings = await createTopic(1, `${run}.readings`);
  hidden = await createTopic(1, uniqueName('v3hidden'));
  cluster = await clusterIdOf(limited.url);
});
after(async () => {
  await Promise.all([gw?.close(), limited?.close()]);
  await closeAdmin();
  tmp.remove();
});

const T = (topic = '') => `/v3/clusters/${cluster}/topics${topic === '' ? '' : `/${topic}`}`;

describe('v3 authorization', () => {
  it('no credential: 401 in the v3 error shape', async () => {
    const res = await v3(gw.url, '/v3/clusters');
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(Object.keys(res.body).sort(), ['error_code', 'message']);
    assert.equal(res.body.error_code, 40101);
  });

  it('a reader describes its topics and configs; the topic list shows only those', async () => {
    assert.equal((await v3(gw.url, T(visible), { headers: as('reader') })).status, 200);
    assert.equal((await v3(gw.url, `${T(visible)}/configs`, { headers: as('reader') })).status, 200);
    assert.equal((await v3(gw.url, `${T(visible)}/partitions/0`, { headers: as('reader') })).status, 200);
    const list = await v3(gw.url, T(), { headers: as('reader') });
    assert.equal(list.status, 200);
    const names = list.body.data.map((t: { topic_name: string }) => t.topic_name);
    assert.ok(names.includes(visible));
    assert.ok(!names.includes(hidden), 'a topic the reader may not describe is not listed');
    const other = await v3(gw.url, T(hidden), { headers: as('reader') });
    assert.equal(other.status, 403);
    assert.equal(other.body.error_code, 40301);
  });

  it('a reader may not create, delete or reconfigure: 403 and nothing changes', async () => {
    const name = `${run}.new-${uniqueName('x')}`;
    const create = await v3(gw.url, T(), { body: { topic_name: name }, headers: as('reader') });
    assert.equal(create.status, 403);
    const del = await v3(gw.url, T(visible), { method: 'DELETE', headers: as('reader') });
    assert.equal(del.status, 403);
    const put = await v3(gw.url, `${T(visible)}/configs/retention.ms`, {
      method: 'PUT',
      body: { value: '1000' },
      headers: as('reader'),
    });
    assert.equal(put.status, 403);
    const alter = await v3(gw.url, `${T(visible)}/configs:alter`, {
      body: { data: [{ name: 'retention.ms', value: '1000' }] },
      headers: as('reader'),
    });
    assert.equal(alter.status, 403);
    const reset = await v3(gw.url, `${T(visible)}/configs/retention.ms`, { method: 'DELETE', headers: as('reader') });
    assert.equal(reset.status, 403);
    const topics = await (await admin()).listTopics();
    assert.ok(topics.includes(visible) && !topics.includes(name));
  });

  it('an admin of the topics creates, reconfigures and deletes them; not outside its pattern', async () => {
    const name = `${run}.made-${uniqueName('x')}`;
    assert.equal(
      (await v3(gw.url, T(), { body: { topic_name: name, partitions_count: 1 }, headers: as('ops') })).status,
      201,
    );
    const put = await v3(gw.url, `${T(name)}/configs/retention.ms`, {
      method: 'PUT',
      body: { value: '1000' },
      headers: as('ops'),
    });
    assert.equal(put.status, 204);
    assert.equal((await v3(gw.url, T(name), { method: 'DELETE', headers: as('ops') })).status, 204);
    const outside = await v3(gw.url, T(), { body: { topic_name: uniqueName('v3outside') }, headers: as('ops') });
    assert.equal(outside.status, 403);
  });

  it('a caller no rule names is refused everything but the cluster itself (fail closed)', async () => {
    assert.equal((await v3(gw.url, T(visible), { headers: as('nobody') })).status, 403);
    const list = await v3(gw.url, T(), { headers: as('nobody') });
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.data, []);
    const group = await v3(gw.url, `/v3/clusters/${cluster}/consumer-groups/${run}-g`, { headers: as('nobody') });
    assert.equal(group.status, 403);
    const lags = await v3(gw.url, `/v3/clusters/${cluster}/consumer-groups/${run}-g/lags`, { headers: as('nobody') });
    assert.equal(lags.status, 403);
  });

  it('produce needs produce on the topic: a reader gets 403 before any record is read', async () => {
    const url = `${gw.url}${T(readings)}/records`;
    const refused = await produceText(url, '{"value":{"type":"STRING","data":"x"}}', as('reader'));
    assert.equal(refused.status, 403);
    assert.equal(JSON.parse(refused.text).error_code, 40301);
    const ok = await produceText(url, '{"value":{"type":"STRING","data":"x"}}', as('device'));
    assert.equal(ok.status, 200);
    assert.equal(reportsOf(ok.text)[0]!.error_code, 200);
    assert.equal(await recordCount(readings), 1);
  });
});

describe('v3 rate limits and metrics', () => {
  it('metrics count v3 requests per route pattern (never per topic) and the records v3 produced', async () => {
    await v3(limited.url, T(readings));
    const url = `${limited.url}${T(readings)}/records`;
    await produceText(
      url,
      '{"value":{"type":"STRING","data":"m1"}}{"value":{"type":"STRING","data":"m2"}}',
      as('device'),
    );
    const metrics = await (await fetch(`${limited.url}/metrics`)).text();
    assert.match(metrics, /route="\/v3\/clusters\/:cluster_id\/topics\/:topic_name",status="200"/);
    assert.match(metrics, /route="\/v3\/clusters\/:cluster_id\/topics\/:topic_name\/records",status="200"/);
    assert.ok(!metrics.includes(`route="/v3/clusters/${cluster}`), 'no series per cluster or topic name');
    const produced = metrics
      .split('\n')
      .find((l) => l.startsWith(`gateway_produced_records_total{topic="${readings}"}`));
    assert.ok(produced !== undefined && Number(produced.split(' ')[1]) >= 2, `records counted: ${produced}`);
  });

  it('v3 reads count against the metadata limit: 429 in the v3 shape with Retry-After', async () => {
    let last;
    for (let i = 0; i < 5; i++) last = await v3(limited.url, `/v3/clusters/${cluster}/brokers`);
    assert.equal(last!.status, 429);
    assert.equal(last!.headers.get('content-type'), 'application/json');
    assert.ok(Number(last!.headers.get('retry-after')) >= 1);
    assert.deepEqual(Object.keys(last!.body).sort(), ['error_code', 'message']);
  });
});
