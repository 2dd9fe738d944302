#!/usr/bin/env node
// Memory bound benchmark: a flood of concurrent ~1 MB produce bodies against one gateway process
// (the production build), far more than SHED_MAX_INFLIGHT_BYTES admits. Prints the start-up RSS,
// the kernel's peak RSS (VmHWM) and the growth as a multiple of the cap, per cap.
//
//   npm run bench:memory                          caps 64 and 256 MiB, 1,000 concurrent bodies
//   npm run bench:memory -- --caps=256 --clients=1000 --bodies=3000
//
// Uses KAFKA_BROKERS when set, else starts the local broker. Bounded: every flood sends a fixed
// number of bodies, and the whole run stops after 15 minutes whatever hangs.
import { execFileSync, spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { startLocalKafka } from '../scripts/local-kafka.mjs';
import { processTree } from './proc.mjs';
import { benchArgs } from './args.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = benchArgs();
const caps = (args.caps ?? '64,256').split(',').map(Number);
const clients = Number(args.clients ?? 1000);
const bodies = Number(args.bodies ?? clients * 3);
setTimeout(() => {
  console.error('[bench:memory] stopped: the run exceeded its 15 min bound');
  process.exit(1);
}, 900_000).unref();

execFileSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
let localKafka;
let brokers = process.env.KAFKA_BROKERS;
if (!brokers) {
  localKafka = await startLocalKafka();
  brokers = localKafka.brokers;
}
const admin = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
await admin.connect();
const topic = `bench-memory-${Date.now()}`;
await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });

const filler = 'x'.repeat(10_000);
const body = Buffer.from(
  JSON.stringify({ records: Array.from({ length: 100 }, (_, i) => ({ value: { i, filler } })) }),
);
const rssOf = (pid) => {
  const tree = processTree(pid);
  return {
    rss: tree.reduce((s, p) => s + p.rssKiB, 0) / 1024,
    peak: tree.reduce((s, p) => s + p.peakRssKiB, 0) / 1024,
  };
};

const rows = [];
for (const capMiB of caps) {
  const port = 18_000 + Math.floor(Math.random() * 1000);
  const child = spawn(process.execPath, [path.join(root, 'dist/main.js')], {
    env: {
      ...process.env,
      KAFKA_BROKERS: brokers,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      SHED_MAX_INFLIGHT_BYTES: String(capMiB * 1024 * 1024),
      SHED_MAX_INFLIGHT_BYTES_PER_CLIENT: '0',
      SHED_MAX_INFLIGHT_REQUESTS: String(clients * 2),
      SHUTDOWN_DELAY_MS: '0',
    },
    stdio: 'inherit',
  });
  for (let i = 0; i < 300; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const send = (agent) =>
    new Promise((resolve) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: `/topics/${topic}`,
          agent,
          headers: { 'content-type': 'application/vnd.kafka.json.v2+json', 'content-length': body.length },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(String(res.statusCode)));
        },
      );
      req.on('error', (e) => resolve(e.code ?? 'error'));
      req.end(body);
    });
  const warm = new http.Agent({ keepAlive: true, maxSockets: 4 });
  for (let i = 0; i < 8; i++) await send(warm);
  warm.destroy();
  const start = rssOf(child.pid);
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const outcomes = {};
  let next = 0;
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next++ < bodies) {
        const s = await send(agent);
        outcomes[s] = (outcomes[s] ?? 0) + 1;
      }
    }),
  );
  agent.destroy();
  const end = rssOf(child.pid);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const growth = end.peak - start.rss;
  rows.push({
    cap_mib: capMiB,
    clients,
    bodies,
    outcomes,
    seconds: (Date.now() - t0) / 1000,
    startup_rss_mib: Math.round(start.rss),
    peak_rss_mib: Math.round(end.peak),
    growth_mib: Math.round(growth),
    growth_per_cap: Math.round((growth / capMiB) * 100) / 100,
  });
  console.log(JSON.stringify(rows.at(-1)));
}
await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
await admin.disconnect();
if (localKafka) await localKafka.stop();
console.table(rows.map(({ outcomes, ...r }) => ({ ...r, admitted: outcomes['200'] ?? 0, shed: outcomes['503'] ?? 0 })));
process.exit(0);
