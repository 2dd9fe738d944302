/**
 * One v2 consumer instance: its subscription or manual assignment, read-ahead buffer and the
 * offsets its client has actually received.
 *
 * No record lost: kafkajs never commits; the offset ledger (offset-ledger.ts) counts a record as
 * received only when its fetch response was written to the client (delivered), and auto-commit,
 * commit-all and the commit on revocation commit exactly those. Records of a response that could
 * not be written are fetched again (seek back).
 */
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { Errors, type GatewayError } from '../../core/errors.js';
import type {
  EmbeddedFormat,
  ConsumerInstance,
  ConsumerSettings,
  FetchOptions,
  FetchResult,
  PartitionOffset,
  TopicPartition,
} from '../../core/ports.js';
import { kafkaCall, toGatewayError } from '../errors.js';
import { RecordBuffer, tpKey } from './buffer.js';
import type { GroupOffsets } from './group-offsets.js';
import { privateGroupId } from './manual-assigner.js';
import { OffsetLedger } from './offset-ledger.js';
import { KafkaSession } from './session.js';

export interface InstanceDeps {
  kafka: Kafka;
  offsets: GroupOffsets;
  logger: Logger;
  maxBufferBytes: number;
  joinTimeoutMs: number;
  /** Partition count of a topic, undefined when it does not exist. */
  partitionCount: (topic: string) => Promise<number | undefined>;
}

type Mode = 'none' | 'subscribe' | 'assign';

export class KafkaConsumerInstance implements ConsumerInstance {
  private mode: Mode = 'none';
  private topics: string[] = [];
  private manual: TopicPartition[] = [];
  private session: KafkaSession | undefined;
  private readonly buffer = new RecordBuffer();
  /** Positions, what the client received, what this instance committed. */
  private readonly ledger = new OffsetLedger();
  /** Offsets to start a manual assignment at, chosen before its consumer joined. */
  private startOffsets = new Map<string, PartitionOffset>();
  private fetchChain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private lastAutoCommit = Date.now();
  lastUsed = Date.now();
  busy = 0;

  constructor(
    readonly group: string,
    readonly name: string,
    readonly owner: string,
    private readonly settings: ConsumerSettings,
    private readonly deps: InstanceDeps,
  ) {}

  get format(): EmbeddedFormat {
    return this.settings.format;
  }

  get requestTimeoutMs(): number | undefined {
    return this.settings.requestTimeoutMs;
  }

  touch(): void {
    this.lastUsed = Date.now();
  }

  async subscribe(topics: string[]): Promise<void> {
    if (this.mode === 'assign') throw mutuallyExclusive();
    await this.stopSession();
    const wanted = [...new Set(topics)];
    if (wanted.length === 0) return;
    this.mode = 'subscribe';
    this.topics = wanted;
    // Subscription is lazy (as Confluent): a topic that does not exist yet is not an error, it is
    // simply not read (kafkajs would fail the whole subscribe); subscribing again picks it up.
    const existing: string[] = [];
    for (const t of wanted) if ((await this.deps.partitionCount(t)) !== undefined) existing.push(t);
    if (existing.length === 0) return;
    await this.startSession({
      groupId: this.group,
      topics: existing,
      onJoin: (assignment, previous) => {
        this.forgetRevoked(assignment, previous);
        // kafkajs restarts every partition at the group's committed offset after a join: the
        // partitions this member kept continue where its client is instead (no record it already
        // had comes again, none it had not is skipped). New ones start at the committed offset.
        return this.positionsOf(assignment);
      },
    });
  }

  subscription(): string[] {
    return this.mode === 'subscribe' ? [...this.topics] : [];
  }

  async unsubscribe(): Promise<void> {
    await this.stopSession();
  }

  async assign(partitions: TopicPartition[]): Promise<void> {
    if (this.mode === 'subscribe') throw mutuallyExclusive();
    const unique = dedupe(partitions);
    for (const { topic, partition } of unique) {
      const count = await this.deps.partitionCount(topic);
      if (count === undefined) throw Errors.topicNotFound();
      if (partition >= count) throw Errors.partitionNotFound();
    }
    await this.stopSession();
    if (unique.length === 0) return;
    this.mode = 'assign';
    this.manual = unique;
    // Like Kafka's assign(): start at the real group's committed offsets, else auto.offset.reset.
    const committed = await kafkaCall(() => this.deps.offsets.committed(this.group, unique));
    this.startOffsets = new Map(committed.map((o) => [tpKey(o.topic, o.partition), o]));
    await this.startSession({
      groupId: privateGroupId(this.group, this.name),
      topics: [...new Set(unique.map((p) => p.topic))],
      manual: unique,
      onJoin: () => {
        // A rejoin (rare: the private group lost its member, e.g. a broker outage longer than the
        // session timeout) resumes where the client is, instead of jumping.
        if (this.startOffsets.size === 0) return this.positionsOf(this.manual);
        // First join: committed offsets or seeks made meanwhile. They are the client's position
        // from now on, also for partitions it has not read yet: a rejoin must not leave those to
        // the private group, which never commits (auto.offset.reset would skip or repeat records).
        const starts = [...this.startOffsets.values()];
        this.startOffsets = new Map();
        for (const o of starts) if (this.ledger.position(o) === undefined) this.ledger.seek(o, o.offset);
        return starts;
      },
    });
  }

  assignment(): TopicPartition[] {
    if (this.mode === 'assign') return [...this.manual];
    return this.session?.assignment().map((p) => ({ ...p })) ?? [];
  }

  async commit(offsets?: PartitionOffset[]): Promise<void> {
    if (offsets !== undefined) {
      await this.commitOffsets(offsets);
      return;
    }
    await this.commitReturned();
  }

  committed(partitions: TopicPartition[]): Promise<PartitionOffset[]> {
    return kafkaCall(() => this.deps.offsets.committed(this.group, partitions));
  }

  async seek(offsets: PartitionOffset[]): Promise<void> {
    for (const o of offsets) this.requireAssigned(o);
    for (const o of offsets) this.seekOne(o, o.offset);
  }

  async seekToTimestamps(timestamps: Array<TopicPartition & { timestamp: number }>): Promise<void> {
    for (const t of timestamps) this.requireAssigned(t);
    for (const t of timestamps) {
      const offset = await kafkaCall(() => this.deps.offsets.offsetForTimestamp(t.topic, t.partition, t.timestamp));
      this.seekOne(t, offset);
    }
  }

  async seekToBeginning(partitions: TopicPartition[]): Promise<void> {
    await this.seekToBound(partitions, 'low');
  }

  async seekToEnd(partitions: TopicPartition[]): Promise<void> {
    await this.seekToBound(partitions, 'high');
  }

  fetch(options: FetchOptions): Promise<FetchResult> {
    if (this.mode === 'none') {
      throw Errors.illegalState('Consumer is not subscribed to any topics or assigned any partitions');
    }
    // One fetch at a time per instance (as Confluent): parallel reads would race over offsets.
    const run = this.fetchChain.then(() => this.fetchNow(options));
    this.fetchChain = run.catch(() => undefined);
    return run;
  }

  /** Periodic auto-commit (auto.commit.enable=true) of what the client received. */
  async autoCommitIfDue(now: number, intervalMs: number): Promise<void> {
    if (!this.settings.autoCommit || this.closed || now - this.lastAutoCommit < intervalMs) return;
    this.lastAutoCommit = now;
    await this.commitReturned().catch((err: unknown) =>
      this.deps.logger.warn({ err, group: this.group, instance: this.name }, 'auto-commit failed; will retry'),
    );
  }

  /** Commits returned offsets when auto-commit is on, then leaves the group. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.buffer.wake();
    await this.stopSession();
  }

  private async fetchNow({ timeoutMs, maxBytes, signal }: FetchOptions): Promise<FetchResult> {
    this.busy++;
    try {
      const session = this.session;
      if (session !== undefined && !session.isJoined) {
        // The first fetch after subscribe/assign waits for the group join instead of answering
        // [] while the consumer is still joining (the classic "first fetch is empty" complaint).
        await waitFor(session.joined, this.deps.joinTimeoutMs, signal);
      }
      if (this.settings.autoOffsetReset === 'none') await this.requireStartingOffsets();
      const deadline = Date.now() + timeoutMs;
      const minBytes = this.settings.fetchMinBytes;
      for (;;) {
        if (signal?.aborted || this.closed || this.session !== session) break;
        const held = this.buffer;
        if (held.size > 0 && (minBytes <= 0 || held.bytes >= minBytes || held.bytes >= maxBytes)) break;
        if (session?.failure !== undefined && held.size === 0) throw toGatewayError(session.failure);
        const remaining = deadline - Date.now();
        if (remaining <= 0) break;
        await this.buffer.waitForChange(remaining, signal);
      }
      if (signal?.aborted || this.closed) return { records: [], delivered: () => undefined };
      const records = this.buffer.take(maxBytes);
      const handOut = this.ledger.handOut(records);
      this.session?.release();
      return { records, delivered: (count) => this.rewind(handOut.settle(count), session) };
    } finally {
      this.busy--;
      this.touch();
    }
  }

  /**
   * auto.offset.reset=none, as Kafka's poll(): an assigned partition that has neither a committed
   * offset in the group nor a position the client chose (a seek, or records already read) fails
   * the fetch, naming the partitions, instead of silently starting somewhere.
   */
  private async requireStartingOffsets(): Promise<void> {
    const unknown = this.assignment().filter((p) => this.ledger.position(p) === undefined);
    if (unknown.length === 0) return;
    const committed = await kafkaCall(() => this.deps.offsets.committed(this.group, unknown));
    // The consumer may have joined before that offset was committed (it then started nowhere in
    // particular): read from the committed offset, exactly as Kafka's consumer would on its next poll.
    for (const o of committed) this.seekOne(o, o.offset);
    const has = new Set(committed.map((o) => tpKey(o.topic, o.partition)));
    const missing = unknown.filter((p) => !has.has(tpKey(p.topic, p.partition)));
    if (missing.length === 0) return;
    throw Errors.illegalState(
      `No committed offset for ${missing.map((p) => `${p.topic}-${p.partition}`).join(', ')} and auto.offset.reset is none; ` +
        'seek (POST …/positions) or commit an offset for it first.',
    );
  }

  /** The client never got these records: read them again from these offsets (same session only). */
  private rewind(from: PartitionOffset[], session: KafkaSession | undefined): void {
    if (from.length === 0 || session === undefined || session !== this.session) return;
    for (const o of from) if (session.owns(o)) this.seekOne(o, o.offset);
  }

  private async commitReturned(): Promise<void> {
    const pending = this.ledger.uncommitted();
    if (pending.length === 0) return;
    await this.commitOffsets(pending);
  }

  private async commitOffsets(offsets: PartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    const session = this.session;
    await kafkaCall(() =>
      this.mode === 'subscribe' && session?.isJoined
        ? session.commit(offsets)
        : this.deps.offsets.commitAsNonMember(this.group, offsets),
    );
    this.ledger.committed(offsets);
  }

  private async startSession(
    options: Pick<ConstructorParameters<typeof KafkaSession>[0], 'groupId' | 'topics' | 'manual' | 'onJoin'>,
  ): Promise<void> {
    const session = new KafkaSession({
      ...options,
      kafka: this.deps.kafka,
      fromBeginning: this.settings.autoOffsetReset === 'earliest',
      buffer: this.buffer,
      maxBufferBytes: this.deps.maxBufferBytes,
      logger: this.deps.logger,
    });
    this.session = session;
    try {
      await session.start();
    } catch (err) {
      this.session = undefined;
      await session.close();
      throw toGatewayError(err);
    }
  }

  private async stopSession(): Promise<void> {
    const session = this.session;
    if (session !== undefined && this.settings.autoCommit) {
      await this.commitReturned().catch((err: unknown) =>
        this.deps.logger.warn({ err, group: this.group, instance: this.name }, 'commit on close failed'),
      );
    }
    this.session = undefined;
    this.mode = 'none';
    this.topics = [];
    this.manual = [];
    this.startOffsets = new Map();
    this.buffer.drop();
    this.ledger.reset();
    await session?.close();
  }

  /** After a rebalance: commit what the client received of partitions this member lost, then forget them. */
  private forgetRevoked(assignment: TopicPartition[], previous: TopicPartition[]): void {
    const kept = new Set(assignment.map((p) => tpKey(p.topic, p.partition)));
    const revoked = previous.filter((p) => !kept.has(tpKey(p.topic, p.partition)));
    const pending = this.ledger.revoke(revoked);
    const toCommit = this.settings.autoCommit ? pending : [];
    if (toCommit.length > 0) {
      // Best effort, as Kafka's commit on revocation: at worst the new owner reads them again.
      this.deps.offsets.commitAsNonMember(this.group, toCommit).catch((err: unknown) => {
        this.deps.logger.warn({ err, group: this.group }, 'commit of revoked partitions failed');
      });
    }
  }

  /** Where the client is in each of `partitions` it has a position in. */
  private positionsOf(partitions: readonly TopicPartition[]): PartitionOffset[] {
    return partitions.flatMap((p) => {
      const offset = this.ledger.position(p);
      return offset === undefined ? [] : [{ ...p, offset }];
    });
  }

  private requireAssigned(tp: TopicPartition): void {
    const assigned =
      this.mode === 'assign'
        ? this.manual.some((p) => p.topic === tp.topic && p.partition === tp.partition)
        : (this.session?.owns(tp) ?? false);
    if (!assigned) throw Errors.illegalState(`No current assignment for partition ${tp.topic}-${tp.partition}`);
  }

  private seekOne(tp: TopicPartition, offset: number): void {
    const key = tpKey(tp.topic, tp.partition);
    this.ledger.seek(tp, offset);
    const session = this.session;
    if (session === undefined || !session.isJoined) {
      // A manual assignment whose consumer has not joined yet: start there once it has.
      this.startOffsets.set(key, { topic: tp.topic, partition: tp.partition, offset });
      return;
    }
    session.seek(tp, offset);
  }

  private async seekToBound(partitions: TopicPartition[], bound: 'low' | 'high'): Promise<void> {
    for (const p of partitions) this.requireAssigned(p);
    const bounds = await kafkaCall(() => this.deps.offsets.bounds(partitions));
    for (const p of partitions) this.seekOne(p, bounds.get(tpKey(p.topic, p.partition))?.[bound] ?? 0);
  }
}

function mutuallyExclusive(): GatewayError {
  return Errors.illegalState('Subscription to topics, partitions and pattern are mutually exclusive');
}

function dedupe(partitions: TopicPartition[]): TopicPartition[] {
  const seen = new Map<string, TopicPartition>();
  for (const p of partitions) seen.set(tpKey(p.topic, p.partition), { topic: p.topic, partition: p.partition });
  return [...seen.values()];
}

/** Waits for `p`, at most `ms`, or until `signal` aborts; never rejects. */
function waitFor(p: Promise<unknown>, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
    p.then(done, done);
  });
}
