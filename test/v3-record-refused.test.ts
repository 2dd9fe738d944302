// Records the broker refuses on its own (issue 14, finding 1): a timestamp too far in the future
// (log.message.timestamp.after.max.ms), a keyless record on a compacted topic. Kafka refuses the
// whole partition batch for one such record, and the gateway merges requests into one batch —
// yet the bad record must fail alone (400 40002), and every other record, of the same request or
// of other callers, must land.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTopicAndWait } from '../src/kafka/create-topic.js';
import { JSON_V2, post } from './support/gateway.js';
import { admin, createTopic, readRecords, uniqueName } from './support/kafka.js';
import { produceText, reportsOf, v3TestGateway } from './support/v3.js';

const gw = v3TestGateway();
const recordsUrl = gw.recordsUrl;
const FUTURE = '2100-01-01T00:00:00Z';

async function compactedTopic(): Promise<string> {
  const topic = uniqueName('compact');
  await createTopicAndWait(await admin(), {
    topic,
    numPartitions: 1,
    configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
  });
  return topic;
}

const str = (data: string) => ({ type: 'STRING', data });

describe('a record Kafka refuses fails alone', () => {
  it('v3: a future timestamp between two good records: only it fails (400 40002), the others land in order', async () => {
    const topic = await createTopic(1);
    const body = [
      { partition_id: 0, value: str('good1') },
      { partition_id: 0, timestamp: FUTURE, value: str('future') },
      { partition_id: 0, value: str('good2') },
    ]
      .map((r) => JSON.stringify(r))
      .join('');
    const res = await produceText(recordsUrl(topic), body);
    assert.equal(res.status, 200);
    const reports = reportsOf(res.text);
    assert.deepEqual(
      reports.map((r) => r.error_code),
      [200, 40002, 200],
    );
    assert.match(String(reports[1]!.message), /timestamp/i);
    assert.equal(reports[0]!.offset, 0);
    assert.equal(reports[2]!.offset, 1);
    const stored = await readRecords(topic, 2);
    assert.deepEqual(
      stored.map((r) => r.value?.toString()),
      ['good1', 'good2'],
    );
  });

  it('v3: a keyless record on a compacted topic fails alone; the keyed ones land', async () => {
    const topic = await compactedTopic();
    const body = [
      { partition_id: 0, key: str('k1'), value: str('a') },
      { partition_id: 0, value: str('keyless') },
      { partition_id: 0, key: str('k2'), value: str('b') },
    ]
      .map((r) => JSON.stringify(r))
      .join('');
    const res = await produceText(recordsUrl(topic), body);
    const reports = reportsOf(res.text);
    assert.deepEqual(
      reports.map((r) => r.error_code),
      [200, 40002, 200],
    );
    const stored = await readRecords(topic, 2);
    assert.deepEqual(
      stored.map((r) => r.value?.toString()),
      ['a', 'b'],
    );
  });

  it("v3: one caller's bad records never fail other callers' records merged into the same batch", async () => {
    const topic = await createTopic(1);
    const bad = JSON.stringify({ partition_id: 0, timestamp: FUTURE, value: str('future') });
    const good = (i: number) => JSON.stringify({ partition_id: 0, value: str(`good-${i}`) });
    // Interleaved, concurrent: the producer coalesces them into shared sends.
    const calls: Array<Promise<{ bad: boolean; codes: unknown[] }>> = [];
    for (let i = 0; i < 40; i++) {
      const isBad = i % 4 === 0;
      calls.push(
        produceText(recordsUrl(topic), isBad ? bad.repeat(3) : good(i)).then((r) => ({
          bad: isBad,
          codes: reportsOf(r.text).map((x) => x.error_code),
        })),
      );
    }
    const results = await Promise.all(calls);
    for (const r of results) {
      if (r.bad) assert.deepEqual(r.codes, [40002, 40002, 40002]);
      else assert.deepEqual(r.codes, [200]);
    }
    const stored = await readRecords(topic, 30);
    assert.equal(stored.length, 30);
    assert.deepEqual(
      stored.map((r) => r.offset),
      Array.from({ length: 30 }, (_, i) => i),
    );
  });

  it('v2: a keyless record on a compacted topic fails alone in the offsets; the keyed ones land', async () => {
    const topic = await compactedTopic();
    const res = await post(`${gw.url}/topics/${topic}`, JSON_V2, {
      records: [
        { key: 'k1', value: { n: 1 }, partition: 0 },
        { value: { n: 2 }, partition: 0 },
        { key: 'k3', value: { n: 3 }, partition: 0 },
      ],
    });
    assert.equal(res.status, 200, res.text);
    const offsets = res.body.offsets as Array<{ offset: number | null; error_code: number | null }>;
    assert.deepEqual(
      offsets.map((o) => o.error_code),
      [null, 40002, null],
    );
    assert.deepEqual(
      offsets.map((o) => o.offset),
      [0, null, 1],
    );
    const stored = await readRecords(topic, 2);
    assert.deepEqual(
      stored.map((r) => r.value?.toString()),
      ['{"n":1}', '{"n":3}'],
    );
  });
});
