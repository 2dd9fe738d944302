// What a long-lived v3 produce stream may hold and for how long (issue 14, findings 2, 3, 5, 7):
// idle streams must not shut off produce for everyone, buffering is bounded in bytes, a stream
// ends when its credential expires, and whitespace between records is bounded.
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import type { RunningGateway } from '../src/gateway.js';
import { JSON_V2, post, startTestGateway } from './support/gateway.js';
import { closeAdmin, createTopic, readRecords } from './support/kafka.js';
import { ProduceStream, clusterIdOf } from './support/v3.js';

const SECRET = 'v3-stream-bounds-secret-with-enough-length-0123456789';
const str = (data: string) => ({ type: 'STRING', data });
const record = (data: string) => JSON.stringify({ value: str(data) });

let cluster: string;
const gateways: RunningGateway[] = [];
async function gateway(env: Record<string, string>): Promise<RunningGateway> {
  const gw = await startTestGateway(env);
  gateways.push(gw);
  cluster ??= await clusterIdOf(gw.url);
  return gw;
}
before(async () => {
  await gateway({});
});
after(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await closeAdmin();
});
const recordsUrl = (gw: RunningGateway, topic: string) => `${gw.url}/v3/clusters/${cluster}/topics/${topic}/records`;

async function drain(s: ProduceStream): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  for (let r = await s.next(); r !== undefined; r = await s.next()) out.push(r);
  return out;
}

describe('v3 stream bounds', () => {
  it('idle streams are charged what they hold, not MAX_BODY_BYTES: other produce goes on (finding 2)', async () => {
    // 4 MiB per caller: four streams charged 1 MiB each used to fill it.
    const gw = await gateway({ SHED_MAX_INFLIGHT_BYTES_PER_CLIENT: String(4 * 1024 * 1024) });
    const topic = await createTopic(1);
    const streams: ProduceStream[] = [];
    for (let i = 0; i < 6; i++) {
      const s = new ProduceStream(recordsUrl(gw, topic));
      streams.push(s);
      await s.write(record(`idle-${i}`));
      assert.equal((await s.next())?.error_code, 200);
    }
    const res = await post(`${gw.url}/topics/${topic}`, JSON_V2, { records: [{ value: 'other' }] });
    assert.equal(res.status, 200, res.text);
    for (const s of streams) s.end();
    await Promise.all(streams.map(drain));
  });

  it('a stream with no new record for V3_STREAM_IDLE_TIMEOUT_MS gets one 408 report and ends (finding 2)', async () => {
    const gw = await gateway({ V3_STREAM_IDLE_TIMEOUT_MS: '500' });
    const topic = await createTopic(1);
    const s = new ProduceStream(recordsUrl(gw, topic));
    await s.write(record('one'));
    const reports = await drain(s);
    assert.equal(reports.length, 2);
    assert.equal(reports[0]!.error_code, 200);
    assert.equal(reports[1]!.error_code, 408);
    assert.match(String(reports[1]!.message), /V3_STREAM_IDLE_TIMEOUT_MS/);
  });

  it('a caller may hold at most V3_STREAM_MAX_PER_CLIENT open streams: the next is 429 naming it (finding 2)', async () => {
    const gw = await gateway({ V3_STREAM_MAX_PER_CLIENT: '2' });
    const topic = await createTopic(1);
    const open = [new ProduceStream(recordsUrl(gw, topic)), new ProduceStream(recordsUrl(gw, topic))];
    for (const s of open) {
      await s.write(record('x'));
      assert.equal((await s.next())?.error_code, 200);
    }
    const third = new ProduceStream(recordsUrl(gw, topic));
    await third.write(record('y'));
    third.end();
    const res = await third.response;
    assert.equal(res.statusCode, 429);
    const body = await drain(third).catch(() => []);
    void body;
    for (const s of open) s.end();
    await Promise.all(open.map(drain));
    // Closed streams free their place.
    const again = new ProduceStream(recordsUrl(gw, topic));
    await again.write(record('z'));
    again.end();
    assert.deepEqual(
      (await drain(again)).map((r) => r.error_code),
      [200],
    );
  });

  it('records read and not yet answered are bounded in bytes (V3_STREAM_MAX_IN_FLIGHT_BYTES) (finding 3)', async () => {
    // Sends wait 300 ms (linger): the stream may read only ~64 KiB of records ahead of Kafka.
    const gw = await gateway({ V3_STREAM_MAX_IN_FLIGHT_BYTES: String(64 * 1024), PRODUCE_LINGER_MS: '300' });
    const topic = await createTopic(1);
    const s = new ProduceStream(recordsUrl(gw, topic));
    const big = 'x'.repeat(30 * 1024);
    for (let i = 0; i < 8; i++) void s.write(record(big));
    s.end();
    const reports = await drain(s);
    assert.equal(reports.length, 8);
    assert.ok(reports.every((r) => r.error_code === 200));
    // Each record's timestamp is when it was read: the last ones could only be read after the
    // first ones were answered (several linger rounds), not all at once.
    const times = reports.map((r) => Date.parse(String(r.timestamp)));
    assert.ok(times[7]! - times[0]! >= 500, `all read within ${times[7]! - times[0]!} ms`);
  });

  it('a stream ends with one 401 (40101) report once its JWT expires (finding 5)', async () => {
    const gw = await gateway({
      AUTH_METHODS: 'jwt',
      JWT_ALGORITHMS: 'HS256',
      JWT_SECRET: SECRET,
      JWT_ISSUER: 'https://issuer.test',
      JWT_AUDIENCE: 'kafka-rest',
      JWT_CLOCK_TOLERANCE_S: '0',
    });
    const topic = await createTopic(1);
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = jwt.sign({ sub: 'device-1', exp }, SECRET, {
      algorithm: 'HS256',
      issuer: 'https://issuer.test',
      audience: 'kafka-rest',
    });
    const s = new ProduceStream(recordsUrl(gw, topic), { authorization: `Bearer ${token}` });
    const reports: Array<{ at: number; r: Record<string, unknown> }> = [];
    let done = false;
    const reader = (async () => {
      for (let r = await s.next(); r !== undefined; r = await s.next()) reports.push({ at: Date.now(), r });
      done = true;
    })();
    for (let i = 0; i < 25 && !done; i++) {
      await s.write(record(`r${i}`));
      await new Promise((r) => setTimeout(r, 200));
    }
    s.end();
    await reader;
    const codes = reports.map((x) => x.r.error_code);
    assert.equal(codes.at(-1), 40101, JSON.stringify(codes));
    assert.equal(codes.filter((c) => c === 40101).length, 1);
    const lateOk = reports.filter((x) => x.r.error_code === 200 && x.at > exp * 1000 + 1000);
    assert.equal(lateOk.length, 0);
  });

  it('whitespace between records is bounded: 100 KiB of spaces ends the stream with one 400 (finding 7)', async () => {
    const gw = await gateway({});
    const topic = await createTopic(1);
    const s = new ProduceStream(recordsUrl(gw, topic));
    await s.write(record('before'));
    await s.write(' '.repeat(100 * 1024));
    await s.write(record('after'));
    s.end();
    const reports = await drain(s);
    assert.deepEqual(
      reports.map((r) => r.error_code),
      [200, 400],
    );
    assert.match(String(reports[1]!.message), /whitespace/);
  });

  it('a gzip body inflating to a huge run of whitespace is refused early (finding 7)', async () => {
    const gw = await gateway({});
    const topic = await createTopic(1);
    const body = zlib.gzipSync(Buffer.concat([Buffer.from(record('a')), Buffer.alloc(64 * 1024 * 1024, 0x20)]));
    const started = Date.now();
    const res = await fetch(recordsUrl(gw, topic), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body,
    });
    const text = await res.text();
    const codes = text
      .split('\r\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { error_code: number }).error_code);
    assert.deepEqual(codes, [200, 400]);
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    assert.equal((await readRecords(topic, 1)).length, 1);
  });
});
