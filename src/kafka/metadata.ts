/**
 * Topic, partition and broker metadata from Kafka's admin API, plus a small cache of each topic's
 * partitions (count and leaders) so produce requests to unknown topics fail in microseconds
 * instead of waiting for a metadata timeout, and produce to a leaderless partition fails fast.
 *
 * Two kafkajs admin clients: kafkajs keeps one metadata snapshot per client, and a single-topic
 * metadata read replaces it, so an offsets read sharing that client could find its own topic
 * gone and crash inside kafkajs (a TypeError, seen as 500s under concurrent reads). Offsets
 * therefore have a client of their own, which only ever widens its set of topics.
 *
 * Every read tolerates offline partitions (see tolerateOfflinePartitions): one leaderless
 * partition anywhere must not break metadata of healthy topics; its own partition reports
 * leader -1. Every Kafka failure is mapped by kafka/errors.ts (50003 when retriable).
 */
import type { Admin, Kafka } from 'kafkajs';
import { Errors } from '../core/errors.js';
import type { MetadataService, PartitionInfo, TopicInfo } from '../core/ports.js';
import { tolerateOfflinePartitions } from './client.js';
import { createTopicAndWait } from './create-topic.js';
import { toGatewayError } from './errors.js';

const CONFIG_RESOURCE_TOPIC = 2;
const CONFIG_RESOURCE_BROKER = 4;
/** Kafka's broker default for max.message.bytes (1 MiB + record batch overhead), used until read. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

interface RawPartition {
  partitionId: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

/** Runs a Kafka call tolerant of offline partitions; any failure becomes a gateway error. */
async function kafkaRead<T>(call: () => Promise<T>, topicExists = false): Promise<T> {
  try {
    return await tolerateOfflinePartitions(call);
  } catch (err) {
    throw toGatewayError(err, { topicExists });
  }
}

function toPartitionInfo(partitions: RawPartition[]): PartitionInfo[] {
  return partitions
    .map((p) => {
      const leader = p.leader ?? -1;
      return {
        partition: p.partitionId,
        leader,
        replicas: p.replicas.map((broker) => ({
          broker,
          leader: broker === leader,
          in_sync: p.isr.includes(broker),
        })),
      };
    })
    .sort((a, b) => a.partition - b.partition);
}

export class KafkaMetadata implements MetadataService {
  private readonly admin: Admin;
  private readonly offsetsAdmin: Admin;
  private topics = new Map<string, PartitionInfo[]>();
  private fetchedAt = 0;
  private refreshing: Promise<void> | undefined;
  private queuedRefresh: Promise<void> | undefined;
  private connected: Promise<void> | undefined;
  private readonly maxMessageBytesCache = new Map<string, { value: number; at: number; loading?: Promise<number> }>();

  constructor(
    kafka: Kafka,
    private readonly maxAgeMs: number,
  ) {
    this.admin = kafka.admin();
    this.offsetsAdmin = kafka.admin();
  }

  connect(): Promise<void> {
    this.connected ??= Promise.all([this.admin.connect(), this.offsetsAdmin.connect()]).then(() => undefined);
    return this.connected;
  }

  async disconnect(): Promise<void> {
    await Promise.all([this.admin.disconnect(), this.offsetsAdmin.disconnect()]);
  }

  /** Cheap readiness probe: one metadata round trip. */
  async ping(): Promise<void> {
    await this.connect();
    await kafkaRead(() => this.admin.describeCluster());
  }

  async listTopics(): Promise<string[]> {
    await this.refresh();
    return [...this.topics.keys()];
  }

  async partitionCount(topic: string): Promise<number | undefined> {
    return (await this.cachedPartitions(topic))?.length;
  }

  /**
   * Whether a partition has a leader, from the cache (no round trip): false means a send to it
   * cannot succeed now. undefined when the topic or partition is not cached.
   */
  partitionOnline(topic: string, partition: number): boolean | undefined {
    const p = this.topics.get(topic)?.[partition];
    return p === undefined ? undefined : p.leader >= 0;
  }

  /**
   * The topic's effective max.message.bytes (its own setting, else the broker default): the
   * largest record batch Kafka accepts for it. Cached for the metadata max age and refreshed
   * behind the answer; the broker default until first read, and kept when a read fails.
   */
  async maxMessageBytes(topic: string): Promise<number> {
    const entry = this.maxMessageBytesCache.get(topic);
    const fresh = entry !== undefined && Date.now() - entry.at <= this.maxAgeMs;
    if (fresh) return entry.value;
    // Never read yet: wait for the read in progress; read before: answer it, refresh running.
    if (entry?.loading !== undefined) return entry.at === 0 ? entry.loading : entry.value;
    const loading = this.readMaxMessageBytes(topic)
      .then((value) => {
        this.maxMessageBytesCache.set(topic, { value, at: Date.now() });
        return value;
      })
      .catch(() => {
        const value = entry?.value ?? DEFAULT_MAX_MESSAGE_BYTES;
        this.maxMessageBytesCache.set(topic, { value, at: Date.now() - this.maxAgeMs / 2 });
        return value;
      });
    if (entry !== undefined) {
      entry.loading = loading;
      return entry.value; // stale: answer now, refresh behind
    }
    this.maxMessageBytesCache.set(topic, { value: DEFAULT_MAX_MESSAGE_BYTES, at: 0, loading });
    return loading;
  }

  /** Kafka refused a batch as too large: the topic's limit changed; read it again next time. */
  forgetMaxMessageBytes(topic: string): void {
    this.maxMessageBytesCache.delete(topic);
  }

  private async readMaxMessageBytes(topic: string): Promise<number> {
    await this.connect();
    const described = await kafkaRead(() =>
      this.admin.describeConfigs({
        resources: [{ type: CONFIG_RESOURCE_TOPIC, name: topic, configNames: ['max.message.bytes'] }],
        includeSynonyms: false,
      }),
    );
    const value = Number(
      described.resources[0]?.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue,
    );
    return Number.isFinite(value) && value > 0 ? value : DEFAULT_MAX_MESSAGE_BYTES;
  }

  async getTopic(topic: string): Promise<TopicInfo> {
    const partitions = await this.getPartitions(topic);
    const described = await kafkaRead(
      () =>
        this.admin.describeConfigs({
          resources: [{ type: CONFIG_RESOURCE_TOPIC, name: topic }],
          includeSynonyms: false,
        }),
      true,
    );
    const configs: Record<string, string | null> = {};
    for (const entry of described.resources[0]?.configEntries ?? []) {
      configs[entry.configName] = entry.isSensitive ? null : entry.configValue;
    }
    return { name: topic, configs, partitions };
  }

  async getPartitions(topic: string): Promise<PartitionInfo[]> {
    await this.requireTopic(topic);
    const { topics } = await kafkaRead(() => this.admin.fetchTopicMetadata({ topics: [topic] }));
    const partitions = toPartitionInfo((topics[0]?.partitions ?? []) as RawPartition[]);
    if (partitions.length > 0) this.topics.set(topic, partitions);
    return partitions;
  }

  async getPartitionOffsets(topic: string, partition: number) {
    const partitions = await this.requireTopic(topic);
    if (partition >= partitions.length) throw Errors.partitionNotFound();
    // kafkajs reads every partition's offsets from its leader: one without a leader cannot answer.
    const offline = partitions.filter((p) => p.leader < 0).map((p) => p.partition);
    if (offline.length > 0) {
      throw Errors.kafkaRetriable(`Topic ${topic} has partitions without a leader (${offline.join(', ')}).`);
    }
    const offsets = await kafkaRead(() => this.offsetsAdmin.fetchTopicOffsets(topic), true);
    const p = offsets.find((o) => o.partition === partition);
    if (p === undefined) throw Errors.partitionNotFound();
    return { beginning_offset: Number(p.low), end_offset: Number(p.high) };
  }

  async listBrokers(): Promise<number[]> {
    await this.connect();
    const cluster = await kafkaRead(() => this.admin.describeCluster());
    return cluster.brokers.map((b) => b.nodeId).sort((a, b) => a - b);
  }

  /**
   * Creates a topic if it is missing (used for topics the policy file asks to create). Without a
   * replication factor the cluster's default applies (the brokers' default.replication.factor).
   * Resolves with what was done, for the start-up log.
   */
  async ensureTopic(
    topic: string,
    partitions: number,
    replicationFactor?: number,
  ): Promise<{ created: boolean; replicationFactor: number }> {
    await this.connect();
    const rf = replicationFactor ?? (await this.defaultReplicationFactor());
    const created = await kafkaRead(() =>
      createTopicAndWait(this.admin, { topic, numPartitions: partitions, replicationFactor: rf }),
    );
    if (created) await this.refresh();
    return { created, replicationFactor: rf };
  }

  /** The cluster's default.replication.factor, read from a broker's configuration. */
  private async defaultReplicationFactor(): Promise<number> {
    const { brokers } = await kafkaRead(() => this.admin.describeCluster());
    const broker = brokers[0];
    if (broker === undefined) return 1;
    const described = await kafkaRead(() =>
      this.admin.describeConfigs({
        resources: [
          { type: CONFIG_RESOURCE_BROKER, name: String(broker.nodeId), configNames: ['default.replication.factor'] },
        ],
        includeSynonyms: false,
      }),
    );
    const value = Number(
      described.resources[0]?.configEntries.find((e) => e.configName === 'default.replication.factor')?.configValue,
    );
    return Number.isInteger(value) && value > 0 ? value : 1;
  }

  private async requireTopic(topic: string): Promise<PartitionInfo[]> {
    const partitions = await this.cachedPartitions(topic);
    if (partitions === undefined) throw Errors.topicNotFound();
    return partitions;
  }

  private async cachedPartitions(topic: string): Promise<PartitionInfo[] | undefined> {
    const known = this.topics.get(topic);
    if (Date.now() - this.fetchedAt > this.maxAgeMs) {
      // Stale but known: answer from the cache and refresh behind it, so the produce path never
      // waits for a metadata round trip just because the cache aged.
      if (known !== undefined) {
        this.refresh().catch(() => undefined);
        return known;
      }
      await this.refresh();
    }
    // A topic created a moment ago must be found: a miss waits for a refresh that started after
    // it. Misses arriving together share that refresh, so bad names cannot flood Kafka.
    else if (known === undefined) await this.freshRefresh();
    return this.topics.get(topic);
  }

  /** A refresh that starts after this call (queued behind a running one, shared by all callers). */
  private freshRefresh(): Promise<void> {
    if (this.refreshing === undefined) return this.refresh();
    this.queuedRefresh ??= this.refreshing
      .catch(() => undefined)
      .then(() => {
        this.queuedRefresh = undefined;
        return this.refresh();
      });
    return this.queuedRefresh;
  }

  /** Reloads the partitions of all topics; concurrent callers share one round trip. */
  private refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        await this.connect();
        const { topics } = await kafkaRead(() => this.admin.fetchTopicMetadata());
        const next = new Map<string, PartitionInfo[]>();
        for (const t of topics) {
          if (!t.name.startsWith('__')) next.set(t.name, toPartitionInfo(t.partitions as RawPartition[]));
        }
        this.topics = next;
        this.fetchedAt = Date.now();
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }
}
