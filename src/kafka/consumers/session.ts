/**
 * One kafkajs consumer for the lifetime of one subscription or one manual assignment (kafkajs
 * cannot change a running consumer's topics, so a new subscription is a new session).
 *
 * Pull over push: kafkajs's eachBatch pushes records into the instance's bounded buffer and
 * returns at once; when the buffer is full the partition is paused (kafkajs keeps heartbeating,
 * so the member stays in the group) and resumed once the client has drained it below half.
 * kafkajs never commits (autoCommit: false): the instance commits only what its client received.
 *
 * Two kafkajs behaviours are fenced off here:
 * - `commitOffsets` returns without error when its runner is not running (after a crash, while
 *   it restarts) and stores nothing. A commit here is answered only once kafkajs reported the
 *   coordinator's OK (its COMMIT_OFFSETS event) for exactly these offsets; otherwise 50003.
 * - After a crash kafkajs restarts itself on a timer and rejoins the group. Once the session is
 *   closed no restart may happen (restartOnFailure says no), and a join that still slips through
 *   (a restart already under way) is left again at once.
 */
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { Errors } from '../../core/errors.js';
import { toGatewayError } from '../errors.js';
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
  /** In the group with a running fetch loop: commits can be sent as a member now. */
  private member = false;
  /** Offsets the coordinator confirmed during the commit in progress (topic:partition → offset). */
  private confirmed: Map<string, string> | undefined;
  private commitChain: Promise<unknown> = Promise.resolve();
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
      retry: {
        retries: 5,
        initialRetryTime: 100,
        maxRetryTime: 5_000,
        // A closed session never comes back (kafkajs asks this after a crash).
        restartOnFailure: async () => !this.closed,
      },
    });
    const { GROUP_JOIN, CRASH, STOP, REBALANCING, COMMIT_OFFSETS } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, (e) => {
      if (this.closed) {
        // A restart that was already under way when we closed: leave again (after kafkajs has
        // marked its runner running, so that its stop() sends LeaveGroup).
        setTimeout(() => void this.disconnect(), 0);
        return;
      }
      this.member = true;
      this.onGroupJoin(e.payload.memberAssignment);
    });
    this.consumer.on(STOP, () => (this.member = false));
    this.consumer.on(REBALANCING, () => (this.member = false));
    this.consumer.on(COMMIT_OFFSETS, (e) => {
      const confirmed = this.confirmed;
      if (confirmed === undefined) return;
      for (const t of e.payload.topics) {
        for (const p of t.partitions) confirmed.set(`${p.partition}:${t.topic}`, String(p.offset));
      }
    });
    this.consumer.on(CRASH, (e) => {
      this.member = false;
      if (this.closed) {
        // kafkajs may have scheduled a restart just before we closed: disconnect clears it.
        setTimeout(() => void this.disconnect(), 0);
        return;
      }
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

  /**
   * Commits as a member of the group (subscribe mode). Resolves only once the group coordinator
   * stored every offset; while the consumer is out of the group (a crash and restart after a
   * broker or coordinator failure, a rebalance) it fails with a retriable 50003.
   */
  commit(offsets: PartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return Promise.resolve();
    // One at a time, so the coordinator's confirmations belong to this commit.
    const run = this.commitChain.then(() => this.commitNow(offsets));
    this.commitChain = run.catch(() => undefined);
    return run;
  }

  private async commitNow(offsets: PartitionOffset[]): Promise<void> {
    if (this.closed || !this.member) throw notAMember();
    const flat = byTopic(offsets).flatMap(({ topic, partitions }) => partitions.map((p) => ({ topic, ...p })));
    const confirmed = new Map<string, string>();
    this.confirmed = confirmed;
    try {
      await this.consumer.commitOffsets(flat);
    } catch (err) {
      // kafkajs between a crash and its restart has no consumer group at all.
      if (!this.member || /not initialized/i.test(err instanceof Error ? err.message : '')) throw notAMember();
      throw toGatewayError(err);
    } finally {
      this.confirmed = undefined;
    }
    // kafkajs returns quietly when its runner stopped meanwhile: only the coordinator's answer counts.
    if (!flat.every((o) => confirmed.get(`${o.partition}:${o.topic}`) === o.offset)) throw notAMember();
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
    this.member = false;
    this.resolveJoined();
    this.options.buffer.wake();
    await this.disconnect();
  }

  /** Stops the fetch loop, sends LeaveGroup (the group rebalances at once) and cancels a pending restart. */
  private async disconnect(): Promise<void> {
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
    // kafkajs keeps a pause across a rejoin: with the read-ahead dropped, every partition paused
    // for a slow reader must be resumed here, or it is never fetched again (nothing is left in the
    // buffer whose draining would resume it).
    for (const tp of [...this.paused.values()]) this.resume(tp);
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

function notAMember() {
  return Errors.kafkaRetriable(
    'The consumer is rejoining its group after a Kafka failure or rebalance; the commit was not stored. Retry it.',
  );
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
