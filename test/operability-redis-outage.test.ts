// Rate-limit counters live in a real redis-server. When it goes away, limited requests must be
// refused (503, retriable) at once instead of queueing behind reconnect attempts, and served again
// soon after Redis returns.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { RunningGateway } from '../src/gateway.js';
import { request, startTestGateway } from './support/gateway.js';
import { closeAdmin, createTopic } from './support/kafka.js';
import { startRedis } from './support/security.js';

const gateways: RunningGateway[] = [];
const stops: Array<() => Promise<void>> = [];
after(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await Promise.all(stops.map((s) => s()));
  await closeAdmin();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Redis outage', () => {
  it('refuses limited requests at once while Redis is down and serves them again soon after it returns', async () => {
    let redis = await startRedis();
    stops.push(() => redis.stop());
    const gw = await startTestGateway({ REDIS_URL: redis.url, RATE_LIMIT_METADATA: '100000' });
    gateways.push(gw);
    for (let i = 0; i < 50 && (await request(`${gw.url}/readyz`)).status !== 200; i++) await sleep(100);
    const topic = await createTopic(1);
    // A rate-limited request (metadata family): its counter is incremented in Redis first.
    const readTopic = async () => {
      const t0 = Date.now();
      const res = await request(`${gw.url}/topics/${topic}`);
      return { status: res.status, code: res.body?.error_code as number | undefined, ms: Date.now() - t0 };
    };
    assert.equal((await readTopic()).status, 200);

    await redis.stop();
    // The first refusals tell the gateway Redis is gone; from then on each must be immediate.
    for (let i = 0; i < 3; i++) await readTopic();
    const during: Array<{ status: number; code?: number; ms: number }> = [];
    for (let i = 0; i < 15; i++) {
      during.push(await readTopic());
      await sleep(100);
    }
    assert.deepEqual(
      during.map((r) => `${r.status} ${r.code}`),
      during.map(() => '503 50301'),
    );
    // Before: each waited for a reconnect attempt (growing to seconds). Generous bound, not a benchmark.
    const slowest = Math.max(...during.map((r) => r.ms));
    assert.ok(slowest < 300, `a 503 took ${slowest} ms while Redis was known to be down`);

    redis = await startRedis({ port: redis.port });
    const back = Date.now();
    let served: number | undefined;
    while (Date.now() - back < 5_000) {
      if ((await readTopic()).status === 200) {
        served = Date.now() - back;
        break;
      }
      await sleep(50);
    }
    assert.ok(served !== undefined, 'still refused 5 s after Redis returned');
    assert.ok(served < 1_500, `served again only ${served} ms after Redis returned`);
    console.log(`[redis outage] slowest 503 while down: ${slowest} ms; served again ${served} ms after return`);
  });

  it('answers 503 within a few seconds while Redis hangs (connected, never answering), and serves again when it resumes', async () => {
    const redis = await startRedis();
    stops.push(() => redis.stop());
    const gw = await startTestGateway({ REDIS_URL: redis.url, RATE_LIMIT_METADATA: '100000' });
    gateways.push(gw);
    for (let i = 0; i < 50 && (await request(`${gw.url}/readyz`)).status !== 200; i++) await sleep(100);
    assert.equal((await request(`${gw.url}/topics`)).status, 200);
    process.kill(redis.pid, 'SIGSTOP');
    try {
      for (let i = 0; i < 3; i++) {
        const t0 = Date.now();
        const res = await request(`${gw.url}/topics`);
        assert.equal(res.status, 503);
        assert.equal(res.body.error_code, 50301);
        assert.ok(Date.now() - t0 < 2_500, `answered in ${Date.now() - t0} ms`);
      }
    } finally {
      process.kill(redis.pid, 'SIGCONT');
    }
    let status = 0;
    for (let i = 0; i < 30 && status !== 200; i++) {
      status = (await request(`${gw.url}/topics`)).status;
      if (status !== 200) await sleep(100);
    }
    assert.equal(status, 200);
  });
});
