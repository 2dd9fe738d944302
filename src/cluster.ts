/**
 * WORKERS > 1: the primary process forks that many gateway workers sharing the HTTP port
 * (node:cluster), so the gateway uses every core it is given. It serves no requests itself.
 *
 * Consumer instances live in one worker, so each worker is a replica of its own: a node id of its
 * own (`<NODE_ID>w<i>`, which generated instance names carry) and a loopback-only internal listener
 * that its siblings forward an instance's requests to (PEER_URLS), exactly as between replicas.
 */
import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { Logger } from 'pino';
import type { Config } from './config/config.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Forks the workers and keeps them running; resolves with a function that stops them all
 * (SIGTERM each, so every worker drains as a single gateway would) and waits for their exit.
 */
export async function runPrimary(config: Config, logger: Logger): Promise<() => Promise<void>> {
  const count = config.http.workers;
  const base = config.consumers.nodeId;
  const internal = await Promise.all(Array.from({ length: count }, () => freePort()));
  const nodeIds = internal.map((_, i) => `${base}w${i + 1}`);
  const userPeers = Object.entries(config.consumers.peers).map(([id, url]) => `${id}=${url}`);
  const siblings = internal.map((port, i) => `${nodeIds[i]}=http://127.0.0.1:${port}`);
  const peerUrls = [...userPeers, ...siblings].join(',');

  // Siblings prove forwarded requests to each other (policy/auth/peer-proof.ts); without a
  // configured PEER_SECRET they share one made for this run.
  const peerSecret = config.consumers.peerSecret?.toString('utf8') ?? randomBytes(32).toString('base64url');

  let stopping = false;
  const failures = nodeIds.map(() => 0);
  const fork = (i: number): Worker => {
    const worker = cluster.fork({
      KAFKA_BROKERS: config.kafka.brokers.join(','),
      WORKERS: '1',
      NODE_ID: nodeIds[i],
      INTERNAL_PORT: String(internal[i]),
      PEER_URLS: peerUrls,
      PEER_SECRET: peerSecret,
      ...(config.topics.source === undefined ? {} : { TOPICS_CONFIG: config.topics.source }),
    });
    const started = Date.now();
    worker.once('exit', (code, signal) => {
      if (stopping) return;
      // A worker that dies is replaced; its consumer instances are gone (clients see 40403). One that
      // dies right after starting (a port in use, a bad file) is retried ever more slowly, not in a loop.
      failures[i] = Date.now() - started < 10_000 ? failures[i]! + 1 : 0;
      const delayMs = failures[i] === 0 ? 0 : Math.min(30_000, 250 * 2 ** failures[i]!);
      logger.error({ worker: nodeIds[i], code, signal, restartInMs: delayMs }, 'worker exited; starting a new one');
      setTimeout(() => {
        if (!stopping) workers[i] = fork(i);
      }, delayMs);
    });
    return worker;
  };
  const workers = nodeIds.map((_, i) => fork(i));
  await Promise.all(workers.map((w) => new Promise((resolve) => w.once('listening', resolve))));
  logger.info({ workers: count, nodeIds }, 'gateway workers listening');

  return async () => {
    stopping = true;
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.isDead()) return resolve();
            w.once('exit', () => resolve());
            w.process.kill('SIGTERM');
          }),
      ),
    );
  };
}
