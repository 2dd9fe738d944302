/**
 * The offsets of one consumer instance, and the rule they exist for: never commit what the client
 * did not receive.
 *
 * Three things are tracked per partition:
 * - the position: the next offset to hand out (moved by records handed to a response, by a seek,
 *   and back by a rewind); a manual assignment resumes there after a rejoin, and
 *   auto.offset.reset=none asks whether the client chose one;
 * - what the client received: the offset after the last record of a response that was written
 *   (a FetchResult's `delivered(count)`); this, and only this, is what commit-all, auto-commit and
 *   the commit on revocation may store;
 * - what this instance last committed, so auto-commit skips partitions that did not move.
 *
 * Records handed to a response count for nothing until the response is settled: the first `count`
 * are received, the rest are read again from the first one of each partition.
 *
 * Pure bookkeeping: no Kafka, no timers, so it is unit-tested alone (test/unit/offset-ledger.test.ts).
 */
import type { PartitionOffset, TopicPartition } from '../../core/ports.js';
import { tpKey } from './buffer.js';

type Located = TopicPartition & { offset: number };

/** One response's records, handed out and waiting to be settled. */
export interface HandOut {
  /**
   * The first `count` records reached the client; returns where to read the others again (the
   * first unreceived offset of each partition). Only the first call counts; later calls return [].
   */
  settle(count: number): PartitionOffset[];
}

export class OffsetLedger {
  private readonly positions = new Map<string, number>();
  private readonly received = new Map<string, PartitionOffset>();
  private readonly committedByUs = new Map<string, number>();
  /**
   * A response can be settled long after it was handed out (a slow reader's socket). A partition
   * revoked meanwhile (or a whole subscription replaced) is someone else's by then: its records
   * must not become committable here, or this instance's next commit would move the group's
   * offset back below what the new owner committed. Counters tell which hand-outs came before.
   */
  private changes = 0;
  private readonly revokedAt = new Map<string, number>();
  private resetAt = 0;

  /** The next offset to hand out of a partition, if this instance has one. */
  position(tp: TopicPartition): number | undefined {
    return this.positions.get(tpKey(tp.topic, tp.partition));
  }

  /** A position chosen for the client: a seek, a committed offset to start at, a rewind. */
  seek(tp: TopicPartition, offset: number): void {
    this.positions.set(tpKey(tp.topic, tp.partition), offset);
  }

  /** Records put in a response: the position moves past them; nothing is received yet. */
  handOut(records: readonly Located[]): HandOut {
    forLastOfEachRun(records, records.length, (r) => this.positions.set(tpKey(r.topic, r.partition), r.offset + 1));
    const handedOutAt = this.changes;
    let settled = false;
    return {
      settle: (count) => {
        if (settled) return [];
        settled = true;
        const n = Math.min(Math.max(0, Math.floor(Number.isFinite(count) ? count : 0)), records.length);
        if (this.resetAt > handedOutAt) return [];
        const stillOurs = (r: Located) => (this.revokedAt.get(tpKey(r.topic, r.partition)) ?? 0) <= handedOutAt;
        this.receive(records, n, stillOurs);
        return firstOfEachPartition(records.slice(n).filter(stillOurs));
      },
    };
  }

  /** What commit-all and auto-commit commit: received offsets this instance has not committed yet. */
  uncommitted(): PartitionOffset[] {
    return [...this.received.entries()]
      .filter(([key, o]) => this.committedByUs.get(key) !== o.offset)
      .map(([, o]) => ({ ...o }));
  }

  /** The group stored these (a commit of this instance, explicit or commit-all). */
  committed(offsets: readonly PartitionOffset[]): void {
    for (const o of offsets) this.committedByUs.set(tpKey(o.topic, o.partition), o.offset);
  }

  /**
   * Partitions this member lost in a rebalance: returns what the client received of them and this
   * instance has not committed (the commit on revocation), and forgets everything about them.
   */
  revoke(partitions: readonly TopicPartition[]): PartitionOffset[] {
    const pending: PartitionOffset[] = [];
    this.changes++;
    for (const p of partitions) {
      const key = tpKey(p.topic, p.partition);
      this.revokedAt.set(key, this.changes);
      const o = this.received.get(key);
      if (o !== undefined && this.committedByUs.get(key) !== o.offset) pending.push({ ...o });
      this.received.delete(key);
      this.committedByUs.delete(key);
      this.positions.delete(key);
    }
    return pending;
  }

  /** A new subscription or assignment (or none): nothing of the old one carries over. */
  reset(): void {
    this.resetAt = ++this.changes;
    this.revokedAt.clear();
    this.positions.clear();
    this.received.clear();
    this.committedByUs.clear();
  }

  /** The first `count` of `records` reached the client (those of partitions that are `stillOurs`). */
  private receive(records: readonly Located[], count: number, stillOurs: (r: Located) => boolean): void {
    forLastOfEachRun(records, count, (r) => {
      if (stillOurs(r))
        this.received.set(tpKey(r.topic, r.partition), {
          topic: r.topic,
          partition: r.partition,
          offset: r.offset + 1,
        });
    });
  }
}

/**
 * Calls `fn` for the last record of each run of one partition among the first `count` records:
 * within a partition offsets only grow, so that is the record that decides. A fetch hands out
 * records partition by partition, so this is a Map update per partition, not per record.
 */
function forLastOfEachRun(records: readonly Located[], count: number, fn: (r: Located) => void): void {
  for (let i = 0; i < count; i++) {
    const r = records[i]!;
    const next = i + 1 < count ? records[i + 1] : undefined;
    if (next !== undefined && next.partition === r.partition && next.topic === r.topic) continue;
    fn(r);
  }
}

function firstOfEachPartition(records: readonly Located[]): PartitionOffset[] {
  const first = new Map<string, PartitionOffset>();
  for (const r of records) {
    const key = tpKey(r.topic, r.partition);
    if (!first.has(key)) first.set(key, { topic: r.topic, partition: r.partition, offset: r.offset });
  }
  return [...first.values()];
}
