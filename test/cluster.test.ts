// WORKERS=2: the real process forks two workers sharing one port. Produce works through either,
// and a consumer instance, living in one worker, answers every request whichever worker gets it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JSON_V2, V2, post, request } from './support/gateway.js';
import { GatewayProcess } from './support/gateway-process.js';
import { closeAdmin, createTopic, readRecords } from './support/kafka.js';

let gw: GatewayProcess;
let url: string;
const output = () => gw.output;

before(async () => {
  gw = await GatewayProcess.start(
    { WORKERS: '2' },
    {
      // Workers log through their own pipes, so their lines may trail the primary's.
      ready: (out) =>
        out.includes('gateway workers listening') && (out.match(/"msg":"gateway listening"/g) ?? []).length >= 2,
    },
  );
  url = gw.url;
});

after(async () => {
  await gw.stop();
  await closeAdmin();
});

describe('cluster mode (WORKERS=2)', () => {
  it('starts two workers, each with its own node id', () => {
    assert.match(output(), /"nodeIds":\["n1w1","n1w2"\]/);
    assert.equal((output().match(/"msg":"gateway listening"/g) ?? []).length, 2);
  });

  it('produces through both workers, every acknowledged record in Kafka', async () => {
    const topic = await createTopic(2);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => post(`${url}/topics/${topic}`, JSON_V2, { records: [{ value: { i } }] })),
    );
    assert.ok(results.every((r) => r.status === 200));
    const stored = await readRecords(topic, 20);
    assert.deepEqual(
      stored.map((r) => JSON.parse(r.value!.toString()).i).sort((a, b) => a - b),
      [...Array(20).keys()],
    );
  });

  it('a consumer instance answers on whichever worker the request lands (forwarded to its owner)', async () => {
    const topic = await createTopic(1);
    await post(`${url}/topics/${topic}`, JSON_V2, { records: [{ value: 'a' }, { value: 'b' }] });
    const created = await post(`${url}/consumers/cluster-g`, V2, { format: 'json', 'auto.offset.reset': 'earliest' });
    assert.equal(created.status, 200);
    assert.match(created.body.instance_id, /^rest-consumer-n1w[12]-/);
    const base = new URL(created.body.base_uri).pathname;
    // Round-robin spreads these over both workers; every one must reach the instance.
    for (let i = 0; i < 4; i++) {
      const sub = await request(`${url}${base}/subscription`);
      assert.equal(sub.status, 200, sub.text);
    }
    assert.equal((await post(`${url}${base}/subscription`, V2, { topics: [topic] })).status, 204);
    const values: unknown[] = [];
    for (let i = 0; i < 10 && values.length < 2; i++) {
      const res = await request(`${url}${base}/records?timeout=2000`, { headers: { accept: JSON_V2 } });
      assert.equal(res.status, 200, res.text);
      values.push(...res.body.map((r: { value: unknown }) => r.value));
    }
    assert.deepEqual(values, ['a', 'b']);
    assert.equal((await request(`${url}${base}`, { method: 'DELETE' })).status, 204);
    assert.equal((await request(`${url}${base}/subscription`)).body.error_code, 40403);
  });

  it('SIGTERM stops both workers and the primary cleanly', async () => {
    assert.equal(await gw.stop(), 0);
    assert.equal((output().match(/"msg":"stopped"/g) ?? []).length, 3);
  });
});
