/**
 * The gateway's whole configuration, read once at start-up from environment variables (and the
 * optional topic policy file named by TOPICS_CONFIG) into one typed, validated object.
 * Every variable is listed in the README's configuration table.
 */
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { ConfigError, EnvReader, type Env } from './env.js';
import { loadTopicPolicies, type TopicPolicies } from './topic-policies.js';
import { loadSecurityConfig, type SecurityConfig } from './security.js';
import { loadSchemaRegistryConfig, type SchemaRegistryConfig } from './schema-registry.js';

export { ConfigError };

export interface Config {
  http: {
    host: string;
    port: number;
    /** Public base URL used for consumer `base_uri`s, e.g. https://gw.example.com. */
    publicUrl?: string;
    /** express `trust proxy` setting: false, true, a hop count or a list of addresses. */
    trustProxy: boolean | number | string;
    /** PUBLIC_HOSTS: hosts a trusted X-Forwarded-Host/Forwarded/Host may name in `base_uri` (empty = any valid host). */
    publicHosts: string[];
    /** Largest request body accepted, in bytes (413 beyond). */
    maxBodyBytes: number;
    /** Reproduce Confluent's 415/406 exactly instead of the lenient defaults. */
    strictMediaTypes: boolean;
    /**
     * error_code for an unknown topic on the metadata GETs: 40401 (Confluent's docs, ≤ 5.5,
     * Karapace) or 40403 (Confluent ≥ 6.0, "This server does not host this topic-partition.").
     */
    unknownTopicErrorCode: 40401 | 40403;
    /** Milliseconds the server waits for in-flight requests at shutdown. */
    shutdownTimeoutMs: number;
    /** At shutdown, how long the gateway keeps serving (not ready, `Connection: close`) before it stops accepting. */
    shutdownDelayMs: number;
    /** Worker processes sharing the port (node:cluster); 1 = this process serves requests itself. */
    workers: number;
    /** A second, loopback-only listener of this process, which sibling workers forward consumer requests to. */
    internalPort?: number;
    /** A request body must arrive within this time of its headers (408 beyond). */
    bodyTimeoutMs: number;
    /** Connection caps and socket timeouts (http/connections.ts). */
    connections: ConnectionLimits;
  };
  kafka: {
    /** Empty ⇒ the gateway starts a local broker itself (development default). */
    brokers: string[];
    clientId: string;
    /** How long cached topic metadata is trusted before it is refreshed. */
    metadataMaxAgeMs: number;
  };
  produce: {
    maxRecordsPerRequest: number;
    maxJsonDepth: number;
    maxStringLength: number;
    /** Kafka sends allowed in flight at once; requests arriving meanwhile share the next send. */
    maxInFlightSends: number;
    /** Extra time to wait for more records before a send (0 = send on the next tick). */
    lingerMs: number;
    /** Deadline of a produce request, retries included: unacknowledged records are answered 50003. */
    requestTimeoutMs: number;
    /** kafkajs's idempotent producer: its retries never write a record twice. */
    idempotent: boolean;
  };
  /** The v3 API's streaming produce (src/v3/produce-stream.ts). */
  v3: {
    /** Records read and not yet reported on one stream; reading pauses at this many. */
    streamMaxInFlightRecords: number;
    /** Largest single record's JSON text on a stream (a larger one ends the stream with a 400 report). */
    streamMaxRecordBytes: number;
    /** A streaming produce request's lifetime; then one 408 report and the stream ends. */
    streamMaxDurationMs: number;
    /** Bytes of records read and not yet reported on one stream; reading pauses at this many. */
    streamMaxInFlightBytes: number;
    /** A stream with no new record for this long gets one 408 report and ends. */
    streamIdleTimeoutMs: number;
    /** Open produce streams per caller (a further one is 429). */
    streamMaxPerClient: number;
  };
  consumers: {
    instanceTimeoutMs: number;
    requestTimeoutMs: number;
    maxInstances: number;
    /** Identifies this replica inside instance ids, so other replicas can forward to it. */
    nodeId: string;
    /** Other replicas by node id (PEER_URLS), for forwarding requests to an instance's owner. */
    peers: Record<string, string>;
    /**
     * Shared secret that signs requests forwarded between replicas (PEER_SECRET), so the owner can
     * trust the caller identity the forwarding replica authenticated. Undefined: forwarded requests
     * are authenticated again from their headers (client-certificate callers cannot be forwarded).
     */
    peerSecret?: Buffer;
    /** Bytes of records an instance reads ahead of its client before pausing its partitions. */
    maxBufferBytes: number;
    /** Cap on `max_bytes` of one fetch (Confluent's consumer.request.max.bytes). */
    maxFetchBytes: number;
    /** How long the first fetch after a subscribe or assign waits for the group join. */
    joinTimeoutMs: number;
    /** Period of auto-commit (auto.commit.enable=true) of what clients received. */
    autoCommitIntervalMs: number;
    /** Streaming consume (src/streaming): keep-alive comment period of an event stream. */
    streamHeartbeatMs: number;
    /** Streaming consume: open event streams per caller on one replica (429 beyond). */
    maxStreamsPerIdentity: number;
  };
  topics: TopicPolicies;
  /** TLS, authentication, authorization, rate limits and overload shedding. */
  security: SecurityConfig;
  /** The embedded schema registry, an external one's client, or none (issue 12). */
  schemaRegistry: SchemaRegistryConfig;
  logLevel: string;
  observability: {
    /** Serve /metrics (and the probes) on this separate management port instead of the API port. */
    metricsPort?: number;
    /** Carry W3C trace context from produce requests into Kafka record headers. */
    tracingEnabled: boolean;
    /** Which requests get an access-log line (ACCESS_LOG: all, errors, off). */
    accessLog: 'all' | 'errors' | 'off';
  };
}

export interface ConnectionLimits {
  /** Open connections per server (beyond: closed at once). */
  maxConnections: number;
  /** Open connections per client address (0 = no cap; behind a load balancer all share its address). */
  maxConnectionsPerClient: number;
  /** Time a client has to send a request's headers. */
  headersTimeoutMs: number;
  /** Time an idle keep-alive connection stays open. */
  keepAliveTimeoutMs: number;
  /** Requests one connection may have in flight at once (pipelining); beyond, it is closed. */
  maxPipelinedRequests: number;
}

/** The soft limit on open files, when the platform tells (Linux), else undefined. */
export function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m === null ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

/** Default global cap: room below the descriptor limit for Kafka, Redis and files, at most 10,000. */
export function defaultMaxConnections(): number {
  const limit = openFileLimit();
  return limit === undefined ? 10_000 : Math.max(64, Math.min(10_000, limit - 256));
}

export function loadConfig(env: Env = process.env): Config {
  const e = new EnvReader(env);
  const trustRaw = e.optionalString('TRUST_PROXY');
  return {
    http: {
      host: e.string('HOST', '127.0.0.1'),
      port: e.int('PORT', 8082, { min: 0, max: 65535 }),
      publicUrl: publicUrlOf(e.url('PUBLIC_URL')),
      trustProxy: parseTrustProxy(trustRaw),
      publicHosts: e.list('PUBLIC_HOSTS').map((h) => h.toLowerCase()),
      maxBodyBytes: e.int('MAX_BODY_BYTES', 1024 * 1024, { min: 1024, max: 256 * 1024 * 1024 }),
      strictMediaTypes: e.bool('STRICT_MEDIA_TYPES', false),
      unknownTopicErrorCode: Number(e.oneOf('UNKNOWN_TOPIC_ERROR_CODE', ['40401', '40403'], '40401')) as 40401 | 40403,
      shutdownTimeoutMs: e.int('SHUTDOWN_TIMEOUT_MS', 10_000, { min: 0, max: 600_000 }),
      shutdownDelayMs: e.int('SHUTDOWN_DELAY_MS', 5_000, { min: 0, max: 600_000 }),
      workers: e.raw('WORKERS') === 'auto' ? availableParallelism() : e.int('WORKERS', 1, { min: 1, max: 256 }),
      internalPort:
        e.raw('INTERNAL_PORT') === undefined ? undefined : e.int('INTERNAL_PORT', 0, { min: 1, max: 65535 }),
      bodyTimeoutMs: e.int('BODY_TIMEOUT_MS', 15_000, { min: 100, max: 600_000 }),
      connections: {
        maxConnections: e.int('MAX_CONNECTIONS', defaultMaxConnections(), { min: 1, max: 1_000_000 }),
        maxConnectionsPerClient: e.int('MAX_CONNECTIONS_PER_CLIENT', 512, { min: 0, max: 1_000_000 }),
        headersTimeoutMs: e.int('HEADERS_TIMEOUT_MS', 20_000, { min: 100, max: 600_000 }),
        keepAliveTimeoutMs: e.int('KEEP_ALIVE_TIMEOUT_MS', 65_000, { min: 100, max: 3_600_000 }),
        maxPipelinedRequests: e.int('MAX_PIPELINED_REQUESTS', 16, { min: 1, max: 10_000 }),
      },
    },
    kafka: {
      brokers: e.list('KAFKA_BROKERS'),
      clientId: e.string('KAFKA_CLIENT_ID', 'kafka-rest-gateway'),
      metadataMaxAgeMs: e.int('METADATA_MAX_AGE_MS', 5_000, { min: 100, max: 3_600_000 }),
    },
    produce: {
      maxRecordsPerRequest: e.int('MAX_RECORDS_PER_REQUEST', 10_000, { min: 1, max: 1_000_000 }),
      maxJsonDepth: e.int('MAX_JSON_DEPTH', 32, { min: 2, max: 1000 }),
      maxStringLength: e.int('MAX_STRING_LENGTH', 1024 * 1024, { min: 1, max: 256 * 1024 * 1024 }),
      maxInFlightSends: e.int('PRODUCE_MAX_IN_FLIGHT', 4, { min: 1, max: 64 }),
      lingerMs: e.int('PRODUCE_LINGER_MS', 0, { min: 0, max: 1000 }),
      requestTimeoutMs: e.int('PRODUCE_TIMEOUT_MS', 30_000, { min: 100, max: 600_000 }),
      idempotent: e.bool('PRODUCE_IDEMPOTENT', true),
    },
    v3: {
      streamMaxInFlightRecords: e.int('V3_STREAM_MAX_IN_FLIGHT_RECORDS', 1_000, { min: 1, max: 1_000_000 }),
      streamMaxRecordBytes: e.int('V3_STREAM_MAX_RECORD_BYTES', 1024 * 1024, { min: 64, max: 256 * 1024 * 1024 }),
      streamMaxDurationMs: e.int('V3_STREAM_MAX_DURATION_MS', 3_600_000, { min: 100, max: 86_400_000 }),
      streamMaxInFlightBytes: e.int('V3_STREAM_MAX_IN_FLIGHT_BYTES', 4 * 1024 * 1024, {
        min: 1024,
        max: 1024 * 1024 * 1024,
      }),
      streamIdleTimeoutMs: e.int('V3_STREAM_IDLE_TIMEOUT_MS', 30_000, { min: 100, max: 86_400_000 }),
      streamMaxPerClient: e.int('V3_STREAM_MAX_PER_CLIENT', 64, { min: 1, max: 1_000_000 }),
    },
    consumers: {
      instanceTimeoutMs: e.int('CONSUMER_INSTANCE_TIMEOUT_MS', 300_000, { min: 100, max: 86_400_000 }),
      requestTimeoutMs: e.int('CONSUMER_REQUEST_TIMEOUT_MS', 1_000, { min: 0, max: 300_000 }),
      maxInstances: e.int('MAX_CONSUMER_INSTANCES', 1_000, { min: 1, max: 1_000_000 }),
      nodeId: nodeIdOf(e.string('NODE_ID', 'n1')),
      peers: parsePeers(e.optionalString('PEER_URLS')),
      peerSecret: peerSecretOf(e.optionalString('PEER_SECRET')),
      maxBufferBytes: e.int('CONSUMER_MAX_BUFFER_BYTES', 1024 * 1024, { min: 1024, max: 256 * 1024 * 1024 }),
      maxFetchBytes: e.int('CONSUMER_MAX_FETCH_BYTES', 64 * 1024 * 1024, { min: 1024, max: 1024 * 1024 * 1024 }),
      joinTimeoutMs: e.int('CONSUMER_JOIN_TIMEOUT_MS', 30_000, { min: 0, max: 300_000 }),
      autoCommitIntervalMs: e.int('CONSUMER_AUTO_COMMIT_INTERVAL_MS', 5_000, { min: 100, max: 3_600_000 }),
      streamHeartbeatMs: e.int('STREAM_HEARTBEAT_MS', 15_000, { min: 100, max: 300_000 }),
      maxStreamsPerIdentity: e.int('STREAM_MAX_PER_IDENTITY', 10, { min: 1, max: 100_000 }),
    },
    topics: loadTopicPolicies(e.optionalString('TOPICS_CONFIG')),
    security: loadSecurityConfig(e),
    schemaRegistry: loadSchemaRegistryConfig(e, e.string('HOST', '127.0.0.1')),
    logLevel: e.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    observability: {
      metricsPort: e.raw('METRICS_PORT') === undefined ? undefined : e.int('METRICS_PORT', 0, { min: 0, max: 65535 }),
      tracingEnabled: e.bool('TRACING_ENABLED', false),
      accessLog: e.oneOf('ACCESS_LOG', ['all', 'errors', 'off'], 'all'),
    },
  };
}

function parseTrustProxy(v: string | undefined): boolean | number | string {
  if (v === undefined || /^(false|0|no|off)$/i.test(v)) return false;
  if (/^(true|yes|on)$/i.test(v)) return true;
  if (/^\d+$/.test(v)) return Number(v);
  if (!/^[\w.:/, -]+$/.test(v))
    throw new ConfigError(`TRUST_PROXY=${v} is not true/false, a hop count or a list of addresses`);
  return v;
}

/** Node ids appear in instance names and URLs: keep them short and URL-safe. */
function nodeIdOf(v: string): string {
  if (!/^[A-Za-z0-9_]{1,32}$/.test(v)) throw new ConfigError(`NODE_ID=${v} must be 1-32 letters, digits or _`);
  return v;
}

/** PUBLIC_URL becomes every base_uri: an http(s) origin and path, nothing a caller must not see. */
function publicUrlOf(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const u = new URL(v);
  if (
    (u.protocol !== 'http:' && u.protocol !== 'https:') ||
    u.search !== '' ||
    u.hash !== '' ||
    u.username !== '' ||
    u.password !== ''
  )
    throw new ConfigError(`PUBLIC_URL=${v} must be an http(s) URL without credentials, query or fragment`);
  return v;
}

function peerSecretOf(v: string | undefined): Buffer | undefined {
  if (v === undefined) return undefined;
  if (v.length < 32) throw new ConfigError('PEER_SECRET must be at least 32 characters');
  return Buffer.from(v, 'utf8');
}

/** `n2=http://10.0.0.2:8082,n3=http://10.0.0.3:8082` → { n2: 'http://10.0.0.2:8082', … }. */
function parsePeers(v: string | undefined): Record<string, string> {
  const peers: Record<string, string> = {};
  for (const entry of (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([A-Za-z0-9_]{1,32})=(https?:\/\/\S+)$/.exec(entry);
    if (!m) throw new ConfigError(`PEER_URLS entry "${entry}" is not <node id>=<http(s) URL>`);
    try {
      new URL(m[2]!);
    } catch {
      throw new ConfigError(`PEER_URLS entry "${entry}" has an invalid URL`);
    }
    peers[m[1]!] = m[2]!.replace(/\/+$/, '');
  }
  return peers;
}
