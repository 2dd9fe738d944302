/**
 * The produce path. Concurrent HTTP requests share Kafka produce requests: while a send is in
 * flight, newly arriving records wait and leave together in the next one (adaptive batching, like
 * Nagle's algorithm: no delay when idle, bigger batches under load). Every send uses acks=all, and a
 * request's promise resolves only when Kafka has acknowledged or failed each of its records.
 *
 * Partitions are chosen here, not by kafkajs, so each record's offset can be read off the
 * per-partition base offsets Kafka returns: keyed records use the Java client's murmur2 hash
 * (kafkajs's DefaultPartitioner), unkeyed records stick to one partition per send (see
 * stickyPartition).
 */
import {
  CompressionTypes,
  Partitioners,
  type Kafka,
  type Message,
  type PartitionMetadata,
  type Producer,
} from 'kafkajs';
import type { OutgoingRecord, ProduceOutcome, ProduceService } from '../core/ports.js';
import { isRetriable } from './client.js';

export interface ProducerOptions {
  /** Sends in flight at once; records arriving meanwhile share the next send. */
  maxInFlightSends: number;
  /** Extra wait before a send to gather more records (0 = next tick). */
  lingerMs: number;
  /** Broker-side ack timeout per send, ms. */
  ackTimeoutMs: number;
  /** Upper bound on one send's payload, so a burst becomes several sends instead of one huge one. */
  maxSendBytes?: number;
  /** Upper bound on one send's record count (whole requests are never split); see MAX_SEND_RECORDS. */
  maxSendRecords?: number;
  /** Partition count of a topic (the caller has already checked that the topic exists). */
  partitionCount: (topic: string) => Promise<number | undefined>;
}

/**
 * kafkajs groups a send's messages per partition by copying the partition's array for every
 * message (quadratic in records per partition), so one send of thousands of records costs more
 * than several of hundreds. Concurrent requests are therefore coalesced up to this many records
 * per send; more sends then run in parallel (up to maxInFlightSends).
 */
const MAX_SEND_RECORDS = 500;

interface Pending {
  topic: string;
  messages: Message[];
  bytes: number;
  resolve: (outcomes: ProduceOutcome[]) => void;
}

export class KafkaProducerBridge implements ProduceService {
  private readonly producer: Producer;
  private readonly hash = Partitioners.DefaultPartitioner();
  private readonly fakeMetadata = new Map<number, PartitionMetadata[]>();
  private readonly sticky = new Map<string, { partition: number; count: number }>();
  private queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(
    kafka: Kafka,
    private readonly options: ProducerOptions,
  ) {
    // Partitions are always chosen above, so kafkajs's partitioner choice (and its warning) is moot.
    this.producer = kafka.producer({
      allowAutoTopicCreation: false,
      idempotent: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  /** Waits until every accepted record has been acknowledged or failed, then disconnects. */
  async close(): Promise<void> {
    await this.drained();
    await this.producer.disconnect();
  }

  /** Resolves when nothing is queued or in flight. */
  drained(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async produce(topic: string, records: OutgoingRecord[]): Promise<ProduceOutcome[]> {
    const count = await this.options.partitionCount(topic);
    if (count === undefined) {
      return records.map(() => ({ ok: false, errorCode: 50003, error: `Topic ${topic} not present in metadata.` }));
    }
    let bytes = 0;
    const sticky = this.stickyPartition(topic, count);
    const messages = records.map((r): Message => {
      bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0) + 32;
      return {
        key: r.key,
        value: r.value,
        partition: r.partition ?? (r.key === null ? sticky : this.partitionForKey(topic, r.key, count)),
        headers: r.headers === undefined ? undefined : toKafkaHeaders(r.headers),
      };
    });
    return new Promise((resolve) => {
      this.queue.push({ topic, messages, bytes, resolve });
      this.schedule();
    });
  }

  private partitionForKey(topic: string, key: Buffer, count: number): number {
    let partitionMetadata = this.fakeMetadata.get(count);
    if (partitionMetadata === undefined) {
      partitionMetadata = Array.from({ length: count }, (_, partitionId) => ({
        partitionId,
        leader: 0,
        partitionErrorCode: 0,
        replicas: [0],
        isr: [0],
      }));
      this.fakeMetadata.set(count, partitionMetadata);
    }
    // kafkajs's DefaultPartitioner is the Java client's: toPositive(murmur2(keyBytes)) % partitions.
    return this.hash({ topic, partitionMetadata, message: { key, value: null } });
  }

  /**
   * Unkeyed records go to the topic's sticky partition, which moves on each time a send leaves
   * (the Java client's sticky partitioner, KIP-480): requests arriving together share one partition,
   * hence one Kafka request, while traffic still spreads over every partition.
   */
  private stickyPartition(topic: string, count: number): number {
    let current = this.sticky.get(topic);
    if (current === undefined || current.count !== count) {
      current = { partition: Math.floor(Math.random() * count), count };
      this.sticky.set(topic, current);
    }
    return current.partition;
  }

  private moveSticky(batch: Pending[]): void {
    for (const topic of new Set(batch.map((p) => p.topic))) {
      const current = this.sticky.get(topic);
      if (current !== undefined) current.partition = (current.partition + 1) % current.count;
    }
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.options.maxInFlightSends || this.queue.length === 0) return;
    this.scheduled = true;
    const flush = () => {
      this.scheduled = false;
      this.flush();
    };
    if (this.options.lingerMs > 0) setTimeout(flush, this.options.lingerMs);
    else setImmediate(flush);
  }

  private flush(): void {
    if (this.queue.length === 0) return;
    const limit = this.options.maxSendBytes ?? 8 * 1024 * 1024;
    const recordLimit = this.options.maxSendRecords ?? MAX_SEND_RECORDS;
    let bytes = 0;
    let records = 0;
    let n = 0;
    while (n < this.queue.length) {
      const next = this.queue[n]!;
      if (n > 0 && (bytes + next.bytes > limit || records + next.messages.length > recordLimit)) break;
      bytes += next.bytes;
      records += next.messages.length;
      n++;
    }
    const batch = this.queue.slice(0, n);
    this.queue = this.queue.slice(n);
    this.moveSticky(batch);
    this.inFlight++;
    void this.send(batch).finally(() => {
      this.inFlight--;
      if (this.queue.length > 0) this.schedule();
      else if (this.inFlight === 0) this.idleWaiters.splice(0).forEach((w) => w());
    });
    // Another send may start at once if the queue is still long and a slot is free.
    this.schedule();
  }

  /**
   * One Kafka produce request per partition. kafkajs retries a failed request whole, and Kafka
   * answers per partition: had one request carried several partitions, a retriable error on one
   * (NOT_LEADER_OR_FOLLOWER, common right after a topic is created or a leader moves) would write
   * the others a second time. A single-partition request either is written or is not.
   */
  private async send(batch: Pending[]): Promise<void> {
    const byPartition = new Map<string, { topic: string; messages: Message[] }>();
    for (const p of batch) {
      for (const m of p.messages) {
        const key = `${m.partition}@${p.topic}`;
        const group = byPartition.get(key);
        if (group === undefined) byPartition.set(key, { topic: p.topic, messages: [m] });
        else group.messages.push(m);
      }
    }
    type Sent = { ok: true; next: number } | Extract<ProduceOutcome, { ok: false }>;
    const sent = new Map<string, Sent>();
    await Promise.all(
      [...byPartition].map(async ([key, { topic, messages }]) => {
        try {
          const [result] = await this.producer.send({
            topic,
            messages,
            acks: -1,
            timeout: this.options.ackTimeoutMs,
            compression: CompressionTypes.None,
          });
          if (result === undefined) throw new Error('Kafka returned no offset for this partition.');
          sent.set(key, { ok: true, next: Number(result.baseOffset) });
        } catch (err) {
          const errorCode = isRetriable(err) ? 50003 : 50002;
          sent.set(key, { ok: false, errorCode, error: (err as Error).message ?? String(err) });
        }
      }),
    );
    // Records were grouped in arrival order, so each one's offset follows from its partition's base offset.
    for (const p of batch) {
      p.resolve(
        p.messages.map((m): ProduceOutcome => {
          const result = sent.get(`${m.partition}@${p.topic}`)!;
          if (!result.ok) return result;
          return { ok: true, partition: m.partition!, offset: result.next++ };
        }),
      );
    }
  }
}

function toKafkaHeaders(headers: NonNullable<OutgoingRecord['headers']>): Message['headers'] {
  const out: Record<string, Buffer | Buffer[]> = {};
  for (const h of headers) {
    const value = h.value ?? Buffer.alloc(0);
    const prev = out[h.key];
    if (prev === undefined) out[h.key] = value;
    else out[h.key] = Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}
