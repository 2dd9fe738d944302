// Kafka unreachable: every answer says "retry" the way Confluent clients understand it. Produce
// records get 50003 (not 50002, which tells clients to drop the data) within the produce deadline,
// and metadata routes answer a Confluent-shaped, retriable 50003 instead of a bare 500.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningGateway } from '../src/gateway.js';
import { startPrivateKafkaWithTopic, type PrivateKafka } from './support/kafka.js';
import { JSON_V2, post, request, startTestGateway } from './support/gateway.js';

const TIMEOUT_MS = 3_000;
let kafka: PrivateKafka | undefined;
let gw: RunningGateway | undefined;
const topic = 'outage';

before(async () => {
  kafka = await startPrivateKafkaWithTopic(topic, 2);
  gw = await startTestGateway({
    KAFKA_BROKERS: kafka.brokers,
    PRODUCE_TIMEOUT_MS: String(TIMEOUT_MS),
    METADATA_MAX_AGE_MS: '500',
    SHUTDOWN_TIMEOUT_MS: '2000',
  });
});
after(async () => {
  await gw?.close();
  await kafka?.stop();
});

describe('Kafka down', () => {
  it('produce: 50003 per record within the deadline; metadata: a retriable 50003, never a bare 500', async () => {
    const ok = await post(`${gw!.url}/topics/${topic}`, JSON_V2, { records: [{ value: 1 }] });
    assert.equal(ok.body.offsets[0].error_code, null, ok.text);

    await kafka!.stop();
    kafka = undefined;

    const started = Date.now();
    const produced = await post(`${gw!.url}/topics/${topic}`, JSON_V2, { records: [{ value: 2 }, { value: 3 }] });
    const took = Date.now() - started;
    assert.equal(produced.status, 200, produced.text);
    for (const o of produced.body.offsets) assert.equal(o.error_code, 50003, produced.text);
    assert.ok(took <= TIMEOUT_MS + 1_000, `produce took ${took} ms`);

    for (const path of ['/topics', `/topics/${topic}`, `/topics/${topic}/partitions`, '/brokers']) {
      const res = await request(`${gw!.url}${path}`);
      assert.equal(res.status, 500, `${path}: ${res.text}`);
      assert.equal(res.body.error_code, 50003, `${path}: ${res.text}`);
      assert.notEqual(res.body.message, 'Internal Server Error', path);
    }
  });
});
