/**
 * Streaming consume: `GET …/instances/{instance}/records` with `Accept: text/event-stream` keeps
 * the response open and sends every record as a Server-Sent Event, as it arrives.
 *
 * - `data:` is the record exactly as the v2 fetch renders it for the instance's format (the route
 *   hands in its renderer); `id:` is the positions received so far (event-id.ts), so an
 *   `EventSource` that reconnects with `Last-Event-ID` resumes right after the last event it got,
 *   on any replica (the request is forwarded to the instance's owner like any other).
 * - Delivery is counted as the v2 fetch counts it: a batch's records are `delivered` only once
 *   the batch was written to the socket (the write's callback), so auto-commit and commit-all never
 *   pass what was written. One batch is in flight at a time: a slow reader stops the fetching,
 *   the instance's read-ahead fills and its partitions pause; memory stays at one batch.
 * - Comments (`: keep-alive`) every STREAM_HEARTBEAT_MS keep proxies from closing idle streams.
 * - At most STREAM_MAX_PER_IDENTITY open streams per caller (429 beyond); a new stream on an
 *   instance replaces the one already open on it (the client reconnected).
 * - A failure before the first byte is an ordinary HTTP error (an `EventSource` then gives up
 *   instead of reconnecting in a loop); after it, one `event: failure` with the error's JSON and
 *   the stream ends.
 */
import type { Request, Response } from 'express';
import { ByteWriter } from '../core/byte-writer.js';
import { Errors, GatewayError } from '../core/errors.js';
import type { ConsumedRecord, ConsumerInstance, FetchResult, PartitionOffset } from '../core/ports.js';
import { parseAccept } from '../http/negotiation.js';
import { AuthFailure } from '../policy/auth/jwt.js';
import { unauthorized } from '../policy/auth/middleware.js';
import { identityOf } from '../policy/identity.js';
import { PositionTracker, decodePositions, positionList, resolveTopics, type Positions } from './event-id.js';

export const EVENT_STREAM = 'text/event-stream';

export interface StreamSettings {
  /** Period of keep-alive comments (STREAM_HEARTBEAT_MS). */
  heartbeatMs: number;
  /** Open streams per caller on this replica (STREAM_MAX_PER_IDENTITY). */
  maxPerIdentity: number;
  /** Raw key+value bytes of one batch written at a time (also capped by the request's max_bytes). */
  batchBytes: number;
  /** How long a resume waits for the instance's partitions after a rebalance. */
  assignmentWaitMs?: number;
  /** Reconnection delay suggested to the client (`retry:`). */
  retryMs?: number;
  logger?: { warn: (fields: object, message: string) => void };
}

/**
 * A batch's rendering: each record's JSON object, back to back in `body` (record i ends at
 * `ends[i]`), for a prefix of the batch; `failure` says why it stopped early (40801), if it did.
 */
export interface RenderedBatch {
  body: Buffer;
  ends: number[];
  failure?: GatewayError;
}

export interface StreamRequest {
  req: Request;
  res: Response;
  instance: ConsumerInstance;
  /** Whom the per-caller limit counts (the principal, or an anonymous caller's address). */
  caller: string;
  /** max_bytes of the request (already capped); undefined = the stream's batch size. */
  maxBytes?: number;
  /** The v2 fetch's renderer for this instance: one text per record, in order. */
  render: (records: ConsumedRecord[]) => Promise<RenderedBatch>;
  /** Refreshes the instance's idle timer; throws (40403) when the instance is gone. */
  keepAlive: () => void;
}

interface OpenStream {
  stop(): Promise<void>;
}

/** What a stream on an instance started from: where each partition's first event was read. */
interface Lineage {
  origins: Map<string, PartitionOffset>;
  open?: OpenStream;
  /** Streams started on the instance; only the newest may read (two reconnecting at once: the later wins). */
  generation: number;
}

const key = (topic: string, partition: number) => `${partition}:${topic}`;

export class RecordStreams {
  private readonly perCaller = new Map<string, number>();
  private readonly lineages = new WeakMap<ConsumerInstance, Lineage>();
  private total = 0;

  constructor(private readonly settings: StreamSettings) {}

  /** Open streams on this replica. */
  get open(): number {
    return this.total;
  }

  /** Whether the client asked for an event stream (a `text/event-stream` range with q > 0). */
  static wanted(accept: string | undefined): boolean {
    return parseAccept(accept).some((m) => m.essence === EVENT_STREAM && m.q > 0);
  }

  /** Serves one stream until the client leaves, the instance goes, or a failure ends it. */
  async serve(s: StreamRequest): Promise<void> {
    const lastEventId = s.req.headers['last-event-id'];
    const resumeFrom = typeof lastEventId === 'string' ? decodePositions(lastEventId.trim()) : undefined;

    let lineage = this.lineages.get(s.instance);
    if (lineage === undefined) this.lineages.set(s.instance, (lineage = { origins: new Map(), generation: 0 }));
    const generation = ++lineage.generation;
    // A reconnect replaces the stream still open on the instance (its write may hang on a dead
    // socket); it is stopped and settled first, so its rewind cannot undo the resume's seek.
    await lineage.open?.stop();
    if (lineage.generation !== generation) throw replaced();

    const count = this.perCaller.get(s.caller) ?? 0;
    if (count >= this.settings.maxPerIdentity) throw Errors.tooManyStreams(this.settings.maxPerIdentity);
    this.perCaller.set(s.caller, count + 1);
    this.total++;
    try {
      let resumed: Positions | undefined;
      if (resumeFrom === undefined) lineage.origins = new Map();
      else resumed = await this.resume(s.instance, lineage, resumeFrom);
      if (lineage.generation !== generation) throw replaced();
      await this.run(s, lineage, new PositionTracker(resumed), generation);
    } finally {
      this.total--;
      const left = (this.perCaller.get(s.caller) ?? 1) - 1;
      if (left <= 0) this.perCaller.delete(s.caller);
      else this.perCaller.set(s.caller, left);
    }
  }

  /**
   * Seeks the instance to where the client is: the event id's positions, and for partitions the
   * client had no event of yet, where this stream lineage first read them (their events after the
   * id's event were lost with the connection).
   *
   * Returns the id's positions of the partitions this instance is assigned: only those are carried
   * on in the stream's ids. Entries for anything else (made up, or partitions another member owns
   * now) are dropped, never echoed back, so a forged Last-Event-ID cannot inflate every event.
   */
  private async resume(instance: ConsumerInstance, lineage: Lineage, fromId: Positions): Promise<Positions> {
    const kept: Positions = new Map();
    if (lineage.origins.size === 0 && fromId.size === 0) return kept;
    // A subscribed instance that is (re)joining its group has no partitions for a moment.
    const deadline = Date.now() + (this.settings.assignmentWaitMs ?? 10_000);
    let assigned = instance.assignment();
    while (assigned.length === 0 && Date.now() < deadline) {
      await delay(50);
      assigned = instance.assignment();
    }
    const positions = resolveTopics(fromId, new Set(assigned.map((p) => p.topic)));
    const wanted = new Map<string, PartitionOffset>();
    for (const o of lineage.origins.values()) wanted.set(key(o.topic, o.partition), o);
    for (const o of positionList(positions)) wanted.set(key(o.topic, o.partition), o);
    // Partitions another member owns now are that member's: its reader resumes from the group's
    // commits. They leave this lineage too: should one come back, it starts at the group's
    // position, not where this stream first read it long ago (records another member processed).
    const mine = new Set(assigned.map((p) => key(p.topic, p.partition)));
    for (const k of [...lineage.origins.keys()]) if (!mine.has(k)) lineage.origins.delete(k);
    const seeks = [...wanted.entries()].filter(([k]) => mine.has(k)).map(([, o]) => o);
    if (seeks.length > 0) await instance.seek(seeks);
    for (const o of positionList(positions)) {
      if (!mine.has(key(o.topic, o.partition))) continue;
      let partitions = kept.get(o.topic);
      if (partitions === undefined) kept.set(o.topic, (partitions = new Map()));
      partitions.set(o.partition, o.offset);
    }
    return kept;
  }

  private async run(s: StreamRequest, lineage: Lineage, positions: PositionTracker, generation: number): Promise<void> {
    const { res, instance } = s;
    const abort = new AbortController();
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    const open: OpenStream = {
      stop: async () => {
        abort.abort();
        if (!res.writableEnded) res.destroy();
        await done;
      },
    };
    lineage.open = open;
    const closed = () => abort.abort();
    res.once('close', closed);
    let heartbeat: NodeJS.Timeout | undefined;
    // When the caller's credential stops being valid (a JWT's exp), the stream ends with one 40101,
    // as a v3 produce stream does: nothing is delivered after it.
    const expiresAt = identityOf(res).expiresAt;
    const expiry =
      expiresAt === undefined
        ? undefined
        : setTimeout(
            () => {
              this.fail(res, expired());
              abort.abort();
              res.end();
            },
            Math.min(Math.max(0, expiresAt - Date.now()), 2_147_483_647),
          );
    // The first fetch takes what is ready (after the group join) so the stream opens at once;
    // an error there is still an HTTP answer.
    let wait = 0;
    const maxBytes = Math.max(1, Math.min(s.maxBytes ?? Infinity, this.settings.batchBytes));
    try {
      for (;;) {
        if (abort.signal.aborted || lineage.generation !== generation) return;
        if (expiresAt !== undefined && Date.now() >= expiresAt) throw expired();
        const started = Date.now();
        const waited = wait;
        wait = this.settings.heartbeatMs;
        let result: FetchResult;
        try {
          result = await instance.fetch({ timeoutMs: waited, maxBytes, signal: abort.signal });
        } catch (err) {
          throw this.stillThere(s, err);
        }
        const { records } = result;
        if (records.length === 0) {
          result.delivered(0);
          if (!res.headersSent) this.begin(res);
          heartbeat ??= this.heartbeat(s, abort);
          // A closing instance answers at once: do not spin on it.
          if (waited > 0 && Date.now() - started < 5 && !abort.signal.aborted) await delay(50);
          continue;
        }
        // Whatever throws while the batch is rendered or written, it is settled: only the events
        // the socket took count as received, the rest is read again (an unsettled batch would
        // hold the instance's partitions forever).
        let taken = 0;
        let batch: RenderedBatch;
        let written: boolean;
        try {
          batch = await s.render(records);
          if (batch.ends.length === 0) throw batch.failure ?? Errors.internal();
          if (!res.headersSent) this.begin(res);
          heartbeat ??= this.heartbeat(s, abort);
          written = await this.writeEvents(res, records, batch, positions, lineage, (n) => (taken = n));
        } finally {
          result.delivered(taken);
        }
        if (!written) return;
        if (batch.failure !== undefined) throw batch.failure;
      }
    } catch (err) {
      if (!res.headersSent) throw err;
      if (!abort.signal.aborted) this.fail(res, err);
    } finally {
      clearInterval(heartbeat);
      clearTimeout(expiry);
      res.off('close', closed);
      if (lineage.open === open) lineage.open = undefined;
      if (res.headersSent && !res.writableEnded) res.end();
      finished();
    }
  }

  /** The error to report for a failed fetch: 40403 when the instance itself was deleted meanwhile. */
  private stillThere(s: StreamRequest, err: unknown): unknown {
    try {
      s.keepAlive();
    } catch (gone) {
      return gone;
    }
    return err;
  }

  private begin(res: Response): void {
    res.writeHead(200, {
      'Content-Type': EVENT_STREAM,
      'Cache-Control': 'no-cache, no-transform',
      // nginx: pass events on at once even where proxy_buffering is on.
      'X-Accel-Buffering': 'no',
    });
    res.write(`retry: ${this.settings.retryMs ?? 1000}\n\n`);
  }

  private heartbeat(s: StreamRequest, abort: AbortController): NodeJS.Timeout {
    const timer = setInterval(() => {
      try {
        s.keepAlive();
      } catch (err) {
        this.fail(s.res, err);
        abort.abort();
        s.res.end();
        return;
      }
      // A reader that does not keep up needs no comments: the socket is busy already.
      if (!s.res.writableNeedDrain) s.res.write(': keep-alive\n\n');
    }, this.settings.heartbeatMs);
    timer.unref();
    return timer;
  }

  /**
   * Writes one event per rendered record, in chunks of about EVENT_CHUNK_BYTES (a batch is never
   * one giant write); `taken` reports how many events the socket has taken so far. False when
   * the connection went first. Records the renderer did not reach are left untaken (read again).
   */
  private async writeEvents(
    res: Response,
    records: ConsumedRecord[],
    { body, ends }: RenderedBatch,
    positions: PositionTracker,
    lineage: Lineage,
    taken: (n: number) => void,
  ): Promise<boolean> {
    // Sized to the batch: a one-record batch (a trickling topic) takes a buffer of its size.
    const out = new ByteWriter(Math.min(EVENT_CHUNK_BYTES + 4096, body.length + ends.length * 64 + 64));
    let start = 0;
    for (let i = 0; i < ends.length; i++) {
      const r = records[i]!;
      if (!positions.has(r.topic, r.partition)) {
        const k = key(r.topic, r.partition);
        if (!lineage.origins.has(k))
          lineage.origins.set(k, { topic: r.topic, partition: r.partition, offset: r.offset });
      }
      // Event ids are ASCII (event-id.ts: Kafka topic characters, or a base64url hash).
      out.ascii(`id: ${positions.advance(r.topic, r.partition, r.offset + 1)}\ndata: `);
      writeData(out, body.subarray(start, ends[i]));
      out.ascii('\n\n');
      start = ends[i]!;
      const built = i + 1;
      if (out.length >= EVENT_CHUNK_BYTES || built === ends.length) {
        if (!(await write(res, out.take()))) return false;
        taken(built);
      }
    }
    return true;
  }

  private fail(res: Response, err: unknown): void {
    if (res.writableEnded || res.destroyed) return;
    const e = err instanceof GatewayError ? err : undefined;
    if (e === undefined) this.settings.logger?.warn({ err }, 'event stream failed');
    const body = e === undefined ? { error_code: 500, message: 'Internal Server Error' } : errorBody(e);
    res.write(`event: failure\ndata: ${JSON.stringify(body)}\n\n`);
  }
}

/** The caller's token expired while the stream was open (401 40101, as a v3 produce stream reports it). */
function expired(): GatewayError {
  return unauthorized(new AuthFailure('The access token expired.', 'invalid_token'));
}

/** A stream request overtaken by a newer one on the same instance before it started (409 40903). */
function replaced(): GatewayError {
  return Errors.illegalState('a newer event stream on this consumer instance replaced this one');
}

function errorBody(e: GatewayError): Record<string, unknown> {
  const body: Record<string, unknown> = { error_code: e.errorCode, message: e.message };
  if (e.details.validationErrors !== undefined) body.validation_errors = e.details.validationErrors;
  return body;
}

/**
 * An event's data is one line: a record's JSON can hold line breaks only as whitespace between
 * tokens (inside strings they are escaped), so each becomes a space — the same JSON value, the same
 * size. Splitting them into `data:` lines instead made a value of many line feeds 7× larger as an
 * event and, as a string, stalled the event loop for seconds.
 */
function writeData(out: ByteWriter, json: Buffer): void {
  const start = out.length;
  out.bytes(json);
  if (json.indexOf(0x0a) < 0 && json.indexOf(0x0d) < 0) return;
  const written = out.view(start);
  for (let i = 0; i < written.length; i++) if (written[i] === 0x0a || written[i] === 0x0d) written[i] = 0x20;
}

/** Resolves true once `chunk` was handed to the socket, false when the connection went first. */
function write(res: Response, chunk: Buffer): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return Promise.resolve(false);
  return new Promise((resolve) => {
    const gone = () => resolve(false);
    res.once('close', gone);
    try {
      res.write(chunk, (err) => {
        res.off('close', gone);
        resolve(err === undefined || err === null);
      });
    } catch (err) {
      res.off('close', gone);
      throw err;
    }
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Largest write handed to the socket at once (events are joined up to about this size). */
const EVENT_CHUNK_BYTES = 64 * 1024;

/** Raw bytes of one batch of events: small enough that a stalled reader holds little, large enough to stream fast. */
export const STREAM_BATCH_BYTES = 1024 * 1024;
