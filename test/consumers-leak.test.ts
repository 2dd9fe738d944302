// Abandoned consumer instances must not leak: clients that create instances and vanish are the
// normal case for devices and scripts. Memory and sockets return near the baseline after expiry.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { RunningGateway } from '../src/gateway.js';
import { ConsumerClient } from './support/consumer-client.js';
import {
  BINARY_V2,
  V2,
  needsOwnGateway,
  post,
  request,
  startTestGateway,
  waitForConsumerInstances,
} from './support/gateway.js';
import { brokers, closeAdmin, createTopic, uniqueName } from './support/kafka.js';
import { waitUntil } from './support/wait.js';

const TIMEOUT_MS = 1_500;
const MB = 1024 * 1024;

// The test runner gives no --expose-gc; this is the documented way to get gc() anyway.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

async function settle(): Promise<{ heap: number; rss: number; sockets: number; kafka: number }> {
  for (let i = 0; i < 3; i++) {
    gc();
    // Not a wait for a condition: a turn of the event loop lets finalizers and closed sockets settle between gc rounds.
    await new Promise((r) => setTimeout(r, 50));
  }
  const { heapUsed, rss } = process.memoryUsage();
  return { heap: heapUsed, rss, sockets: openSockets(), kafka: kafkaSockets() };
}

/** Socket inodes this process holds (the gateway runs in-process). */
function socketInodes(): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

function openSockets(): number {
  return socketInodes().size;
}

/** This process's TCP connections to the broker (HTTP keep-alive sockets are not counted). */
function kafkaSockets(): number {
  const mine = socketInodes();
  const ports = new Set(brokers.map((b) => Number(b.split(':').at(-1))));
  let n = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // no IPv6 in this namespace
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const remotePort = parseInt(cols[2]!.split(':')[1]!, 16);
      if (ports.has(remotePort) && mine.has(cols[9]!)) n++;
    }
  }
  return n;
}

/**
 * Waits for the idle timeout without touching the instances (any request refreshes it): until
 * /metrics counts none and their Kafka connections are closed (LeaveGroup, sockets), then checks.
 */
async function waitUntilExpired(probes: ConsumerClient[], kafkaBaseline?: number): Promise<void> {
  await waitForConsumerInstances(gw.url, 0, TIMEOUT_MS + 15_000);
  if (kafkaBaseline !== undefined) {
    await waitUntil('Kafka connections back near the baseline', () => kafkaSockets() - kafkaBaseline <= 2);
  } else {
    // No baseline yet: until the count of Kafka connections stops falling.
    let last = kafkaSockets();
    await waitUntil(
      'Kafka connections to settle',
      () => {
        const now = kafkaSockets();
        const settled = now === last;
        last = now;
        return settled;
      },
      { everyMs: 300 },
    );
  }
  for (const p of probes) {
    const res = await p.get('/assignments');
    assert.equal(res.status, 404, 'expired');
  }
}

let gw: RunningGateway;
before(async () => {
  if (needsOwnGateway) return;
  gw = await startTestGateway({
    CONSUMER_INSTANCE_TIMEOUT_MS: String(TIMEOUT_MS),
    MAX_CONSUMER_INSTANCES: '2000',
    MAX_CONSUMER_INSTANCES_PER_CLIENT: '2000',
  });
});
after(async () => {
  await gw?.close();
  await closeAdmin();
});

// Measures this process's heap and sockets: the gateway must run in it.
describe('consumers: abandoned instances do not leak', { skip: needsOwnGateway }, () => {
  it('1,000 idle and 20 reading instances, abandoned: memory and sockets come back near the baseline after expiry', async (t) => {
    const topic = await createTopic(1);
    await post(`${gw.url}/topics/${topic}`, 'application/vnd.kafka.binary.v2+json', {
      records: [{ value: 'AAEC' }],
    });
    // Warm-up: load every code path once (express, ajv, kafkajs consumer), then let it expire.
    const warm = await ConsumerClient.create(gw.url, uniqueName('warm'), { 'auto.offset.reset': 'earliest' });
    await warm.subscribe([topic]);
    await warm.fetch(BINARY_V2);
    await waitUntilExpired([warm]);
    const baseline = await settle();

    // 1,000 instances created and never used again (the common abandoned case).
    const group = uniqueName('abandoned');
    const idle: ConsumerClient[] = [];
    // One after another, over one keep-alive connection, so the client adds no sockets of its own.
    for (let i = 0; i < 1_000; i++) {
      const r = await post(`${gw.url}/consumers/${group}`, V2, {});
      assert.equal(r.status, 200);
      idle.push(new ConsumerClient(r.body.base_uri as string, r.body.instance_id as string));
    }
    const withIdle = await settle();
    const perInstance = (withIdle.heap - baseline.heap) / 1_000;
    t.diagnostic(
      `1,000 idle instances: +${((withIdle.heap - baseline.heap) / MB).toFixed(1)} MB heap ` +
        `(${(perInstance / 1024).toFixed(1)} KB each), +${((withIdle.rss - baseline.rss) / MB).toFixed(1)} MB RSS, ` +
        `+${withIdle.kafka - baseline.kafka} Kafka connections`,
    );
    assert.ok(perInstance < 20 * 1024, `an idle instance costs ${perInstance} bytes of heap`);
    // No more than before (a connection the test's own clients opened may have closed meanwhile).
    assert.ok(
      withIdle.kafka <= baseline.kafka,
      `idle instances hold no Kafka connections (${withIdle.kafka} > ${baseline.kafka})`,
    );

    // 20 instances that subscribed and read (each with its own kafkajs consumer), then abandoned.
    const readers: ConsumerClient[] = [];
    for (let i = 0; i < 20; i++) {
      const c = await ConsumerClient.create(gw.url, uniqueName('reader'), { 'auto.offset.reset': 'earliest' });
      await c.subscribe([topic]);
      assert.equal((await c.fetch(BINARY_V2)).length, 1);
      readers.push(c);
    }
    const withReaders = await settle();
    t.diagnostic(
      `+20 reading instances: +${((withReaders.heap - withIdle.heap) / MB).toFixed(1)} MB heap, ` +
        `+${withReaders.kafka - withIdle.kafka} Kafka connections`,
    );
    assert.ok(withReaders.kafka >= withIdle.kafka + 20, 'reading instances do hold Kafka connections');

    await waitUntilExpired([idle[0]!, idle.at(-1)!, ...readers], baseline.kafka);
    const end = await settle();
    t.diagnostic(
      `after expiry: heap ${((end.heap - baseline.heap) / MB).toFixed(1)} MB over baseline, ` +
        `Kafka connections ${end.kafka - baseline.kafka} and sockets ${end.sockets - baseline.sockets} over baseline`,
    );
    assert.ok(end.heap - baseline.heap < 8 * MB, `heap back near baseline (+${(end.heap - baseline.heap) / MB} MB)`);
    assert.ok(end.kafka - baseline.kafka <= 2, `Kafka connections back near baseline (+${end.kafka - baseline.kafka})`);
    assert.ok(end.sockets - baseline.sockets <= 10, `sockets back near baseline (+${end.sockets - baseline.sockets})`);
    const res = await request(`${idle[500]!.baseUri}/subscription`);
    assert.equal(res.body.error_code, 40403);
  });
});
