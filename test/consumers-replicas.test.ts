// Two gateway replicas on different ports against one Kafka, as behind a load balancer without
// sticky sessions: any replica serves any instance by forwarding to its owner.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { RunningGateway } from '../src/gateway.js';
import { ConsumerClient } from './support/consumer-client.js';
import { BINARY_V2, JSON_V2, V2, post, startTestGateway } from './support/gateway.js';
import { closeAdmin, createTopic, uniqueName } from './support/kafka.js';
import { freePort } from './support/net.js';

let one: RunningGateway;
let two: RunningGateway;

before(async () => {
  const [p1, p2] = await Promise.all([freePort(), freePort()]);
  [one, two] = await Promise.all([
    startTestGateway({ PORT: String(p1), NODE_ID: 'n1', PEER_URLS: `n2=http://127.0.0.1:${p2}`, TRUST_PROXY: 'true' }),
    startTestGateway({
      PORT: String(p2),
      NODE_ID: 'n2',
      PEER_URLS: `n1=http://127.0.0.1:${p1}`,
      PUBLIC_URL: 'https://kafka.example.com/rest',
    }),
  ]);
});
after(async () => {
  await Promise.all([one.close(), two.close()]);
  await closeAdmin();
});

describe('consumers: two replicas', () => {
  it('serves an instance created on one replica through the other, for every operation', async () => {
    const topic = await createTopic(2);
    const produced = await post(`${two.url}/topics/${topic}`, JSON_V2, {
      records: [{ value: { n: 1 } }, { value: { n: 2 } }],
    });
    assert.equal(produced.status, 200);
    const created = await ConsumerClient.create(one.url, uniqueName('lb'), {
      format: 'json',
      'auto.offset.reset': 'earliest',
    });
    assert.match(created.instanceId, /^rest-consumer-n1-/, 'the owner is readable from the id');
    const elsewhere = created.via(two.url);

    await elsewhere.subscribe([topic]);
    const sub = await elsewhere.get('/subscription');
    assert.deepEqual(sub.body, { topics: [topic] });
    assert.equal(
      sub.headers.get('x-kafka-rest-forwarded-by'),
      'n1',
      'answered by the owner (named by node id, never its address)',
    );
    const records = await elsewhere.fetchUntil(2);
    assert.deepEqual(
      records.map((r) => r.value).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      [{ n: 1 }, { n: 2 }],
    );
    const partition = records[0]!.partition;
    let res = await elsewhere.post('/offsets', { offsets: [{ topic, partition, offset: records[0]!.offset }] });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, []);
    res = await elsewhere.get('/offsets', {}, { partitions: [{ topic, partition }] });
    assert.equal(res.body.offsets[0].offset, records[0]!.offset + 1, 'GET with a body is forwarded too');
    res = await elsewhere.get('/records', { accept: BINARY_V2 });
    assert.equal(res.status, 406, 'errors come back unchanged');
    assert.equal(res.body.error_code, 40601);

    assert.equal((await elsewhere.delete()).status, 204);
    res = await created.get('/subscription');
    assert.equal(res.status, 404);
    assert.equal(res.body.error_code, 40403);
    res = await elsewhere.get('/subscription');
    assert.equal(res.body.error_code, 40403);
  });

  it('finds a client-chosen name by asking the peers, and answers 40403 for an unknown owner', async () => {
    const group = uniqueName('lb');
    const c = await ConsumerClient.create(two.url, group, { name: 'dashboard-1' });
    // (two's base_uri carries its PUBLIC_URL; address the instance on `one` by its path.)
    const viaOne = new ConsumerClient(`${one.url}/consumers/${group}/instances/dashboard-1`, c.instanceId);
    const res = await viaOne.get('/assignments');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { partitions: [] });
    assert.equal(res.headers.get('x-kafka-rest-forwarded-by'), 'n2');
    assert.equal((await viaOne.delete()).status, 204);

    const ghost = await post(
      `${two.url}/consumers/${group}/instances/rest-consumer-n9-${randomUUID()}/subscription`,
      V2,
      {
        topics: ['x'],
      },
    );
    assert.equal(ghost.status, 404);
    assert.equal(ghost.body.error_code, 40403);
  });

  it('builds base_uri from PUBLIC_URL, else (TRUST_PROXY) from the proxy headers, else from Host', async () => {
    const group = uniqueName('uri');
    let res = await post(`${two.url}/consumers/${group}`, V2, { name: 'a' });
    assert.equal(res.body.base_uri, `https://kafka.example.com/rest/consumers/${group}/instances/a`);
    res = await post(
      `${one.url}/consumers/${group}`,
      V2,
      { name: 'b' },
      { forwarded: 'for=1.2.3.4;proto=https;host=gw.example.com' },
    );
    assert.equal(res.body.base_uri, `https://gw.example.com/consumers/${group}/instances/b`);
    res = await post(
      `${one.url}/consumers/${group}`,
      V2,
      { name: 'c' },
      {
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'lb.example.com',
      },
    );
    assert.equal(res.body.base_uri, `https://lb.example.com/consumers/${group}/instances/c`);
    res = await post(`${one.url}/consumers/${group}`, V2, { name: 'd' });
    assert.equal(res.body.base_uri, `${one.url}/consumers/${group}/instances/d`);
  });
});
