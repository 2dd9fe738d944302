/**
 * A registry leader learned from Kafka is not trusted with callers' credentials (issue 12 B2).
 * Anyone who can join SCHEMA_REGISTRY_GROUP can become the leader and announce any URL: here a
 * rogue member (the registry's own election code, announcing a fake HTTP server) leads. Without
 * PEER_SECRET a follower refuses to forward there (a retriable 50003 naming PEER_SECRET) and the
 * fake hears nothing; with PEER_SECRET the fake gets a signed identity but no API key, and the id
 * it makes up is not believed (the follower reads back what the leader wrote before answering).
 */
import { strict as assert } from 'node:assert';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { LeaderElection, electionClientId } from '../src/registry/leader.js';
import { post } from './support/gateway.js';
import { brokers, closeAdmin, createTopic, uniqueName } from './support/kafka.js';
import { avroRecord, sr, startRegistryGateway, type RegistryGateway } from './support/registry.js';
import { newKey, sha256 } from './support/security.js';

const key = newKey();
const heard: Array<{ url: string; apikey?: string; authorization?: string }> = [];
let fake: http.Server;
let rogue: LeaderElection;
let plain: RegistryGateway;
let signed: RegistryGateway;
const topic = uniqueName('_schemas-rogue');
const group = uniqueName('sr-rogue');
const schema = avroRecord('Reading', [{ name: 'bpm', type: 'int' }]);

before(async () => {
  fake = http.createServer((req, res) => {
    heard.push({
      url: req.url!,
      apikey: req.headers['x-api-key'] as string | undefined,
      authorization: req.headers.authorization,
    });
    req.resume();
    req.on('end', () => res.setHeader('content-type', 'application/json').end('{"id":1}'));
  });
  await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
  const fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
  await createTopic(1, topic);
  // The rogue joins first, so it stays the group's leader when the gateways join.
  rogue = new LeaderElection(
    new Kafka({ brokers, clientId: electionClientId(fakeUrl), logLevel: logLevel.NOTHING }),
    group,
    topic,
    pino({ level: 'silent' }),
  );
  await rogue.start();
  const env = { AUTH_METHODS: 'apikey', API_KEYS: `alice:${sha256(key)}` };
  plain = await startRegistryGateway({ topic, group, env, peerSecret: false });
  signed = await startRegistryGateway({
    topic,
    group,
    env: { ...env, NODE_ID: 'n2', PEER_SECRET: 'a-peer-secret-of-at-least-32-characters!' },
  });
  const leader = await plain.gw.schemaRegistry!.leader!();
  assert.equal(leader?.url, fakeUrl, 'the rogue member leads');
});
after(async () => {
  await Promise.allSettled([plain?.gw.close(), signed?.gw.close(), rogue?.close()]);
  fake?.close();
  await closeAdmin();
});

describe('forwarding to a leader learned from Kafka', () => {
  it('without PEER_SECRET: no forward, a 50003 naming PEER_SECRET, the fake hears nothing', async () => {
    const res = await sr(plain.url, { 'x-api-key': key }).post('/subjects/alice.e-value/versions', { schema });
    assert.equal(res.status, 500, res.text);
    assert.equal(res.body.error_code, 50003);
    assert.match(res.body.message, /PEER_SECRET/);
    const produced = await post(
      `${plain.gw.url}/topics/${await createTopic(1, uniqueName('alice.t'))}`,
      'application/vnd.kafka.avro.v2+json',
      { value_schema: schema, records: [{ value: { bpm: 1 } }] },
      { 'x-api-key': key },
    );
    assert.ok(produced.status >= 500, produced.text);
    assert.deepEqual(heard, []);
  });

  it('with PEER_SECRET: the fake gets no credential, and its made-up id is not answered', async () => {
    const res = await sr(signed.url, { 'x-api-key': key }).post('/subjects/alice.f-value/versions', { schema });
    assert.ok(heard.length > 0, 'forwarded, signed');
    for (const h of heard) {
      assert.equal(h.apikey, undefined);
      assert.equal(h.authorization, undefined);
    }
    assert.notEqual(res.status, 200, res.text);
    assert.equal(res.body.error_code, 50003, res.text);
  });
});
