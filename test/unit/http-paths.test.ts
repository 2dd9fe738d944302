// The HTTP side without a broker: routing, negotiation, validation and error paths of the real
// app on in-memory fakes of the Kafka ports. Fast, and never evidence of Kafka behaviour.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeKafka, startFakeGateway } from '../support/fakes.js';

const JSON_V2 = 'application/vnd.kafka.json.v2+json';
const kafka = new FakeKafka({ heartrate: 3 });
let gw: Awaited<ReturnType<typeof startFakeGateway>>;
before(async () => {
  gw = await startFakeGateway(kafka);
});
after(() => gw.close());

const send = async (path: string, init: { method?: string; type?: string; accept?: string; body?: string } = {}) => {
  const res = await fetch(`${gw.url}${path}`, {
    method: init.method ?? 'POST',
    headers: { ...(init.type ? { 'content-type': init.type } : {}), ...(init.accept ? { accept: init.accept } : {}) },
    body: init.body === undefined ? undefined : Buffer.from(init.body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
};

describe('HTTP paths on fakes', () => {
  it('produces a device reading with every number literal kept as written', async () => {
    const res = await send('/topics/heartrate', {
      type: JSON_V2,
      body: '{"records":[{"value":{"bpm":72.0,"t":1.5E3}}]}',
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.offsets, [{ partition: 0, offset: 0, error_code: null, error: null }]);
    assert.equal(kafka.log.get('heartrate')![0]![0]!.value!.toString(), '{"bpm":72.0,"t":1.5E3}');
  });

  it('answers each wrong request with its Confluent code and produces nothing', async () => {
    const before = kafka.log.get('heartrate')?.[0]?.length ?? 0;
    const cases: Array<[string, Parameters<typeof send>[1], number, number]> = [
      ['/topics/nope', { type: JSON_V2, body: '{"records":[{"value":1}]}' }, 404, 40401],
      ['/topics/heartrate/partitions/7', { type: JSON_V2, body: '{"records":[{"value":1}]}' }, 404, 40402],
      ['/topics/heartrate', { type: 'text/plain', body: '{"records":[{"value":1}]}' }, 415, 415],
      ['/topics/heartrate', { type: JSON_V2, body: '{"records":[' }, 400, 400],
      ['/topics/heartrate', { type: JSON_V2, body: '{"records":[{"value":1}],"records":[]}' }, 400, 400],
      ['/topics/heartrate', { type: JSON_V2, body: '{"foo":"bar"}' }, 422, 422],
      ['/TOPICS/heartrate', { type: JSON_V2, body: '{"records":[{"value":1}]}' }, 404, 404],
      ['/topics/..%2fheartrate', { type: JSON_V2, body: '{"records":[{"value":1}]}' }, 400, 400],
    ];
    for (const [path, init, status, code] of cases) {
      const res = await send(path, init);
      assert.equal(res.status, status, `${path} ${init?.body}`);
      assert.equal(res.body.error_code, code, path);
      assert.equal(typeof res.body.message, 'string');
    }
    assert.equal(kafka.log.get('heartrate')?.[0]?.length ?? 0, before, 'nothing was produced');
  });

  it('answers 405 with Allow, and 406 for an Accept it cannot serve', async () => {
    const put = await send('/topics', { method: 'PUT' });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'GET, OPTIONS');
    const metadata = await send('/topics', { method: 'GET', accept: 'text/html' });
    assert.equal(metadata.status, 406);
    const list = await send('/topics', { method: 'GET' });
    assert.deepEqual(list.body, ['heartrate']);
  });
});
