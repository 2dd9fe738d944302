#!/usr/bin/env node
// Quick, bounded consume throughput: HTTP consumer instance (binary and json) vs a native kafkajs
// consumer reading the same topic from the beginning. Each run includes its group join.
//   node --import tsx bench/consume-quick.mjs            (starts a local Kafka unless KAFKA_BROKERS is set)
//   RECORDS=200000 node --import tsx bench/consume-quick.mjs
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel } from 'kafkajs';
import { createTopicAndWait } from '../src/kafka/create-topic.ts';

const N = Number(process.env.RECORDS ?? 100_000);
const PARTITIONS = 3;

let kafkaProc;
if (!process.env.KAFKA_BROKERS) {
  const { startLocalKafka } = await import('../scripts/local-kafka.mjs');
  kafkaProc = await startLocalKafka();
  process.env.KAFKA_BROKERS = kafkaProc.brokers;
}
const brokers = process.env.KAFKA_BROKERS.split(',');
const kafka = new Kafka({ brokers, clientId: 'bench', logLevel: logLevel.NOTHING });

// Real clickstream events as values (~190 bytes each), cycled to N records.
const lines = readFileSync(new URL('../../shared/data/clickstream.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter(Boolean);
const topic = `bench-consume-${Date.now()}`;
const admin = kafka.admin();
await admin.connect();
await createTopicAndWait(admin, { topic, numPartitions: PARTITIONS });
const producer = kafka.producer();
await producer.connect();
let bytes = 0;
for (let i = 0; i < N; i += 5_000) {
  const messages = [];
  for (let j = i; j < Math.min(N, i + 5_000); j++) {
    const value = lines[j % lines.length];
    bytes += value.length;
    messages.push({ value, partition: j % PARTITIONS });
  }
  await producer.send({ topic, messages });
}
await producer.disconnect();
console.log(`topic ${topic}: ${N} records, ${(bytes / 1e6).toFixed(1)} MB of values, ${PARTITIONS} partitions`);

async function native() {
  const consumer = kafka.consumer({ groupId: `bench-native-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const t0 = performance.now();
  let n = 0;
  await new Promise((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        n += batch.messages.length;
        if (n >= N) resolve();
      },
    });
  });
  const ms = performance.now() - t0;
  await consumer.disconnect();
  return ms;
}

async function http(gatewayUrl, format) {
  const accept = `application/vnd.kafka.${format}.v2+json`;
  const created = await fetch(`${gatewayUrl}/consumers/bench-http-${format}-${Date.now()}`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.kafka.v2+json' },
    body: JSON.stringify({ format, 'auto.offset.reset': 'earliest' }),
  }).then((r) => r.json());
  const base = created.base_uri;
  const t0 = performance.now();
  await fetch(`${base}/subscription`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.kafka.v2+json' },
    body: JSON.stringify({ topics: [topic] }),
  });
  let n = 0;
  let requests = 0;
  while (n < N) {
    const records = await fetch(`${base}/records`, { headers: { accept } }).then((r) => r.json());
    n += records.length;
    requests++;
  }
  const ms = performance.now() - t0;
  await fetch(base, { method: 'DELETE' });
  return { ms, requests };
}

const { loadConfig } = await import('../src/config/config.ts');
const { startGateway } = await import('../src/gateway.ts');
const gw = await startGateway(
  loadConfig({ KAFKA_BROKERS: brokers.join(','), HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', ...process.env }),
);
const rate = (ms) =>
  `${Math.round(N / (ms / 1000)).toLocaleString('en')} records/s, ${(bytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s`;
try {
  const nativeMs = await native();
  console.log(`native kafkajs consumer : ${rate(nativeMs)} (${Math.round(nativeMs)} ms)`);
  for (const format of ['binary', 'json']) {
    const { ms, requests } = await http(gw.url, format);
    console.log(
      `HTTP ${format.padEnd(6)} instance    : ${rate(ms)} (${Math.round(ms)} ms, ${requests} fetches of ~${Math.round(N / requests)} records)`,
    );
  }
} finally {
  await gw.close();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
  if (kafkaProc) await kafkaProc.stop();
}
