/**
 * The replicated Kafka cluster the test run started (scripts/test.mjs, for test/cluster-*.test.ts
 * files): its nodes can be stopped, killed, frozen and restarted through the control endpoint
 * scripts/local-kafka.mjs serves (KAFKA_CLUSTER_CONTROL). Expectations come from the cluster itself
 * (broker count, replica lists, which broker leads or coordinates), never from "one broker".
 *
 * Also: a real gateway process against it (so a test can SIGKILL the gateway too), and the
 * per-record ledger fault tests count with (acked / lost / duplicated / slowest answer).
 */
import { admin, kafka, uniqueName } from './kafka.js';

export type NodeState = 'running' | 'stopped' | 'frozen';
export interface NodeInfo {
  id: number;
  port: number;
  pid: number | null;
  state: NodeState;
}
export interface ClusterInfo {
  version: string;
  brokers: string;
  replicationFactor: number;
  minInsync: number;
  nodes: NodeInfo[];
}
export type NodeAction = 'stop' | 'kill' | 'freeze' | 'thaw' | 'start' | 'restart';

const control = process.env.KAFKA_CLUSTER_CONTROL;

function controlUrl(): string {
  if (!control) {
    throw new Error(
      'KAFKA_CLUSTER_CONTROL is not set: run cluster tests with `node scripts/test.mjs test/cluster-….test.ts`',
    );
  }
  return control;
}

async function call<T>(method: 'GET' | 'POST', pathname: string): Promise<T> {
  const res = await fetch(`${controlUrl()}${pathname}`, { method });
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(`cluster control ${pathname}: ${body.error ?? res.status}`);
  return body;
}

export const cluster = {
  /** True when this run has a controllable cluster (the cluster phase of scripts/test.mjs). */
  available: Boolean(control),
  info: () => call<ClusterInfo>('GET', '/'),
  /** The active KRaft controller's node id (the metadata quorum leader). */
  controller: async () => (await call<{ id: number }>('GET', '/controller')).id,
  /**
   * stop = SIGTERM (controlled shutdown), kill = SIGKILL, freeze/thaw = SIGSTOP/SIGCONT,
   * start/restart on the same log dir. Resolves when done (start: the port accepts connections).
   */
  node: (id: number, action: NodeAction) => call<NodeInfo>('POST', `/nodes/${id}/${action}`),
  /** Every node running again, all brokers registered, no partition under-replicated. */
  heal: () => call<ClusterInfo>('POST', '/heal'),
};

/** Broker ids Kafka reports as registered right now. */
export async function liveBrokerIds(): Promise<number[]> {
  const a = await admin();
  return (await a.describeCluster()).brokers.map((b) => b.nodeId).sort((x, y) => x - y);
}

export interface PartitionPlacement {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

/**
 * Leader, replicas and ISR of every partition of a topic, as Kafka reports them now. Each broker
 * learns of a new topic from the metadata log on its own time, so the broker kafkajs happens to
 * ask may not know a topic another one has just created: that answer is asked again, for up to 10 s.
 */
export async function placement(topic: string): Promise<PartitionPlacement[]> {
  const a = await admin();
  const deadline = Date.now() + 10_000;
  const metadata = async (): Promise<Awaited<ReturnType<typeof a.fetchTopicMetadata>>> => {
    for (;;) {
      try {
        return await a.fetchTopicMetadata({ topics: [topic] });
      } catch (e) {
        if ((e as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION' || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const { topics } = await metadata();
  return topics[0]!.partitions
    .map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: [...p.replicas], isr: [...p.isr] }))
    .sort((x, y) => x.partition - y.partition);
}

/** Java's String.hashCode: Kafka picks a group's __consumer_offsets partition with it. */
function javaHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * The broker coordinating a consumer group: the leader of its __consumer_offsets partition
 * (Utils.abs(groupId.hashCode()) % partitions, as the broker computes it).
 */
export async function coordinatorOf(group: string): Promise<number> {
  const offsets = await placement('__consumer_offsets');
  const p = (javaHashCode(group) & 0x7fffffff) % offsets.length;
  return offsets[p]!.leader;
}

/** Polls `check` until it returns true (or throws after `timeoutMs`). */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // Not yet answerable (a leader moving): ask again.
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** One fault run's figures: per record, HTTP 200 with error_code null = acknowledged. */
export interface FaultRow {
  fault: string;
  sent: number;
  acked: number;
  /** Answered but not acknowledged (HTTP error or a per-record error code). */
  failed: number;
  /** Acknowledged and not in Kafka afterwards. Must be 0. */
  lost: number;
  /** Copies beyond the first in Kafka, of any record sent (acked or not). */
  duplicated: number;
  slowestMs: number;
  note?: string;
}

/** Prints the fault table so a run's figures can be quoted as they are. */
export function printFaultTable(rows: FaultRow[]): void {
  const head = ['fault', 'sent', 'acked', 'failed', 'lost', 'dup', 'slowest ms', 'note'];
  const lines = rows.map((r) => [
    r.fault,
    String(r.sent),
    String(r.acked),
    String(r.failed),
    String(r.lost),
    String(r.duplicated),
    String(Math.round(r.slowestMs)),
    r.note ?? '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const out = [fmt(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmt)];
  console.log(`\n[fault table]\n${out.join('\n')}\n`);
}

/**
 * Produces through the gateway and remembers, per record, what the answer said: acknowledged
 * (HTTP 200 and that record's error_code null), failed (an error answer, a per-record error code,
 * or no answer). Every record carries a unique id, so what is in Kafka afterwards can be counted
 * per record: lost (acknowledged, not there) and duplicated (there more than once).
 */
export class ProduceLedger {
  private next = 0;
  readonly acked = new Set<number>();
  readonly failed = new Set<number>();
  readonly errorCodes = new Map<string, number>();
  slowestMs = 0;
  requests = 0;
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(
    readonly topic: string,
    private readonly recordsPerRequest = 5,
    /** Client-side bound on one answer; a request past it counts as failed (no answer). */
    private readonly answerWithinMs = 120_000,
  ) {}

  get sent(): number {
    return this.next;
  }

  /** One produce request of `recordsPerRequest` new records. */
  async produceOnce(gatewayUrl: string): Promise<void> {
    const ids = Array.from({ length: this.recordsPerRequest }, () => this.next++);
    const started = Date.now();
    this.requests++;
    try {
      const res = await fetch(`${gatewayUrl}/topics/${this.topic}`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.kafka.json.v2+json' },
        body: JSON.stringify({ records: ids.map((id) => ({ value: { id } })) }),
        signal: AbortSignal.timeout(this.answerWithinMs),
      });
      const text = await res.text();
      const body =
        text === ''
          ? undefined
          : (JSON.parse(text) as {
              error_code?: number;
              message?: string;
              offsets?: Array<{ error_code: number | null; error?: string | null }>;
            });
      ids.forEach((id, i) => {
        const record = body?.offsets?.[i];
        const code = res.status === 200 ? (record?.error_code ?? null) : `${res.status}/${body?.error_code}`;
        if (res.status === 200 && code === null) this.acked.add(id);
        else {
          this.failed.add(id);
          this.count(String(code), (res.status === 200 ? record?.error : body?.message) ?? '');
        }
      });
    } catch (err) {
      for (const id of ids) this.failed.add(id);
      this.count(err instanceof Error && err.name === 'TimeoutError' ? 'no answer' : 'connection error', String(err));
    } finally {
      this.slowestMs = Math.max(this.slowestMs, Date.now() - started);
    }
  }

  /** First message seen per error code, to explain the table. */
  readonly messages = new Map<string, string>();

  private count(code: string, message: string): void {
    this.errorCodes.set(code, (this.errorCodes.get(code) ?? 0) + 1);
    if (!this.messages.has(code)) this.messages.set(code, message);
  }

  /** Keeps `concurrency` requests in flight until stop(). */
  start(gatewayUrl: () => string, concurrency = 4, pauseMs = 20): void {
    this.running = true;
    this.loops = Array.from({ length: concurrency }, async () => {
      while (this.running) {
        await this.produceOnce(gatewayUrl());
        await new Promise((r) => setTimeout(r, pauseMs));
      }
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Reads the whole topic natively and counts every record id. */
  async verify(fault: string): Promise<FaultRow & { storedAfterFailure: number }> {
    const copies = new Map<number, number>();
    for (const value of await readWholeTopic(this.topic)) {
      const id = (JSON.parse(value.toString()) as { id: number }).id;
      copies.set(id, (copies.get(id) ?? 0) + 1);
    }
    let lost = 0;
    for (const id of this.acked) if (!copies.has(id)) lost++;
    let duplicated = 0;
    for (const n of copies.values()) duplicated += n - 1;
    let storedAfterFailure = 0;
    for (const id of this.failed) if (copies.has(id)) storedAfterFailure++;
    const errors = [...this.errorCodes]
      .map(([code, n]) => `${code}×${n} (${(this.messages.get(code) ?? '').slice(0, 70)})`)
      .join(' ');
    return {
      fault,
      sent: this.sent,
      acked: this.acked.size,
      failed: this.failed.size,
      lost,
      duplicated,
      slowestMs: this.slowestMs,
      storedAfterFailure,
      note: [errors && `errors: ${errors}`, storedAfterFailure > 0 && `${storedAfterFailure} failed yet stored once`]
        .filter(Boolean)
        .join('; '),
    };
  }
}

interface CommitAnswer {
  status: number;
  errorCode: number | null;
  ms: number;
  /** Next offset to read per partition, as committed (Kafka's convention: last processed + 1). */
  next: Map<number, number>;
}

/**
 * Consumes a topic through a gateway consumer instance the way a careful client does: it fetches
 * ahead, processes at its own pace and commits what it processed as it goes (explicit offsets, a
 * few records further per partition each step), so commits keep flowing while a fault hits. Every
 * answer is remembered; after each commit answered 200 the group's offsets are read natively (a
 * 200 whose offsets are not stored is counted lost), and each record's deliveries are counted.
 */
export class ConsumeLedger {
  readonly commits: CommitAnswer[] = [];
  readonly fetchErrors = new Map<string, number>();
  readonly deliveries = new Map<string, number>();
  /** Commits answered 200 whose offsets the group did not hold right after. */
  readonly unstored: Array<{ next: Map<number, number>; stored: Map<number, number> }> = [];
  /** Highest delivered next-offset per partition, and how far the client has committed. */
  private readonly delivered = new Map<number, number>();
  private readonly processed = new Map<number, number>();
  private baseUri = '';

  constructor(
    readonly group: string,
    readonly topic: string,
    readonly partitions: number,
    readonly total: number,
    /** Records per partition the client processes (and commits) per step. */
    private readonly pace = 10,
  ) {}

  async create(gatewayUrl: string): Promise<void> {
    const res = await fetch(`${gatewayUrl}/consumers/${this.group}`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.kafka.v2+json' },
      body: JSON.stringify({ format: 'binary', 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'false' }),
    });
    if (res.status !== 200) throw new Error(`create: ${res.status} ${await res.text()}`);
    this.baseUri = ((await res.json()) as { base_uri: string }).base_uri;
    const sub = await fetch(`${this.baseUri}/subscription`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.kafka.v2+json' },
      body: JSON.stringify({ topics: [this.topic] }),
    });
    if (sub.status !== 204) throw new Error(`subscribe: ${sub.status} ${await sub.text()}`);
  }

  get distinctDelivered(): number {
    return this.deliveries.size;
  }

  /** Processes (commits) a few more delivered records, or fetches when all are processed. */
  async step(): Promise<void> {
    const next = new Map<number, number>();
    for (const [p, end] of this.delivered) {
      const done = this.processed.get(p) ?? 0;
      if (done < end) next.set(p, Math.min(end, done + this.pace));
    }
    if (next.size === 0) {
      await this.fetchOnce();
      return;
    }
    for (const [p, n] of next) this.processed.set(p, n);
    const answer = await this.commit(next);
    // A retriable failure: the next step commits further, which covers this one.
    if (answer.status !== 200) await new Promise((r) => setTimeout(r, 200));
  }

  private async fetchOnce(): Promise<void> {
    const res = await fetch(`${this.baseUri}/records?timeout=1000&max_bytes=20000`, {
      headers: { accept: 'application/vnd.kafka.binary.v2+json' },
      signal: AbortSignal.timeout(60_000),
    }).catch((err: unknown) => err as Error);
    if (res instanceof Error || res.status !== 200) {
      const key =
        res instanceof Error ? res.name : `${res.status}/${((await res.json()) as { error_code: number }).error_code}`;
      this.fetchErrors.set(key, (this.fetchErrors.get(key) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 300));
      return;
    }
    for (const r of (await res.json()) as Array<{ partition: number; offset: number }>) {
      const key = `${r.partition}:${r.offset}`;
      this.deliveries.set(key, (this.deliveries.get(key) ?? 0) + 1);
      this.delivered.set(r.partition, Math.max(this.delivered.get(r.partition) ?? 0, r.offset + 1));
    }
  }

  async commit(next: Map<number, number>): Promise<CommitAnswer> {
    const started = Date.now();
    const res = await fetch(`${this.baseUri}/offsets`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.kafka.v2+json' },
      body: JSON.stringify({
        offsets: [...next].map(([partition, n]) => ({ topic: this.topic, partition, offset: n - 1 })),
      }),
      signal: AbortSignal.timeout(120_000),
    });
    const text = await res.text();
    const answer: CommitAnswer = {
      status: res.status,
      errorCode: text === '' ? null : ((JSON.parse(text) as { error_code?: number }).error_code ?? null),
      ms: Date.now() - started,
      next,
    };
    this.commits.push(answer);
    if (answer.status === 200) {
      // Nobody else commits for this group: right now Kafka must hold at least these offsets.
      const stored = await this.storedOffsets();
      if ([...next].some(([p, n]) => (stored.get(p) ?? -1) < n)) this.unstored.push({ next, stored });
    }
    return answer;
  }

  private async storedOffsets(): Promise<Map<number, number>> {
    // The native client meets the same fault (a coordinator just killed): ask until it answers.
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const a = await admin();
        const [t] = await a.fetchOffsets({ groupId: this.group, topics: [this.topic] });
        return new Map(t!.partitions.map((p) => [p.partition, Number(p.offset)]));
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Steps until at least `count` distinct records were delivered (or the deadline passes). */
  async consumeUntil(count: number, deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    while (this.distinctDelivered < count && Date.now() < deadline) await this.step();
  }

  /** Commits everything delivered until one commit is answered 200 (bounded). */
  async commitFinal(deadlineMs = 90_000): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    while ((await this.commit(new Map(this.delivered))).status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  async delete(): Promise<void> {
    await fetch(this.baseUri, { method: 'DELETE' }).catch(() => undefined);
  }

  /** The run's figures: "lost" = commits answered 200 that the group did not hold. */
  async verify(fault: string): Promise<FaultRow & { commitsLost: number; undelivered: number; wrongCodes: string[] }> {
    const wrongCodes = this.commits
      .filter((c) => c.status !== 200 && c.errorCode !== 50003)
      .map((c) => `${c.status}/${c.errorCode}`);
    let duplicated = 0;
    for (const n of this.deliveries.values()) duplicated += n - 1;
    const codes = new Map<string, number>();
    for (const c of this.commits) {
      const k = c.status === 200 ? '200' : `${c.status}/${c.errorCode}`;
      codes.set(k, (codes.get(k) ?? 0) + 1);
    }
    const fetchErrors = [...this.fetchErrors].map(([k, n]) => `${k}×${n}`).join(' ');
    return {
      fault,
      sent: this.commits.length,
      acked: this.commits.filter((c) => c.status === 200).length,
      failed: this.commits.filter((c) => c.status !== 200).length,
      lost: this.unstored.length,
      duplicated,
      slowestMs: Math.max(0, ...this.commits.map((c) => c.ms)),
      commitsLost: this.unstored.length,
      undelivered: this.total - this.distinctDelivered,
      wrongCodes,
      note:
        `rows count commits; dup = records delivered again; commits: ${[...codes].map(([k, n]) => `${k}×${n}`).join(' ')}` +
        (fetchErrors ? `; fetch errors: ${fetchErrors}` : ''),
    };
  }
}

/**
 * Every record value of a topic, exactly once per offset: read natively up to each partition's
 * high watermark. (A reader that stops after N records would count a record its consumer was
 * handed twice, e.g. after a fetch retry on a just-healed cluster, and miss another.)
 */
export async function readWholeTopic(topic: string, timeoutMs = 60_000): Promise<Buffer[]> {
  const a = await admin();
  const ends = new Map((await a.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
  const byOffset = new Map<string, Buffer>();
  const consumer = kafka.consumer({ groupId: uniqueName('verify'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const reached = new Map<number, number>();
  const done = () => [...ends].every(([p, end]) => (reached.get(p) ?? 0) >= end);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`topic ${topic} not read to its end in ${timeoutMs} ms`)),
        timeoutMs,
      );
      if (done()) {
        clearTimeout(timer);
        resolve();
        return;
      }
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          const offset = Number(message.offset);
          if (offset < (ends.get(partition) ?? 0)) byOffset.set(`${partition}:${offset}`, message.value!);
          reached.set(partition, Math.max(reached.get(partition) ?? 0, offset + 1));
          if (done()) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return [...byOffset.values()];
}
