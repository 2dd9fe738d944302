// Every way a produce request can be wrong: a clear Confluent-shaped error, the right status, and
// nothing at all written to Kafka.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { RunningGateway } from '../src/gateway.js';
import { BINARY_V2, JSON_V2, V2, post, request, startTestGateway, type Reply } from './support/gateway.js';
import { closeAdmin, createTopic, recordCount, uniqueName } from './support/kafka.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const heartrate = { deviceid: 'AppleWatch4', heartrate: '72', timestamp: '2019-10-07 12:46:13' };

let gw: RunningGateway;
let strict: RunningGateway;
let topic: string;
let guarded: string;

before(async () => {
  topic = await createTopic(2);
  guarded = await createTopic(1, uniqueName('heartrate'));
  const fs = await import('node:fs');
  const os = await import('node:os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policy-'));
  const policy = path.join(dir, 'topics.yaml');
  fs.writeFileSync(
    policy,
    `topics:\n  - pattern: "heartrate-.*"\n    valueSchema: ${path.resolve(here, '../config/demo/schemas/heartrate.schema.json')}\n    keySchema: { type: string, maxLength: 8 }\n`,
  );
  gw = await startTestGateway({ TOPICS_CONFIG: policy, MAX_BODY_BYTES: '65536', MAX_RECORDS_PER_REQUEST: '50' });
  strict = await startTestGateway({ STRICT_MEDIA_TYPES: 'true' });
});
after(async () => {
  await Promise.all([gw.close(), strict.close()]);
  await closeAdmin();
});

/** Asserts the Confluent error shape, status and code. */
function assertError(res: Reply, status: number, errorCode: number, messagePart?: RegExp): void {
  assert.equal(res.status, status, res.text);
  assert.equal(res.body.error_code, errorCode, res.text);
  assert.equal(typeof res.body.message, 'string');
  assert.doesNotMatch(res.text, /at .*\.(ts|js):\d+/, 'no stack trace');
  if (messagePart) assert.match(res.body.message, messagePart);
}

describe('produce errors: media types', () => {
  it('415 for text/plain and form-urlencoded (what curl -d sends)', async () => {
    assertError(await post(`${gw.url}/topics/${topic}`, 'text/plain', { records: [{ value: 1 }] }), 415, 415);
    assertError(
      await post(`${gw.url}/topics/${topic}`, 'application/x-www-form-urlencoded', { records: [{ value: 1 }] }),
      415,
      415,
    );
    assert.equal(await recordCount(topic), 0);
  });

  it('schema-registry formats: 42201/42202 for a missing schema as Confluent, else 415 with an explanation', async () => {
    const avro = 'application/vnd.kafka.avro.v2+json';
    const url = `${gw.url}/topics/${topic}`;
    assertError(await post(url, avro, { records: [{ value: { name: 'x' } }] }), 422, 42202, /value schema/);
    assertError(
      await post(url, 'application/vnd.kafka.protobuf.v2+json', {
        value_schema_id: 3,
        records: [{ key: 'k', value: { name: 'x' } }],
      }),
      422,
      42201,
      /key schema/,
    );
    const res = await post(url, avro, { value_schema: '{"type":"string"}', records: [{ value: 'x' }] });
    assertError(res, 415, 415, /schema registry/);
    assertError(
      await post(url, 'application/vnd.kafka.jsonschema.v2+json', { value_schema_id: 1, records: [{ value: 1 }] }),
      415,
      415,
      /jsonschema embedded format needs a schema registry/,
    );
    // The envelope is still checked first.
    assertError(await post(url, avro, { records: [] }), 422, 422);
    assert.equal(await recordCount(topic), 0);
  });

  it('strict mode: plain application/json is 415, Accept: application/json is 406, headers are unknown fields', async () => {
    assertError(await post(`${strict.url}/topics/${topic}`, 'application/json', { records: [{ value: 1 }] }), 415, 415);
    const res = await post(
      `${strict.url}/topics/${topic}`,
      JSON_V2,
      { records: [{ value: 1 }] },
      { accept: 'application/json' },
    );
    assertError(res, 406, 406);
    assertError(
      await post(`${strict.url}/topics/${topic}`, JSON_V2, { records: [{ value: 1, headers: [] }] }),
      400,
      400,
      /headers/,
    );
    assert.equal(await recordCount(topic), 0);
  });

  it('406 when Accept excludes the v2 type; no body for a non-JSON Accept', async () => {
    const json = await post(`${gw.url}/topics/${topic}`, JSON_V2, { records: [{ value: 1 }] }, { accept: JSON_V2 });
    assertError(json, 406, 406);
    const text = await post(
      `${gw.url}/topics/${topic}`,
      JSON_V2,
      { records: [{ value: 1 }] },
      { accept: 'text/plain' },
    );
    assert.equal(text.status, 406);
    assert.equal(text.text, '');
    assert.equal(await recordCount(topic), 0);
  });
});

describe('produce errors: the envelope', () => {
  it('400 for malformed JSON', async () => {
    assertError(await post(`${gw.url}/topics/${topic}`, JSON_V2, '{"records":[{"value":'), 400, 400, /Malformed JSON/);
  });

  it('400 for an unknown field, top level or in a record', async () => {
    assertError(await post(`${gw.url}/topics/${topic}`, JSON_V2, { records: [{ value: 1 }], foo: 1 }), 400, 400, /foo/);
    assertError(
      await post(`${gw.url}/topics/${topic}`, JSON_V2, { records: [{ value: 1, vlaue: 2 }] }),
      400,
      400,
      /vlaue/,
    );
  });

  it('400 for a wrong JSON type (records not a list, partition not a number)', async () => {
    assertError(await post(`${gw.url}/topics/${topic}`, JSON_V2, { records: { value: 1 } }), 400, 400);
    assertError(
      await post(`${gw.url}/topics/${topic}`, JSON_V2, { records: [{ value: 1, partition: 'one' }] }),
      400,
      400,
    );
  });

  it('422 for empty or missing records, and for an empty body', async () => {
    assertError(await post(`${gw.url}/topics/${topic}`, JSON_V2, { records: [] }), 422, 422);
    assertError(await post(`${gw.url}/topics/${topic}`, JSON_V2, {}), 422, 422);
    assertError(await post(`${gw.url}/topics/${topic}`, JSON_V2, ''), 422, 422);
  });

  it('binary: 400 for a non-string value and for invalid base64; one bad record stops the whole request', async () => {
    assertError(await post(`${gw.url}/topics/${topic}`, BINARY_V2, { records: [{ value: 123 }] }), 400, 400, /base64/);
    const res = await post(`${gw.url}/topics/${topic}`, BINARY_V2, {
      records: [{ value: 'S2Fma2E=' }, { value: 'not base64!' }],
    });
    assertError(res, 400, 400, /records\[1\]\.value: must be a base64 string/);
    assertError(
      await post(`${gw.url}/topics/${topic}`, BINARY_V2, { records: [{ value: 'S2Fma2E=', key: 'a-b_' }] }),
      400,
      400,
    );
    assert.equal(await recordCount(topic), 0);
  });

  it('413 for a body over MAX_BODY_BYTES', async () => {
    const big = { records: [{ value: 'x'.repeat(70_000) }] };
    assertError(await post(`${gw.url}/topics/${topic}`, JSON_V2, big), 413, 413);
    assert.equal(await recordCount(topic), 0);
  });

  it('422 for more records than MAX_RECORDS_PER_REQUEST', async () => {
    const many = { records: Array.from({ length: 51 }, (_, i) => ({ value: i })) };
    assertError(await post(`${gw.url}/topics/${topic}`, JSON_V2, many), 422, 422, /Too many records/);
    assert.equal(await recordCount(topic), 0);
  });

  it('42206 for nesting deeper than MAX_JSON_DEPTH', async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = { d: deep };
    assertError(
      await post(`${gw.url}/topics/${topic}`, JSON_V2, { records: [{ value: deep }] }),
      422,
      42206,
      /nesting/,
    );
    assert.equal(await recordCount(topic), 0);
  });
});

describe('produce errors: topics and partitions fail fast', () => {
  it('404 40401 for an unknown topic, without waiting for Kafka metadata timeouts', async () => {
    const t0 = Date.now();
    const res = await post(`${gw.url}/topics/${uniqueName('missing')}`, JSON_V2, { records: [{ value: 1 }] });
    assertError(res, 404, 40401, /Topic not found/);
    assert.ok(Date.now() - t0 < 10_000, 'answered well before any 60 s metadata wait');
  });

  it('404 40402 for an unknown partition in the path or in a record', async () => {
    assertError(await post(`${gw.url}/topics/${topic}/partitions/2`, JSON_V2, { records: [{ value: 1 }] }), 404, 40402);
    assertError(
      await post(`${gw.url}/topics/${topic}`, JSON_V2, { records: [{ value: 1 }, { value: 2, partition: 7 }] }),
      404,
      40402,
      /Partition not found/,
    );
    assert.equal(await recordCount(topic), 0);
  });

  it('400 40002 for an invalid topic name; 404 for a partition that is not a number', async () => {
    assertError(await post(`${gw.url}/topics/bad%20name`, JSON_V2, { records: [{ value: 1 }] }), 400, 40002);
    assertError(await post(`${gw.url}/topics/${topic}/partitions/abc`, JSON_V2, { records: [{ value: 1 }] }), 404, 404);
  });
});

describe('produce errors: per-topic JSON Schemas', () => {
  it('422 42206 names every failing record by index, JSON pointer and rule, and produces nothing', async () => {
    const res = await post(`${gw.url}/topics/${guarded}`, JSON_V2, {
      records: [
        { value: heartrate },
        { value: { ...heartrate, heartrate: 'seventy' } },
        { value: heartrate },
        { value: { deviceid: 'PixelWatch', heartrate: 'x1' } },
      ],
    });
    assertError(res, 422, 42206);
    const errors: Array<{ path: string; message: string }> = res.body.validation_errors;
    assert.ok(
      errors.some((e) => e.path === 'records[1].value/heartrate' && e.message === 'must match pattern "^[0-9]+$"'),
    );
    assert.ok(errors.some((e) => e.path === 'records[3].value/heartrate'));
    assert.ok(errors.some((e) => e.path === 'records[3].value' && /timestamp/.test(e.message)));
    assert.ok(!errors.some((e) => e.path.startsWith('records[0]') || e.path.startsWith('records[2]')));
    assert.match(res.body.message, /records\[1\]\.value\/heartrate: must match pattern/);
    assert.equal(await recordCount(guarded), 0);
  });

  it('checks keys against the key schema', async () => {
    const res = await post(`${gw.url}/topics/${guarded}`, JSON_V2, {
      records: [{ key: 'far-too-long-key', value: heartrate }],
    });
    assertError(res, 422, 42206, /records\[0\]\.key/);
    assert.equal(await recordCount(guarded), 0);
  });

  it('a valid reading passes the schema and is stored', async () => {
    const res = await post(`${gw.url}/topics/${guarded}`, JSON_V2, { records: [{ key: 'watch', value: heartrate }] });
    assert.equal(res.status, 200);
    assert.equal(await recordCount(guarded), 1);
  });
});

describe('routing', () => {
  it('unknown route 404 and wrong method 405, in the Confluent shape', async () => {
    assertError(await request(`${gw.url}/nope`), 404, 404, /HTTP 404 Not Found/);
    assertError(await request(`${gw.url}/topics`, { method: 'DELETE' }), 405, 405);
    assertError(await request(`${gw.url}/brokers`, { method: 'POST' }), 405, 405);
  });

  it('accepts a trailing slash', async () => {
    const res = await post(`${gw.url}/topics/${topic}/`, JSON_V2, { records: [{ value: { ok: true } }] });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), V2);
  });
});
