// Metadata reads as many clients make them at once: dashboards polling offsets while others list
// partitions and describe topics. Ordinary concurrency must never surface as a 5xx, and unknown
// topics or partitions are answered with a 404 straight away.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningGateway } from '../src/gateway.js';
import { request, startTestGateway, type Reply } from './support/gateway.js';
import { closeAdmin, createTopic, uniqueName } from './support/kafka.js';

let gw: RunningGateway;
let topics: string[];

before(async () => {
  topics = await Promise.all([createTopic(3), createTopic(2), createTopic(4), createTopic(1)]);
  gw = await startTestGateway();
});
after(async () => {
  await gw?.close();
  await closeAdmin();
});

describe('metadata under concurrency', () => {
  it('300 mixed concurrent reads of offsets, partitions and topics: no 5xx', async () => {
    // Topics created after the gateway started, so some reads also miss the cache at the same time.
    const fresh = await Promise.all([createTopic(2), createTopic(3)]);
    const all = [...topics, ...fresh];
    const paths: string[] = [];
    for (let i = 0; i < 300; i++) {
      const t = all[i % all.length]!;
      const kind = i % 5;
      if (kind === 0 || kind === 1) paths.push(`/topics/${t}/partitions/0/offsets`);
      else if (kind === 2) paths.push(`/topics/${t}`);
      else if (kind === 3) paths.push(`/topics/${t}/partitions`);
      else paths.push(`/topics/${t}/partitions/0`);
    }
    const replies = await Promise.all(paths.map((p) => request(`${gw.url}${p}`)));
    const failed = replies
      .map((r, i) => ({ path: paths[i], status: r.status, body: r.text }))
      .filter((r) => r.status !== 200);
    assert.deepEqual(failed, [], `${failed.length} of 300 failed`);
    const offsets = replies.filter((_, i) => paths[i]!.endsWith('/offsets'));
    for (const r of offsets) assert.deepEqual(r.body, { beginning_offset: 0, end_offset: 0 });
  });

  it('offsets of an unknown topic or partition: 404 at once, also amid concurrent reads', async () => {
    const missing = uniqueName('missing');
    const started = Date.now();
    const [unknownTopic, unknownPartition, ...rest]: Reply[] = await Promise.all([
      request(`${gw.url}/topics/${missing}/partitions/0/offsets`),
      request(`${gw.url}/topics/${topics[0]}/partitions/3/offsets`),
      ...topics.map((t) => request(`${gw.url}/topics/${t}/partitions`)),
    ]);
    const elapsed = Date.now() - started;
    assert.deepEqual(
      [unknownTopic!.status, unknownTopic!.body],
      [404, { error_code: 40401, message: 'Topic not found.' }],
    );
    assert.deepEqual(
      [unknownPartition!.status, unknownPartition!.body],
      [404, { error_code: 40402, message: 'Partition not found.' }],
    );
    for (const r of rest) assert.equal(r.status, 200);
    // Not a speed target: the bug was a 7–11 s retry loop before a 5xx, so seconds of slack are fine.
    assert.ok(elapsed < 3_000, `took ${elapsed} ms`);
  });
});
