/**
 * Topic, partition and broker metadata from Kafka's admin API, plus a small cache of partition
 * counts so produce requests to unknown topics fail in microseconds instead of waiting for a
 * metadata timeout.
 */
import type { Admin, Kafka } from 'kafkajs';
import { Errors } from '../core/errors.js';
import type { MetadataService, PartitionInfo, TopicInfo } from '../core/ports.js';
import { createTopicAndWait } from './create-topic.js';

const CONFIG_RESOURCE_TOPIC = 2;

export class KafkaMetadata implements MetadataService {
  private readonly admin: Admin;
  private counts = new Map<string, number>();
  private fetchedAt = 0;
  private refreshing: Promise<void> | undefined;
  private queuedRefresh: Promise<void> | undefined;
  private connected: Promise<void> | undefined;

  constructor(
    kafka: Kafka,
    private readonly maxAgeMs: number,
  ) {
    this.admin = kafka.admin();
  }

  connect(): Promise<void> {
    this.connected ??= this.admin.connect();
    return this.connected;
  }

  async disconnect(): Promise<void> {
    await this.admin.disconnect();
  }

  /** Cheap readiness probe: one metadata round trip. */
  async ping(): Promise<void> {
    await this.connect();
    await this.admin.describeCluster();
  }

  async listTopics(): Promise<string[]> {
    await this.refresh();
    return [...this.counts.keys()];
  }

  async partitionCount(topic: string): Promise<number | undefined> {
    const known = this.counts.get(topic);
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
    return this.counts.get(topic);
  }

  async getTopic(topic: string): Promise<TopicInfo> {
    const partitions = await this.getPartitions(topic);
    const described = await this.admin.describeConfigs({
      resources: [{ type: CONFIG_RESOURCE_TOPIC, name: topic }],
      includeSynonyms: false,
    });
    const configs: Record<string, string | null> = {};
    for (const entry of described.resources[0]?.configEntries ?? []) {
      configs[entry.configName] = entry.isSensitive ? null : entry.configValue;
    }
    return { name: topic, configs, partitions };
  }

  async getPartitions(topic: string): Promise<PartitionInfo[]> {
    await this.requireTopic(topic);
    const { topics } = await this.admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = topics[0]?.partitions ?? [];
    return partitions
      .map((p) => ({
        partition: p.partitionId,
        leader: p.leader,
        replicas: p.replicas.map((broker) => ({
          broker,
          leader: broker === p.leader,
          in_sync: p.isr.includes(broker),
        })),
      }))
      .sort((a, b) => a.partition - b.partition);
  }

  async getPartitionOffsets(topic: string, partition: number) {
    const count = await this.requireTopic(topic);
    if (partition >= count) throw Errors.partitionNotFound();
    const offsets = await this.admin.fetchTopicOffsets(topic);
    const p = offsets.find((o) => o.partition === partition);
    if (p === undefined) throw Errors.partitionNotFound();
    return { beginning_offset: Number(p.low), end_offset: Number(p.high) };
  }

  async listBrokers(): Promise<number[]> {
    await this.connect();
    const cluster = await this.admin.describeCluster();
    return cluster.brokers.map((b) => b.nodeId).sort((a, b) => a - b);
  }

  /** Creates a topic if it is missing (used for topics the policy file asks to create). */
  async ensureTopic(topic: string, partitions: number, replicationFactor: number): Promise<boolean> {
    await this.connect();
    const created = await createTopicAndWait(this.admin, { topic, numPartitions: partitions, replicationFactor });
    if (created) await this.refresh();
    return created;
  }

  private async requireTopic(topic: string): Promise<number> {
    const count = await this.partitionCount(topic);
    if (count === undefined) throw Errors.topicNotFound();
    return count;
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

  /** Reloads partition counts of all topics; concurrent callers share one round trip. */
  private refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        await this.connect();
        const { topics } = await this.admin.fetchTopicMetadata();
        const next = new Map<string, number>();
        for (const t of topics) if (!t.name.startsWith('__')) next.set(t.name, t.partitions.length);
        this.counts = next;
        this.fetchedAt = Date.now();
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }
}
