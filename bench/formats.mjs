#!/usr/bin/env node
// Produce throughput of the schema formats next to plain json, in one run on one gateway (the
// production build, the embedded registry on): the same heart-rate records, 10 per request, as
// json, avro (value_schema_id) and jsonschema (value_schema_id), then json again to see drift.
//
//   KAFKA_BROKERS=127.0.0.1:19092 node bench/formats.mjs [--seconds=10] [--connections=20]
//
// Prints one table (records/s and p50/p99 latency per format) and writes bench-results/formats.json.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Kafka, logLevel } from 'kafkajs';
import { benchArgs } from './args.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = benchArgs();
const seconds = Number(args.seconds ?? 10);
const connections = Number(args.connections ?? 20);
const brokers = process.env.KAFKA_BROKERS;
if (!brokers) throw new Error('set KAFKA_BROKERS');
setTimeout(() => process.exit(1), (120 + seconds * 12) * 1000).unref();

if (args.build !== 'false') execFileSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
const topic = `bench-formats-${Date.now()}`;
const admin = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
await admin.connect();
// One topic per format: a subject (<topic>-value) holds schemas of one type.
const topics = { json: `${topic}-json`, avro: `${topic}-avro`, jsonschema: `${topic}-jsonschema` };
await admin.createTopics({
  topics: Object.values(topics).map((t) => ({ topic: t, numPartitions: 3 })),
  waitForLeaders: true,
});

const port = 20000 + Math.floor(Math.random() * 20000);
const child = spawn(process.execPath, [path.join(root, 'dist/main.js')], {
  cwd: root,
  env: {
    ...process.env,
    KAFKA_BROKERS: brokers,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    SCHEMA_REGISTRY_ENABLED: 'true',
    SCHEMA_REGISTRY_PORT: '0',
    SCHEMA_REGISTRY_TOPIC: `_schemas-${topic}`,
    SCHEMA_REGISTRY_GROUP: `sr-${topic}`,
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});
process.on('exit', () => child.kill('SIGKILL'));
const url = `http://127.0.0.1:${port}`;
for (let i = 0; ; i++) {
  if (i === 600) throw new Error('the gateway did not start within 60 s');
  try {
    if ((await fetch(`${url}/`)).ok) break;
  } catch {
    await new Promise((r) => setTimeout(r, 100));
  }
}

const reading = (i) => ({ deviceid: `watch-${i % 50}`, heartrate: 60 + (i % 40), timestamp: 1767225600000 + i });
const records = Array.from({ length: 10 }, (_, i) => ({ value: reading(i) }));
const avroSchema = JSON.stringify({
  type: 'record',
  name: 'Reading',
  fields: [
    { name: 'deviceid', type: 'string' },
    { name: 'heartrate', type: 'int' },
    { name: 'timestamp', type: 'long' },
  ],
});
const jsonSchema = JSON.stringify({
  type: 'object',
  required: ['deviceid', 'heartrate', 'timestamp'],
  properties: { deviceid: { type: 'string' }, heartrate: { type: 'integer' }, timestamp: { type: 'integer' } },
});
const media = (f) => `application/vnd.kafka.${f}.v2+json`;
async function schemaId(format, schema) {
  const res = await fetch(`${url}/topics/${topics[format]}`, {
    method: 'POST',
    headers: { 'content-type': media(format) },
    body: JSON.stringify({ value_schema: schema, records: records.slice(0, 1) }),
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`${format}: ${JSON.stringify(body)}`);
  return body.value_schema_id;
}
const bodies = {
  json: JSON.stringify({ records }),
  avro: JSON.stringify({ value_schema_id: await schemaId('avro', avroSchema), records }),
  jsonschema: JSON.stringify({ value_schema_id: await schemaId('jsonschema', jsonSchema), records }),
};

async function load(format) {
  const opts = {
    url: `${url}/topics/${topics[format]}`,
    method: 'POST',
    headers: { 'content-type': media(format) },
    body: bodies[format],
    connections,
  };
  await autocannon({ ...opts, duration: 2 }); // warm-up
  const r = await autocannon({ ...opts, duration: seconds });
  if (r.non2xx > 0 || r.errors > 0) console.error(`[bench] ${format}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return {
    format,
    recordsPerSecond: Math.round((r['2xx'] * records.length) / seconds),
    p50ms: r.latency.p50,
    p99ms: r.latency.p99,
  };
}
const results = [];
for (const f of ['json', 'avro', 'jsonschema', 'json']) results.push(await load(f));
console.table(results);
mkdirSync(path.join(root, 'bench-results'), { recursive: true });
writeFileSync(
  path.join(root, 'bench-results/formats.json'),
  JSON.stringify({ date: new Date().toISOString(), seconds, connections, recordsPerRequest: 10, results }, null, 2),
);
child.kill('SIGTERM');
await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
await admin.disconnect();
process.exit(0);
