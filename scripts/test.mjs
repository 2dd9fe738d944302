#!/usr/bin/env node
// Runs the test suite against real Kafka, in up to three phases (each with its own Kafka, started
// here and stopped at the end of the phase):
//   single   every test file except test/cluster-*.test.ts, on one broker of the pinned version
//   cluster  test/cluster-*.test.ts (fault tests), one after another, on ONE 3-node replicated
//            cluster (RF 3, min.insync.replicas=2) they can stop, kill and freeze nodes of
//            (KAFKA_CLUSTER_CONTROL, see test/support/cluster.ts)
//   kafka3   the Kafka-facing files (KAFKA3_FILES) again, on one broker of the newest 3.9.x
// With file arguments only those files run (cluster-* files on the cluster, the others on one
// broker); TEST_PHASES=single,cluster,kafka3 picks phases; KAFKA_BROKERS (single phase only)
// uses your own broker. Other arguments are passed to `node --test`.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import {
  KAFKA_3_VERSION,
  KAFKA_VERSION,
  serveClusterControl,
  startLocalKafka,
  startLocalKafkaCluster,
} from './local-kafka.mjs';

// Files whose assertions depend on the broker (protocol versions, error codes, group coordinator,
// transactional commits). The rest exercise the HTTP side and would repeat the same work.
const KAFKA3_FILES = [
  'test/produce.test.ts',
  'test/produce-errors.test.ts',
  'test/metadata.test.ts',
  'test/consumers.test.ts',
  'test/consumers-loss.test.ts',
  'test/consumers-replicas.test.ts',
];

const args = process.argv.slice(2);
const files = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
const isClusterFile = (f) => /(^|\/)cluster-[^/]*\.test\.ts$/.test(f);
const all =
  files.length > 0
    ? files
    : readdirSync('test', { recursive: true })
        .filter((f) => f.endsWith('.test.ts'))
        .map((f) => `test/${f}`)
        .sort();
const phases = new Set(
  (process.env.TEST_PHASES ?? (files.length > 0 ? 'single,cluster' : 'single,cluster,kafka3')).split(','),
);

let current; // the Kafka of the running phase, stopped on Ctrl-C
const running = new Set(); // test file processes
process.on('SIGINT', () => {
  for (const c of running) c.kill('SIGINT');
  void Promise.resolve(current?.stop()).then(() => process.exit(130));
});

/**
 * Runs each test file in a `node` process of its own, `concurrency` at a time, with node's runner
 * inside that process: there is no parent runner parsing children's serialized reports, which on
 * node 20 can spin forever on a truncated frame (nodejs/node#62693; it hung a clean-clone run for
 * 20 minutes). Each file's output is printed whole when it ends, with its duration; a file still
 * running a minute past its timeout is killed and fails. Resolves 0 when every file passed.
 */
function runNodeTest(testFiles, env, concurrency, timeoutMs = 300_000) {
  const queue = [...testFiles];
  const failed = [];
  const runOne = (file) =>
    new Promise((resolve) => {
      const t0 = Date.now();
      const c = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          '--test-reporter=spec',
          // A test that fails half-way may leave a client open; never let that hang the run.
          '--test-force-exit',
          `--test-timeout=${timeoutMs}`,
          ...flags,
          file,
        ],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
          // Gateways the tests spawn start no schema registry on the fixed port 8081 unless they ask.
          env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1', SCHEMA_REGISTRY_ENABLED: 'false', ...env },
        },
      );
      running.add(c);
      const output = [];
      c.stdout.on('data', (d) => output.push(d));
      c.stderr.on('data', (d) => output.push(d));
      const killer = setTimeout(() => {
        output.push(Buffer.from(`\n[test] ${file}: still running ${timeoutMs / 1000 + 60} s after start: killed\n`));
        c.kill('SIGKILL');
      }, timeoutMs + 60_000);
      c.on('close', (code, signal) => {
        clearTimeout(killer);
        running.delete(c);
        const ok = code === 0 && signal === null;
        if (!ok) failed.push(file);
        process.stdout.write(Buffer.concat(output));
        console.log(
          `[test] ${file}: ${ok ? 'pass' : `FAIL (${code ?? signal})`} in ${Math.round((Date.now() - t0) / 1000)} s`,
        );
        resolve();
      });
    });
  const worker = async () => {
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) await runOne(file);
  };
  return Promise.all(Array.from({ length: Math.max(1, Number(concurrency)) }, worker)).then(() => {
    if (failed.length > 0) console.log(`[test] failed files:\n  ${failed.join('\n  ')}`);
    return failed.length === 0 ? 0 : 1;
  });
}

async function singleBrokerPhase(name, testFiles, version) {
  if (testFiles.length === 0) return 0;
  const t0 = Date.now();
  let brokers = process.env.KAFKA_BROKERS;
  if (!brokers || name !== 'single') {
    current = await startLocalKafka({ version });
    brokers = current.brokers;
    console.log(`[test] ${name}: Kafka ${version} up on ${brokers} in ${Date.now() - t0} ms`);
  }
  try {
    return await runNodeTest(
      testFiles,
      { KAFKA_BROKERS: brokers, KAFKA_VERSION: version },
      process.env.TEST_CONCURRENCY ?? 2,
    );
  } finally {
    await current?.stop();
    current = undefined;
    console.log(`[test] ${name}: ${testFiles.length} files in ${Math.round((Date.now() - t0) / 1000)} s`);
  }
}

async function clusterPhase(testFiles) {
  if (testFiles.length === 0) return 0;
  const t0 = Date.now();
  const cluster = await startLocalKafkaCluster({ nodes: 3 });
  current = cluster;
  const control = await serveClusterControl(cluster);
  console.log(
    `[test] cluster: Kafka ${cluster.version} 3-node cluster up on ${cluster.brokers} in ${Date.now() - t0} ms`,
  );
  try {
    // One file at a time: each faults the shared cluster and heals it before the next.
    return await runNodeTest(
      testFiles,
      { KAFKA_BROKERS: cluster.brokers, KAFKA_CLUSTER_CONTROL: control.url, KAFKA_VERSION: cluster.version },
      1,
      // A fault file runs its scenarios one after another (each waits for the cluster to heal):
      // its whole file, which node's runner times as one test, takes minutes on a loaded machine.
      900_000,
    );
  } finally {
    await control.close();
    await cluster.stop();
    current = undefined;
    console.log(`[test] cluster: ${testFiles.length} files in ${Math.round((Date.now() - t0) / 1000)} s`);
  }
}

const results = [];
const version = process.env.KAFKA_VERSION ?? KAFKA_VERSION;
if (phases.has('single')) {
  results.push([
    'single',
    await singleBrokerPhase(
      'single',
      all.filter((f) => !isClusterFile(f)),
      version,
    ),
  ]);
}
if (phases.has('cluster')) results.push(['cluster', await clusterPhase(all.filter(isClusterFile))]);
if (phases.has('kafka3')) {
  const subset = files.length > 0 ? all.filter((f) => !isClusterFile(f)) : KAFKA3_FILES;
  results.push(['kafka3', await singleBrokerPhase('kafka3', subset, KAFKA_3_VERSION)]);
}
console.log(`[test] ${results.map(([name, code]) => `${name}: ${code === 0 ? 'pass' : `FAIL (${code})`}`).join(', ')}`);
process.exit(results.find(([, code]) => code !== 0)?.[1] ?? 0);
