/**
 * The `id` of a record event: the positions the client has received so far, per partition the
 * next offset to read, in a compact text that an `EventSource` hands back as `Last-Event-ID`
 * when it reconnects, so the stream resumes exactly after the last event the client got.
 *
 *   orders@0=42,3=7|payments@1=100
 *
 * Topic names cannot contain `@`, `=`, `,` or `|` (Kafka allows letters, digits, `.`, `_`, `-`),
 * so the text needs no escaping. A topic name longer than LONG_TOPIC characters is written as
 * `~` and 11 characters of its SHA-256 (base64url): every event repeats the id, and 70 topics of
 * 240 characters made ids of 17 KB (past node's header limit, so they could not come back). On
 * resume such a token names the assigned topic with that hash; a token that names none is
 * dropped like any partition the instance is not assigned. The header is untrusted input: it is
 * parsed strictly and bounded, and anything else is a 400.
 */
import { createHash } from 'node:crypto';
import { Errors } from '../core/errors.js';
import type { PartitionOffset } from '../core/ports.js';

const TOPIC = /^(?:[a-zA-Z0-9._-]{1,249}|~[A-Za-z0-9_-]{11})$/;
/** Topic names up to this length are written as they are. */
const LONG_TOPIC = 24;

/** How a topic is named in an event id: itself, or `~hash` when it is long. */
export function topicToken(topic: string): string {
  if (topic.length <= LONG_TOPIC) return topic;
  return '~' + createHash('sha256').update(topic).digest('base64url').slice(0, 11);
}

/**
 * The decoded positions with each topic token replaced by the topic it names among `topics`
 * (the instance's assignment); positions of tokens that name none of them are dropped.
 */
export function resolveTopics(positions: Positions, topics: Iterable<string>): Positions {
  const byToken = new Map<string, string>();
  for (const topic of topics) byToken.set(topicToken(topic), topic);
  const out: Positions = new Map();
  for (const [token, partitions] of positions) {
    const topic = byToken.get(token);
    if (topic !== undefined) out.set(topic, partitions);
  }
  return out;
}
const NUMBER = /^(?:0|[1-9]\d{0,15})$/;
/** Longest id accepted back (about a thousand partitions). */
export const MAX_EVENT_ID_LENGTH = 16 * 1024;

/** Positions by topic, then partition: the next offset of each. */
export type Positions = Map<string, Map<number, number>>;

/** Parses a `Last-Event-ID`; throws 400 naming the header for anything this file did not write. */
export function decodePositions(text: string): Positions {
  const invalid = () =>
    Errors.badRequest('Last-Event-ID is not an event id of this stream (expected topic@partition=offset,…|…).');
  if (text.length > MAX_EVENT_ID_LENGTH) throw invalid();
  const positions: Positions = new Map();
  if (text === '') return positions;
  for (const entry of text.split('|')) {
    const at = entry.indexOf('@');
    const topic = entry.slice(0, at);
    if (at < 0 || !TOPIC.test(topic) || positions.has(topic)) throw invalid();
    const partitions = new Map<number, number>();
    for (const pair of entry.slice(at + 1).split(',')) {
      const [p, o, extra] = pair.split('=');
      if (extra !== undefined || p === undefined || o === undefined || !NUMBER.test(p) || !NUMBER.test(o)) {
        throw invalid();
      }
      const partition = Number(p);
      const offset = Number(o);
      if (partition > 2_147_483_647 || !Number.isSafeInteger(offset) || partitions.has(partition)) throw invalid();
      partitions.set(partition, offset);
    }
    positions.set(topic, partitions);
  }
  return positions;
}

export function positionList(positions: Positions): PartitionOffset[] {
  const out: PartitionOffset[] = [];
  for (const [topic, partitions] of positions) {
    for (const [partition, offset] of partitions) out.push({ topic, partition, offset });
  }
  return out;
}

/**
 * The positions of one stream, advanced record by record; each advance returns the event id.
 * Only the advanced topic's part is re-encoded (a stream writes an id per record).
 */
export class PositionTracker {
  private readonly segments = new Map<string, string>();
  /** Each topic's token, hashed once per stream rather than once per event (long names). */
  private readonly tokens = new Map<string, string>();

  constructor(readonly positions: Positions = new Map()) {
    for (const topic of positions.keys()) this.segments.set(topic, this.segment(topic));
  }

  /** Whether the stream has delivered (or resumed with) a position of this partition. */
  has(topic: string, partition: number): boolean {
    return this.positions.get(topic)?.has(partition) ?? false;
  }

  advance(topic: string, partition: number, next: number): string {
    let partitions = this.positions.get(topic);
    if (partitions === undefined) this.positions.set(topic, (partitions = new Map()));
    partitions.set(partition, next);
    this.segments.set(topic, this.segment(topic));
    if (this.segments.size === 1) return this.segments.get(topic)!;
    return [...this.segments.values()].join('|');
  }

  private segment(topic: string): string {
    let token = this.tokens.get(topic);
    if (token === undefined) this.tokens.set(topic, (token = topicToken(topic)));
    let text = `${token}@`;
    let first = true;
    for (const [p, o] of this.positions.get(topic)!) {
      text += first ? `${p}=${o}` : `,${p}=${o}`;
      first = false;
    }
    return text;
  }
}
