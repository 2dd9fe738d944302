/**
 * One kafkajs consumer for the lifetime of one subscription or one manual assignment (kafkajs
 * cannot change a running consumer's topics, so a new subscription is a new session).
 *
 * Pull over push: kafkajs's eachBatch pushes records into the instance's bounded buffer and
 * returns at once; when the buffer is full the partition is paused (kafkajs keeps heartbeating,
 * so the member stays in the group) and resumed once the client has drained it below half.
 * kafkajs never commits (autoCommit: false): the instance commits only what its client received.
 */
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import type { ConsumedRecord, PartitionOffset, RecordHeader, TopicPartition } from '../../core/ports.js';
import { RecordBuffer, tpKey } from './buffer.js';
import { byTopic } from './group-offsets.js';
import { manualAssigner } from './manual-assigner.js';

export interface SessionOptions {
  kafka: Kafka;
  /** The real group (subscribe) or a private one (manual assignment). */
  groupId: string;
  /** Existing topics to subscribe to (for a manual assignment: the assigned partitions' topics). */
  topics: string[];
  manual?: TopicPartition[];
  fromBeginning: boolean;
  buffer: RecordBuffer;
  maxBufferBytes: number;
  logger: Logger;
  /**
   * Called on every (re)join with the new assignment, before any record of it is read; returns
   * the offsets to start the partitions at (others start at the group's committed offset, or
   * per auto.offset.reset).
   */
  onJoin: (assignment: TopicPartition[], previous: TopicPartition[]) => PartitionOffset[];
}

/** How long a batch may wait for the client to make room before its partition is paused. */
const BACKPRESSURE_WAIT_MS = 1_000;

export class KafkaSession {
  readonly consumer: Consumer;
  private current: TopicPartition[] = [];
  private joinedOnce = false;
  private readonly paused = new Map<string, TopicPartition>();
  private closed = false;
  private resolveJoined!: () => void;
  /** Resolves on the first join (group assignment received). */
  readonly joined = new Promise<void>((resolve) => (this.resolveJoined = resolve));
  /** Set when kafkajs gave up (crash without restart). */
  failure: Error | undefined;

  constructor(private readonly options: SessionOptions) {
    const { kafka, groupId, manual, maxBufferBytes } = options;
    this.consumer = kafka.consumer({
      groupId,
      partitionAssigners: manual === undefined ? undefined : [manualAssigner(manual)],
      allowAutoTopicCreation: false,
      // Short broker waits so seeks, pauses and close take effect quickly.
      maxWaitTimeInMs: 500,
      maxBytes: Math.max(maxBufferBytes, 64 * 1024),
      maxBytesPerPartition: Math.min(Math.max(maxBufferBytes, 64 * 1024), 1024 * 1024),
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 5_000 },
    });
    const { GROUP_JOIN, CRASH } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, (e) => this.onGroupJoin(e.payload.memberAssignment));
    this.consumer.on(CRASH, (e) => {
      if (e.payload.restart) return;
      this.failure = e.payload.error;
      this.options.logger.warn({ err: e.payload.error, group: groupId }, 'consumer stopped after an error');
      this.resolveJoined();
      options.buffer.wake();
    });
  }

  get isJoined(): boolean {
    return this.joinedOnce;
  }

  assignment(): TopicPartition[] {
    return this.current;
  }

  owns(tp: TopicPartition): boolean {
    return this.current.some((c) => c.topic === tp.topic && c.partition === tp.partition);
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.options.topics, fromBeginning: this.options.fromBeginning });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: async (payload) => this.onBatch(payload),
    });
  }

  /** Positions a partition; effective before the next fetch of that partition. */
  seek(tp: TopicPartition, offset: number): void {
    this.options.buffer.drop((r) => r.topic === tp.topic && r.partition === tp.partition);
    this.consumer.seek({ topic: tp.topic, partition: tp.partition, offset: String(offset) });
    this.resume(tp);
  }

  /** Commits as a member of the group (subscribe mode). */
  async commit(offsets: PartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    const flat = byTopic(offsets).flatMap(({ topic, partitions }) => partitions.map((p) => ({ topic, ...p })));
    await this.consumer.commitOffsets(flat);
  }

  /** Resumes paused partitions once the client has drained the buffer below half. */
  release(): void {
    // A batch waiting for room (onBatch) re-checks now.
    if (this.options.buffer.bytes < this.options.maxBufferBytes) this.options.buffer.wake();
    if (this.paused.size === 0 || this.options.buffer.bytes >= this.options.maxBufferBytes / 2) return;
    for (const tp of [...this.paused.values()]) this.resume(tp);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.resolveJoined();
    this.options.buffer.wake();
    // disconnect() stops the fetch loop and sends LeaveGroup, so the group rebalances at once.
    await this.consumer.disconnect().catch((err: unknown) => {
      this.options.logger.warn({ err, group: this.options.groupId }, 'consumer disconnect failed');
    });
  }

  private onGroupJoin(memberAssignment: Record<string, number[]>): void {
    const previous = this.current;
    this.current = Object.entries(memberAssignment).flatMap(([topic, partitions]) =>
      partitions.map((partition) => ({ topic, partition })),
    );
    // kafkajs restarts every partition from its committed offset after a join: whatever was read
    // ahead is stale (and revoked partitions are no longer ours).
    this.options.buffer.drop();
    this.paused.clear();
    for (const { topic, partition, offset } of this.options.onJoin(this.current, previous)) {
      if (this.owns({ topic, partition })) this.consumer.seek({ topic, partition, offset: String(offset) });
    }
    this.joinedOnce = true;
    this.resolveJoined();
    this.options.buffer.wake();
  }

  private async onBatch({ batch, isRunning, isStale, pause }: EachBatchPayload): Promise<void> {
    if (this.closed || !isRunning() || isStale() || batch.messages.length === 0) return;
    const { topic, partition } = batch;
    if (!this.owns({ topic, partition })) return;
    const { buffer, maxBufferBytes } = this.options;
    buffer.push(batch.messages.map((m) => toRecord(topic, partition, m)));
    // A client reading as fast as it can drains the buffer within moments: wait for that rather
    // than pausing at once, because kafkajs polls again only maxWaitTimeInMs (500 ms) after every
    // partition is paused. A slow client gets the pause (kafkajs keeps heartbeating meanwhile).
    const deadline = Date.now() + BACKPRESSURE_WAIT_MS;
    while (buffer.bytes >= maxBufferBytes && Date.now() < deadline && !this.closed && isRunning() && !isStale()) {
      await buffer.waitForChange(deadline - Date.now());
    }
    if (buffer.bytes >= maxBufferBytes && !this.closed) {
      pause();
      this.paused.set(tpKey(topic, partition), { topic, partition });
    }
  }

  private resume(tp: TopicPartition): void {
    const key = tpKey(tp.topic, tp.partition);
    if (!this.paused.delete(key)) return;
    try {
      this.consumer.resume([{ topic: tp.topic, partitions: [tp.partition] }]);
    } catch {
      // Not running any more (closing): nothing to resume.
    }
  }
}

function toRecord(topic: string, partition: number, m: KafkaMessage): ConsumedRecord {
  return {
    topic,
    partition,
    offset: Number(m.offset),
    key: m.key ?? null,
    value: m.value ?? null,
    timestamp: Number(m.timestamp),
    headers: toHeaders(m.headers),
  };
}

const NO_HEADERS: RecordHeader[] = [];

function toHeaders(headers: KafkaMessage['headers']): RecordHeader[] {
  if (headers === undefined) return NO_HEADERS;
  let any = false;
  for (const _ in headers) {
    any = true;
    break;
  }
  if (!any) return NO_HEADERS;
  const out: RecordHeader[] = [];
  for (const [key, v] of Object.entries(headers ?? {})) {
    for (const one of Array.isArray(v) ? v : [v]) {
      out.push({ key, value: one === undefined ? null : Buffer.isBuffer(one) ? one : Buffer.from(one) });
    }
  }
  return out;
}
