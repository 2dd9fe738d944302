// The native side of each benchmark scenario: a kafkajs client doing the same work as the
// gateway's HTTP clients, on the same broker, in the same run.
import { performance } from 'node:perf_hooks';

/** Value at quantile q (0..1) of an ascending-sorted array. */
export function percentile(sorted, q) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/**
 * `concurrency` loops each awaiting `producer.send()` (acks=all) of `batch(i)` for `seconds`.
 * With `rate`, sends start on a fixed schedule and latency counts from the scheduled start
 * (no coordinated omission), as autocannon does for the gateway.
 */
export async function nativeProduce(kafka, { topic, concurrency, seconds, batch, rate }) {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  // Warm-up (JIT, connection, metadata), not measured — as on the gateway side.
  const warmUntil = performance.now() + 2000;
  let w = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < warmUntil) await producer.send({ topic, acks: -1, messages: batch(w++) });
    }),
  );
  const latencies = [];
  let records = 0;
  let bytes = 0;
  let i = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  const interval = rate ? (1000 * concurrency) / rate : 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, loop) => {
      let next = start + (interval * loop) / concurrency;
      while (performance.now() < end) {
        if (rate) {
          const wait = next - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
        const t0 = rate ? next : performance.now();
        const messages = batch(i++);
        await producer.send({ topic, acks: -1, messages });
        latencies.push(performance.now() - t0);
        records += messages.length;
        for (const m of messages) bytes += m.value.length;
        next += interval;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  await producer.disconnect();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    records_per_s: records / elapsed,
    bytes_per_s: bytes / elapsed,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    p999: percentile(latencies, 0.999),
  };
}

/** A kafkajs consumer (own group, from the beginning) draining `count` records. */
export async function nativeConsume(kafka, topic, count) {
  const consumer = kafka.consumer({ groupId: `bench-native-${Date.now()}`, maxBytes: 10 * 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const start = performance.now();
  let n = 0;
  let bytes = 0;
  await new Promise((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) bytes += m.value?.length ?? 0;
        n += batch.messages.length;
        if (n >= count) resolve();
      },
    });
  });
  const elapsed = (performance.now() - start) / 1000;
  await consumer.disconnect();
  return { records: n, records_per_s: n / elapsed, bytes_per_s: bytes / elapsed, seconds: elapsed };
}

/** Time from a produce's ack to the record reaching a running native consumer, `rounds` times. */
export async function nativeFirstRecord(kafka, topic, rounds, produce) {
  const consumer = kafka.consumer({ groupId: `bench-native-first-${Date.now()}`, maxWaitTimeInMs: 500 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: false });
  let onRecord = () => undefined;
  let joined;
  const join = new Promise((r) => (joined = r));
  consumer.on(consumer.events.GROUP_JOIN, () => joined());
  void consumer.run({ eachMessage: async () => onRecord() });
  await join;
  await new Promise((r) => setTimeout(r, 2000));
  const ms = [];
  for (let i = 0; i < rounds; i++) {
    const got = new Promise((resolve) => (onRecord = resolve));
    await produce(i);
    const acked = performance.now();
    await got;
    ms.push(performance.now() - acked);
  }
  await consumer.disconnect();
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 0.5), p99: percentile(ms, 0.99), max: ms[ms.length - 1] };
}
