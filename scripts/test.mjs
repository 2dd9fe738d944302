#!/usr/bin/env node
// Runs the whole test suite against one real Kafka broker for the whole run:
// starts it (unless KAFKA_BROKERS names a cluster), runs every test file with node's test runner,
// stops it. Extra arguments are passed to `node --test` (e.g. a file path to run just that file).
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { startLocalKafka } from './local-kafka.mjs';

const args = process.argv.slice(2);
const files = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
const testFiles =
  files.length > 0
    ? files
    : readdirSync('test', { recursive: true })
        .filter((f) => f.endsWith('.test.ts'))
        .map((f) => `test/${f}`)
        .sort();

let kafka;
if (!process.env.KAFKA_BROKERS) {
  const t0 = Date.now();
  kafka = await startLocalKafka();
  console.log(`[test] Kafka up on ${kafka.brokers} in ${Date.now() - t0} ms`);
}
const env = {
  ...process.env,
  KAFKA_BROKERS: process.env.KAFKA_BROKERS || kafka.brokers,
  KAFKAJS_NO_PARTITIONER_WARNING: '1',
};

const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    // A test that fails half-way may leave a client open; never let that hang the run.
    '--test-force-exit',
    '--test-timeout=180000',
    `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
    ...flags,
    ...testFiles,
  ],
  { stdio: 'inherit', env },
);
const stop = async (code) => {
  if (kafka) await kafka.stop();
  process.exit(code);
};
process.on('SIGINT', () => child.kill('SIGINT'));
child.on('exit', (code, signal) => void stop(code ?? (signal ? 1 : 0)));
