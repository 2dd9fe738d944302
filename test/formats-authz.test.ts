/**
 * With a policy file, a produce by schema id may use only a schema the caller could read from the
 * registry (one registered under a subject of a topic it may describe). Any other id answers what an
 * id that does not exist answers, word for word: no field names, no types, no "it exists".
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { needsOwnGateway, post } from './support/gateway.js';
import { closeAdmin, createTopic, recordCount, uniqueName } from './support/kafka.js';
import { avroRecord, sr, startRegistryGateway, type RegistryGateway } from './support/registry.js';
import { newKey, sha256, tempDir, writeFile } from './support/security.js';
import { clusterIdOf } from './support/v3.js';

const AVRO = 'application/vnd.kafka.avro.v2+json';
const tmp = tempDir();
const keys = { alice: newKey(), bob: newKey() };
const run = uniqueName('fa').replace(/[^a-z0-9]/gi, '');
const aliceTopic = `alice${run}.t`;
const bobTopic = `bob${run}.hr`;
const POLICY = `
rules:
  - who: { id: 'apikey:alice' }
    allow:
      - operations: [produce, consume]
        topics: ['alice${run}.*']
  - who: { id: 'apikey:bob' }
    allow:
      - operations: [admin]
        topics: ['bob${run}.*']
`;
const salary = avroRecord('Salary', [
  { name: 'employee_ssn', type: 'string' },
  { name: 'salary_eur', type: 'long' },
]);
const note = avroRecord('Note', [{ name: 'text', type: 'string' }]);

describe('schema ids and the policy', { skip: needsOwnGateway }, () => {
  let reg: RegistryGateway;
  let bobsId: number;
  let alicesId: number;
  const as = (who: keyof typeof keys) => ({ 'x-api-key': keys[who] });

  before(async () => {
    reg = await startRegistryGateway({
      env: {
        AUTH_METHODS: 'apikey',
        API_KEYS: Object.entries(keys)
          .map(([name, key]) => `${name}:${sha256(key)}`)
          .join(','),
        POLICY_FILE: writeFile(tmp.dir, 'policy.yaml', POLICY),
      },
    });
    await createTopic(1, aliceTopic);
    await createTopic(1, bobTopic);
    const bobs = await sr(reg.url, as('bob')).post(`/subjects/${bobTopic}-value/versions`, { schema: salary });
    assert.equal(bobs.status, 200, bobs.text);
    bobsId = bobs.body.id;
    const alices = await sr(reg.url, as('alice')).post(`/subjects/${aliceTopic}-value/versions`, { schema: note });
    assert.equal(alices.status, 200, alices.text);
    alicesId = alices.body.id;
  });
  after(async () => {
    await reg?.gw.close();
    await closeAdmin();
    tmp.remove();
  });

  it("another tenant's schema id answers exactly as an id that does not exist, and nothing is produced", async () => {
    // Alice cannot read Bob's schema from the registry …
    assert.equal((await sr(reg.url, as('alice')).get(`/schemas/ids/${bobsId}`)).status, 404);
    // … so producing with its id must not reveal it either: not its fields, not that it exists.
    const produceWith = (id: number, value: unknown) =>
      post(`${reg.gw.url}/topics/${aliceTopic}`, AVRO, { value_schema_id: id, records: [{ value }] }, as('alice'));
    const missing = 999_999;
    const unknown = await produceWith(missing, {});
    const bobs = await produceWith(bobsId, {});
    assert.equal(unknown.status, 422, unknown.text);
    assert.equal(unknown.body.error_code, 42207);
    assert.equal(bobs.status, unknown.status, bobs.text);
    assert.equal(bobs.body.error_code, unknown.body.error_code);
    assert.equal(bobs.body.message, unknown.body.message.replaceAll(String(missing), String(bobsId)));
    assert.doesNotMatch(bobs.text, /employee_ssn|salary_eur|Salary/);

    // A record that would fit Bob's schema is refused the same way.
    const fitting = await produceWith(bobsId, { employee_ssn: 'x', salary_eur: 1 });
    assert.equal(fitting.status, 422, fitting.text);
    assert.equal(fitting.body.message, bobs.body.message);
    assert.equal(await recordCount(aliceTopic), 0, 'nothing produced');
  });

  it("the caller's own schema by id still works, with precise validation errors", async () => {
    const bad = await post(
      `${reg.gw.url}/topics/${aliceTopic}`,
      AVRO,
      { value_schema_id: alicesId, records: [{ value: { text: 5 } }] },
      as('alice'),
    );
    assert.equal(bad.status, 400, bad.text);
    assert.match(bad.text, /text/);
    const ok = await post(
      `${reg.gw.url}/topics/${aliceTopic}`,
      AVRO,
      { value_schema_id: alicesId, records: [{ value: { text: 'hello' } }] },
      as('alice'),
    );
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.value_schema_id, alicesId);
    // Bob, who administers his own topics, uses his schema by id on them.
    const bobs = await post(
      `${reg.gw.url}/topics/${bobTopic}`,
      AVRO,
      { value_schema_id: bobsId, records: [{ value: { employee_ssn: '1', salary_eur: 2 } }] },
      as('bob'),
    );
    assert.equal(bobs.status, 200, bobs.text);
  });

  it("v3 produce: another tenant's schema id answers in the record's report exactly as a missing id", async () => {
    const cluster = await clusterIdOf(reg.gw.url, as('alice'));
    const url = `${reg.gw.url}/v3/clusters/${cluster}/topics/${aliceTopic}/records`;
    const send = async (id: number) => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { ...as('alice'), 'content-type': 'application/json' },
        body: JSON.stringify({ value: { schema_id: id, data: { employee_ssn: 'x', salary_eur: 1 } } }),
      });
      return { status: res.status, text: await res.text() };
    };
    const before = await recordCount(aliceTopic);
    const missing = 999_998;
    const unknown = await send(missing);
    const bobs = await send(bobsId);
    assert.equal(bobs.status, unknown.status, bobs.text);
    assert.equal(bobs.text, unknown.text.replaceAll(String(missing), String(bobsId)));
    assert.doesNotMatch(bobs.text, /employee_ssn|salary_eur|Salary/);
    assert.equal(await recordCount(aliceTopic), before, 'nothing produced');
  });
});
