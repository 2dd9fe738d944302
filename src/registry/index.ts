/**
 * The factory the gateway calls: the embedded registry (its Kafka store, its leader election, its
 * own listener) or the client of an external one, both as the SchemaRegistry port the schema
 * formats use. Undefined when the registry is turned off.
 */
import cluster from 'node:cluster';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { GatewayError, RegistryErrors } from '../core/errors.js';
import type { SchemaRegistry, SchemaText } from '../core/ports.js';
import { limitConnections } from '../http/connections.js';
import { createApiServer } from '../http/server.js';
import { createKafka } from '../kafka/client.js';
import type { PeerProof } from '../policy/auth/peer-proof.js';
import type { Authorizer } from '../policy/authz/authorizer.js';
import { RegistryClient } from './client.js';
import { callerMayEvolve } from './caller.js';
import { INTERNAL_IDENTITY, SR_MEDIA_TYPE, checkForwardable, registryApp, topicOfSubject } from './http.js';
import { KafkaStore } from './kafka-store.js';
import { LeaderElection, electionClientId, type LeaderInfo } from './leader.js';
import { EmbeddedRegistry, toRegistered } from './registry.js';

export interface SchemaRegistryService {
  /** What the schema formats use. */
  registry: SchemaRegistry;
  /** The embedded registry's URL (its own listener); undefined for an external registry. */
  url?: string;
  /** The embedded registry's current writer (this replica or another's URL), after any election under way. */
  leader?: () => Promise<LeaderInfo | undefined>;
  /** Readiness: rejects while the embedded registry cannot read its topic. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export interface SchemaRegistryDeps {
  logger: Logger;
  authorizer: Authorizer;
  peerProof?: PeerProof;
}

export async function startSchemaRegistry(
  config: Config,
  deps: SchemaRegistryDeps,
): Promise<SchemaRegistryService | undefined> {
  const sr = config.schemaRegistry;
  if (sr.mode === 'off') return undefined;
  if (sr.mode === 'external') {
    deps.logger.info({ url: redact(sr.url) }, 'using an external schema registry');
    return {
      registry: new RegistryClient(sr),
      ready: async () => undefined,
      close: async () => undefined,
    };
  }
  const logger = deps.logger.child({ component: 'schema-registry' });
  const store = new KafkaStore(
    createKafka({ brokers: config.kafka.brokers, clientId: `${config.kafka.clientId}-schema-registry`, logger }),
    { topic: sr.topic, replicationFactor: sr.replicationFactor, timeoutMs: sr.timeoutMs, logger },
  );
  // The listener opens first (its URL is what the election announces); requests wait until the
  // whole topic has been read, and the factory returns only then.
  await store.ensureTopic();
  const started = store.start();
  started.catch(() => undefined);
  const embedded = new EmbeddedRegistry(store);
  // The election starts once the listener's URL (which it announces) is known.
  const elected: { election?: LeaderElection } = {};
  const leader = async (stale?: LeaderInfo) => (await elected.election?.other(stale, sr.timeoutMs)) ?? undefined;
  const app = registryApp({
    registry: embedded,
    ready: started,
    caughtUp: () => store.caughtUp(),
    leader,
    auth: config.security.auth,
    authorizer: deps.authorizer,
    peerProof: deps.peerProof,
    peerUrls: Object.values(config.consumers.peers),
    nodeId: config.consumers.nodeId,
    maxBodyBytes: config.http.maxBodyBytes,
    bodyTimeoutMs: config.http.bodyTimeoutMs,
    timeoutMs: sr.timeoutMs,
    logger,
  });
  const { tls } = config.security;
  const createServer = () => createApiServer(tls, app);
  const listen = (server: http.Server, port: number, exclusive: boolean) =>
    new Promise<number>((resolve, reject) => {
      // The main listener's caps (per client, in total) and socket timeouts hold here too.
      limitConnections(server, config.http.connections);
      server.once('error', reject);
      server.listen({ port, host: sr.host, exclusive }, () => resolve((server.address() as AddressInfo).port));
    });
  const server = createServer();
  const port = await listen(server, sr.port, false);
  // A cluster worker (WORKERS > 1) shares the port with its siblings, so a request sent there may
  // reach any of them: it also listens on a port of its own, which is where writes are forwarded.
  const direct = cluster.isWorker && sr.advertisedUrl === undefined ? createServer() : undefined;
  const directPort = direct === undefined ? port : await listen(direct, 0, true);
  const scheme = tls === undefined ? 'http' : 'https';
  const host = sr.host.includes(':') ? `[${sr.host}]` : sr.host;
  const url = `${scheme}://${host}:${port}`;
  // Other replicas cannot reach a wildcard address: they are told this machine's name instead.
  const wildcard = sr.host === '0.0.0.0' || sr.host === '::';
  const advertised = sr.advertisedUrl ?? `${scheme}://${wildcard ? hostname() : host}:${directPort}`;
  const election = new LeaderElection(
    createKafka({ brokers: config.kafka.brokers, clientId: electionClientId(advertised), logger }),
    sr.group,
    sr.topic,
    logger,
  );
  elected.election = election;
  try {
    await Promise.all([started, election.start()]);
  } catch (err) {
    await Promise.allSettled([election.close(), store.close()]);
    server.close();
    direct?.close();
    throw err;
  }
  logger.info({ url, advertised, topic: sr.topic }, 'schema registry listening');

  /** A registration from this process (the produce path): here on the leader, else forwarded. */
  const register = async (subject: string, schema: SchemaText): Promise<number> => {
    const known = embedded.knownId(subject, schema);
    if (known !== undefined) return known;
    // A caller without admin on the topic may register the subject's first version only.
    const firstVersionOnly = !callerMayEvolve(topicOfSubject(subject));
    let current = await leader();
    for (let attempt = 0; ; attempt++) {
      if (current?.self === true) return embedded.register(subject, schema, firstVersionOnly);
      if (current?.url === undefined) throw RegistryErrors.unknownLeader();
      checkForwardable(current.url, deps.peerProof, Object.values(config.consumers.peers));
      const answer = await forwardRegistration(current.url, subject, schema, firstVersionOnly);
      if (answer !== undefined) {
        // Read-your-writes: what the leader wrote is served here before the caller goes on, and
        // its id is believed only when read back here for this schema (a leader is any member
        // of the election group, which could answer anything).
        await store.caughtUp();
        if (embedded.knownId(subject, schema) !== answer)
          throw RegistryErrors.forwarding(
            `the registry leader answered id ${answer}, but this replica read back no such registration of the schema`,
          );
        return answer;
      }
      // The leader did not answer (it stopped): once, wait for the group to elect another.
      if (attempt > 0) throw RegistryErrors.forwarding('the registry leader does not answer');
      current = await leader(current);
    }
  };
  /** The id the leader answered, undefined when it could not be reached. */
  const forwardRegistration = async (
    leaderUrl: string,
    subject: string,
    schema: SchemaText,
    firstVersionOnly: boolean,
  ): Promise<number | undefined> => {
    const target = `/subjects/${encodeURIComponent(subject)}/versions${firstVersionOnly ? '?firstVersionOnly=true' : ''}`;
    const body = Buffer.from(
      JSON.stringify({
        schema: schema.schema,
        ...(schema.schemaType !== 'AVRO' ? { schemaType: schema.schemaType } : {}),
        ...(schema.references.length > 0 ? { references: schema.references } : {}),
      }),
    );
    const headers: Record<string, string> = { 'content-type': SR_MEDIA_TYPE, accept: SR_MEDIA_TYPE };
    if (deps.peerProof !== undefined)
      Object.assign(
        headers,
        deps.peerProof.sign({
          method: 'POST',
          target,
          from: config.consumers.nodeId,
          identity: INTERNAL_IDENTITY,
          body,
          contentType: SR_MEDIA_TYPE,
        }),
      );
    let res: Response;
    try {
      res = await fetch(leaderUrl + target, {
        method: 'POST',
        headers,
        body: new Uint8Array(body),
        signal: AbortSignal.timeout(sr.timeoutMs),
      });
    } catch {
      return undefined;
    }
    const answer = (await res.json().catch(() => ({}))) as { id?: number; error_code?: number; message?: string };
    if (res.ok && typeof answer.id === 'number') return answer.id;
    throw RegistryErrors.remote(
      answer.error_code ?? res.status,
      answer.message ?? `HTTP ${res.status} from the registry leader`,
    );
  };
  /** A read that misses may be a write not read here yet: catch up once and ask again. */
  const fresh = async <T>(read: () => T): Promise<T> => {
    try {
      return read();
    } catch (err) {
      if (!(err instanceof GatewayError) || Math.floor(err.errorCode / 100) !== 404) throw err;
      await store.caughtUp();
      return read();
    }
  };
  const registry: SchemaRegistry = {
    register,
    schemaById: (id) => fresh(() => embedded.getSchema(id)),
    version: (subject, version) => fresh(() => embedded.getVersion(subject, version)).then(toRegistered),
    subjectsOf: (id) => fresh(() => embedded.idVersions(id, true).map((u) => u.subject)),
  };

  return {
    registry,
    url,
    leader: () => leader(),
    ready: () => store.ping(),
    close: async () => {
      await Promise.all(
        [server, direct].map(async (s) => {
          if (s === undefined) return;
          const closed = new Promise<void>((resolve) => s.close(() => resolve()));
          s.closeAllConnections();
          await closed;
        }),
      );
      await election.close();
      await store.close();
    },
  };
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password !== '') u.password = '***';
  return u.toString();
}
