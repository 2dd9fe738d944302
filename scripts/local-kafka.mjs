#!/usr/bin/env node
// A real Apache Kafka (KRaft) on 127.0.0.1 for development, tests and benchmarks: one broker, or an
// N-node replicated cluster whose nodes a test can stop, kill, freeze and restart.
//
// The broker's jars come from Maven Central through scripts/kafka/pom.xml (pinned version, or any
// other with `version`/KAFKA_VERSION) and are cached in .cache/kafka/<version>; the log dirs are
// fresh temp folders per start, removed at stop.
//
//   node scripts/local-kafka.mjs fetch [version]   download the jars (idempotent)
//   node scripts/local-kafka.mjs start             run a broker in the foreground until Ctrl-C
//   node scripts/local-kafka.mjs cluster [nodes]   run an N-node cluster (default 3) with a control
//                                                  endpoint (see serveClusterControl) until Ctrl-C
//
// As a module: `const kafka = await startLocalKafka(); … kafka.brokers … await kafka.stop();`
// or `const c = await startLocalKafkaCluster({ nodes: 3 }); await c.node(2).kill(); await c.node(2).restart();`
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const pom = path.join(here, 'kafka', 'pom.xml');
const log4j = path.join(here, 'kafka', 'log4j2.properties');

/** The pinned version (scripts/kafka/pom.xml). */
export const KAFKA_VERSION = /<kafka\.version>([^<]+)</.exec(readFileSync(pom, 'utf8'))[1];
/** The newest 3.9.x on Maven Central (what most managed clusters still run); the suite runs on it too. */
export const KAFKA_3_VERSION = '3.9.2';
export const jarDirFor = (version) => path.join(root, '.cache', 'kafka', version);
export const jarDir = jarDirFor(KAFKA_VERSION);

/** Downloads a version's broker jars with Maven unless they are already cached. */
export function fetchKafkaJars(version = KAFKA_VERSION) {
  const dir = jarDirFor(version);
  if (existsSync(path.join(dir, '.complete'))) return dir;
  console.error(`[local-kafka] fetching Apache Kafka ${version} jars from Maven Central…`);
  mkdirSync(dir, { recursive: true });
  const mvn = spawnSync(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      pom,
      'dependency:copy-dependencies',
      `-Dkafka.version=${version}`,
      `-DoutputDirectory=${dir}`,
      '-DincludeScope=runtime',
    ],
    { stdio: 'inherit' },
  );
  if (mvn.status !== 0) throw new Error(`mvn could not fetch the Kafka ${version} jars (exit ${mvn.status})`);
  writeFileSync(path.join(dir, '.complete'), version);
  return dir;
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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function tail(file) {
  try {
    return readFileSync(file, 'utf8').slice(-3000);
  } catch {
    return '';
  }
}

/** Broker settings shared by the single broker and the cluster. */
function commonProps() {
  return [
    'process.roles=broker,controller',
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    'num.partitions=1',
    'offsets.topic.num.partitions=4',
    // Tests create consumer groups all the time; don't make each join wait 3 s for more members.
    'group.initial.rebalance.delay.ms=0',
    // Topics exist because someone created them, never because a client mistyped a name.
    'auto.create.topics.enable=false',
    'log.flush.interval.messages=9223372036854775807',
  ];
}

/**
 * One KRaft node (broker+controller) on a fixed port and log dir, so it can be restarted as the
 * same broker. `state`: running | stopped | frozen.
 */
class KafkaNode {
  constructor({ id, port, controllerPort, dir, version, heap, props }) {
    Object.assign(this, { id, port, controllerPort, dir, version, heap });
    this.propsFile = path.join(dir, 'server.properties');
    writeFileSync(this.propsFile, [...props, `log.dirs=${path.join(dir, 'data')}`, ''].join('\n'));
    this.proc = undefined;
    this.state = 'stopped';
    this.stderr = '';
    this.orphanGuard = () => this.proc?.kill('SIGKILL');
  }

  get pid() {
    return this.proc?.pid;
  }

  format(clusterId) {
    const result = spawnSync(
      'java',
      [
        '-cp',
        `${jarDirFor(this.version)}/*`,
        `-Dkafka.logs.dir=${this.dir}`,
        `-Dlog4j2.configurationFile=${log4j}`,
        'kafka.tools.StorageTool',
        'format',
        // `=` form: a random id may start with '-', which would otherwise read as an option.
        `--cluster-id=${clusterId}`,
        `--config=${this.propsFile}`,
      ],
      { encoding: 'utf8' },
    );
    if (result.status !== 0) throw new Error(`kafka storage format failed: ${result.stderr || result.stdout}`);
  }

  /** Starts the JVM on this node's log dir; resolves once its client port accepts connections. */
  async start(timeoutMs = 90_000) {
    if (this.state === 'running' || this.state === 'frozen') return;
    const proc = spawn(
      'java',
      [
        '-cp',
        `${jarDirFor(this.version)}/*`,
        `-Xmx${this.heap}`,
        '-XX:+UseG1GC',
        '-XX:TieredStopAtLevel=1',
        '-Djava.awt.headless=true',
        `-Dkafka.logs.dir=${this.dir}`,
        `-Dlog4j2.configurationFile=${log4j}`,
        'kafka.Kafka',
        this.propsFile,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.proc = proc;
    this.state = 'running';
    this.stderr = '';
    proc.stderr.on('data', (b) => {
      this.stderr = (this.stderr + b.toString()).slice(-4000);
    });
    // If whatever started the broker dies (a crashed benchmark, a failed test run), take the broker along.
    process.once('exit', this.orphanGuard);
    this.exited = new Promise((resolve) =>
      proc.once('exit', () => {
        process.removeListener('exit', this.orphanGuard);
        if (this.proc === proc) {
          this.proc = undefined;
          this.state = 'stopped';
        }
        resolve();
      }),
    );
    const deadline = Date.now() + timeoutMs;
    while (!(await canConnect(this.port))) {
      if (this.proc !== proc) {
        throw new Error(`Kafka node ${this.id} exited during start-up: ${this.stderr}\n${tail(this.logFile)}`);
      }
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`Kafka node ${this.id} did not open its port within ${timeoutMs / 1000} s`);
      }
      await sleep(200);
    }
  }

  get logFile() {
    return path.join(this.dir, 'server.log');
  }

  async signalAndWait(signal, killAfterMs) {
    const proc = this.proc;
    if (proc === undefined) return;
    if (this.state === 'frozen') proc.kill('SIGCONT');
    const exited = this.exited;
    proc.kill(signal);
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
    await exited;
    clearTimeout(timer);
  }

  /** Graceful shutdown (SIGTERM: controlled shutdown, leadership moves first); SIGKILL after 60 s. */
  stop() {
    return this.signalAndWait('SIGTERM', 60_000);
  }

  /** kill -9: no controlled shutdown, no flush. */
  kill() {
    return this.signalAndWait('SIGKILL');
  }

  /** SIGSTOP: the process stays, its sockets stay open, it answers nothing (a GC pause, a hung host). */
  freeze() {
    if (this.state !== 'running') return;
    this.proc.kill('SIGSTOP');
    this.state = 'frozen';
  }

  thaw() {
    if (this.state !== 'frozen') return;
    this.proc.kill('SIGCONT');
    this.state = 'running';
  }

  /** Stops the node if it runs (SIGTERM), then starts it again on the same log dir. */
  async restart() {
    await this.stop();
    await this.start();
  }

  info() {
    return { id: this.id, port: this.port, pid: this.pid ?? null, state: this.state };
  }
}

async function withAdmin(brokers, fn) {
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
    connectionTimeout: 3000,
    requestTimeout: 10_000,
  }).admin();
  try {
    await admin.connect();
    return await fn(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Waits until the cluster answers metadata with at least `count` brokers registered. */
async function waitForBrokers(brokers, count, deadline) {
  for (;;) {
    try {
      const n = await withAdmin(brokers, async (a) => (await a.describeCluster()).brokers.length);
      if (n >= count) return;
      if (Date.now() > deadline) throw new Error(`only ${n} of ${count} Kafka brokers registered`);
    } catch (err) {
      if (Date.now() > deadline) {
        throw new Error(`Kafka did not answer metadata requests: ${err.message}`, { cause: err });
      }
    }
    await sleep(300);
  }
}

/**
 * Starts a single broker and resolves once it answers Kafka metadata requests.
 * @param {{port?: number, heap?: string, version?: string}} [options]
 * `kill` (SIGKILL), `shutdown` (SIGTERM), `freeze`/`thaw` (SIGSTOP/SIGCONT) and `start`/`restart`
 * fault the broker and bring it back on the same port and log dir; `stop` ends it for good.
 */
export async function startLocalKafka(options = {}) {
  const version = options.version ?? process.env.KAFKA_VERSION ?? KAFKA_VERSION;
  fetchKafkaJars(version);
  const port = options.port ?? (await freePort());
  const controllerPort = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gateway-kafka-'));
  const node = new KafkaNode({
    id: 1,
    port,
    controllerPort,
    dir,
    version,
    heap: options.heap ?? '1g',
    props: [
      ...commonProps(),
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'offsets.topic.replication.factor=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
    ],
  });
  node.format(randomBytes(16).toString('base64url').slice(0, 22));
  const stop = async () => {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await node.start();
    await waitForBrokers(`127.0.0.1:${port}`, 1, Date.now() + 90_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    brokers: `127.0.0.1:${port}`,
    port,
    dir,
    version,
    stop,
    get process() {
      return node.proc;
    },
    // Faults on the same port and log dir (see KafkaNode): the broker comes back with its data.
    kill: () => node.kill(),
    shutdown: () => node.stop(),
    freeze: () => node.freeze(),
    thaw: () => node.thaw(),
    start: () => node.start(),
    restart: () => node.restart(),
  };
}

/**
 * Starts an N-node KRaft cluster (every node broker+controller) on 127.0.0.1: replication factor
 * `replicationFactor` (default min(3, N)) for new topics and the internal ones, min.insync.replicas
 * `minInsync` (default min(2, N)). Nodes can be stopped, killed, frozen and restarted one by one.
 * @param {{nodes?: number, version?: string, heap?: string, replicationFactor?: number, minInsync?: number}} [options]
 */
export async function startLocalKafkaCluster(options = {}) {
  const count = options.nodes ?? 3;
  const version = options.version ?? process.env.KAFKA_VERSION ?? KAFKA_VERSION;
  const rf = options.replicationFactor ?? Math.min(3, count);
  const minIsr = options.minInsync ?? Math.min(2, count);
  fetchKafkaJars(version);
  const root = mkdtempSync(path.join(os.tmpdir(), 'gateway-kafka-cluster-'));
  const ports = [];
  for (let i = 0; i < count; i++) ports.push({ port: await freePort(), controllerPort: await freePort() });
  const voters = ports.map((p, i) => `${i + 1}@127.0.0.1:${p.controllerPort}`).join(',');
  const brokers = ports.map((p) => `127.0.0.1:${p.port}`).join(',');
  const nodes = ports.map(({ port, controllerPort }, i) => {
    const dir = path.join(root, `node-${i + 1}`);
    mkdirSync(dir);
    return new KafkaNode({
      id: i + 1,
      port,
      controllerPort,
      dir,
      version,
      heap: options.heap ?? '512m',
      props: [
        ...commonProps(),
        `node.id=${i + 1}`,
        `controller.quorum.voters=${voters}`,
        `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
        `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
        `default.replication.factor=${rf}`,
        `min.insync.replicas=${minIsr}`,
        `offsets.topic.replication.factor=${rf}`,
        `transaction.state.log.replication.factor=${rf}`,
        `transaction.state.log.min.isr=${minIsr}`,
        `share.coordinator.state.topic.replication.factor=${rf}`,
        `share.coordinator.state.topic.min.isr=${minIsr}`,
        // A killed broker is fenced (its partitions get new leaders) after 6 s instead of 9 s.
        'broker.session.timeout.ms=6000',
        'broker.heartbeat.interval.ms=1000',
        // A follower that stopped fetching leaves the ISR after 10 s instead of 30 s.
        'replica.lag.time.max.ms=10000',
      ],
    });
  });
  const clusterId = randomBytes(16).toString('base64url').slice(0, 22);
  for (const n of nodes) n.format(clusterId);

  const cluster = {
    version,
    brokers,
    nodes,
    replicationFactor: rf,
    minInsync: minIsr,
    dir: root,
    /** @param {number} id */
    node(id) {
      const n = nodes.find((x) => x.id === id);
      if (n === undefined) throw new Error(`no Kafka node ${id}`);
      return n;
    },
    /** Id of the active KRaft controller (the quorum leader), asked with Kafka's own quorum tool. */
    controller() {
      const live = nodes.filter((n) => n.state === 'running');
      const result = spawnSync(
        'java',
        [
          '-cp',
          `${jarDirFor(version)}/*`,
          `-Dlog4j2.configurationFile=${log4j}`,
          '-Dkafka.logs.dir=' + root,
          'org.apache.kafka.tools.MetadataQuorumCommand',
          '--bootstrap-server',
          live.map((n) => `127.0.0.1:${n.port}`).join(','),
          'describe',
          '--status',
        ],
        { encoding: 'utf8', timeout: 60_000 },
      );
      const leader = /LeaderId:\s*(\d+)/.exec(result.stdout ?? '');
      if (leader === null) throw new Error(`no quorum leader reported: ${result.stderr || result.stdout}`);
      return Number(leader[1]);
    },
    /** Restarts every node that is not running and waits until all are registered and in sync. */
    async heal(timeoutMs = 120_000) {
      for (const n of nodes) n.thaw();
      await Promise.all(nodes.filter((n) => n.state === 'stopped').map((n) => n.start()));
      await waitForHealthy(brokers, count, Date.now() + timeoutMs);
    },
    async stop() {
      // kill -9, all at once: the data is thrown away anyway, and a cluster shutting down node by
      // node waits for a controller quorum that is leaving too.
      await Promise.all(nodes.map((n) => n.kill()));
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    // Every node must be up before any can elect a controller: start them together.
    await Promise.all(nodes.map((n) => n.start()));
    await waitForBrokers(brokers, count, Date.now() + 120_000);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

/** All brokers registered and no partition under-replicated (ISR = replicas everywhere). */
async function waitForHealthy(brokers, count, deadline) {
  await waitForBrokers(brokers, count, deadline);
  for (;;) {
    let lagging = 'unknown';
    try {
      lagging = await withAdmin(brokers, async (a) => {
        const topics = await a.listTopics();
        if (topics.length === 0) return 0;
        const { topics: meta } = await a.fetchTopicMetadata({ topics });
        return meta.flatMap((t) => t.partitions).filter((p) => p.isr.length < p.replicas.length || p.leader < 0).length;
      });
      if (lagging === 0) return;
    } catch {
      // Still settling (a leader moving): ask again.
    }
    if (Date.now() > deadline) throw new Error(`Kafka cluster not healthy in time (${lagging} partitions lagging)`);
    await sleep(500);
  }
}

/**
 * A tiny HTTP control endpoint on 127.0.0.1 so test files (other processes) can fault the cluster:
 *   GET  /                      {version, brokers, replicationFactor, minInsync, nodes:[{id,port,pid,state}]}
 *   GET  /controller            {id} of the active KRaft controller
 *   POST /nodes/{id}/{stop|kill|freeze|thaw|start|restart}   → the node's info once done
 *   POST /heal                  every node running and in sync again
 * @returns {Promise<{url: string, close: () => Promise<void>}>}
 */
export async function serveClusterControl(cluster) {
  const describe = () => ({
    version: cluster.version,
    brokers: cluster.brokers,
    replicationFactor: cluster.replicationFactor,
    minInsync: cluster.minInsync,
    nodes: cluster.nodes.map((n) => n.info()),
  });
  // One fault at a time: two tests must not restart the same node concurrently.
  let chain = Promise.resolve();
  const server = http.createServer((req, res) => {
    const reply = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === '/') return reply(200, describe());
    if (req.method === 'GET' && url.pathname === '/controller') {
      try {
        return reply(200, { id: cluster.controller() });
      } catch (err) {
        return reply(500, { error: err instanceof Error ? err.message : String(err) });
      }
    }
    const action = /^\/nodes\/(\d+)\/(stop|kill|freeze|thaw|start|restart)$/.exec(url.pathname);
    if (req.method !== 'POST' || (action === null && url.pathname !== '/heal'))
      return reply(404, { error: 'not found' });
    const run = chain.then(async () => {
      if (action === null) {
        await cluster.heal();
        return describe();
      }
      const node = cluster.node(Number(action[1]));
      await node[action[2]]();
      return node.info();
    });
    chain = run.catch(() => undefined);
    run.then(
      (body) => reply(200, body),
      (err) => reply(500, { error: err instanceof Error ? err.message : String(err) }),
    );
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// ---- command line ----
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const cmd = process.argv[2] ?? 'start';
  if (cmd === 'fetch') {
    const dir = fetchKafkaJars(process.argv[3] ?? process.env.KAFKA_VERSION ?? KAFKA_VERSION);
    console.log(`Kafka jars in ${dir} (${readdirSync(dir).length} files)`);
  } else if (cmd === 'start') {
    const port = process.env.KAFKA_PORT ? Number(process.env.KAFKA_PORT) : 9092;
    const kafka = await startLocalKafka({ port });
    console.log(`Kafka ${kafka.version} listening on ${kafka.brokers} (Ctrl-C stops it)`);
    const shutdown = () => kafka.stop().then(() => process.exit(0));
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
  } else if (cmd === 'cluster') {
    const cluster = await startLocalKafkaCluster({ nodes: Number(process.argv[3] ?? 3) });
    const control = await serveClusterControl(cluster);
    console.log(`Kafka ${cluster.version} cluster on ${cluster.brokers}; control: ${control.url} (Ctrl-C stops it)`);
    const shutdown = () => cluster.stop().then(() => process.exit(0));
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
  } else {
    console.error('usage: local-kafka.mjs fetch [version] | start | cluster [nodes]');
    process.exit(2);
  }
}
