/**
 * Offsets of real consumer groups, shared by every instance of this replica: reading committed
 * offsets, committing without group membership (manual assignment), and resolving "beginning",
 * "end" and timestamps to concrete offsets.
 *
 * Committing without membership: Kafka accepts an OffsetCommit only from a current member of the
 * group, or a "simple" commit (generation -1) when the group is empty — what the Java consumer
 * does after assign(). kafkajs exposes neither, but its transactional producer's sendOffsets
 * sends a TxnOffsetCommit, which needs no membership. So manual-assignment commits are tiny
 * transactions (AddOffsetsToTxn + TxnOffsetCommit + EndTxn, ~10–30 ms) on one producer per
 * replica, serialized because a transactional producer runs one transaction at a time.
 */
import type { Admin, Kafka, Producer } from 'kafkajs';
import type { PartitionOffset, TopicPartition } from '../../core/ports.js';
import { tolerateOfflinePartitions } from '../client.js';
import { hasKafkaErrorType } from '../errors.js';

/** Kafka's answers that mean the transactional producer's state is gone for good. */
const PRODUCER_STATE_LOST = [
  'INVALID_PRODUCER_EPOCH',
  'PRODUCER_FENCED',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_ID_MAPPING',
  'TRANSACTIONAL_ID_NOT_FOUND',
];

export class GroupOffsets {
  private readonly admin: Admin;
  private connected: Promise<void> | undefined;
  private txnProducer: Promise<Producer> | undefined;
  private txnChain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly kafka: Kafka,
    /** Unique per replica: two replicas with one transactional id would fence each other. */
    private readonly transactionalId: string,
  ) {
    this.admin = kafka.admin();
  }

  private async ready(): Promise<Admin> {
    this.connected ??= this.admin.connect();
    await this.connected;
    return this.admin;
  }

  /**
   * Committed offsets of `group`; partitions without one are left out (as Confluent). Every call
   * here tolerates other topics' offline partitions (kafkajs refreshes the metadata of every topic
   * its client has seen, and would fail reads and commits of healthy topics with them).
   */
  committed(group: string, partitions: TopicPartition[]): Promise<PartitionOffset[]> {
    return tolerateOfflinePartitions(() => this.committedNow(group, partitions));
  }

  private async committedNow(group: string, partitions: TopicPartition[]): Promise<PartitionOffset[]> {
    if (partitions.length === 0) return [];
    const admin = await this.ready();
    const topics = [...new Set(partitions.map((p) => p.topic))];
    const result = await admin.fetchOffsets({ groupId: group, topics });
    const out: PartitionOffset[] = [];
    for (const { topic, partition } of partitions) {
      const entry = result.find((t) => t.topic === topic)?.partitions.find((p) => p.partition === partition);
      if (entry === undefined || Number(entry.offset) < 0) continue;
      out.push({ topic, partition, offset: Number(entry.offset), metadata: entry.metadata ?? '' });
    }
    return out;
  }

  /** Commits for a non-member (manual assignment): see the module comment. */
  commitAsNonMember(group: string, offsets: PartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return Promise.resolve();
    const run = this.txnChain.then(() => tolerateOfflinePartitions(() => this.commitNow(group, offsets)));
    this.txnChain = run.catch(() => undefined);
    return run;
  }

  private async commitNow(group: string, offsets: PartitionOffset[], retry = true): Promise<void> {
    const producer = await this.producer();
    const txn = await producer.transaction();
    try {
      await txn.sendOffsets({ consumerGroupId: group, topics: byTopic(offsets) });
      await txn.commit();
    } catch (err) {
      await txn.abort().catch(() => undefined);
      // The broker no longer knows this producer (fenced, expired, or a replaced cluster): a new
      // one (a fresh InitProducerId) can commit; the cached one never will again.
      if (!PRODUCER_STATE_LOST.some((type) => hasKafkaErrorType(err, type))) throw err;
      await this.dropProducer();
      if (!retry) throw err;
      return this.commitNow(group, offsets, false);
    }
    await this.untilVisible(group, offsets);
  }

  private async dropProducer(): Promise<void> {
    const producer = this.txnProducer;
    this.txnProducer = undefined;
    await producer?.then((p) => p.disconnect()).catch(() => undefined);
  }

  /**
   * Transactional offsets become readable only once the coordinator has applied the commit
   * marker, a moment after EndTxn returns. A client that commits and then reads its offsets must
   * see them, so the commit answers only when they are visible (bounded: 5 s).
   */
  private async untilVisible(group: string, offsets: PartitionOffset[]): Promise<void> {
    const deadline = Date.now() + 5_000;
    const want = new Map(offsets.map((o) => [`${o.partition}:${o.topic}`, o.offset]));
    while (Date.now() < deadline) {
      const seen = await this.committed(group, offsets);
      if (seen.length === want.size && seen.every((o) => want.get(`${o.partition}:${o.topic}`) === o.offset)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** First and next offset of each partition. */
  bounds(partitions: TopicPartition[]): Promise<Map<string, { low: number; high: number }>> {
    return tolerateOfflinePartitions(() => this.boundsNow(partitions));
  }

  private async boundsNow(partitions: TopicPartition[]): Promise<Map<string, { low: number; high: number }>> {
    const admin = await this.ready();
    const out = new Map<string, { low: number; high: number }>();
    for (const topic of new Set(partitions.map((p) => p.topic))) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        out.set(`${p.partition}:${topic}`, { low: Number(p.low), high: Number(p.high) });
      }
    }
    return out;
  }

  /** Earliest offset whose timestamp is ≥ `timestamp`, or the end when there is none. */
  async offsetForTimestamp(topic: string, partition: number, timestamp: number): Promise<number> {
    const admin = await this.ready();
    const entries = await tolerateOfflinePartitions(() => admin.fetchTopicOffsetsByTimestamp(topic, timestamp));
    const found = Number(entries.find((e) => e.partition === partition)?.offset ?? -1);
    if (found >= 0) return found;
    // Confluent answers 500 here (null offset); "nothing that new yet" means: start at the end.
    const end = await this.bounds([{ topic, partition }]);
    return end.get(`${partition}:${topic}`)?.high ?? 0;
  }

  async close(): Promise<void> {
    const producer = this.txnProducer;
    this.txnProducer = undefined;
    await Promise.allSettled([
      producer?.then((p) => p.disconnect()),
      this.connected?.then(() => this.admin.disconnect()),
    ]);
  }

  private producer(): Promise<Producer> {
    this.txnProducer ??= (async () => {
      const p = this.kafka.producer({
        transactionalId: this.transactionalId,
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
      });
      await p.connect();
      return p;
    })();
    this.txnProducer.catch(() => (this.txnProducer = undefined));
    return this.txnProducer;
  }
}

export function byTopic(offsets: PartitionOffset[]) {
  const topics = new Map<string, Array<{ partition: number; offset: string; metadata?: string | null }>>();
  for (const o of offsets) {
    const list = topics.get(o.topic) ?? [];
    list.push({ partition: o.partition, offset: String(o.offset), metadata: o.metadata ?? null });
    topics.set(o.topic, list);
  }
  return [...topics].map(([topic, partitions]) => ({ topic, partitions }));
}
