// The rule a stream must keep, checked without a broker: records count as received only once the
// socket took their events (the write's callback), never when they were merely fetched or queued.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import type { Request, Response } from 'express';
import type { ConsumedRecord, ConsumerInstance, FetchOptions, FetchResult } from '../../src/core/ports.js';
import { RecordStreams, type RenderedBatch } from '../../src/streaming/record-stream.js';
import { v2Renderer } from '../../src/streaming/render.js';

/** A response whose socket takes writes only when the test says so. */
class SlowSocketResponse extends EventEmitter {
  headersSent = false;
  locals: Record<string, unknown> = {};
  writableEnded = false;
  destroyed = false;
  writableNeedDrain = false;
  text = '';
  private pending: Array<(err?: Error | null) => void> = [];
  readonly chunks: Buffer[] = [];
  writeHead(): this {
    this.headersSent = true;
    return this;
  }
  write(chunk: string | Buffer, cb?: (err?: Error | null) => void): boolean {
    this.text += chunk.toString();
    if (Buffer.isBuffer(chunk)) this.chunks.push(chunk);
    if (cb !== undefined) this.pending.push(cb);
    return false;
  }
  /** The kernel took everything written so far. */
  flush(): void {
    const cbs = this.pending;
    this.pending = [];
    for (const cb of cbs) cb();
  }
  end(): this {
    this.writableEnded = true;
    this.emit('close');
    return this;
  }
  destroy(): this {
    this.destroyed = true;
    const cbs = this.pending;
    this.pending = [];
    for (const cb of cbs) cb(new Error('socket destroyed'));
    this.emit('close');
    return this;
  }
}

const record = (offset: number): ConsumedRecord => ({
  topic: 't',
  partition: 0,
  offset,
  key: null,
  value: Buffer.from(String(offset)),
  timestamp: 0,
  headers: [],
});

/** An instance with one batch (three records by default), then nothing; it records every settlement. */
function instanceWithOneBatch(
  settled: number[],
  batch: ConsumedRecord[] = [record(0), record(1), record(2)],
): ConsumerInstance {
  let given = false;
  return {
    group: 'g',
    name: 'i',
    format: 'binary',
    assignment: () => [{ topic: 't', partition: 0 }],
    fetch: async ({ signal, timeoutMs }: FetchOptions): Promise<FetchResult> => {
      if (!given) {
        given = true;
        return { records: batch, delivered: (n) => settled.push(n) };
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutMs);
        signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
      return { records: [], delivered: () => undefined };
    },
  } as unknown as ConsumerInstance;
}

/** Records' JSON texts as a renderer hands them over: back to back, with where each ends. */
function rendered(texts: string[]): RenderedBatch {
  const ends: number[] = [];
  let at = 0;
  for (const t of texts) ends.push((at += Buffer.byteLength(t)));
  return { body: Buffer.from(texts.join('')), ends };
}

function serve(
  res: SlowSocketResponse,
  instance: ConsumerInstance,
  render = async (records: ConsumedRecord[]) => rendered(records.map((r) => JSON.stringify({ offset: r.offset }))),
): Promise<void> {
  const streams = new RecordStreams({ heartbeatMs: 60_000, maxPerIdentity: 5, batchBytes: 1_000_000 });
  return streams.serve({
    req: { headers: {} } as Request,
    res: res as unknown as Response,
    instance,
    caller: 'c',
    keepAlive: () => undefined,
    render,
  });
}

const tick = () => new Promise((r) => setImmediate(r));

/** One stream with the real v2 json renderer, whose socket takes everything written; then the client leaves. */
async function serveAndClose(res: SlowSocketResponse, instance: ConsumerInstance): Promise<void> {
  const done = serve(res, instance, v2Renderer('json', false));
  await tick();
  await tick();
  res.flush();
  await tick();
  res.destroy();
  await done;
}

describe('streaming delivery', () => {
  it('counts a batch as received only when the socket took it', async () => {
    const settled: number[] = [];
    const res = new SlowSocketResponse();
    const done = serve(res, instanceWithOneBatch(settled));
    await tick();
    await tick();
    assert.match(res.text, /data: \{"offset":2\}/, 'the events were written');
    assert.deepEqual(settled, [], 'written but not taken by the socket: nothing received yet');
    res.flush();
    await tick();
    assert.deepEqual(settled, [3]);
    res.destroy();
    await done;
  });

  it('counts nothing when the connection goes before the socket took the batch', async () => {
    const settled: number[] = [];
    const res = new SlowSocketResponse();
    const done = serve(res, instanceWithOneBatch(settled));
    await tick();
    await tick();
    res.destroy();
    await done;
    assert.deepEqual(settled, [0], 'the records will be read again');
  });

  // The attack on issue 13: a batch whose text could not be built (V8's string limit) was never
  // settled, and the instance stayed jammed (v2 fetch answered [], a new stream only keep-alives).
  it('counts nothing and ends with one failure when writing a batch throws', async () => {
    const settled: number[] = [];
    const res = new SlowSocketResponse();
    let writes = 0;
    const write = res.write.bind(res);
    res.write = (chunk: string | Buffer, cb?: (err?: Error | null) => void) => {
      if (++writes === 2) throw new RangeError('Invalid string length');
      return write(chunk, cb);
    };
    await serve(res, instanceWithOneBatch(settled));
    assert.deepEqual(settled, [0], 'the batch is rewound, to be read again');
    assert.equal(res.text.match(/event: failure/g)?.length, 1);
  });

  it('counts nothing when building an event throws', async () => {
    const settled: number[] = [];
    const res = new SlowSocketResponse();
    const unbuildable = {
      subarray: () => {
        throw new RangeError('Array buffer allocation failed');
      },
    } as unknown as Buffer;
    await serve(res, instanceWithOneBatch(settled), async (records) => ({
      body: unbuildable,
      ends: records.map((_, i) => i + 1),
    }));
    assert.deepEqual(settled, [0], 'the batch is rewound, to be read again');
    assert.equal(res.text.match(/event: failure/g)?.length, 1);
  });

  it('writes a value with line breaks as one data line of the same size (they can only be whitespace in JSON)', async () => {
    const settled: number[] = [];
    const res = new SlowSocketResponse();
    const value = Buffer.from('[1,\n2\r\n,3\r]');
    const lineFeeds = { ...record(1), value: Buffer.from('0' + '\n'.repeat(10_000_000)) };
    await serveAndClose(res, instanceWithOneBatch(settled, [{ ...record(0), value }, lineFeeds]));
    const data = [...res.text.matchAll(/^data: (.*)$/gm)].map((m) => m[1]!);
    assert.equal(data.length, 2, 'one data line per event');
    assert.deepEqual(JSON.parse(data[0]!).value, [1, 2, 3]);
    assert.equal(data[0]!.length, `{"topic":"t","key":null,"value":,"partition":0,"offset":0}`.length + value.length);
    assert.ok(res.text.length < 10_100_000, `${res.text.length} characters for a 10 MB record`);
    assert.deepEqual(settled, [2]);
  });

  it('hands the socket chunks sized to the events, not a 64 KiB buffer per one-record batch', async () => {
    const settled: number[] = [];
    const res = new SlowSocketResponse();
    await serveAndClose(res, instanceWithOneBatch(settled, [record(0)]));
    assert.equal(res.chunks.length, 1);
    assert.ok(
      res.chunks[0]!.buffer.byteLength <= 8192,
      `the chunk keeps ${res.chunks[0]!.buffer.byteLength} bytes alive`,
    );
  });
  it('a partition that left the instance and came back is not rewound to where this stream first read it', async () => {
    // Stream 1 reads t-1 (offsets 0–2); t-1 then goes to another member, which reads and commits
    // it; stream 2 (a reconnect) delivers a t-0 event, whose id no longer names t-1; t-1 comes
    // back (at the group's commit); stream 3 resumes from that id and must leave t-1 alone.
    const seeks: Array<{ partition: number; offset: number }> = [];
    let assigned = [0, 1];
    // What the instance has ready for the next stream's fetch.
    let ready: ConsumedRecord[] | undefined = [0, 1, 2].map((offset) => ({ ...record(offset), partition: 1 }));
    const instance = {
      group: 'g',
      name: 'i',
      format: 'binary',
      assignment: () => assigned.map((partition) => ({ topic: 't', partition })),
      seek: async (offsets: Array<{ partition: number; offset: number }>) => {
        seeks.push(...offsets.map(({ partition, offset }) => ({ partition, offset })));
      },
      fetch: async ({ signal, timeoutMs }: FetchOptions): Promise<FetchResult> => {
        const batch = ready;
        ready = undefined;
        if (batch !== undefined) return { records: batch, delivered: () => undefined };
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, timeoutMs);
          signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
        });
        return { records: [], delivered: () => undefined };
      },
    } as unknown as ConsumerInstance;
    const streams = new RecordStreams({ heartbeatMs: 60_000, maxPerIdentity: 5, batchBytes: 1_000_000 });
    const stream = async (lastEventId?: string): Promise<string> => {
      const res = new SlowSocketResponse();
      const headers = lastEventId === undefined ? {} : { 'last-event-id': lastEventId };
      const done = streams.serve({
        req: { headers } as unknown as Request,
        res: res as unknown as Response,
        instance,
        caller: 'c',
        keepAlive: () => undefined,
        render: async (records) => rendered(records.map((r) => JSON.stringify({ offset: r.offset }))),
      });
      for (let k = 0; k < 4; k++) await tick();
      res.flush();
      await tick();
      res.destroy();
      await done;
      return [...res.text.matchAll(/^id: (.*)$/gm)].map((m) => m[1]!).pop() ?? '';
    };
    const first = await stream();
    assert.equal(first, 't@1=3');
    assigned = [0];
    ready = [{ ...record(0), partition: 0 }];
    const second = await stream(first);
    assert.equal(second, 't@0=1', 'the id names only partitions the instance holds');
    assigned = [0, 1];
    seeks.length = 0;
    await stream(second);
    assert.deepEqual(seeks, [{ partition: 0, offset: 1 }], "t-1 is left at the group's position");
  });
});
