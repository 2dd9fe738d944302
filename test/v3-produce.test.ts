// v3 produce as clients use it: one record per request, several concatenated, or one long-lived
// chunked stream of many — one report per record, in order, each checked against what Kafka
// stored; a bad record fails alone and nothing of it reaches Kafka.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import type { RunningGateway } from '../src/gateway.js';
import { startTestGateway } from './support/gateway.js';
import { closeAdmin, createTopic, readRecords, recordCount, uniqueName } from './support/kafka.js';
import { ProduceStream, clusterIdOf, produceText, reportsOf } from './support/v3.js';

let gw: RunningGateway;
let cluster: string;
let dir: string;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'v3-produce-'));
  const topics = path.join(dir, 'topics.yaml');
  fs.writeFileSync(
    topics,
    'topics:\n  - pattern: "v3guarded-.*"\n    valueSchema: { type: object, required: [heartrate], properties: { heartrate: { type: integer, maximum: 250 } } }\n',
  );
  gw = await startTestGateway({ TOPICS_CONFIG: topics });
  cluster = await clusterIdOf(gw.url);
});
after(async () => {
  await gw?.close();
  await closeAdmin();
  fs.rmSync(dir, { recursive: true, force: true });
});

const recordsPath = (topic: string, c = cluster) => `/v3/clusters/${c}/topics/${topic}/records`;
const send = (base: string, path: string, init: { body: string; headers?: Record<string, string> }) =>
  produceText(`${base}${path}`, init.body, init.headers);

describe('v3 produce', () => {
  it('BINARY, JSON and STRING keys and values, headers, partition and timestamp land byte-faithfully; the report says where', async () => {
    const topic = await createTopic(3);
    const body = [
      {
        partition_id: 2,
        key: { type: 'STRING', data: 'device-7' },
        value: { type: 'JSON', data: { heartrate: 72, id: 'ID', temp: 'TEMP' } },
        headers: [{ name: 'trace', value: Buffer.from('abc').toString('base64') }],
        timestamp: '2026-01-02T03:04:05.678Z',
      },
      { value: { type: 'BINARY', data: Buffer.from([0, 1, 2, 255]).toString('base64') }, partition_id: 0 },
      { key: { type: 'BINARY', data: 'AQID' }, value: { type: 'STRING', data: 'héllo' }, partition_id: 1 },
    ]
      .map((r) => JSON.stringify(r))
      .join('')
      // Numbers JavaScript would print differently (a 64-bit id, 36.0), as a client wrote them.
      .replace('"ID"', '1150000000000000001')
      .replace('"TEMP"', '36.0');
    const res = await send(gw.url, recordsPath(topic), { body });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.ok(res.text.endsWith('\r\n'));
    const reports = reportsOf(res.text);
    assert.equal(reports.length, 3);
    assert.deepEqual(reports[0], {
      error_code: 200,
      cluster_id: cluster,
      topic_name: topic,
      partition_id: 2,
      offset: 0,
      timestamp: '2026-01-02T03:04:05.678Z',
      key: { type: 'STRING', size: 8 },
      value: { type: 'JSON', size: Buffer.byteLength('{"heartrate":72,"id":1150000000000000001,"temp":36.0}') },
    });
    assert.deepEqual(reports[1]!.value, { type: 'BINARY', size: 4 });
    assert.equal(reports[1]!.key, undefined);
    assert.deepEqual(reports[2]!.key, { type: 'BINARY', size: 3 });
    assert.deepEqual(reports[2]!.value, { type: 'STRING', size: Buffer.byteLength('héllo') });

    const stored = await readRecords(topic, 3);
    const [p0, p1, p2] = stored;
    assert.equal(p2!.partition, 2);
    assert.equal(p2!.key!.toString(), 'device-7');
    assert.equal(p2!.value!.toString(), '{"heartrate":72,"id":1150000000000000001,"temp":36.0}');
    assert.equal(p2!.headers!.trace!.toString(), 'abc');
    assert.equal(p2!.timestamp, String(Date.parse('2026-01-02T03:04:05.678Z')));
    assert.deepEqual([...p0!.value!], [0, 1, 2, 255]);
    assert.equal(p0!.key, null);
    assert.deepEqual([...p1!.key!], [1, 2, 3]);
    assert.equal(p1!.value!.toString(), 'héllo');
    // Without a timestamp the report's is the one Kafka stored.
    assert.equal(String(Date.parse(reports[1]!.timestamp as string)), p0!.timestamp);
  });

  it('{} is a record with null key and value: a report without key or value', async () => {
    const topic = await createTopic(1);
    const res = await send(gw.url, recordsPath(topic), { body: '{}' });
    assert.equal(res.status, 200);
    const [r] = reportsOf(res.text);
    assert.equal(r!.error_code, 200);
    assert.ok(!('key' in r!) && !('value' in r!));
    const [stored] = await readRecords(topic, 1);
    assert.equal(stored!.key, null);
    assert.equal(stored!.value, null);
  });

  it('a bad record fails alone, in its place; the others land', async () => {
    const topic = await createTopic(1);
    const body =
      '{"value":{"type":"STRING","data":"a"}}\n{"value":{"type":"BINARY","data":1}}\n{"value":{"type":"STRING","data":"c"}}' +
      '{"partition_id":-1,"value":{"type":"STRING","data":"x"}}{"partition_id":7,"value":{"type":"STRING","data":"x"}}' +
      '{"value":{"type":"STRING","data":5}}{"value":{"type":"TEXT","data":"x"}}{"valeu":{"type":"STRING","data":"x"}}' +
      '{"value":{"type":"AVRO","data":"x"}}{"value":{"type":"JSON","data":"d"}}';
    const res = await send(gw.url, recordsPath(topic), { body });
    assert.equal(res.status, 200);
    const reports = reportsOf(res.text);
    assert.deepEqual(
      reports.map((r) => r.error_code),
      [200, 400, 200, 40402, 40402, 400, 400, 400, 42206, 200],
    );
    assert.deepEqual(reports[1], { error_code: 400, message: 'Bad Request: data=1 is not a base64 string.' });
    assert.deepEqual(reports[3], { error_code: 40402, message: 'Partition not found.' });
    assert.deepEqual(
      reports.filter((r) => r.error_code === 200).map((r) => r.offset),
      [0, 1, 2],
    );
    const stored = await readRecords(topic, 3);
    assert.deepEqual(
      stored.map((r) => r.value!.toString()),
      ['a', 'c', '"d"'],
    );
  });

  it("a record that fails its topic's JSON Schema or the JSON limits is 42206 in its place, nothing of it stored", async () => {
    const topic = await createTopic(1, uniqueName('v3guarded'));
    const rec = (data: unknown) => JSON.stringify({ value: { type: 'JSON', data } });
    const deep = JSON.parse('['.repeat(40) + ']'.repeat(40)) as unknown;
    const res = await send(gw.url, recordsPath(topic), {
      body:
        rec({ heartrate: 72 }) +
        rec({ heartrate: 400 }) +
        rec({ heartrate: 'fast' }) +
        rec(deep) +
        rec({ heartrate: 80 }),
    });
    const reports = reportsOf(res.text);
    assert.deepEqual(
      reports.map((r) => r.error_code),
      [200, 42206, 42206, 42206, 200],
    );
    assert.match(reports[1]!.message as string, /value\/heartrate: must be <= 250/);
    assert.equal(await recordCount(topic), 2);
  });

  it('malformed JSON ends the stream after reporting the records before it', async () => {
    const topic = await createTopic(1);
    const res = await send(gw.url, recordsPath(topic), {
      body: '{"value":{"type":"STRING","data":"a"}} [1] {"value":{"type":"STRING","data":"never"}}',
    });
    assert.equal(res.status, 200);
    const reports = reportsOf(res.text);
    assert.equal(reports.length, 2);
    assert.equal(reports[0]!.error_code, 200);
    assert.equal(reports[1]!.error_code, 400);
    assert.match(reports[1]!.message as string, /^Bad Request: Error processing JSON/);
    assert.equal(await recordCount(topic), 1);

    // When nothing could be read at all, a plain 400 (nothing produced, no stream).
    for (const body of ['[{"value":{"type":"STRING","data":"x"}}]', '{"value":{"type":"STRING"']) {
      const whole = await send(gw.url, recordsPath(topic), { body });
      assert.equal(whole.status, 400, body);
      assert.match(JSON.parse(whole.text).message, /^Bad Request: Error processing JSON/);
    }

    const cut = await send(gw.url, recordsPath(topic), { body: '{"value":{"type":"STRING","data":"b"}}{"value":' });
    assert.deepEqual(
      reportsOf(cut.text).map((r) => r.error_code),
      [200, 400],
    );
  });

  it('before the stream starts: 415 not JSON, 422 empty body, 404 40403 unknown topic — nothing produced', async () => {
    const topic = await createTopic(1);
    const text = await send(gw.url, recordsPath(topic), { body: '{}', headers: { 'content-type': 'text/plain' } });
    assert.equal(text.status, 415);
    assert.deepEqual(JSON.parse(text.text), { error_code: 415, message: 'HTTP 415 Unsupported Media Type' });
    const empty = await produceText(`${gw.url}${recordsPath(topic)}`, '  \n');
    assert.equal(empty.status, 422);
    assert.equal(JSON.parse(empty.text).error_code, 42206);
    const unknown = await send(gw.url, recordsPath(uniqueName('v3nothere')), { body: '{}' });
    assert.equal(unknown.status, 404);
    assert.deepEqual(JSON.parse(unknown.text), {
      error_code: 40403,
      message: 'This server does not host this topic-partition.',
    });
    assert.equal(await recordCount(topic), 0);
  });

  it('a gzip (or deflate, br) body is inflated as it streams; a broken one is 400, an unknown coding 415', async () => {
    const topic = await createTopic(1);
    const body = ['a', 'b', 'c'].map((d) => JSON.stringify({ value: { type: 'STRING', data: d } })).join('\n');
    const url = `${gw.url}${recordsPath(topic)}`;
    for (const [coding, bytes] of [
      ['gzip', zlib.gzipSync(body)],
      ['br', zlib.brotliCompressSync(body)],
    ] as const) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': coding },
        body: bytes,
      });
      assert.equal(res.status, 200, coding);
      assert.deepEqual(
        reportsOf(await res.text()).map((r) => r.error_code),
        [200, 200, 200],
      );
    }
    const broken = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: Buffer.from('not gzip at all'),
    });
    assert.equal(broken.status, 400);
    const unknown = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'zstd' },
      body: Buffer.from(body),
    });
    assert.equal(unknown.status, 415);
    const stored = await readRecords(topic, 6);
    assert.deepEqual(
      stored.map((r) => r.value!.toString()),
      ['a', 'b', 'c', 'a', 'b', 'c'],
    );
  });

  it('the cluster id is echoed, not checked (as Confluent)', async () => {
    const topic = await createTopic(1);
    const res = await send(gw.url, recordsPath(topic, 'any-cluster'), { body: '{}' });
    assert.equal(reportsOf(res.text)[0]!.cluster_id, 'any-cluster');
  });

  it('streams: each report arrives while the request is still open', async () => {
    const topic = await createTopic(1);
    const stream = new ProduceStream(`${gw.url}${recordsPath(topic)}`);
    for (let i = 0; i < 3; i++) {
      await stream.write(JSON.stringify({ value: { type: 'STRING', data: `r${i}` } }));
      const report = await stream.next(10_000);
      assert.equal(report?.error_code, 200);
      assert.equal(report?.offset, i);
    }
    assert.equal((await stream.response).statusCode, 200);
    stream.end();
    assert.equal(await stream.next(10_000), undefined, 'the answer ends after the body does');
  });

  it('100k records over one connection with a bad one in the middle: it alone fails, every later one lands, in order', async () => {
    const topic = await createTopic(1);
    const total = 100_000;
    const bad = 50_000;
    const stream = new ProduceStream(`${gw.url}${recordsPath(topic)}`);
    const reading = (async () => {
      const codes: number[] = [];
      let lastOffset = -1;
      let ordered = true;
      for (;;) {
        const r = await stream.next(60_000);
        if (r === undefined) break;
        codes.push(r.error_code as number);
        if (r.error_code === 200) {
          if ((r.offset as number) !== lastOffset + 1) ordered = false;
          lastOffset = r.offset as number;
        }
      }
      return { codes, ordered };
    })();
    const chunk = 1_000;
    for (let start = 0; start < total; start += chunk) {
      let text = '';
      for (let i = start; i < start + chunk; i++) {
        text +=
          i === bad
            ? '{"value":{"type":"BINARY","data":"not base64!"}}\n'
            : `{"key":{"type":"STRING","data":"k${i % 7}"},"value":{"type":"JSON","data":{"n":${i}}}}\n`;
      }
      await stream.write(text);
    }
    stream.end();
    const { codes, ordered } = await reading;
    assert.equal(codes.length, total);
    assert.equal(codes[bad], 400);
    assert.equal(codes.filter((c) => c === 200).length, total - 1);
    assert.ok(ordered, 'reports in input order, offsets consecutive');
    assert.equal(await recordCount(topic), total - 1);
    // The records after the bad one are in Kafka, in order: the last one is n = total - 1.
    const tail = await readTail(topic, total - 2); // offset of the last record (one record failed)
    assert.equal(JSON.parse(tail.toString()).n, total - 1);
  });
});

describe('v3 produce limits', () => {
  it('the produce quota answers 429 in-stream for the records over it; the stream goes on', async () => {
    const limited = await startTestGateway({ QUOTA_RECORDS_PER_SEC: '2' });
    try {
      const topic = await createTopic(1);
      const body = Array.from({ length: 6 }, (_, i) =>
        JSON.stringify({ value: { type: 'STRING', data: `q${i}` } }),
      ).join('');
      const res = await send(limited.url, recordsPath(topic), { body });
      assert.equal(res.status, 200);
      const reports = reportsOf(res.text);
      assert.equal(reports.length, 6);
      const refused = reports.filter((r) => r.error_code === 429);
      assert.ok(refused.length >= 2, `some records refused: ${JSON.stringify(reports)}`);
      assert.match(refused[0]!.message as string, /Record quota of 2 per second exceeded/);
      assert.equal(await recordCount(topic), 6 - refused.length);
    } finally {
      await limited.close();
    }
  });

  it('a stream older than V3_STREAM_MAX_DURATION_MS gets one 408 report and ends', async () => {
    const short = await startTestGateway({ V3_STREAM_MAX_DURATION_MS: '1500' });
    try {
      const topic = await createTopic(1);
      const stream = new ProduceStream(`${short.url}${recordsPath(topic)}`);
      await stream.write('{"value":{"type":"STRING","data":"early"}}');
      assert.equal((await stream.next(10_000))?.error_code, 200);
      const last = await stream.next(10_000);
      assert.deepEqual(last, {
        error_code: 408,
        message: 'Streaming connection open for longer than allowed: Connection will be closed.',
      });
      assert.equal(await stream.next(10_000), undefined);
      assert.equal(await recordCount(topic), 1);
    } finally {
      await short.close();
    }
  });

  it("node's own request deadline does not cut a stream before V3_STREAM_MAX_DURATION_MS", () => {
    // node's default (300 s) would end every stream after five minutes.
    assert.ok(gw.server.requestTimeout > 3_600_000, `requestTimeout ${gw.server.requestTimeout}`);
  });

  it('a record above V3_STREAM_MAX_RECORD_BYTES ends the stream with a 400 report', async () => {
    const small = await startTestGateway({ V3_STREAM_MAX_RECORD_BYTES: '200' });
    try {
      const topic = await createTopic(1);
      const big = JSON.stringify({ value: { type: 'STRING', data: 'x'.repeat(500) } });
      const res = await send(small.url, recordsPath(topic), {
        body: `{"value":{"type":"STRING","data":"ok"}}${big}{}`,
      });
      const reports = reportsOf(res.text);
      assert.deepEqual(
        reports.map((r) => r.error_code),
        [200, 400],
      );
      assert.match(reports[1]!.message as string, /larger than allowed threshold/);
      assert.equal(await recordCount(topic), 1);
    } finally {
      await small.close();
    }
  });

  it('bounded buffering: a client that does not read its reports stops being read', async () => {
    const tight = await startTestGateway({ V3_STREAM_MAX_IN_FLIGHT_RECORDS: '50' });
    try {
      const topic = await createTopic(1);
      const stream = new ProduceStream(`${tight.url}${recordsPath(topic)}`);
      await stream.write('{}');
      // Pause reading the answer: reports pile up in the socket, then in the gateway, which must
      // then stop reading the request instead of buffering without bound.
      const res = await stream.response;
      res.pause();
      const line = `{"value":{"type":"STRING","data":"${'p'.repeat(200)}"}}`;
      const chunk = line.repeat(500);
      let sent = 0;
      let blocked = false;
      for (let i = 0; i < 4_000 && !blocked; i++) {
        const wrote = stream.req.write(chunk);
        sent += 500;
        if (!wrote) {
          blocked = await Promise.race([
            new Promise<boolean>((r) => stream.req.once('drain', () => r(false))),
            new Promise<boolean>((r) => setTimeout(() => r(true), 2_000)),
          ]);
        }
      }
      assert.ok(blocked, `the gateway kept reading: ${sent} records sent without back-pressure`);
      const stored = await recordCount(topic);
      assert.ok(stored < sent, `stored ${stored} of ${sent}: not everything was read`);
      stream.req.destroy();
    } finally {
      await tight.close();
    }
  });
});

/** The value of the record at `offset` of partition 0 (a native consumer, no group). */
async function readTail(topic: string, offset: number): Promise<Buffer> {
  const { kafka } = await import('./support/kafka.js');
  const consumer = kafka.consumer({ groupId: uniqueName('tail') });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic] });
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no record at the tail')), 20_000);
      void consumer
        .run({
          eachMessage: async ({ message }) => {
            if (Number(message.offset) === offset) {
              clearTimeout(timer);
              resolve(message.value!);
            }
          },
        })
        .then(() => consumer.seek({ topic, partition: 0, offset: String(offset) }));
    });
  } finally {
    await consumer.disconnect();
  }
}
