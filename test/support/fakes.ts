/**
 * In-memory stand-ins for the Kafka side (the port interfaces of src/core/ports.ts) and a gateway
 * app built on them, for the broker-free test tier (test/unit): routing, negotiation, validation
 * and error paths. They are never evidence that Kafka behaves: the real-broker suites are.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../src/config/config.js';
import { Errors } from '../../src/core/errors.js';
import type {
  AdminService,
  AdminTopic,
  ConsumerDirectory,
  ConsumerInstance,
  ConsumerService,
  MetadataService,
  OutgoingRecord,
  PartitionInfo,
  ProduceOutcome,
  ProduceService,
  TopicInfo,
} from '../../src/core/ports.js';
import { RouteTable } from '../../src/core/route-table.js';
import type { SchemaFormats } from '../../src/formats/schema-formats.js';
import { createApp } from '../../src/http/app.js';
import { createLogger } from '../../src/observability/logger.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';
import { Readiness } from '../../src/observability/readiness.js';
import { InFlightRequests } from '../../src/observability/requests.js';
import { createSecurity } from '../../src/policy/security.js';
import { OpenApiValidator } from '../../src/policy/validation/openapi.js';
import { RecordSchemas } from '../../src/policy/validation/record-schemas.js';

/** Topics by name with their partition count; produced records land in `log`. */
export class FakeKafka implements MetadataService, ProduceService {
  readonly log = new Map<string, OutgoingRecord[][]>();

  constructor(private readonly topics: Record<string, number>) {}

  async listTopics() {
    return Object.keys(this.topics).sort();
  }
  async getTopic(topic: string): Promise<TopicInfo> {
    return { name: topic, configs: {}, partitions: await this.getPartitions(topic) };
  }
  async getPartitions(topic: string): Promise<PartitionInfo[]> {
    const count = this.topics[topic];
    if (count === undefined) throw Errors.topicNotFound();
    return Array.from({ length: count }, (_, partition) => ({
      partition,
      leader: 1,
      replicas: [{ broker: 1, leader: true, in_sync: true }],
    }));
  }
  async getPartitionOffsets(topic: string, partition: number) {
    const count = this.topics[topic];
    if (count === undefined) throw Errors.topicNotFound();
    if (partition >= count) throw Errors.partitionNotFound();
    return { beginning_offset: 0, end_offset: this.partitionLog(topic, partition).length };
  }
  async listBrokers() {
    return [1];
  }
  async partitionCount(topic: string) {
    return this.topics[topic];
  }
  async produce(topic: string, records: OutgoingRecord[]): Promise<ProduceOutcome[]> {
    return records.map((r) => {
      const partition = r.partition ?? 0;
      const log = this.partitionLog(topic, partition);
      log.push(r);
      return { ok: true, partition, offset: log.length - 1 };
    });
  }
  private partitionLog(topic: string, partition: number): OutgoingRecord[] {
    const partitions = this.log.get(topic) ?? [];
    this.log.set(topic, partitions);
    return (partitions[partition] ??= []);
  }
}

/** A consumer side with no instances: every instance request is the client's 40403. */
export class NoConsumers implements ConsumerService {
  create(): Promise<ConsumerInstance> {
    return Promise.reject(Errors.consumerInstanceNotFound());
  }
  get(): ConsumerInstance {
    throw Errors.consumerInstanceNotFound();
  }
  has(): boolean {
    return false;
  }
  delete(): Promise<void> {
    return Promise.reject(Errors.consumerInstanceNotFound());
  }
  generateName(): string {
    return 'fake';
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The v3 admin port over FakeKafka's topics: one broker, cluster id `fake-cluster`, no groups.
 * Creating, deleting and configuring topics is refused (the real-broker suites cover those).
 */
export class FakeAdmin implements AdminService {
  constructor(private readonly kafka: FakeKafka) {}
  async cluster() {
    return { clusterId: 'fake-cluster', controller: 1, brokers: [{ id: 1, host: 'fake', port: 9092, rack: null }] };
  }
  async listTopics(): Promise<AdminTopic[]> {
    return Promise.all((await this.kafka.listTopics()).map((t) => this.getTopic(t)));
  }
  async getTopic(name: string): Promise<AdminTopic> {
    if ((await this.kafka.partitionCount(name)) === undefined) throw Errors.topicNotHosted();
    const partitions = (await this.kafka.getPartitions(name)).map((p) => ({
      partition: p.partition,
      leader: p.leader,
      replicas: [1],
      isr: [1],
    }));
    return { name, internal: false, replicationFactor: 1, partitions };
  }
  async createTopic(): Promise<void> {
    throw Errors.kafkaRefused('The fake cluster creates no topics.');
  }
  async deleteTopic(name: string): Promise<void> {
    await this.getTopic(name);
    throw Errors.kafkaRefused('The fake cluster deletes no topics.');
  }
  async topicConfigs(name: string) {
    await this.getTopic(name);
    return [];
  }
  async alterTopicConfigs(name: string): Promise<void> {
    await this.getTopic(name);
    throw Errors.kafkaRefused('The fake cluster has no configs.');
  }
  async listGroups() {
    return [];
  }
  async describeGroup() {
    return undefined;
  }
  async groupLags() {
    return [];
  }
}

/** The gateway's HTTP app on the fakes, listening on 127.0.0.1; close() stops it. */
export async function startFakeGateway(
  kafka: FakeKafka,
  env: Record<string, string> = {},
  extra: { schemaFormats?: SchemaFormats; directory?: ConsumerDirectory } = {},
): Promise<{ url: string; close: () => Promise<void> }> {
  const config = loadConfig({ KAFKA_BROKERS: 'fake:9092', LOG_LEVEL: 'silent', ...env });
  const logger = createLogger('silent');
  const validator = new OpenApiValidator();
  const routes = new RouteTable(validator.document);
  const { listener, serverOptions } = createApp({
    config,
    logger,
    validator,
    routes,
    recordSchemas: new RecordSchemas(config.topics),
    schemaFormats: extra.schemaFormats,
    metadata: kafka,
    producer: kafka,
    admin: new FakeAdmin(kafka),
    consumers: { service: new NoConsumers(), directory: extra.directory ?? { candidates: () => [] } },
    ops: {
      metrics: new GatewayMetrics({ defaultMetrics: false }),
      readiness: new Readiness(),
      inFlight: new InFlightRequests(),
      serveMetrics: true,
    },
    security: createSecurity(config, logger, routes),
  });
  const server = http.createServer(serverOptions, listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
