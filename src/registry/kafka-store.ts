/**
 * The registry's storage: a compacted, single-partition Kafka topic (`_schemas` by default), read
 * from the beginning by every replica into a RegistryState, and written (by the leader only) with
 * acks=all. `caughtUp()` resolves once everything written before the call has been applied, which
 * is the readiness of a replica and the read-your-write of the leader.
 */
import { randomUUID } from 'node:crypto';
import { Partitioners, type Admin, type Consumer, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { RegistryErrors } from '../core/errors.js';
import { createTopicAndWait } from '../kafka/create-topic.js';
import { RegistryState } from './state.js';

export interface KafkaStoreOptions {
  topic: string;
  replicationFactor?: number;
  /** How long a write, or a catch-up, may take before the request fails (50002). */
  timeoutMs: number;
  logger: Logger;
}

export class KafkaStore {
  readonly state: RegistryState;
  private admin?: Admin;
  private producer?: Producer;
  private consumer?: Consumer;
  /** The offset after the last record applied. */
  private applied = 0;
  private waiters: Array<{ offset: number; resolve: () => void }> = [];
  private failed?: Error;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: KafkaStoreOptions,
  ) {
    this.state = new RegistryState((message) => options.logger.warn({ topic: options.topic }, message));
  }

  get topic(): string {
    return this.options.topic;
  }

  /** Creates the topic when it does not exist yet (compacted, one partition). */
  async ensureTopic(): Promise<void> {
    const { topic, replicationFactor } = this.options;
    this.admin = this.kafka.admin();
    await this.admin.connect();
    const created = await createTopicAndWait(this.admin, {
      topic,
      numPartitions: 1,
      replicationFactor,
      configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
    });
    if (created) this.options.logger.info({ topic }, `created the schema registry topic ${topic} (compacted)`);
  }

  /** Reads the topic from the beginning and goes on following it; resolves once caught up. */
  async start(): Promise<void> {
    const { topic } = this.options;
    if (this.admin === undefined) await this.ensureTopic();
    // One request in flight keeps the records in order; a retried duplicate record is harmless
    // (the same record applied twice gives the same state).
    this.producer = this.kafka.producer({
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await this.producer.connect();
    // A private group no one else joins and that never commits: every replica reads everything.
    this.consumer = this.kafka.consumer({
      groupId: `_schema-registry-reader-${randomUUID()}`,
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [topic], fromBeginning: true });
    // A batch of only filtered records (transaction markers, records before the position) never
    // reaches eachBatch, but its end still counts as read.
    this.consumer.on(this.consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const last = Number(payload.lastOffset);
      if (Number.isFinite(last) && last + 1 > this.applied) {
        this.applied = last + 1;
        this.wake();
      }
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.failed = payload.error;
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        for (const m of batch.messages) {
          this.state.apply(m.key, m.value);
          this.applied = Number(m.offset) + 1;
        }
        // Compacted or aborted ranges: the batch still tells where the log continues.
        const last = Number(batch.lastOffset());
        if (Number.isFinite(last) && last + 1 > this.applied) this.applied = last + 1;
        this.wake();
        await heartbeat();
      },
    });
    await this.caughtUp();
  }

  private wake(): void {
    const ready = this.waiters.filter((w) => w.offset <= this.applied);
    this.waiters = this.waiters.filter((w) => w.offset > this.applied);
    for (const w of ready) w.resolve();
  }

  private waitFor(offset: number): Promise<void> {
    if (offset <= this.applied) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(RegistryErrors.timeout());
      }, this.options.timeoutMs);
      const waiter = {
        offset,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Resolves when every record in the topic now has been applied. */
  async caughtUp(): Promise<void> {
    if (this.failed !== undefined) throw RegistryErrors.store(this.failed.message);
    let end: number;
    try {
      const offsets = await this.admin!.fetchTopicOffsets(this.options.topic);
      end = Number(offsets.find((p) => p.partition === 0)?.high ?? 0);
    } catch (err) {
      throw RegistryErrors.store((err as Error).message);
    }
    await this.waitFor(end);
  }

  /** Writes records (key, value|null) and resolves once they are applied here. */
  async write(records: Array<{ key: object; value: object | null }>): Promise<void> {
    let offset: number;
    try {
      const [meta] = await this.producer!.send({
        topic: this.options.topic,
        acks: -1,
        timeout: this.options.timeoutMs,
        messages: records.map((r) => ({
          key: JSON.stringify(r.key),
          value: r.value === null ? null : JSON.stringify(r.value),
        })),
      });
      offset = Number(meta!.baseOffset) + records.length;
    } catch (err) {
      throw RegistryErrors.store((err as Error).message);
    }
    await this.waitFor(offset);
  }

  async ping(): Promise<void> {
    if (this.failed !== undefined) throw this.failed;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.consumer?.disconnect(), this.producer?.disconnect(), this.admin?.disconnect()]);
  }
}
