#!/usr/bin/env node
// The benchmark: the gateway (production build) against a native kafkajs client doing the same
// work on the same broker, in the same run. Prints one table and writes bench-results/latest.json.
//
//   npm run bench                      all scenarios, ~10 s each side
//   npm run bench -- --only=iot,batch  a subset (iot, batch, binary, v3stream, consume, sse, first, latency, broker)
//   npm run bench -- --repeat=3        consume scenarios (consume, sse) run 3× alternating with native: medians and spread
//   npm run bench -- --encoding=gzip   the v2 consume scenario asks for compressed answers (default: identity)
//   npm run bench -- --seconds=5       shorter runs
//   npm run bench -- --workers=2       gateway worker processes (default: WORKERS env or 1)
//   npm run bench -- --soak=300        add a steady-state soak at 80% of the IoT peak (seconds)
//   npm run bench -- --profile=prof    write the gateway's CPU profiles (.cpuprofile) into prof/
//   npm run bench -- --log=info        the gateway logs at info (an access-log line per request, to /dev/null);
//                                      ACCESS_LOG=errors|off in the environment picks what it logs
//
// Uses KAFKA_BROKERS when set, else starts the local broker (scripts/local-kafka.mjs).
// Everything runs on 127.0.0.1 and every load is bounded in time.
import { execFileSync, spawn } from 'node:child_process';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Kafka, logLevel } from 'kafkajs';
import { jarDir, KAFKA_VERSION, startLocalKafka } from '../scripts/local-kafka.mjs';
import { nativeConsume, nativeProduce, percentile } from './native.mjs';
import { processTree } from './proc.mjs';
import { benchArgs } from './args.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = benchArgs();
const seconds = Number(args.seconds ?? 10);
const workers = Number(args.workers ?? process.env.WORKERS ?? 1);
const only = args.only ? new Set(args.only.split(',')) : undefined;
const wanted = (name) => only === undefined || only.has(name);
// A hard bound on the whole run, whatever hangs: scenarios, soak, set-up and the broker ceiling.
const boundSeconds = 600 + 12 * seconds * 6 + Number(args.soak ?? 0) * 1.2;
setTimeout(() => {
  console.error(`[bench] stopped: the run exceeded its ${Math.round(boundSeconds)} s bound`);
  process.exit(1); // the exit hook kills the gateway; the broker's orphan guard stops the broker
}, boundSeconds * 1000).unref();
let lastCpu = 0; // gateway CPU seconds at the previous sample
const dataDir = process.env.SHARED_DATA_DIR ?? path.resolve(root, '../shared/data');
const lines = (f) =>
  readFileSync(path.join(dataDir, f), 'utf8')
    .split('\n')
    .filter((l) => l.trim());

// ---- set-up: build, broker, topics, gateway ----
console.error('[bench] building the gateway (npm run build)…');
execFileSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
const { createTopicAndWait } = await import('../dist/kafka/create-topic.js');
let localKafka;
let brokers = process.env.KAFKA_BROKERS;
if (!brokers) {
  localKafka = await startLocalKafka({ heap: '2g' });
  brokers = localKafka.brokers;
}
const kafka = new Kafka({ brokers: brokers.split(','), clientId: 'bench-native', logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
const topics = {};
for (const name of ['iot', 'batch', 'binary', 'v3stream', 'consume', 'sse', 'first', 'latency']) {
  for (const side of ['gw', 'native']) {
    const t = `bench-${name}-${side}-${Date.now().toString(36)}`;
    await createTopicAndWait(admin, { topic: t, numPartitions: 3 });
    topics[`${name}-${side}`] = t;
  }
}

const gateway = await startGatewayProcess();
console.error(`[bench] gateway on ${gateway.url} (${workers} worker${workers === 1 ? '' : 's'})`);

const heartrate = lines('heartrate.jsonl');
const clicks = lines('clickstream.jsonl');
const results = [];

// ---- scenarios ----
if (wanted('iot')) {
  const bodies = heartrate.map((l) => `{"records":[{"value":${l}}]}`);
  const gw = await loadGateway('iot', { path: `/topics/${topics['iot-gw']}`, bodies, connections: 64 });
  const native = await nativeProduce(kafka, {
    topic: topics['iot-native'],
    concurrency: 64,
    seconds,
    batch: (i) => [{ value: Buffer.from(compactJson(heartrate[i % heartrate.length])) }],
  });
  results.push(row('1. IoT: 1 heart-rate record/request, 64 connections', gw, native, 1));
}

if (wanted('batch')) {
  const bodies = [];
  for (let i = 0; i + 100 <= clicks.length; i += 100) {
    bodies.push(
      `{"records":[${clicks
        .slice(i, i + 100)
        .map((l) => `{"value":${l}}`)
        .join(',')}]}`,
    );
  }
  const gw = await loadGateway('batch', { path: `/topics/${topics['batch-gw']}`, bodies, connections: 16 });
  const compacted = clicks.map((l) => Buffer.from(compactJson(l)));
  const native = await nativeProduce(kafka, {
    topic: topics['batch-native'],
    concurrency: 16,
    seconds,
    batch: (i) => compacted.slice((i * 100) % 1000, ((i * 100) % 1000) + 100).map((value) => ({ value })),
  });
  results.push(row('2. Batch: 100 clickstream records/request', gw, native, 100));
}

if (wanted('binary')) {
  const values = Array.from({ length: 10 }, (_, i) => Buffer.alloc(1024, i + 1));
  const body = `{"records":[${values.map((v) => `{"value":"${v.toString('base64')}"}`).join(',')}]}`;
  const gw = await loadGateway('binary', {
    path: `/topics/${topics['binary-gw']}`,
    bodies: [body],
    connections: 32,
    contentType: 'application/vnd.kafka.binary.v2+json',
  });
  const native = await nativeProduce(kafka, {
    topic: topics['binary-native'],
    concurrency: 32,
    seconds,
    batch: () => values.map((value) => ({ value })),
  });
  results.push(row('3. Binary: 10 × 1 KiB values/request', gw, native, 10));
}

if (wanted('v3stream')) {
  // v3 streaming produce: one long-lived chunked request of concatenated records, one report back
  // per record; the native side sends the same records in batches of 100 from 16 loops (as in 2.).
  const records = clicks.map((l) => `{"value":{"type":"JSON","data":${l}}}\n`);
  const gw = await streamGateway(`/v3/clusters/any/topics/${topics['v3stream-gw']}/records`, records);
  const compacted = clicks.map((l) => Buffer.from(compactJson(l)));
  const native = await nativeProduce(kafka, {
    topic: topics['v3stream-native'],
    concurrency: 16,
    seconds,
    batch: (i) => compacted.slice((i * 100) % 1000, ((i * 100) % 1000) + 100).map((value) => ({ value })),
  });
  results.push(row('3b. v3 streaming produce: 1 connection, clickstream records', gw, native, 1));
}

const repeat = Math.max(1, Number(args.repeat ?? 1));
if (wanted('consume')) {
  const count = Number(args.records ?? 200_000);
  // Uncompressed by default, as the native side reads: over loopback compression only costs
  // both ends CPU. --encoding=gzip measures what a client asking for it (undici's default) pays.
  const encoding = args.encoding ?? 'identity';
  const { consumeViaGateway } = await import('./consume.mjs');
  await fillTopic(topics['consume-gw'], count);
  await fillTopic(topics['consume-native'], count);
  const { gw, native, ratios } = await alternate(
    () => consumeViaGateway(gateway.url, topics['consume-gw'], count, () => sampleGateway(), encoding),
    () => nativeConsume(kafka, topics['consume-native'], count),
  );
  const how = encoding === 'identity' ? 'uncompressed' : `Accept-Encoding: ${encoding}`;
  results.push({ ...row(`4. Consume: drain ${count} json records (v2 fetch, ${how})`, gw, native, 1), ratios });
}

if (wanted('sse')) {
  // The same drain over one event stream (streaming consume), next to the same native consumer.
  const count = Number(args.records ?? 200_000);
  const { consumeViaSse } = await import('./consume.mjs');
  await fillTopic(topics['sse-gw'], count);
  await fillTopic(topics['sse-native'], count);
  const { gw, native, ratios } = await alternate(
    () => consumeViaSse(gateway.url, topics['sse-gw'], count, () => sampleGateway()),
    () => nativeConsume(kafka, topics['sse-native'], count),
  );
  results.push({ ...row(`4b. SSE consume: drain ${count} json records over one event stream`, gw, native, 1), ratios });
}

if (wanted('first')) {
  // Time to first record with data waiting, warm instances: a produce is acked, then the record
  // is fetched (v2) / arrives as an event (SSE) / reaches a running kafkajs consumer (native).
  const rounds = Number(args.rounds ?? 30);
  const { firstRecordViaGateway } = await import('./consume.mjs');
  const { nativeFirstRecord } = await import('./native.mjs');
  const producer = kafka.producer();
  await producer.connect();
  const value = Buffer.from(compactJson(clicks[0]));
  const send = (topic) => () => producer.send({ topic, acks: -1, messages: [{ value }] });
  const gw = await firstRecordViaGateway(gateway.url, topics['first-gw'], rounds, send(topics['first-gw']));
  const native = await nativeFirstRecord(kafka, topics['first-native'], rounds, send(topics['first-native']));
  await producer.disconnect();
  results.push({
    scenario: `6. Time to first record, data waiting (${rounds} rounds, ms)`,
    first_record_ms: {
      v2_fetch: roundAll(gw.v2),
      sse_event: roundAll(gw.sse),
      native: roundAll(native),
    },
  });
}

if (wanted('latency')) {
  const peak = results.find((r) => r.scenario.startsWith('1.'))?.gateway.records_per_s ?? Number(args.peak ?? 4000);
  const rate = Math.max(100, Math.floor(peak / 2));
  // One body, not autocannon's rotating `requests`: with a list, autocannon overshoots a fixed
  // rate (~2.6k for 2.5k req/s) in bursts that add ~90 ms to its p99 on this box (BENCHMARKS.md).
  const bodies = [`{"records":[{"value":${heartrate[0]}}]}`];
  const gw = await loadGateway('latency', {
    path: `/topics/${topics['latency-gw']}`,
    bodies,
    connections: 64,
    overallRate: rate,
  });
  const native = await nativeProduce(kafka, {
    topic: topics['latency-native'],
    concurrency: 64,
    seconds,
    rate,
    batch: (i) => [{ value: Buffer.from(compactJson(heartrate[i % heartrate.length])) }],
  });
  const r = row(`5. Latency at ${rate} req/s (half the IoT peak)`, gw, native, 1);
  r.added_p99_ms = round(gw.p99 - native.p99);
  results.push(r);
}

if (wanted('broker')) results.push(brokerCeiling());

if (args.soak) results.push(await soak(Number(args.soak)));

// ---- report ----
const report = {
  date: new Date().toISOString(),
  machine: {
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    kafka: KAFKA_VERSION,
  },
  gateway_workers: workers,
  seconds_per_run: seconds,
  results,
};
mkdirSync(path.join(root, 'bench-results'), { recursive: true });
const out = path.join(root, 'bench-results', `latest${workers > 1 ? `-w${workers}` : ''}.json`);
writeFileSync(out, JSON.stringify(report, null, 2));
printTable(report);
console.log(`\nJSON: ${path.relative(root, out)}`);

await gateway.stop();
await admin.disconnect();
if (localKafka) await localKafka.stop();
process.exit(0);

// ---- helpers ----
function compactJson(text) {
  return JSON.stringify(JSON.parse(text));
}

function roundAll(o) {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, round(v, 1)]));
}

/**
 * `repeat` runs of each side, alternating (gateway, native, gateway, …) so both see the same
 * machine load; the median run of each is reported with the spread of all, and each pair's ratio.
 */
async function alternate(gwRun, nativeRun) {
  const gws = [];
  const natives = [];
  for (let i = 0; i < repeat; i++) {
    gws.push(await gwRun());
    natives.push(await nativeRun());
  }
  const ratios = gws.map((g, i) => round(g.records_per_s / natives[i].records_per_s));
  const median = (runs) => {
    const sorted = [...runs].sort((a, b) => a.records_per_s - b.records_per_s);
    const m = sorted[Math.floor(sorted.length / 2)];
    if (sorted.length === 1) return m;
    return {
      ...m,
      spread: `${Math.round(sorted[0].records_per_s)}–${Math.round(sorted[sorted.length - 1].records_per_s)}`,
    };
  };
  return { gw: median(gws), native: median(natives), ratios };
}

function round(n, d = 2) {
  return Math.round(n * 10 ** d) / 10 ** d;
}

async function startGatewayProcess() {
  const port = 20000 + Math.floor(Math.random() * 20000);
  // --profile=DIR: the gateway writes a V8 CPU profile per process into DIR when it stops.
  const profile = args.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(args.profile)}`] : [];
  const child = spawn(process.execPath, [...profile, path.join(root, 'dist/main.js')], {
    cwd: root,
    env: {
      ...process.env,
      KAFKA_BROKERS: brokers,
      PORT: String(port),
      HOST: '127.0.0.1',
      // Default warn: no access log. --log=info measures its cost (lines go to /dev/null).
      LOG_LEVEL: args.log ?? 'warn',
      WORKERS: String(workers),
      NODE_ENV: 'production',
    },
    stdio: ['ignore', args.log === undefined ? 'inherit' : 'ignore', 'inherit'],
  });
  // Never leave the gateway running if the benchmark dies.
  process.on('exit', () => child.kill('SIGKILL'));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`the gateway exited with code ${child.exitCode} while starting`);
    if (i === 300) throw new Error('the gateway did not answer within 30 s');
    try {
      if ((await fetch(`${url}/`)).ok) break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    pid: child.pid,
    // Bounded: a gateway that already exited, or ignores SIGTERM for 15 s, does not hold the run.
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** CPU seconds and peak RSS of the gateway process tree since the previous call. */
function sampleGateway() {
  const tree = processTree(gateway.pid);
  const cpu = tree.reduce((s, p) => s + p.cpuSeconds, 0);
  const delta = cpu - lastCpu;
  lastCpu = cpu;
  return { cpuSeconds: delta, peakRssMiB: tree.reduce((s, p) => s + p.peakRssKiB, 0) / 1024 };
}

async function loadGateway(
  name,
  { path: urlPath, bodies, connections, contentType = 'application/vnd.kafka.json.v2+json', overallRate },
) {
  // Warm-up (JIT, connections, metadata), not measured.
  await autocannon({
    connections,
    duration: 2,
    overallRate,
    ...target(urlPath, bodies, contentType),
  });
  sampleGateway();
  const started = Date.now();
  const result = await autocannon({
    connections,
    duration: seconds,
    overallRate,
    ...target(urlPath, bodies, contentType),
  });
  const elapsed = (Date.now() - started) / 1000;
  const usage = sampleGateway();
  const ok = result['2xx'];
  const avgBody = bodies.reduce((sum, b) => sum + Buffer.byteLength(b), 0) / bodies.length;
  if (result.non2xx > 0 || result.errors > 0)
    console.error(`[bench] ${name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return {
    requests: ok,
    requests_per_s: ok / elapsed,
    // Request bodies sent (HTTP payload), not response bytes.
    bytes_per_s: (ok * avgBody) / elapsed,
    p50: result.latency.p50,
    p99: result.latency.p99,
    p999: result.latency.p99_9 ?? result.latency.p99,
    cpu_percent: (usage.cpuSeconds / elapsed) * 100,
    peak_rss_mib: usage.peakRssMiB,
    errors: result.non2xx + result.errors,
  };
}

/**
 * One v3 streaming produce request for `seconds` (after a 2 s warm-up stream): records are written
 * as fast as the gateway reads them (its back-pressure decides), and every report is counted.
 */
async function streamGateway(urlPath, records) {
  const run = async (duration) => {
    const url = new URL(gateway.url + urlPath);
    const req = http.request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
    });
    let ok = 0;
    let failed = 0;
    let sent = 0;
    const started = performance.now();
    const done = new Promise((resolve, reject) => {
      req.once('error', reject);
      req.once('response', (res) => {
        let rest = '';
        res.setEncoding('utf8');
        res.on('data', (text) => {
          const lines = (rest + text).split('\r\n');
          rest = lines.pop();
          for (const line of lines) {
            if (line === '') continue;
            if (line.startsWith('{"error_code":200,')) ok++;
            else failed++;
          }
        });
        res.once('end', () => resolve(performance.now()));
      });
    });
    const chunk = 500;
    for (let i = 0; performance.now() - started < duration * 1000; i += chunk) {
      let text = '';
      for (let j = 0; j < chunk; j++) text += records[(i + j) % records.length];
      sent += chunk;
      if (!req.write(text)) await new Promise((r) => req.once('drain', r));
    }
    req.end();
    const ended = await done;
    return { ok, failed, sent, elapsed: (ended - started) / 1000 };
  };
  await run(2);
  sampleGateway();
  const r = await run(seconds);
  const usage = sampleGateway();
  if (r.failed > 0 || r.ok !== r.sent) console.error(`[bench] v3stream: ${r.failed} failed of ${r.sent} sent`);
  return {
    requests: 1,
    records_per_s: r.ok / r.elapsed,
    requests_per_s: 1 / r.elapsed,
    bytes_per_s: 0,
    p50: 0,
    p99: 0,
    p999: 0,
    cpu_percent: (usage.cpuSeconds / r.elapsed) * 100,
    peak_rss_mib: usage.peakRssMiB,
    errors: r.failed,
  };
}

/** autocannon options for POSTing the bodies: a single request when there is one body, else a rotating list. */
function target(urlPath, bodies, contentType) {
  const headers = { 'content-type': contentType };
  if (bodies.length === 1) return { url: gateway.url + urlPath, method: 'POST', headers, body: bodies[0] };
  return { url: gateway.url, requests: bodies.map((body) => ({ method: 'POST', path: urlPath, headers, body })) };
}

function row(scenario, gw, native, recordsPerRequest) {
  const g = { ...gw, records_per_s: gw.records_per_s ?? gw.requests_per_s * recordsPerRequest };
  const n = { ...native };
  return {
    scenario,
    gateway: Object.fromEntries(Object.entries(g).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v])),
    native: Object.fromEntries(Object.entries(n).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v])),
    ratio: round(g.records_per_s / n.records_per_s),
  };
}

async function fillTopic(topic, count) {
  const producer = kafka.producer();
  await producer.connect();
  const values = clicks.map((l) => Buffer.from(compactJson(l)));
  for (let i = 0; i < count; i += 5000) {
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: Math.min(5000, count - i) }, (_, j) => ({
        value: values[(i + j) % values.length],
      })),
    });
  }
  await producer.disconnect();
}

/** The broker's own ceiling: Kafka's Java perf-test tool from the same jars. */
function brokerCeiling() {
  const topic = topics['iot-native'];
  const out = execFileSync(
    'java',
    [
      '-cp',
      `${jarDir}/*`,
      'org.apache.kafka.tools.ProducerPerformance',
      '--topic',
      topic,
      '--num-records',
      String(args.perfRecords ?? 2_000_000),
      '--record-size',
      '100',
      '--throughput',
      '-1',
      '--producer-props',
      `bootstrap.servers=${brokers}`,
      'acks=all',
      'linger.ms=5',
      'batch.size=65536',
    ],
    { encoding: 'utf8' },
  );
  const last = out.trim().split('\n').pop();
  const m =
    /([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99.9th/.exec(
      last,
    );
  return {
    scenario: 'Broker ceiling: kafka-producer-perf-test, 100-byte records, acks=all',
    broker: m
      ? {
          records_per_s: Number(m[1]),
          mb_per_s: Number(m[2]),
          p50: Number(m[5]),
          p99: Number(m[7]),
          p999: Number(m[8]),
        }
      : { raw: last },
  };
}

async function soak(totalSeconds) {
  const peak = results.find((r) => r.scenario.startsWith('1.'))?.gateway.records_per_s ?? Number(args.peak ?? 4000);
  const rate = Math.floor(peak * 0.8);
  const bodies = heartrate.map((l) => `{"records":[{"value":${l}}]}`);
  const windows = [];
  const windowSeconds = 30;
  for (let t = 0; t < totalSeconds; t += windowSeconds) {
    sampleGateway();
    const r = await autocannon({
      url: gateway.url,
      connections: 64,
      duration: windowSeconds,
      overallRate: rate,
      requests: bodies.map((body) => ({
        method: 'POST',
        path: `/topics/${topics['iot-gw']}`,
        headers: { 'content-type': 'application/vnd.kafka.json.v2+json' },
        body,
      })),
    });
    const rss = processTree(gateway.pid).reduce((s, p) => s + p.rssKiB, 0) / 1024;
    windows.push({
      at_s: t + windowSeconds,
      requests_per_s: round(r.requests.average),
      p99: r.latency.p99,
      rss_mib: round(rss),
      errors: r.non2xx + r.errors,
    });
    console.error(`[bench] soak ${t + windowSeconds}s: ${JSON.stringify(windows.at(-1))}`);
  }
  return { scenario: `Soak: ${totalSeconds} s at ${rate} req/s (80% of the IoT peak)`, windows };
}

function printTable(report) {
  const head = [
    'scenario',
    'gw rec/s',
    'gw MB/s',
    'gw p50',
    'gw p99',
    'gw p99.9',
    'gw CPU%',
    'gw RSS MiB',
    'native rec/s',
    'native p99',
    'ratio',
  ];
  const rows = report.results
    .filter((r) => r.gateway)
    .map((r) => [
      r.scenario,
      r.gateway.spread === undefined ? r.gateway.records_per_s : `${r.gateway.records_per_s} (${r.gateway.spread})`,
      round((r.gateway.bytes_per_s ?? 0) / 1e6),
      r.gateway.p50,
      r.gateway.p99,
      r.gateway.p999,
      r.gateway.cpu_percent,
      r.gateway.peak_rss_mib,
      r.native.spread === undefined ? r.native.records_per_s : `${r.native.records_per_s} (${r.native.spread})`,
      r.native.p99,
      `${r.ratio}×${r.ratios !== undefined && r.ratios.length > 1 ? ` (runs ${r.ratios.join(', ')})` : ''}${r.added_p99_ms !== undefined ? ` (added p99 ${r.added_p99_ms} ms)` : ''}`,
    ]);
  console.log(`\n| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  for (const r of report.results.filter((x) => x.first_record_ms))
    console.log(`\n${r.scenario}: ${JSON.stringify(r.first_record_ms)}`);
  for (const r of report.results.filter((x) => x.broker)) console.log(`\n${r.scenario}: ${JSON.stringify(r.broker)}`);
  for (const r of report.results.filter((x) => x.windows))
    console.log(`\n${r.scenario}:\n${r.windows.map((w) => JSON.stringify(w)).join('\n')}`);
  void percentile;
}
