/**
 * Assembles and runs one gateway: Kafka bridge, policy, HTTP server. Used by main.ts and by the
 * tests, which start real gateways in-process against the real broker.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import type { Config } from './config/config.js';
import { createApp } from './http/app.js';
import { createKafka } from './kafka/client.js';
import { KafkaMetadata } from './kafka/metadata.js';
import { KafkaProducerBridge } from './kafka/producer.js';
import { OpenApiValidator } from './policy/validation/openapi.js';
import { RecordSchemas } from './policy/validation/record-schemas.js';

export interface RunningGateway {
  url: string;
  port: number;
  server: http.Server;
  logger: Logger;
  /** Stops accepting, drains in-flight produce requests, disconnects from Kafka. */
  close(): Promise<void>;
}

export async function startGateway(
  config: Config,
  logger: Logger = pino({ level: config.logLevel }),
): Promise<RunningGateway> {
  if (config.kafka.brokers.length === 0) throw new Error('startGateway needs KAFKA_BROKERS');
  const validator = new OpenApiValidator();
  const recordSchemas = new RecordSchemas(config.topics);
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: config.kafka.clientId, logger });
  const metadata = new KafkaMetadata(kafka, config.kafka.metadataMaxAgeMs);
  const producer = new KafkaProducerBridge(kafka, {
    maxInFlightSends: config.produce.maxInFlightSends,
    lingerMs: config.produce.lingerMs,
    ackTimeoutMs: config.produce.requestTimeoutMs,
    partitionCount: (t) => metadata.partitionCount(t),
  });
  await Promise.all([metadata.connect(), producer.connect()]);
  for (const rule of config.topics.rules) {
    if (rule.create !== undefined && rule.name !== undefined) {
      const created = await metadata.ensureTopic(rule.name, rule.create.partitions, rule.create.replicationFactor);
      if (created) logger.info({ topic: rule.name, partitions: rule.create.partitions }, 'created topic');
    }
  }

  const app = createApp({ config, logger, validator, recordSchemas, metadata, producer });
  const server = http.createServer({ keepAliveTimeout: 65_000 }, app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.http.port, config.http.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host}:${port}`;
  logger.info({ url, brokers: config.kafka.brokers }, 'gateway listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await producer.close();
      server.closeAllConnections();
      await serverClosed;
      await metadata.disconnect();
    })());
  return { url, port, server, logger, close };
}
