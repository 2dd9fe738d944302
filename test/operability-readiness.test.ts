// Readiness follows Kafka: a gateway on its own private broker reports ready, and once that broker
// stops, /readyz answers 503 naming Kafka while /healthz (the process) stays 200.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGateway, type RunningGateway } from '../src/gateway.js';
import { request, testConfig } from './support/gateway.js';

interface LocalKafka {
  brokers: string;
  stop: () => Promise<void>;
}
// A plain ESM script without type declarations (the same one that runs the test broker).
const { startLocalKafka } = (await import('../scripts/local-kafka.mjs' as string)) as {
  startLocalKafka: (o?: { heap?: string }) => Promise<LocalKafka>;
};

let kafka: LocalKafka | undefined;
let gw: RunningGateway | undefined;
before(async () => {
  kafka = await startLocalKafka({ heap: '256m' });
  gw = await startGateway(
    testConfig({ KAFKA_BROKERS: kafka.brokers, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent' }),
  );
});
after(async () => {
  await gw?.close();
  await kafka?.stop();
});

describe('readiness', () => {
  it('flips to 503 with the reason when Kafka stops, while liveness stays 200', async () => {
    const up = await request(`${gw!.url}/readyz`);
    assert.equal(up.status, 200);
    assert.deepEqual(up.body.checks, { kafka: 'ok' });

    await kafka!.stop();
    kafka = undefined;

    // Probed every 200 ms, as an impatient load balancer would; results are cached about a second.
    let last = up;
    const until = Date.now() + 30_000;
    while (last.status === 200 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 200));
      last = await request(`${gw!.url}/readyz`);
    }
    assert.equal(last.status, 503);
    assert.equal(last.body.status, 'not ready');
    assert.equal(typeof last.body.checks.kafka, 'string');
    assert.notEqual(last.body.checks.kafka, 'ok');
    assert.equal((await request(`${gw!.url}/healthz`)).status, 200);
    console.log(`[readiness] after the broker stopped: 503 ${JSON.stringify(last.body)}`);
  });
});
