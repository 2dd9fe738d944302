// Throttling that protects Kafka: per-caller request limits shared by two gateways through a real
// redis-server (429 + Retry-After + RateLimit headers, honoured by waiting), per-topic limits,
// records-per-second quotas, and a flood beyond the in-flight cap shed with 503 while a
// well-behaved client keeps being served.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningGateway } from '../src/gateway.js';
import { JSON_V2, post, request, startTestGateway } from './support/gateway.js';
import { closeAdmin, createTopic, recordCount, uniqueName } from './support/kafka.js';
import { freePort, newKey, sha256, slowProduce, startRedis } from './support/security.js';
import { waitUntil } from './support/wait.js';

const keys = { sensor: newKey(), other: newKey(), flood: newKey(), good: newKey() };
const API_KEYS = Object.entries(keys)
  .map(([name, key]) => `${name}:${sha256(key)}`)
  .join(',');
const auth = { AUTH_METHODS: 'apikey', API_KEYS };

let redis: Awaited<ReturnType<typeof startRedis>>;
const gateways: RunningGateway[] = [];
const start = async (env: Record<string, string>) => {
  const gw = await startTestGateway({ ...auth, ...env });
  gateways.push(gw);
  return gw;
};
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await redis.stop();
  await closeAdmin();
});

const produce = (gw: RunningGateway, topic: string, key: string, records = 1) =>
  post(
    `${gw.url}/topics/${topic}`,
    JSON_V2,
    { records: Array.from({ length: records }, (_, i) => ({ value: { i } })) },
    { 'x-api-key': key },
  );
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The first `n` values the promises resolve to, in arrival order (fewer if the time runs out). */
function firstResults(promises: Array<Promise<number>>, n: number, timeoutMs = 5_000): Promise<number[]> {
  return new Promise((resolve) => {
    const out: number[] = [];
    const timer = setTimeout(() => resolve(out), timeoutMs);
    for (const p of promises)
      void p.then((v) => {
        out.push(v);
        if (out.length === n) {
          clearTimeout(timer);
          resolve(out);
        }
      });
  });
}

describe('rate limits shared through Redis', () => {
  it('holds a produce limit across two gateways, per identity, and lets the caller back in after Retry-After', async () => {
    const env = { REDIS_URL: redis.url, RATE_LIMIT_PRODUCE: '5', RATE_LIMIT_WINDOW_MS: '5000' };
    const [a, b] = [await start(env), await start(env)];
    // Limited requests are refused (503) until a gateway's Redis connection is up: wait for ready.
    for (const gw of [a, b]) {
      for (let i = 0; i < 100 && (await request(`${gw.url}/readyz`)).status !== 200; i++) await sleep(100);
    }
    const topic = await createTopic(1);
    const statuses: number[] = [];
    let limited;
    for (let i = 0; i < 10; i++) {
      const res = await produce(i % 2 === 0 ? a : b, topic, keys.sensor);
      statuses.push(res.status);
      if (res.status === 429) limited = res;
      else assert.match(res.headers.get('ratelimit') ?? '', /limit=5/, `${res.status} ${res.text}`);
    }
    // Five in the window between both replicas (a window boundary may let a few more through, never fewer).
    assert.equal(statuses.filter((s) => s === 200).length >= 5, true, statuses.join());
    assert.ok(limited !== undefined, `expected a 429 across replicas: ${statuses.join()}`);
    assert.equal(limited.body.error_code, 429);
    assert.match(limited.body.message, /Too many produce requests/);
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 5, `Retry-After ${retryAfter}`);
    assert.match(limited.headers.get('ratelimit') ?? '', /remaining=0/);
    assert.equal(await recordCount(topic), statuses.filter((s) => s === 200).length, 'a 429 produces nothing');

    // Another identity has its own budget.
    assert.equal((await produce(b, topic, keys.other)).status, 200);
    // Honouring Retry-After gets the caller served again. A real-time wait on purpose: the Redis
    // window's expiry is the thing under test.
    await sleep(retryAfter * 1000);
    assert.equal((await produce(a, topic, keys.sensor)).status, 200);
  });

  it('limits metadata separately from produce, and never the probes', async () => {
    const gw = await start({ REDIS_URL: redis.url, RATE_LIMIT_METADATA: '2', RATE_LIMIT_WINDOW_MS: '60000' });
    const topic = await createTopic(1);
    const get = () => request(`${gw.url}/topics`, { headers: { 'x-api-key': keys.good } });
    assert.equal((await get()).status, 200);
    assert.equal((await get()).status, 200);
    const third = await get();
    assert.equal(third.status, 429);
    assert.ok(Number(third.headers.get('retry-after')) > 0);
    assert.equal((await produce(gw, topic, keys.good)).status, 200, 'produce has its own budget');
    for (let i = 0; i < 5; i++) assert.notEqual((await request(`${gw.url}/healthz`)).status, 429);
  });

  it('answers 503 rather than letting traffic through unmetered when Redis is unreachable', async () => {
    const gw = await start({ REDIS_URL: 'redis://127.0.0.1:1', RATE_LIMIT_PRODUCE: '100' });
    const topic = await createTopic(1);
    const res = await produce(gw, topic, keys.good);
    assert.equal(res.status, 503);
    assert.equal(res.body.error_code, 50301);
    assert.equal(await recordCount(topic), 0);
  });
  it('meters again once Redis comes up after the gateway started (its scripts are loaded on a later request)', async () => {
    const port = await freePort();
    const gw = await start({ REDIS_URL: `redis://127.0.0.1:${port}`, RATE_LIMIT_PRODUCE: '100' });
    const topic = await createTopic(1);
    assert.equal((await produce(gw, topic, keys.good)).status, 503);
    const late = await startRedis({ port });
    try {
      await waitUntil(
        'a produce to be metered and answered 200',
        async () => (await produce(gw, topic, keys.good)).status === 200,
        {
          timeoutMs: 10_000,
          everyMs: 200,
        },
      );
    } finally {
      await late.stop();
    }
  });
});

describe('per-topic limits and quotas', () => {
  it('limits a hot topic without touching the others', async () => {
    const gw = await start({ RATE_LIMIT_TOPICS: 'hot-*=2', RATE_LIMIT_WINDOW_MS: '60000' });
    const hot = await createTopic(1, uniqueName('hot'));
    const cold = await createTopic(1);
    assert.equal((await produce(gw, hot, keys.sensor)).status, 200);
    assert.equal((await produce(gw, hot, keys.sensor)).status, 200);
    const third = await produce(gw, hot, keys.sensor);
    assert.equal(third.status, 429);
    assert.equal((await produce(gw, cold, keys.sensor)).status, 200);
    assert.equal(await recordCount(hot), 2);
  });

  it('refuses records beyond the per-second quota (shared through Redis) with 429 before Kafka', async () => {
    const gw = await start({ REDIS_URL: redis.url, QUOTA_RECORDS_PER_SEC: '10' });
    const topic = await createTopic(1);
    let admitted = 0;
    let refused;
    // Two 8-record requests in the same second exceed 10; a second boundary can separate a pair, so try a few.
    for (let i = 0; i < 10 && refused === undefined; i++) {
      const res = await produce(gw, topic, keys.other, 8);
      if (res.status === 200) admitted += 8;
      else refused = res;
    }
    assert.ok(refused !== undefined, 'a request over the quota was refused');
    assert.equal(refused.status, 429);
    assert.equal(refused.body.error_code, 429);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal(await recordCount(topic), admitted);
  });
});

describe('overload shedding', () => {
  it('sheds a flood beyond the in-flight cap with 503 while a well-behaved client keeps being served', async () => {
    const gw = await start({ SHED_MAX_INFLIGHT_PER_CLIENT: '3', SHED_MAX_INFLIGHT_REQUESTS: '8' });
    const topic = await createTopic(1);
    // The flooder opens 8 produce requests whose bodies never finish: 3 are admitted and wait, the rest are shed.
    const flood = Array.from({ length: 8 }, () => slowProduce(gw.url, topic, { 'X-API-Key': keys.flood }));
    const shed = await firstResults(
      flood.map((f) => f.status),
      5,
    );
    assert.deepEqual(shed, [503, 503, 503, 503, 503]);

    const refused = await produce(gw, topic, keys.flood);
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error_code, 50301);
    assert.equal(refused.headers.get('retry-after'), '1');

    // Meanwhile a well-behaved client is served, every time.
    for (let i = 0; i < 20; i++) assert.equal((await produce(gw, topic, keys.good)).status, 200);

    // The global cap holds too: 8 in flight overall.
    const others = Array.from({ length: 3 }, () => slowProduce(gw.url, topic, { 'X-API-Key': keys.sensor }));
    const more = Array.from({ length: 3 }, () => slowProduce(gw.url, topic, { 'X-API-Key': keys.other }));
    const overall = await Promise.race([
      Promise.any([...others, ...more].map((f) => f.status)),
      sleep(2000).then(() => -1), // an upper bound, not a wait: the 503 comes at once
    ]);
    assert.equal(overall, 503, 'one of six more slow requests is beyond the global cap of 8');

    for (const f of [...flood, ...others, ...more]) f.release();
    // A refused try produces nothing, so asking until served still leaves exactly one record.
    const served = await waitUntil(
      'the flooder to be served again once its requests end',
      async () => (await produce(gw, topic, keys.flood)).status === 200,
      { timeoutMs: 5_000 },
    ).catch(() => false);
    assert.equal(served, true, 'once its requests end, the flooder is served again');
    assert.equal(await recordCount(topic), 21);
  });

  it('caps the body bytes in flight: big bodies wait their turn, small ones still fit', async () => {
    const gw = await start({ SHED_MAX_INFLIGHT_BYTES: '2048' });
    const topic = await createTopic(1);
    // Each slow request declares 1000 bytes: two fit under 2048, the third is shed before its body is read.
    const big = Array.from({ length: 3 }, () => slowProduce(gw.url, topic, { 'X-API-Key': keys.sensor }));
    assert.deepEqual(
      await firstResults(
        big.map((b) => b.status),
        1,
      ),
      [503],
    );
    const small = await produce(gw, topic, keys.other);
    assert.equal(small.status, 200, 'a small body still fits beside the two admitted ones');
    for (const b of big) b.release();
    assert.equal(await recordCount(topic), 1);
  });
});
