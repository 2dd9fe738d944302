/**
 * Assembles and runs one gateway: Kafka bridge, policy, HTTP server. Used by main.ts and by the
 * tests, which start real gateways in-process against the real broker.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from './config/config.js';
import type { ProduceService } from './core/ports.js';
import { RouteTable } from './core/route-table.js';
import { createApp } from './http/app.js';
import { limitConnections } from './http/connections.js';
import { createApiServer } from './http/server.js';
import { managementApp } from './http/routes/health.js';
import { createKafka, tolerateOfflinePartitions } from './kafka/client.js';
import { KafkaAdmin } from './kafka/admin/admin.js';
import { StaticConsumerDirectory } from './http/consumer-forwarding.js';
import { KafkaConsumerManager } from './kafka/consumers/manager.js';
import { KafkaMetadata } from './kafka/metadata.js';
import { KafkaProducerBridge } from './kafka/producer.js';
import { createLogger } from './observability/logger.js';
import { GatewayMetrics, countedProducer, kafkaClientOf } from './observability/metrics.js';
import { Readiness } from './observability/readiness.js';
import { InFlightRequests } from './observability/requests.js';
import { tracedProducer } from './observability/tracing.js';
import { createSecurity } from './policy/security.js';
import { OpenApiValidator } from './policy/validation/openapi.js';
import { RecordSchemas } from './policy/validation/record-schemas.js';
import { startSchemaRegistry, type SchemaRegistryService } from './registry/index.js';
import { SchemaFormats } from './formats/schema-formats.js';
import { useRegistrySchemas } from './formats/topic-schemas.js';

export interface RunningGateway {
  url: string;
  port: number;
  server: http.Server;
  logger: Logger;
  metrics: GatewayMetrics;
  /** Readiness checks behind GET /readyz; dependencies (e.g. Redis) add theirs. */
  readiness: Readiness;
  /** The management listener's URL when METRICS_PORT is set. */
  managementUrl?: string;
  /** The schema registry (issue 12): embedded (with its own listener's URL) or an external one's client. */
  schemaRegistry?: SchemaRegistryService;
  /**
   * Graceful shutdown, bounded by SHUTDOWN_TIMEOUT_MS: reports not ready, keeps serving for
   * SHUTDOWN_DELAY_MS with `Connection: close`, stops accepting, lets in-flight requests finish (a
   * produce answers only once Kafka acknowledged), drains the producer, disconnects from Kafka.
   */
  close(): Promise<void>;
}

export async function startGateway(
  config: Config,
  logger: Logger = createLogger(config.logLevel),
): Promise<RunningGateway> {
  if (config.kafka.brokers.length === 0) throw new Error('startGateway needs KAFKA_BROKERS');
  const validator = new OpenApiValidator();
  const recordSchemas = new RecordSchemas(config.topics);
  const metrics = new GatewayMetrics();
  const readiness = new Readiness();
  const inFlight = new InFlightRequests();
  const kafka = createKafka({
    brokers: config.kafka.brokers,
    clientId: config.kafka.clientId,
    logger,
    onError: (namespace) => {
      const client = kafkaClientOf(namespace);
      if (client !== undefined) metrics.kafkaError(client);
    },
  });
  const metadata = new KafkaMetadata(kafka, config.kafka.metadataMaxAgeMs);
  // The v3 API's cluster administration; connects on its first use.
  const admin = new KafkaAdmin(kafka);
  const producer = new KafkaProducerBridge(kafka, {
    maxInFlightSends: config.produce.maxInFlightSends,
    lingerMs: config.produce.lingerMs,
    ackTimeoutMs: config.produce.requestTimeoutMs,
    idempotent: config.produce.idempotent,
    partitionCount: (t) => metadata.partitionCount(t),
    maxMessageBytes: (t) => metadata.maxMessageBytes(t),
    limitChanged: (t) => metadata.forgetMaxMessageBytes(t),
    partitionOnline: (t, p) => metadata.partitionOnline(t, p),
  });
  // Tolerant of offline partitions of other topics: the idempotent producer's first metadata
  // request covers every topic, and one leaderless partition must not stop the start.
  await Promise.all([metadata.connect(), tolerateOfflinePartitions(() => producer.connect())]);
  for (const rule of config.topics.rules) {
    if (rule.create !== undefined && rule.name !== undefined) {
      const { partitions, replicationFactor } = rule.create;
      const done = await metadata.ensureTopic(rule.name, partitions, replicationFactor);
      if (done.created) {
        logger.info(
          { topic: rule.name, partitions, replicationFactor: done.replicationFactor },
          `created topic ${rule.name}: ${partitions} partitions, replication factor ${done.replicationFactor}` +
            (replicationFactor === undefined ? ' (cluster default)' : ''),
        );
      }
    }
  }

  readiness.add({ name: 'kafka', check: () => metadata.ping() });
  let produce: ProduceService = countedProducer(producer, metrics);
  if (config.observability.tracingEnabled) produce = tracedProducer(produce);

  const { metricsPort } = config.observability;
  const ops = { metrics, readiness, inFlight, serveMetrics: metricsPort === undefined };
  const routes = new RouteTable(validator.document);
  const security = createSecurity(config, logger, routes);
  if (security.redis !== undefined) readiness.add({ name: 'redis', check: () => security.ready() });
  // Embedded: reads its whole topic before this returns, so a started gateway serves every schema.
  const schemaRegistry = await startSchemaRegistry(config, {
    logger,
    authorizer: security.authorizer,
    peerProof: security.peerProof,
  });
  if (schemaRegistry !== undefined) readiness.add({ name: 'schema-registry', check: () => schemaRegistry.ready() });
  // Topics whose JSON Schema lives in the registry (valueSchemaFromRegistry): seed, then validate from it.
  await useRegistrySchemas(config.topics, recordSchemas, schemaRegistry?.registry, logger);
  const consumers = new KafkaConsumerManager(kafka, {
    ...config.consumers,
    maxInstancesPerClient: config.security.limits.maxConsumerInstancesPerClient,
    clientId: config.kafka.clientId,
    partitionCount: (t) => metadata.partitionCount(t),
    logger: logger.child({ component: 'consumers' }),
  });
  metrics.countConsumerInstancesWith(() => consumers.size);
  const consumerDirectory = new StaticConsumerDirectory(config.consumers.nodeId, config.consumers.peers);
  const { listener, serverOptions } = createApp({
    config,
    logger,
    validator,
    routes,
    recordSchemas,
    schemaFormats: schemaRegistry === undefined ? undefined : new SchemaFormats(schemaRegistry.registry),
    metadata,
    producer: produce,
    admin,
    consumers: { service: consumers, directory: consumerDirectory },
    ops,
    security,
  });
  const { tls } = config.security;
  const server = createApiServer(tls, listener, serverOptions);
  // An Expect other than 100-continue: node would answer a bare 417 outside the contract; the
  // request is served as if it had none (RFC 9110 allows either).
  server.on('checkExpectation', listener);
  limitConnections(server, config.http.connections);
  // node ends a request whose body is not complete after requestTimeout (default 300 s): a v3
  // streaming produce lives up to V3_STREAM_MAX_DURATION_MS. Bodies that must arrive sooner have
  // their own deadline (BODY_TIMEOUT_MS, http/body-deadline.ts).
  server.requestTimeout = config.v3.streamMaxDurationMs + 60_000;
  const port = await listen(server, config.http.port, config.http.host);
  const url = urlOf(config.http.host, port, tls === undefined ? 'http' : 'https');
  // Sibling workers (WORKERS > 1) forward consumer requests here: plain HTTP, loopback only,
  // and not shared through the cluster (exclusive), so it reaches exactly this process.
  let internal: http.Server | undefined;
  if (config.http.internalPort !== undefined) {
    internal = createApiServer(undefined, listener, serverOptions);
    internal.on('checkExpectation', listener);
    await new Promise<void>((resolve, reject) => {
      internal!.once('error', reject);
      internal!.listen({ port: config.http.internalPort, host: '127.0.0.1', exclusive: true }, () => resolve());
    });
  }
  let management: http.Server | undefined;
  let managementUrl: string | undefined;
  if (metricsPort !== undefined) {
    management = http.createServer(managementApp(readiness, metrics));
    managementUrl = urlOf(config.http.host, await listen(management, metricsPort, config.http.host));
  }
  logger.info({ url, managementUrl, brokers: config.kafka.brokers }, 'gateway listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const deadline = Date.now() + config.http.shutdownTimeoutMs;
      readiness.shutdown();
      // A load balancer needs a few probes to see /readyz 503 and stop routing here: until then
      // requests are served as usual, each telling its client to reconnect (which lands elsewhere).
      // At most half the shutdown budget, so in-flight work still has time to finish.
      inFlight.startDraining();
      const delayMs = Math.min(config.http.shutdownDelayMs, config.http.shutdownTimeoutMs / 2);
      if (delayMs > 0) {
        logger.info({ delayMs }, 'draining: not ready, still serving with Connection: close');
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
      inFlight.startClosing();
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Consumer instances leave their groups now (so the groups rebalance at once), which also
      // ends waiting fetches early; auto-commit instances first commit what their clients received.
      const consumersClosed = consumers.close();
      // Requests in flight finish; part of the budget is kept for draining and disconnecting.
      const reserve = Math.min(2_000, config.http.shutdownTimeoutMs / 4);
      const finished = await inFlight.idle(Math.max(0, deadline - Date.now() - reserve));
      if (!finished) logger.warn({ inFlight: inFlight.size }, 'shutdown deadline: closing requests still running');
      await Promise.all([producer.close(), consumersClosed]);
      server.closeAllConnections();
      await serverClosed;
      if (internal !== undefined) {
        const internalClosed = new Promise<void>((resolve) => internal.close(() => resolve()));
        internal.closeAllConnections();
        await internalClosed;
      }
      if (management !== undefined) {
        const managementClosed = new Promise<void>((resolve) => management.close(() => resolve()));
        management.closeAllConnections();
        await managementClosed;
      }
      await schemaRegistry?.close();
      await metadata.disconnect();
      await admin.disconnect();
      await security.close();
    })());
  return { url, port, server, logger, metrics, readiness, managementUrl, schemaRegistry, close };
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function urlOf(host: string, port: number, scheme = 'http'): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
