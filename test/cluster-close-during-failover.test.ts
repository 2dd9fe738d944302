// Closing consumer instances in the seconds right after a broker dies must not hang the gateway.
// kafkajs's fetch manager can create new fetchers after the consumer stopped, while it rebalances
// them around the dead broker; they spun forever in microtasks and the process answered nothing
// again (found by the issue-16 attack: 5 of 6 runs hung). Deletes come 0–4 s after a kill -9.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cluster, placement } from './support/cluster.js';
import { GatewayProcess } from './support/gateway-process.js';
import { BINARY_V2, V2, post, request } from './support/gateway.js';
import { closeAdmin, createTopic, uniqueName } from './support/kafka.js';

let gw: GatewayProcess;
before(async () => {
  gw = await GatewayProcess.start({ PRODUCE_TIMEOUT_MS: '5000' });
});
after(async () => {
  await gw?.stop('SIGKILL');
  await cluster.heal();
  await closeAdmin();
});

const timeout = (ms: number) => AbortSignal.timeout(ms);

describe('closing instances while a broker fails', () => {
  it('answers every DELETE and keeps serving when instances are deleted 0-4 s after a broker kill', async () => {
    const topic = await createTopic(3);
    await post(`${gw.url}/topics/${topic}`, BINARY_V2, {
      records: Array.from({ length: 60 }, (_, i) => ({
        value: Buffer.from(String(i)).toString('base64'),
        partition: i % 3,
      })),
    });
    const bases: string[] = [];
    for (let i = 0; i < 16; i++) {
      const created = await post(`${gw.url}/consumers/${uniqueName('fo')}`, V2, {
        format: 'binary',
        'auto.offset.reset': 'earliest',
      });
      const base = created.body.base_uri as string;
      await post(`${base}/subscription`, V2, { topics: [topic] });
      await request(`${base}/records?timeout=5000`, { headers: { accept: BINARY_V2 } });
      bases.push(base);
    }
    // Keep them fetching, so their fetch managers are busy when the broker dies.
    let fetching = true;
    const fetchers = bases.map(async (base) => {
      while (fetching) {
        await fetch(`${base}/records?timeout=200`, { headers: { accept: BINARY_V2 }, signal: timeout(10_000) }).catch(
          () => undefined,
        );
      }
    });
    const leader = (await placement(topic))[0]!.leader;
    await cluster.node(leader, 'kill');
    const deletes = Array.from({ length: 16 }, (_, i) => i * 250).map(async (delay, i) => {
      await new Promise((r) => setTimeout(r, delay));
      const res = await fetch(bases[i]!, { method: 'DELETE', signal: timeout(45_000) });
      return res.status;
    });
    const statuses = await Promise.all(deletes);
    fetching = false;
    await Promise.all(fetchers);
    assert.deepEqual(
      statuses.filter((s) => s !== 204),
      [],
      'every DELETE answered 204',
    );
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${gw.url}/topics`, { signal: timeout(10_000) });
      assert.equal(res.status, 200, 'the gateway still answers');
      await new Promise((r) => setTimeout(r, 500));
    }
  });
});
