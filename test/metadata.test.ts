// Topic, partition and broker metadata, as a Confluent REST Proxy client reads it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningGateway } from '../src/gateway.js';
import { JSON_V2, V2, needsOwnGateway, post, request, startTestGateway } from './support/gateway.js';
import { closeAdmin, createTopic, uniqueName } from './support/kafka.js';

let gw: RunningGateway;
let topic: string;

before(async () => {
  topic = await createTopic(3);
  gw = await startTestGateway();
});
after(async () => {
  await gw?.close();
  await closeAdmin();
});

describe('metadata', () => {
  it('GET / answers {} with the v2 media type', async () => {
    const res = await request(`${gw.url}/`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {});
    assert.equal(res.headers.get('content-type'), V2);
  });

  it('GET /topics lists the topic and hides internal topics', async () => {
    const res = await request(`${gw.url}/topics`, { headers: { accept: V2 } });
    assert.equal(res.status, 200);
    assert.ok(res.body.includes(topic));
    assert.ok(!res.body.some((t: string) => t.startsWith('__')));
  });

  it('GET /topics/{t} has every config and the partitions with replicas', async () => {
    const res = await request(`${gw.url}/topics/${topic}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.name, topic);
    assert.equal(res.body.configs['cleanup.policy'], 'delete');
    assert.ok(Object.keys(res.body.configs).length > 10, 'defaults included');
    assert.deepEqual(
      res.body.partitions.map((p: { partition: number }) => p.partition),
      [0, 1, 2],
    );
    const p0 = res.body.partitions[0];
    assert.equal(typeof p0.leader, 'number');
    assert.deepEqual(p0.replicas, [{ broker: p0.leader, leader: true, in_sync: true }]);
  });

  it('unknown topic: 404 40401 on every topic endpoint', async () => {
    const missing = uniqueName('missing');
    for (const suffix of ['', '/partitions', '/partitions/0', '/partitions/0/offsets']) {
      const res = await request(`${gw.url}/topics/${missing}${suffix}`);
      assert.equal(res.status, 404, suffix);
      assert.equal(res.body.error_code, 40401, suffix);
    }
  });

  it(
    'UNKNOWN_TOPIC_ERROR_CODE=40403 answers an unknown topic as Confluent 6+ does; produce still fails fast',
    { skip: needsOwnGateway },
    async () => {
      const confluent6 = await startTestGateway({ UNKNOWN_TOPIC_ERROR_CODE: '40403' });
      try {
        const missing = uniqueName('missing');
        for (const suffix of ['', '/partitions', '/partitions/0', '/partitions/0/offsets']) {
          const res = await request(`${confluent6.url}/topics/${missing}${suffix}`);
          assert.equal(res.status, 404, suffix);
          assert.deepEqual(res.body, { error_code: 40403, message: 'This server does not host this topic-partition.' });
        }
        assert.equal((await request(`${confluent6.url}/topics/${topic}/partitions/7`)).body.error_code, 40402);
        assert.equal((await request(`${confluent6.url}/topics/${topic}`)).status, 200);
        const produced = await post(`${confluent6.url}/topics/${missing}`, JSON_V2, { records: [{ value: 1 }] });
        assert.equal(produced.body.error_code, 40401);
      } finally {
        await confluent6.close();
      }
    },
  );

  it('partitions: list, one, unknown (40402), not a number (404)', async () => {
    const list = await request(`${gw.url}/topics/${topic}/partitions`);
    assert.equal(list.body.length, 3);
    const one = await request(`${gw.url}/topics/${topic}/partitions/1`);
    assert.equal(one.body.partition, 1);
    const unknown = await request(`${gw.url}/topics/${topic}/partitions/9999`);
    assert.deepEqual([unknown.status, unknown.body], [404, { error_code: 40402, message: 'Partition not found.' }]);
    const nan = await request(`${gw.url}/topics/${topic}/partitions/x`);
    assert.deepEqual([nan.status, nan.body.error_code], [404, 404]);
  });

  it('partition offsets follow what was produced', async () => {
    const before = await request(`${gw.url}/topics/${topic}/partitions/2/offsets`);
    assert.deepEqual(before.body, { beginning_offset: 0, end_offset: 0 });
    await post(`${gw.url}/topics/${topic}/partitions/2`, JSON_V2, { records: [{ value: 1 }, { value: 2 }] });
    const after = await request(`${gw.url}/topics/${topic}/partitions/2/offsets`);
    assert.deepEqual(after.body, { beginning_offset: 0, end_offset: 2 });
    const bad = await request(`${gw.url}/topics/${topic}/partitions/3/offsets`);
    assert.equal(bad.body.error_code, 40402);
  });

  it('GET /brokers lists the broker ids', async () => {
    const res = await request(`${gw.url}/brokers`);
    assert.equal(res.status, 200);
    assert.equal(res.body.brokers.length, 1);
    assert.equal(typeof res.body.brokers[0], 'number');
  });

  it('Accept: 406 for text/plain (no body), lenient application/json is served as such', async () => {
    const text = await request(`${gw.url}/topics`, { headers: { accept: 'text/plain' } });
    assert.equal(text.status, 406);
    assert.equal(text.text, '');
    const json = await request(`${gw.url}/topics`, { headers: { accept: 'application/json' } });
    assert.equal(json.status, 200);
    assert.equal(json.headers.get('content-type'), 'application/json');
    const mixed = await request(`${gw.url}/brokers`, {
      headers: { accept: 'application/vnd.kafka.v2+json, application/vnd.kafka+json, application/json' },
    });
    assert.equal(mixed.headers.get('content-type'), V2);
  });

  it('a stray Content-Type on a GET is ignored', async () => {
    const res = await request(`${gw.url}/topics/${topic}`, { headers: { 'content-type': JSON_V2 } });
    assert.equal(res.status, 200);
  });
});
