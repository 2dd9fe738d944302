// The produce fast lane answers exactly as the express path does: same statuses, bodies and
// headers (helmet's included), for successes and errors alike.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import helmet from 'helmet';
import type { RunningGateway } from '../src/gateway.js';
import { JSON_V2, post, type Reply, startTestGateway } from './support/gateway.js';
import { closeAdmin, createTopic, readRecords } from './support/kafka.js';

let gw: RunningGateway;
let topic: string;

before(async () => {
  topic = await createTopic(1);
  gw = await startTestGateway();
});
after(async () => {
  await gw?.close();
  await closeAdmin();
});

/** Headers that legitimately differ per response. */
const VARYING = new Set(['date', 'x-request-id', 'content-length', 'keep-alive', 'connection']);
const headersOf = (r: Reply) => Object.fromEntries([...r.headers].filter(([k]) => !VARYING.has(k)));

describe('produce fast lane', () => {
  it('a fast-lane produce and an express-routed one (a query string forces that path) answer alike', async () => {
    const fast = await post(`${gw.url}/topics/${topic}`, JSON_V2, { records: [{ value: { n: 1 } }] });
    const routed = await post(`${gw.url}/topics/${topic}?via=express`, JSON_V2, { records: [{ value: { n: 2 } }] });
    assert.equal(fast.status, 200);
    assert.equal(routed.status, 200);
    assert.deepEqual(headersOf(fast), headersOf(routed));
    assert.equal(fast.body.offsets[0].offset, 0);
    assert.equal(routed.body.offsets[0].offset, 1);
    const stored = await readRecords(topic, 2);
    assert.deepEqual(
      stored.map((r) => r.value!.toString()),
      ['{"n":1}', '{"n":2}'],
    );
  });

  it('errors take the same error handler on both paths', async () => {
    for (const body of ['{"records":', { records: [] }, { records: [{ value: 1, nope: 1 }] }]) {
      const fast = await post(`${gw.url}/topics/${topic}/partitions/0`, JSON_V2, body);
      const routed = await post(`${gw.url}/topics/${topic}/partitions/0?via=express`, JSON_V2, body);
      assert.equal(fast.status, routed.status);
      assert.deepEqual(fast.body, routed.body);
      assert.deepEqual(headersOf(fast), headersOf(routed));
    }
  });

  it("sets every one of helmet's headers, with helmet's values", async () => {
    const expected = new Map<string, string>();
    helmet()(
      {} as never,
      { setHeader: (k: string, v: string) => expected.set(k.toLowerCase(), String(v)), removeHeader() {} } as never,
      () => {},
    );
    const res = await post(`${gw.url}/topics/${topic}`, JSON_V2, { records: [{ value: 3 }] });
    assert.ok(expected.size > 5);
    for (const [name, value] of expected) assert.equal(res.headers.get(name), value, name);
  });
});
