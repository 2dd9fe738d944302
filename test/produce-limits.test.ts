// Concurrent produce requests are coalesced into Kafka sends, but never beyond what Kafka
// accepts: each send fits the topic's max.message.bytes, and a record too large on its own fails
// alone (per-record 50002) without taking the requests merged with it down.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningGateway } from '../src/gateway.js';
import { createTopicAndWait } from '../src/kafka/create-topic.js';
import { BINARY_V2, post, startTestGateway, type Reply } from './support/gateway.js';
import { admin, closeAdmin, createTopic, readRecords, recordCount, uniqueName } from './support/kafka.js';

let gw: RunningGateway;

before(async () => {
  // Bodies up to 4 MiB, so the record-size rule is what is tested, not the body limit.
  // A short linger makes concurrent requests reliably share sends, as they do under real load.
  gw = await startTestGateway({ MAX_BODY_BYTES: String(4 * 1024 * 1024), PRODUCE_LINGER_MS: '200' });
});
after(async () => {
  await gw?.close();
  await closeAdmin();
});

const b64 = (bytes: number, fill = 'x') => Buffer.alloc(bytes, fill).toString('base64');

function offsetsOf(res: Reply): Array<{ partition: number | null; offset: number | null; error_code: number | null }> {
  assert.equal(res.status, 200, res.text);
  return res.body.offsets;
}

describe('produce: coalescing stays within what Kafka accepts', () => {
  it('300 concurrent requests of one 20 KB record each: every one is acknowledged and stored', async () => {
    const topic = await createTopic(3);
    const replies = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        post(`${gw.url}/topics/${topic}`, BINARY_V2, { records: [{ value: b64(20_000, String(i % 10)) }] }),
      ),
    );
    const failed = replies.map(offsetsOf).filter((o) => o[0]!.error_code !== null);
    assert.deepEqual(failed, [], `${failed.length} of 300 failed`);
    assert.equal(await recordCount(topic), 300);
  });

  it('a ~1 MB record among small concurrent requests fails alone; the small ones are stored', async () => {
    const topic = await createTopic(1);
    const small = Array.from({ length: 40 }, () =>
      post(`${gw.url}/topics/${topic}`, BINARY_V2, { records: [{ value: b64(10_000) }] }),
    );
    const big = post(`${gw.url}/topics/${topic}`, BINARY_V2, {
      records: [{ value: b64(100) }, { value: b64(1_100_000) }, { value: b64(100) }],
    });
    const [bigReply, ...smallReplies] = await Promise.all([big, ...small]);
    for (const r of smallReplies) assert.equal(offsetsOf(r)[0]!.error_code, null, r.text);
    const [before, huge, afterwards] = offsetsOf(bigReply!);
    assert.equal(huge!.error_code, 50002);
    assert.match(bigReply!.body.offsets[1].error, /max\.message\.bytes/);
    // Its small neighbours in the same request are written.
    assert.equal(before!.error_code, null);
    assert.equal(afterwards!.error_code, null);
    assert.equal(await recordCount(topic), 42);
  });

  it('a request too large for one batch is written whole, in order', async () => {
    const topic = await createTopic(1);
    const values = ['a', 'b', 'c', 'd'].map((c) => b64(400_000, c));
    const res = await post(`${gw.url}/topics/${topic}`, BINARY_V2, { records: values.map((value) => ({ value })) });
    const offsets = offsetsOf(res);
    assert.deepEqual(
      offsets.map((o) => [o.error_code, o.offset]),
      [
        [null, 0],
        [null, 1],
        [null, 2],
        [null, 3],
      ],
    );
    const stored = await readRecords(topic, 4);
    assert.deepEqual(
      stored.map((r) => r.value!.subarray(0, 1).toString()),
      ['a', 'b', 'c', 'd'],
    );
  });

  it("the topic's own max.message.bytes is honoured", async () => {
    const topic = uniqueName('small-max');
    await createTopicAndWait(await admin(), {
      topic,
      numPartitions: 1,
      configEntries: [{ name: 'max.message.bytes', value: '60000' }],
    });
    // 20 concurrent 10 KB records fit the 60 KB limit only if sends are split by it.
    const replies = await Promise.all(
      Array.from({ length: 20 }, () =>
        post(`${gw.url}/topics/${topic}`, BINARY_V2, { records: [{ value: b64(10_000) }] }),
      ),
    );
    for (const r of replies) assert.equal(offsetsOf(r)[0]!.error_code, null, r.text);
    const tooBig = offsetsOf(await post(`${gw.url}/topics/${topic}`, BINARY_V2, { records: [{ value: b64(70_000) }] }));
    assert.equal(tooBig[0]!.error_code, 50002);
    assert.equal(await recordCount(topic), 20);
  });

  it('a limit lowered on a live topic: merged records that each fit get a retriable 50003, never 50002, then succeed', async () => {
    const topic = await createTopic(1);
    const one = await post(`${gw.url}/topics/${topic}`, BINARY_V2, { records: [{ value: b64(100) }] });
    assert.equal(offsetsOf(one)[0]!.error_code, null, 'the limit is now cached');
    await (
      await admin()
    ).alterConfigs({
      validateOnly: false,
      resources: [{ type: 2, name: topic, configEntries: [{ name: 'max.message.bytes', value: '30000' }] }],
    });
    const codes = new Set<number | null>();
    let allOk = false;
    for (let round = 0; round < 6 && !allOk; round++) {
      const replies = await Promise.all(
        Array.from({ length: 30 }, () =>
          post(`${gw.url}/topics/${topic}`, BINARY_V2, { records: [{ value: b64(10_000) }] }),
        ),
      );
      const round_codes = replies.map((r) => offsetsOf(r)[0]!.error_code);
      for (const c of round_codes) codes.add(c);
      allOk = round_codes.every((c) => c === null);
    }
    assert.ok(!codes.has(50002), `a record that fits the new limit was told not to retry: ${[...codes].join(',')}`);
    assert.ok(allOk, 'sends fit the new limit once it was read again');
  });
});
