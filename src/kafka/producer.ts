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
 *
 * Integrity rules (issue 10/16/17):
 * - A send never exceeds what Kafka accepts: records are framed as Kafka will frame them and a
 *   send holds at most the topic's max.message.bytes per partition; a record too large on its own
 *   fails alone (per-record 50002) before anything is sent, and a request too large for one
 *   batch leaves in several consecutive sends, in order.
 * - Every request answers within its deadline (produce timeout from arrival): records Kafka has
 *   not acknowledged by then get 50003.
 * - The producer is idempotent: kafkajs's own retries cannot write a record twice.
 * - A partition known to have no leader fails at once with 50003 instead of waiting.
 */
import {
  CompressionTypes,
  Partitioners,
  type Admin,
  type Kafka,
  type Message,
  type PartitionMetadata,
  type Producer,
} from 'kafkajs';
import type { OutgoingRecord, ProduceOutcome, ProduceService } from '../core/ports.js';
import { tolerateOfflinePartitions } from './client.js';
import { hasKafkaErrorType, kafkaMessage, recordErrorCode } from './errors.js';

export interface ProducerOptions {
  /** Sends in flight at once; records arriving meanwhile share the next send. */
  maxInFlightSends: number;
  /** Extra wait before a send to gather more records (0 = next tick). */
  lingerMs: number;
  /**
   * Per-request deadline, ms from arrival: a record Kafka has not acknowledged by then is answered
   * 50003 (also the broker-side ack timeout of each send).
   */
  ackTimeoutMs: number;
  /** kafkajs's idempotent producer (default true): its retries never duplicate a record. */
  idempotent?: boolean;
  /** The topic's effective max.message.bytes (largest batch Kafka accepts); the 1 MiB default when absent. */
  maxMessageBytes?: (topic: string) => Promise<number>;
  /** Kafka refused a batch as too large for the topic: its cached limit is stale. */
  limitChanged?: (topic: string) => void;
  /** false when the partition is known to have no leader (sends to it fail fast). */
  partitionOnline?: (topic: string, partition: number) => boolean | undefined;
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

/** How long a send's other partitions may lag its first finished one before its slot is freed. */
const STUCK_AFTER_MS = 1_000;

/** Kafka's record batch header (magic v2), counted once per partition batch. */
const BATCH_OVERHEAD = 61;
/** Upper bound of one record's framing in a v2 batch: length, attributes, deltas, varint sizes. */
const RECORD_OVERHEAD = 40;
/** Broker default max.message.bytes (1 MiB + 12). */
const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

interface Pending {
  topic: string;
  messages: Message[];
  /** Framed size of the messages in a record batch (without the batch header). */
  bytes: number;
  /** Framed bytes per partition: each partition's batch must fit topicLimit. */
  partitionBytes: Map<number, number>;
  /** The topic's batch limit for this send (max.message.bytes minus the batch header). */
  topicLimit: number;
  deadline: number;
  settled: boolean;
  timer?: NodeJS.Timeout;
  resolve: (outcomes: ProduceOutcome[]) => void;
  /** Run once it is answered: drop every reference a queued send still holds to its records. */
  release: Array<() => void>;
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
  /** The last request queued for each partition (`partition@topic`): the next one waits for it. */
  private readonly partitionTails = new Map<string, Promise<void>>();

  /** Per topic: the rules Kafka checks on each record, read from its settings (see rulesOf). */
  private readonly rules = new Map<string, { value?: RecordRules; at: number; loading: boolean }>();
  private admin?: Promise<Admin>;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: ProducerOptions,
  ) {
    // Partitions are always chosen above, so kafkajs's partitioner choice (and its warning) is moot.
    // Idempotent: kafkajs then retries without limit (limiting them could let a later batch reuse
    // a sequence number and be dropped as a duplicate); our own deadline answers the client.
    const idempotent = options.idempotent ?? true;
    this.producer = kafka.producer({
      allowAutoTopicCreation: false,
      idempotent,
      // The client's retry limit would otherwise apply (kafkajs merges it in).
      retry: idempotent ? { retries: Number.MAX_SAFE_INTEGER } : undefined,
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
    const admin = this.admin;
    this.admin = undefined;
    if (admin !== undefined) await admin.then((a) => a.disconnect()).catch(() => undefined);
  }

  /**
   * The record rules of a topic as last read (undefined until the first read ends; never waited
   * for: the read starts in the background and Kafka judges meanwhile), read again after a minute.
   */
  private rulesOf(topic: string): RecordRules | undefined {
    const entry = this.rules.get(topic);
    if (entry !== undefined && (entry.loading || Date.now() - entry.at < RULES_TTL_MS)) return entry.value;
    const loading = { value: entry?.value, at: entry?.at ?? 0, loading: true };
    this.rules.set(topic, loading);
    void this.readRules(topic).then(
      (value) => this.rules.set(topic, { value, at: Date.now(), loading: false }),
      () => this.rules.set(topic, { value: loading.value, at: Date.now(), loading: false }),
    );
    return loading.value;
  }

  private async readRules(topic: string): Promise<RecordRules> {
    this.admin ??= (async () => {
      const a = this.kafka.admin();
      await a.connect();
      return a;
    })();
    this.admin.catch(() => (this.admin = undefined));
    const described = await (
      await this.admin
    ).describeConfigs({
      resources: [{ type: TOPIC_RESOURCE, name: topic, configNames: [...RULE_SETTINGS] }],
      includeSynonyms: false,
    });
    const value = (name: string) =>
      described.resources[0]?.configEntries.find((e) => e.configName === name)?.configValue;
    const ms = (name: string) => {
      const n = Number(value(name));
      return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
    };
    const createTime = value('message.timestamp.type') !== 'LogAppendTime';
    return {
      compacted: (value('cleanup.policy') ?? '').split(',').some((p) => p.trim() === 'compact'),
      maxAheadMs: createTime ? ms('message.timestamp.after.max.ms') : undefined,
      maxBehindMs: createTime ? ms('message.timestamp.before.max.ms') : undefined,
    };
  }

  /** Resolves when nothing is queued or in flight. */
  drained(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async produce(
    topic: string,
    records: OutgoingRecord[],
    deadline = Date.now() + this.options.ackTimeoutMs,
  ): Promise<ProduceOutcome[]> {
    // Metadata waits count against the deadline too: a broker that does not answer them must
    // not hold the request past it.
    const count = await untilDeadline(this.options.partitionCount(topic), deadline);
    if (count === LATE) return this.timedOut(records.length);
    if (count === undefined) {
      return records.map(() => ({ ok: false, errorCode: 50003, error: `Topic ${topic} not present in metadata.` }));
    }
    const limit = this.options.maxMessageBytes?.(topic) ?? Promise.resolve(DEFAULT_MAX_MESSAGE_BYTES);
    const read = await untilDeadline(limit, deadline);
    if (read === LATE) return this.timedOut(records.length);
    const maxBatch = read;
    const topicLimit = maxBatch - BATCH_OVERHEAD;
    const sticky = this.stickyPartition(topic, count);
    const rules = this.rulesOf(topic);
    const now = Date.now();
    const outcomes: Array<ProduceOutcome | undefined> = new Array(records.length);
    // Records that can be sent, in order, with their framed sizes; the others fail here, alone.
    const chunks: Array<{
      indexes: number[];
      messages: Message[];
      bytes: number;
      partitionBytes: Map<number, number>;
    }> = [];
    let chunk: (typeof chunks)[number] | undefined;
    records.forEach((r, i) => {
      const partition = r.partition ?? (r.key === null ? sticky : this.partitionForKey(topic, r.key, count));
      const size = framedSize(r);
      if (size > topicLimit) {
        outcomes[i] = {
          ok: false,
          errorCode: 50002,
          error: `Record of ${size + BATCH_OVERHEAD} bytes is larger than the max message size the topic accepts (max.message.bytes=${maxBatch}).`,
        };
        return;
      }
      // What Kafka would refuse for the record itself fails here, alone and at once: sent, it would
      // fail the whole partition batch it shares with other records (which are then split and
      // sent again, see sendPartition) — a flood of such records would hold up everyone's.
      const refused = rules === undefined ? undefined : refusal(r, rules, now);
      if (refused !== undefined) {
        outcomes[i] = { ok: false, errorCode: 40002, error: `Kafka refused the record: ${refused}` };
        return;
      }
      if (this.options.partitionOnline?.(topic, partition) === false) {
        outcomes[i] = { ok: false, errorCode: 50003, error: `Partition ${partition} of ${topic} has no leader.` };
        return;
      }
      if (chunk === undefined || (chunk.partitionBytes.get(partition) ?? 0) + size > topicLimit) {
        chunk = { indexes: [], messages: [], bytes: 0, partitionBytes: new Map() };
        chunks.push(chunk);
      }
      chunk.indexes.push(i);
      chunk.bytes += size;
      chunk.partitionBytes.set(partition, (chunk.partitionBytes.get(partition) ?? 0) + size);
      chunk.messages.push({
        key: r.key,
        value: r.value,
        partition,
        headers: r.headers === undefined ? undefined : toKafkaHeaders(r.headers),
        timestamp: r.timestamp === undefined ? undefined : String(r.timestamp),
      });
    });
    // A request too large for one batch leaves as consecutive sends, each after the previous one,
    // so its records keep their order.
    for (const c of chunks) {
      const results = await this.enqueue(topic, c.messages, c.bytes, c.partitionBytes, topicLimit, deadline);
      c.indexes.forEach((index, k) => (outcomes[index] = results[k]));
    }
    return outcomes as ProduceOutcome[];
  }

  private enqueue(
    topic: string,
    messages: Message[],
    bytes: number,
    partitionBytes: Map<number, number>,
    topicLimit: number,
    deadline: number,
  ): Promise<ProduceOutcome[]> {
    return new Promise((resolve) => {
      const pending: Pending = {
        topic,
        messages,
        bytes,
        partitionBytes,
        topicLimit,
        deadline,
        settled: false,
        resolve,
        release: [],
      };
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        this.settle(pending, null);
        return;
      }
      // The deadline holds whatever Kafka does: unacknowledged records are answered 50003.
      pending.timer = setTimeout(() => {
        this.settle(pending, null);
        // Still queued: take it out so no send carries a record already answered as failed.
        const at = this.queue.indexOf(pending);
        if (at >= 0) this.queue.splice(at, 1);
        if (this.queue.length === 0 && this.inFlight === 0) this.idleWaiters.splice(0).forEach((w) => w());
      }, remaining);
      this.queue.push(pending);
      this.schedule();
    });
  }

  private timedOut(count: number): ProduceOutcome[] {
    return Array.from({ length: count }, () => ({
      ok: false,
      errorCode: 50003,
      error: `Kafka did not acknowledge the record within ${this.options.ackTimeoutMs} ms.`,
    }));
  }

  /** Answers a pending request once: with Kafka's outcomes, or (null) as timed out. */
  private settle(p: Pending, outcomes: ProduceOutcome[] | null): void {
    if (p.settled) return;
    p.settled = true;
    if (p.timer !== undefined) clearTimeout(p.timer);
    p.resolve(
      outcomes ??
        p.messages.map(() => ({
          ok: false,
          errorCode: 50003,
          error: `Kafka did not acknowledge the record within ${this.options.ackTimeoutMs} ms.`,
        })),
    );
    // An answered request's records are no longer this bridge's to keep: a send queued behind a
    // partition stuck on a dead leader would otherwise hold them for the whole outage.
    for (const release of p.release.splice(0)) release();
    p.messages = [];
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
    // As the Java client's sticky partitioner, only among partitions that have a leader: unkeyed
    // records never stick to an offline partition while others can take them.
    for (let tried = 0; tried < count && this.options.partitionOnline?.(topic, current.partition) === false; tried++)
      current.partition = (current.partition + 1) % count;
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
    // Each partition's batch in a send stays within its topic's limit (max.message.bytes).
    const perPartition = new Map<string, number>();
    const fits = (p: Pending) => {
      for (const [partition, size] of p.partitionBytes) {
        if ((perPartition.get(`${partition}@${p.topic}`) ?? 0) + size > p.topicLimit) return false;
      }
      return true;
    };
    while (n < this.queue.length) {
      const next = this.queue[n]!;
      if (n > 0 && (bytes + next.bytes > limit || records + next.messages.length > recordLimit || !fits(next))) {
        break;
      }
      for (const [partition, size] of next.partitionBytes) {
        const key = `${partition}@${next.topic}`;
        perPartition.set(key, (perPartition.get(key) ?? 0) + size);
      }
      bytes += next.bytes;
      records += next.messages.length;
      n++;
    }
    const batch = this.queue.slice(0, n);
    this.queue = this.queue.slice(n);
    this.moveSticky(batch);
    this.inFlight++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.inFlight--;
      if (this.queue.length > 0) this.schedule();
      else if (this.inFlight === 0) this.idleWaiters.splice(0).forEach((w) => w());
    };
    // A send stuck on an unreachable leader keeps retrying in the background (idempotent, so
    // without duplicates), but gives its slot back at the batch's deadline: healthy topics go on.
    const latest = Math.max(...batch.map((p) => p.deadline));
    const slotTimer = setTimeout(release, Math.max(0, latest - Date.now()));
    void this.send(batch, release).finally(() => {
      clearTimeout(slotTimer);
      release();
    });
    // Another send may start at once if the queue is still long and a slot is free.
    this.schedule();
  }

  /**
   * One Kafka produce request per partition. kafkajs retries a failed request whole, and Kafka
   * answers per partition: had one request carried several partitions, a retriable error on one
   * (NOT_LEADER_OR_FOLLOWER, common right after a topic is created or a leader moves) would write
   * the others a second time. A single-partition request either is written or is not.
   *
   * At most one request per partition is in flight (partitionTurn): kafkajs's idempotent producer
   * reads a partition's next sequence number when it builds a request and advances it only on
   * success, so two concurrent requests to one partition would carry the same sequence and Kafka
   * would answer the second as a duplicate of the first — "acknowledged", never written. A request
   * that waited for its turn leaves out records already answered (50003 at their deadline), so a
   * record reported failed before it was sent is never written later.
   */
  private async send(batch: Pending[], slotFree: () => void): Promise<void> {
    type Group = { topic: string; partition: number; items: Array<[Pending, Message]> };
    const byPartition = new Map<string, Group>();
    const outcomes = new Map<Message, ProduceOutcome>();
    for (const p of batch) {
      const groups = new Set<Group>();
      for (const m of p.messages) {
        const key = `${m.partition}@${p.topic}`;
        let group = byPartition.get(key);
        if (group === undefined) byPartition.set(key, (group = { topic: p.topic, partition: m.partition!, items: [] }));
        group.items.push([p, m]);
        groups.add(group);
      }
      const messages = p.messages;
      p.release.push(() => {
        for (const g of groups) g.items = g.items.filter(([q]) => q !== p);
        for (const m of messages) outcomes.delete(m);
      });
    }
    // A request is answered as soon as all its records are, not when the slowest partition of the
    // send is: one partition stuck on a dead leader must not hold healthy topics' answers.
    const answerReady = () => {
      for (const p of batch) {
        if (!p.settled && p.messages.every((m) => outcomes.has(m)))
          this.settle(
            p,
            p.messages.map((m) => outcomes.get(m)!),
          );
      }
    };
    let pendingTurns = byPartition.size;
    let stuckTimer: NodeJS.Timeout | undefined;
    const turnDone = () => {
      answerReady();
      // Partitions still running a second after the others finished are most likely stuck
      // (retrying an unreachable leader); they stay serialized per partition, so the send's slot
      // can go to healthy traffic.
      if (--pendingTurns > 0 && stuckTimer === undefined) stuckTimer = setTimeout(slotFree, STUCK_AFTER_MS);
    };
    await Promise.all(
      [...byPartition].map(([key, group]) =>
        this.partitionTurn(key, async () => {
          const { topic, partition } = group;
          const live = group.items.filter(([p]) => !p.settled);
          if (live.length === 0) return;
          const owner = new Map(live.map(([p, m]) => [m, p]));
          const results = await this.sendPartition(
            topic,
            partition,
            live.map(([, m]) => m),
            (m) => owner.get(m)?.settled !== true,
          );
          for (const [m, outcome] of results) outcomes.set(m, outcome);
          group.items = [];
        }).finally(turnDone),
      ),
    );
    clearTimeout(stuckTimer);
    for (const p of batch) {
      this.settle(
        p,
        p.messages.map(
          (m) =>
            outcomes.get(m) ?? {
              ok: false,
              errorCode: 50003,
              error: `Kafka did not acknowledge the record within ${this.options.ackTimeoutMs} ms.`,
            },
        ),
      );
    }
  }

  /**
   * One partition's records in one Kafka request (the caller holds the partition's turn), their
   * outcomes by message. Kafka refuses a whole partition batch for one record it will not take
   * (a timestamp out of range, a keyless record on a compacted topic, a corrupt record): the batch
   * is then split in halves, sent one after the other (order kept), until only the refused records
   * remain — they fail alone (40002), the others land. Nothing of a refused batch was written, and
   * kafkajs advances the idempotent sequence only on success, so the halves reuse it safely.
   * Records answered meanwhile (their deadline passed) are left out of later halves.
   */
  private async sendPartition(
    topic: string,
    partition: number,
    messages: Message[],
    live: (m: Message) => boolean,
  ): Promise<Array<[Message, ProduceOutcome]>> {
    try {
      // Tolerant of other topics' offline partitions: kafkajs refreshes metadata of every
      // topic this producer has sent to, and would otherwise fail healthy sends too.
      const [result] = await tolerateOfflinePartitions(() =>
        this.producer.send({
          topic,
          messages,
          acks: -1,
          timeout: this.options.ackTimeoutMs,
          compression: CompressionTypes.None,
        }),
      );
      // No result for the partition: Kafka's answer did not say; the client may retry.
      if (result === undefined) {
        const failure: ProduceOutcome = {
          ok: false,
          errorCode: 50003,
          error: 'Kafka returned no offset for this partition.',
        };
        return messages.map((m) => [m, failure]);
      }
      // Records were grouped in arrival order, so each one's offset follows from the base offset.
      let next = Number(result.baseOffset);
      return messages.map((m) => [m, { ok: true, partition, offset: next++ }]);
    } catch (err) {
      if (RECORD_REFUSED.some((type) => hasKafkaErrorType(err, type))) {
        if (messages.length === 1)
          return [
            [messages[0]!, { ok: false, errorCode: 40002, error: `Kafka refused the record: ${kafkaMessage(err)}` }],
          ];
        const half = Math.ceil(messages.length / 2);
        const out: Array<[Message, ProduceOutcome]> = [];
        for (const part of [messages.slice(0, half), messages.slice(half)]) {
          const still = part.filter(live);
          if (still.length > 0) out.push(...(await this.sendPartition(topic, partition, still, live)));
        }
        return out;
      }
      let failure: ProduceOutcome = { ok: false, errorCode: recordErrorCode(err), error: kafkaMessage(err) };
      // Every record was checked against the topic's limit as last read: a batch refused as
      // too large means the limit was lowered since. Each record may fit alone: retriable.
      if (hasKafkaErrorType(err, 'MESSAGE_TOO_LARGE') && messages.length > 1) {
        this.options.limitChanged?.(topic);
        failure = {
          ok: false,
          errorCode: 50003,
          error: `${kafkaMessage(err)} (the topic's max.message.bytes changed; it is read again: retry)`,
        };
      }
      return messages.map((m) => [m, failure]);
    }
  }

  /** Runs `work` once every earlier request to the same partition has settled. */
  private partitionTurn(key: string, work: () => Promise<void>): Promise<void> {
    const previous = this.partitionTails.get(key) ?? Promise.resolve();
    const turn = previous.then(work, work);
    const tail = turn.catch(() => undefined);
    this.partitionTails.set(key, tail);
    void tail.then(() => {
      if (this.partitionTails.get(key) === tail) this.partitionTails.delete(key);
    });
    return turn;
  }
}

const LATE = Symbol('late');

/** The per-record rules of a topic Kafka enforces by refusing the whole batch (INVALID_RECORD, INVALID_TIMESTAMP). */
interface RecordRules {
  /** cleanup.policy includes compact: records need a key. */
  compacted: boolean;
  /** message.timestamp.after.max.ms (CreateTime topics). */
  maxAheadMs?: number;
  /** message.timestamp.before.max.ms (CreateTime topics). */
  maxBehindMs?: number;
}
const RULE_SETTINGS = [
  'cleanup.policy',
  'message.timestamp.type',
  'message.timestamp.after.max.ms',
  'message.timestamp.before.max.ms',
] as const;
const RULES_TTL_MS = 60_000;
/** A timestamp this close to a bound is left for Kafka to judge: its clock and ours differ. */
const CLOCK_MARGIN_MS = 60_000;
/** kafkajs's ConfigResourceTypes.TOPIC. */
const TOPIC_RESOURCE = 2;

/** Why Kafka will refuse this record for what it is, or undefined when it may take it. */
function refusal(r: OutgoingRecord, rules: RecordRules, now: number): string | undefined {
  if (rules.compacted && r.key === null)
    return 'the topic is compacted (cleanup.policy=compact): a record needs a key.';
  if (r.timestamp === undefined) return undefined;
  if (rules.maxAheadMs !== undefined && r.timestamp - now > rules.maxAheadMs + CLOCK_MARGIN_MS)
    return `the timestamp ${r.timestamp} (epoch ms) is more than message.timestamp.after.max.ms=${rules.maxAheadMs} ms ahead of the broker's time.`;
  if (rules.maxBehindMs !== undefined && now - r.timestamp > rules.maxBehindMs + CLOCK_MARGIN_MS)
    return `the timestamp ${r.timestamp} (epoch ms) is more than message.timestamp.before.max.ms=${rules.maxBehindMs} ms behind the broker's time.`;
  return undefined;
}

/**
 * Kafka errors that refuse a record for what it is (not the request or the moment): sending it
 * again fails the same way, and in a batch they fail every record with it.
 */
const RECORD_REFUSED = ['INVALID_TIMESTAMP', 'INVALID_RECORD', 'CORRUPT_MESSAGE'];

/** The value, or LATE once the deadline (epoch ms) has passed without it. */
function untilDeadline<T>(value: Promise<T>, deadline: number): Promise<T | typeof LATE> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<typeof LATE>((resolve) => {
    timer = setTimeout(() => resolve(LATE), Math.max(0, deadline - Date.now()));
  });
  return Promise.race([value, late]).finally(() => clearTimeout(timer));
}

/** The bytes a record takes in a v2 record batch (upper bound). */
function framedSize(r: OutgoingRecord): number {
  let size = RECORD_OVERHEAD + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const h of r.headers ?? []) size += 10 + Buffer.byteLength(h.key) + (h.value?.length ?? 0);
  return size;
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
