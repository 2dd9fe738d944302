#!/usr/bin/env node
// A real, single-node Apache Kafka (KRaft) on 127.0.0.1 for development, tests and benchmarks.
//
// The broker's jars come from Maven Central through scripts/kafka/pom.xml (pinned version) and are
// cached in .cache/kafka/<version>; the log dir is a fresh temp folder per start, removed at stop.
//
//   node scripts/local-kafka.mjs fetch        download the jars (idempotent)
//   node scripts/local-kafka.mjs start        run a broker in the foreground until Ctrl-C
//
// As a module: `const kafka = await startLocalKafka(); … kafka.brokers … await kafka.stop();`
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const pom = path.join(here, 'kafka', 'pom.xml');

export const KAFKA_VERSION = /<kafka\.version>([^<]+)</.exec(readFileSync(pom, 'utf8'))[1];
export const jarDir = path.join(root, '.cache', 'kafka', KAFKA_VERSION);

/** Downloads the broker jars with Maven unless they are already cached. */
export function fetchKafkaJars() {
  if (existsSync(path.join(jarDir, '.complete'))) return jarDir;
  console.error(`[local-kafka] fetching Apache Kafka ${KAFKA_VERSION} jars from Maven Central…`);
  const mvn = spawnSync(
    'mvn',
    ['-q', '-B', '-f', pom, 'dependency:copy-dependencies', `-DoutputDirectory=${jarDir}`, '-DincludeScope=runtime'],
    { stdio: 'inherit' },
  );
  if (mvn.status !== 0) throw new Error(`mvn could not fetch the Kafka jars (exit ${mvn.status})`);
  writeFileSync(path.join(jarDir, '.complete'), KAFKA_VERSION);
  return jarDir;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

function java(args, opts) {
  return spawn('java', ['-cp', `${jarDir}/*`, ...args], opts);
}

/**
 * Starts a broker and resolves once it answers Kafka metadata requests.
 * @param {{port?: number, heap?: string}} [options]
 * @returns {Promise<{brokers: string, port: number, dir: string, stop: () => Promise<void>}>}
 */
export async function startLocalKafka(options = {}) {
  fetchKafkaJars();
  const port = options.port ?? (await freePort());
  const controllerPort = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gateway-kafka-'));
  const props = path.join(dir, 'server.properties');
  writeFileSync(
    props,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      'inter.broker.listener.name=PLAINTEXT',
      `log.dirs=${path.join(dir, 'data')}`,
      'num.partitions=1',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=4',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      // Tests create consumer groups all the time; don't make each join wait 3 s for more members.
      'group.initial.rebalance.delay.ms=0',
      // Topics exist because someone created them, never because a client mistyped a name.
      'auto.create.topics.enable=false',
      'log.flush.interval.messages=9223372036854775807',
      '',
    ].join('\n'),
  );
  const clusterId = randomBytes(16).toString('base64url').slice(0, 22);
  const format = spawnSync(
    'java',
    [
      '-cp',
      `${jarDir}/*`,
      `-Dkafka.logs.dir=${dir}`,
      `-Dlog4j2.configurationFile=${path.join(here, 'kafka', 'log4j2.properties')}`,
      'kafka.tools.StorageTool',
      'format',
      // `=` form: a random id may start with '-', which would otherwise read as an option.
      `--cluster-id=${clusterId}`,
      `--config=${props}`,
    ],
    { encoding: 'utf8' },
  );
  if (format.status !== 0) throw new Error(`kafka storage format failed: ${format.stderr || format.stdout}`);

  const proc = java(
    [
      `-Xmx${options.heap ?? '1g'}`,
      '-XX:+UseG1GC',
      '-XX:TieredStopAtLevel=1',
      '-Djava.awt.headless=true',
      `-Dkafka.logs.dir=${dir}`,
      `-Dlog4j2.configurationFile=${path.join(here, 'kafka', 'log4j2.properties')}`,
      'kafka.Kafka',
      props,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  proc.stderr.on('data', (b) => {
    stderr = (stderr + b.toString()).slice(-4000);
  });
  let exited = false;
  // If whatever started the broker dies (a crashed benchmark, a failed test run), take the broker along.
  const orphanGuard = () => proc.kill('SIGKILL');
  process.once('exit', orphanGuard);
  proc.once('exit', () => {
    exited = true;
    process.removeListener('exit', orphanGuard);
  });

  const stop = async () => {
    if (!exited) {
      const gone = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15000);
      await gone;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 90_000;
  while (!(await canConnect(port))) {
    if (exited) throw new Error(`Kafka exited during start-up: ${stderr}\n${tail(path.join(dir, 'server.log'))}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error('Kafka did not open its port within 90 s');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await waitForMetadata(`127.0.0.1:${port}`, deadline);
  return { brokers: `127.0.0.1:${port}`, port, dir, stop, process: proc };
}

function tail(file) {
  try {
    return readFileSync(file, 'utf8').slice(-3000);
  } catch {
    return '';
  }
}

async function waitForMetadata(brokers, deadline) {
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING }).admin();
  for (;;) {
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length > 0) break;
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`Kafka did not answer metadata requests: ${err.message}`, { cause: err });
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  await admin.disconnect();
}

// ---- command line ----
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const cmd = process.argv[2] ?? 'start';
  if (cmd === 'fetch') {
    fetchKafkaJars();
    console.log(`Kafka ${KAFKA_VERSION} jars in ${jarDir} (${readdirSync(jarDir).length} files)`);
  } else if (cmd === 'start') {
    const port = process.env.KAFKA_PORT ? Number(process.env.KAFKA_PORT) : 9092;
    const kafka = await startLocalKafka({ port });
    console.log(`Kafka ${KAFKA_VERSION} listening on ${kafka.brokers} (Ctrl-C stops it)`);
    const shutdown = () => kafka.stop().then(() => process.exit(0));
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
  } else {
    console.error('usage: local-kafka.mjs fetch|start');
    process.exit(2);
  }
}
