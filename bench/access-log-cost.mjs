#!/usr/bin/env node
// The access log's cost per request, measured alone (no HTTP, no Kafka, so the figure is not lost
// in the noise of a shared machine): the gateway's logger writing one request line, as
// observeRequests does, to /dev/null — synchronously (pino's default for stdout) and through an
// asynchronous buffered destination — against ACCESS_LOG=off (the line is not even built).
//   npm run build && node bench/access-log-cost.mjs
import { openSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { createLogger } from '../dist/observability/logger.js';

const N = Number(process.env.LINES ?? 200_000);
const line = (i) => ({
  reqId: `4f6c2a0e-1b5d-4a7e-9c3b-${String(i).padStart(12, '0')}`,
  method: 'POST',
  path: '/topics/clickstream',
  route: '/topics/:topic',
  status: 200,
  ms: 3.4,
  identity: 'anonymous',
  ip: '10.0.0.17',
  bytesIn: 19_234,
});

function run(name, log) {
  const child = log?.child({ component: 'http' });
  for (let i = 0; i < 20_000; i++) child?.info(line(i), 'request'); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < N; i++) if (child?.isLevelEnabled('info')) child.info(line(i), 'request');
  const us = ((performance.now() - t0) * 1000) / N;
  console.log(`${name.padEnd(44)} ${us.toFixed(2)} µs/request  (${Math.round(1e6 / us)} lines/s on one core)`);
  return us;
}

const devnull = () => openSync('/dev/null', 'w');
const results = {
  sync: run(
    'ACCESS_LOG=all, sync write per line',
    createLogger('info', pino.destination({ dest: devnull(), sync: true })),
  ),
  async: run(
    'ACCESS_LOG=all, async 8 KiB buffer',
    createLogger('info', pino.destination({ dest: devnull(), sync: false, minLength: 8 * 1024 })),
  ),
  off: run('ACCESS_LOG=off (nothing built)', undefined),
};
console.log(
  JSON.stringify(Object.fromEntries(Object.entries(results).map(([k, v]) => [k, Math.round(v * 100) / 100]))),
);
