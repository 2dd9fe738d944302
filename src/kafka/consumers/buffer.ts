/**
 * Records read from Kafka but not yet handed to the HTTP client: the bridge between kafkajs's push
 * model and the v2 pull model. Bounded by bytes; per-partition queues keep each partition in
 * order and let a seek or a rebalance drop exactly one partition's read-ahead.
 */
import type { ConsumedRecord, TopicPartition } from '../../core/ports.js';

export const tpKey = (topic: string, partition: number) => `${partition}:${topic}`;

export function recordBytes(r: ConsumedRecord): number {
  return (r.key?.length ?? 0) + (r.value?.length ?? 0);
}

export class RecordBuffer {
  private readonly queues = new Map<string, ConsumedRecord[]>();
  private bytesHeld = 0;
  private count = 0;
  private waiters: Array<() => void> = [];
  /** Round-robin start, so one busy partition cannot starve the others. */
  private rotation = 0;

  get bytes(): number {
    return this.bytesHeld;
  }

  get size(): number {
    return this.count;
  }

  push(records: ConsumedRecord[]): void {
    if (records.length === 0) return;
    const first = records[0]!;
    const key = tpKey(first.topic, first.partition);
    let q = this.queues.get(key);
    if (q === undefined) this.queues.set(key, (q = []));
    for (const r of records) {
      q.push(r);
      this.bytesHeld += recordBytes(r);
    }
    this.count += records.length;
    this.wake();
  }

  /**
   * Takes records up to `maxBytes` raw bytes, always at least one when any is held (Confluent
   * would keep answering [] for a record larger than max_bytes), visiting partitions in turn.
   */
  take(maxBytes: number): ConsumedRecord[] {
    const out: ConsumedRecord[] = [];
    let bytes = 0;
    const keys = [...this.queues.keys()];
    if (keys.length === 0) return out;
    this.rotation = (this.rotation + 1) % keys.length;
    const ordered = [...keys.slice(this.rotation), ...keys.slice(0, this.rotation)];
    for (const key of ordered) {
      const q = this.queues.get(key)!;
      // Count what fits, then cut it off in one splice (shift() per record is quadratic on long queues).
      let n = 0;
      while (n < q.length) {
        const size = recordBytes(q[n]!);
        if (out.length + n > 0 && bytes + size > maxBytes) break;
        bytes += size;
        n++;
      }
      if (n === q.length) {
        for (const r of q) out.push(r);
        this.queues.delete(key);
      } else {
        for (const r of q.splice(0, n)) out.push(r);
      }
      if (out.length > 0 && bytes >= maxBytes) break;
    }
    this.bytesHeld -= bytes;
    this.count -= out.length;
    return out;
  }

  /** Drops the read-ahead of the partitions matching `which` (all when omitted). */
  drop(which?: (tp: TopicPartition) => boolean): void {
    for (const [key, q] of this.queues) {
      if (which !== undefined && (q.length === 0 || !which(q[0]!))) continue;
      for (const r of q) this.bytesHeld -= recordBytes(r);
      this.count -= q.length;
      this.queues.delete(key);
    }
    this.wake();
  }

  /**
   * Resolves on the next change (records added or dropped, or an explicit wake), after `ms`, or
   * when `signal` aborts, whichever is first. Never rejects; leaves no waiter behind.
   */
  waitForChange(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener('abort', done, { once: true });
      this.waiters.push(done);
    });
  }

  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
