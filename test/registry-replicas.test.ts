/**
 * The registry's storage and its replicas: schemas survive a restart, two registries on one topic
 * hand out unique ids under concurrent registration (one elected writer), a topic written by
 * Confluent Schema Registry is read as it is, and a gateway uses another gateway's registry as an
 * external one (SCHEMA_REGISTRY_URL).
 */
import { strict as assert } from 'node:assert';
import { after, describe, it } from 'node:test';
import { GatewayError } from '../src/core/errors.js';
import { startTestGateway } from './support/gateway.js';
import { admin, closeAdmin, createTopic, kafka, uniqueName } from './support/kafka.js';
import { avroRecord, sr, startRegistryGateway, type RegistryGateway } from './support/registry.js';
import { AUDIENCE, HS_SECRET, ISSUER, hsToken } from './support/security.js';

const running: Array<{ close(): Promise<void> }> = [];
after(async () => {
  await Promise.allSettled(running.map((g) => g.close()));
  await closeAdmin();
});

async function start(options: Parameters<typeof startRegistryGateway>[0] = {}): Promise<RegistryGateway> {
  const reg = await startRegistryGateway(options);
  running.push(reg.gw);
  return reg;
}

const schemaNo = (n: number) => avroRecord(`R${n}`, [{ name: `f${n}`, type: 'int' }]);

describe('schema registry storage and replicas', () => {
  it('keeps every schema, id and version across a restart', async () => {
    const first = await start();
    const api = sr(first.url);
    const ids: number[] = [];
    for (let n = 0; n < 3; n++)
      ids.push((await api.post(`/subjects/s${n}-value/versions`, { schema: schemaNo(n) })).body.id);
    await api.put('/config/s0-value', { compatibility: 'NONE' });
    await first.gw.close();

    const second = await start({ topic: first.topic, group: first.group });
    const again = sr(second.url);
    for (let n = 0; n < 3; n++) {
      const v = await again.get(`/subjects/s${n}-value/versions/latest`);
      assert.equal(v.status, 200, v.text);
      assert.equal(v.body.id, ids[n]);
      assert.equal(v.body.schema, schemaNo(n));
    }
    assert.deepEqual((await again.get('/config/s0-value')).body, { compatibilityLevel: 'NONE' });
    // The same schema keeps its id; a new one gets the next.
    assert.deepEqual((await again.post('/subjects/s1-value/versions', { schema: schemaNo(1) })).body, { id: ids[1] });
    const next = await again.post('/subjects/s9-value/versions', { schema: schemaNo(9) });
    assert.equal(next.body.id, Math.max(...ids) + 1);
  });

  it('hands out unique ids when two registries register at once (the leader writes, the other forwards)', async () => {
    const a = await start();
    const b = await start({ topic: a.topic, group: a.group });
    const apis = [sr(a.url), sr(b.url)];
    // Compatibility NONE, so unrelated schemas share subjects (versions are contended too).
    assert.equal((await apis[1]!.put('/config', { compatibility: 'NONE' })).status, 200);
    const distinct = 24;
    const calls: Array<Promise<{ n: number; id: number; status: number }>> = [];
    for (let n = 0; n < distinct; n++)
      calls.push(
        apis[n % 2]!.post(`/subjects/c${n % 4}-value/versions`, { schema: schemaNo(100 + n) }).then((r) => ({
          n,
          id: r.body?.id,
          status: r.status,
        })),
      );
    // The same schema, sent to both at once, many times.
    const same = avroRecord('Same', [{ name: 'x', type: 'string' }]);
    for (let i = 0; i < 8; i++)
      calls.push(
        apis[i % 2]!.post('/subjects/same-value/versions', { schema: same }).then((r) => ({
          n: -1,
          id: r.body?.id,
          status: r.status,
        })),
      );
    const ok = await Promise.all(calls);
    for (const r of ok) assert.equal(r.status, 200, JSON.stringify(r));
    const distinctIds = ok.filter((r) => r.n >= 0).map((r) => r.id);
    const sameIds = new Set(ok.filter((r) => r.n < 0).map((r) => r.id));
    assert.equal(sameIds.size, 1, `the same schema got ids ${[...sameIds].join(', ')}`);
    assert.equal(new Set(distinctIds).size, distinctIds.length, `ids repeat: ${distinctIds.join(', ')}`);
    assert.ok(!distinctIds.includes([...sameIds][0]!));
    // Each shared subject got versions 1…n without gaps or duplicates.
    for (let c = 0; c < 4; c++) {
      const versions = await waitFor(() => apis[0]!.get(`/subjects/c${c}-value/versions`));
      assert.deepEqual(
        versions.body,
        Array.from({ length: distinct / 4 }, (_, i) => i + 1),
      );
    }
    // Both replicas answer the same id for every schema.
    for (const r of ok) {
      const schema = r.n < 0 ? same : schemaNo(100 + r.n);
      const subject = r.n < 0 ? 'same-value' : `c${r.n % 4}-value`;
      for (const api of apis) {
        const found = await waitFor(() => api.post(`/subjects/${subject}`, { schema }));
        assert.equal(found.body.id, r.id);
      }
    }
  });

  it('elects another writer when the leader stops, and goes on from the same ids', async () => {
    const a = await start();
    const b = await start({ topic: a.topic, group: a.group });
    const first = await sr(b.url).post('/subjects/f-value/versions', { schema: schemaNo(1) });
    assert.equal(first.status, 200, first.text);
    // Forwarded to the leader, yet readable here as soon as it is answered (read-your-writes).
    assert.equal((await sr(b.url).get('/subjects/f-value/versions/latest')).body.id, first.body.id);
    const port = b.gw.schemaRegistry!.registry;
    const viaPort = await port.register('f3-value', { schemaType: 'AVRO', schema: schemaNo(3), references: [] });
    assert.equal((await port.version('f3-value', 'latest')).id, viaPort);
    assert.equal((await a.gw.schemaRegistry!.leader!())?.self, true, 'the first to join leads');
    assert.deepEqual(await b.gw.schemaRegistry!.leader!(), { self: false, url: a.url });
    await a.gw.close(); // it leaves the group on close
    const next = await sr(b.url).post('/subjects/f2-value/versions', { schema: schemaNo(2) });
    assert.equal(next.status, 200, next.text);
    assert.equal(next.body.id, viaPort + 1);
    assert.equal((await b.gw.schemaRegistry!.leader!())?.self, true);
  });

  it('answers 50001 (backend store error) when its topic is gone, and keeps serving reads', async () => {
    const reg = await start();
    const api = sr(reg.url);
    const { id } = (await api.post('/subjects/kept-value/versions', { schema: schemaNo(1) })).body as { id: number };
    await (await admin()).deleteTopics({ topics: [reg.topic] });
    const refused = await api.post('/subjects/lost-value/versions', { schema: schemaNo(2) });
    assert.equal(refused.status, 500, refused.text);
    assert.equal(refused.body.error_code, 50001);
    assert.match(refused.body.message, /backend datastore/);
    assert.equal((await api.get(`/schemas/ids/${id}`)).status, 200);
  });

  it('reads a _schemas topic written by Confluent Schema Registry, record for record', async () => {
    const topic = await createTopic(1, uniqueName('_schemas-confluent'));
    const producer = kafka.producer();
    await producer.connect();
    const avro = '{"type":"record","name":"Reading","namespace":"demo","fields":[{"name":"bpm","type":"int"}]}';
    const json = '{"type":"object","properties":{"bpm":{"type":"integer"}}}';
    const rec = (key: unknown, value: unknown) => ({
      key: JSON.stringify(key),
      value: value === null ? null : JSON.stringify(value),
    });
    // Exactly what Confluent Schema Registry 7.x writes (field order included).
    await producer.send({
      topic,
      messages: [
        rec({ keytype: 'NOOP', magic: 0 }, null),
        rec(
          { keytype: 'SCHEMA', subject: 'heart-value', version: 1, magic: 1 },
          { subject: 'heart-value', version: 1, id: 1, schema: avro, deleted: false },
        ),
        rec(
          { keytype: 'SCHEMA', subject: 'heart-json-value', version: 1, magic: 1 },
          { subject: 'heart-json-value', version: 1, id: 2, schemaType: 'JSON', schema: json, deleted: false },
        ),
        rec({ keytype: 'CONFIG', subject: null, magic: 0 }, { compatibilityLevel: 'FULL' }),
        rec({ keytype: 'CONFIG', subject: 'heart-json-value', magic: 0 }, { compatibilityLevel: 'NONE' }),
        rec(
          { keytype: 'SCHEMA', subject: 'old-value', version: 1, magic: 1 },
          { subject: 'old-value', version: 1, id: 5, schema: '"string"', deleted: false },
        ),
        rec({ keytype: 'DELETE_SUBJECT', subject: 'old-value', magic: 0 }, { subject: 'old-value', version: 1 }),
        rec(
          { keytype: 'SCHEMA', subject: 'gone-value', version: 1, magic: 1 },
          { subject: 'gone-value', version: 1, id: 6, schema: '"long"', deleted: false },
        ),
        rec({ keytype: 'SCHEMA', subject: 'gone-value', version: 1, magic: 1 }, null),
      ],
    });
    await producer.disconnect();

    const reg = await start({ topic });
    const api = sr(reg.url);
    assert.deepEqual((await api.get('/subjects')).body, ['heart-json-value', 'heart-value']);
    assert.deepEqual((await api.get('/subjects?deleted=true')).body, ['heart-json-value', 'heart-value', 'old-value']);
    assert.deepEqual((await api.get('/schemas/ids/1')).body, { schema: avro });
    assert.deepEqual((await api.get('/schemas/ids/2')).body, { schemaType: 'JSON', schema: json });
    assert.equal((await api.get('/schemas/ids/6')).body.error_code, 40403);
    assert.deepEqual((await api.get('/config')).body, { compatibilityLevel: 'FULL' });
    assert.deepEqual((await api.get('/config/heart-json-value')).body, { compatibilityLevel: 'NONE' });
    // New ids continue after the highest one in the topic.
    const next = await api.post('/subjects/new-value/versions', { schema: '"bytes"' });
    assert.deepEqual(next.body, { id: 7 });
  });

  it('serves the gateway from another gateway’s registry (SCHEMA_REGISTRY_URL), with a bearer token', async () => {
    const env = {
      AUTH_METHODS: 'jwt',
      JWT_ALGORITHMS: 'HS256',
      JWT_SECRET: HS_SECRET,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
    };
    const registry = await start({ env });
    const token = hsToken({ sub: 'gateway-b' });
    assert.equal((await sr(registry.url).get('/subjects')).status, 401);
    const gw = await startTestGateway({ SCHEMA_REGISTRY_URL: registry.url, SCHEMA_REGISTRY_BEARER_TOKEN: token });
    running.push(gw);
    assert.equal(gw.schemaRegistry?.url, undefined, 'no embedded registry when an external one is configured');
    const client = gw.schemaRegistry!.registry;
    const text = { schemaType: 'AVRO' as const, schema: schemaNo(1), references: [] };
    const id = await client.register('ext-value', text);
    assert.equal(await client.register('ext-value', text), id);
    assert.deepEqual(await client.schemaById(id), text);
    const latest = await client.version('ext-value', 'latest');
    assert.deepEqual(latest, { subject: 'ext-value', version: 1, id, ...text });
    await assert.rejects(client.version('nobody-value', 1), (e: GatewayError) => e.errorCode === 40401);
    await assert.rejects(client.schemaById(999_999), (e: GatewayError) => e.errorCode === 40403);
    await assert.rejects(
      client.register('ext-value', { ...text, schema: avroRecord('R1', [{ name: 'g', type: 'int' }]) }),
      (e: GatewayError) => e.errorCode === 409,
    );
    // Without the token the external registry refuses the gateway: a 50003 for its clients.
    const anonymous = await startTestGateway({ SCHEMA_REGISTRY_URL: registry.url });
    running.push(anonymous);
    await assert.rejects(anonymous.schemaRegistry!.registry.schemaById(id), (e: GatewayError) => e.errorCode === 50003);
  });
});

async function waitFor<T extends { status: number }>(call: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await call();
    if (r.status === 200 || Date.now() > deadline) return r;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
