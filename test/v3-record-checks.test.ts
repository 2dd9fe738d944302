// Smaller v3 produce defects of issue 14: a number too large for a double (1e400) as partition_id
// or timestamp was an in-stream 500; v3's per-record validation failures were not counted in
// gateway_validation_failures_total (v2's are).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTopic, recordCount } from './support/kafka.js';
import { produceText, reportsOf, v3TestGateway } from './support/v3.js';

const gw = v3TestGateway();
const recordsUrl = gw.recordsUrl;

/** The value of gateway_validation_failures_total{error_code} (0 when absent). */
async function validationFailures(code: string): Promise<number> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`gateway_validation_failures_total{error_code="${code}"}`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

describe('v3 record checks', () => {
  it('1e400 as partition_id or timestamp is a 400 report for that record, not a 500', async () => {
    const topic = await createTopic(1);
    const body =
      '{"partition_id":1e400,"value":{"type":"STRING","data":"a"}}' +
      '{"timestamp":1e400,"value":{"type":"STRING","data":"b"}}' +
      '{"partition_id":-1e400,"value":{"type":"STRING","data":"c"}}' +
      '{"value":{"type":"STRING","data":"ok"}}';
    const res = await produceText(recordsUrl(topic), body);
    const reports = reportsOf(res.text);
    assert.deepEqual(
      reports.map((r) => r.error_code),
      [400, 400, 400, 200],
    );
    for (const r of reports.slice(0, 3)) assert.match(String(r.message), /partition_id|timestamp/);
    assert.equal(await recordCount(topic), 1);
  });

  it('each record that fails validation is counted in gateway_validation_failures_total', async () => {
    const topic = await createTopic(1);
    const before400 = await validationFailures('400');
    const body =
      '{"value":{"type":"BINARY","data":1}}' +
      '{"value":{"type":"NOPE","data":1}}' +
      '{"value":{"type":"STRING","data":"ok"}}';
    const res = await produceText(recordsUrl(topic), body);
    assert.deepEqual(
      reportsOf(res.text).map((r) => r.error_code),
      [400, 400, 200],
    );
    assert.equal((await validationFailures('400')) - before400, 2);
  });
});
