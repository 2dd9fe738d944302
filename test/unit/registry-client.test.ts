/**
 * The external registry's client (SCHEMA_REGISTRY_URL) against a stand-in HTTP server: basic auth
 * from the setting or the URL, schemas by id fetched once, registrations cached, errors keeping
 * their Confluent codes, an unreachable or refusing registry a 50003.
 */
import { strict as assert } from 'node:assert';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, it } from 'node:test';
import type { GatewayError } from '../../src/core/errors.js';
import { RegistryClient } from '../../src/registry/client.js';

const seen: Array<{ method: string; url: string; authorization?: string; body: string }> = [];
let server: http.Server;
let base: string;

before(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body });
      const reply = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
        res.end(JSON.stringify(payload));
      };
      if (req.url === '/schemas/ids/7') return reply(200, { schemaType: 'JSON', schema: '{"type":"object"}' });
      if (req.url === '/subjects/a-value/versions' && req.method === 'POST') return reply(200, { id: 7 });
      if (req.url === '/subjects/a-value/versions/latest')
        return reply(200, { subject: 'a-value', version: 3, id: 9, schema: '"int"' });
      if (req.url === '/schemas/ids/5') return reply(401, { error_code: 401, message: 'Unauthorized' });
      if (req.url === '/schemas/ids/7/versions')
        return reply(200, [
          { subject: 'a-value', version: 1 },
          { subject: 'b-value', version: 2 },
        ]);
      reply(404, { error_code: 40401, message: "Subject 'x' not found." });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

it('sends basic auth, caches schemas by id and registrations, and maps errors', async () => {
  const client = new RegistryClient({ url: base, basicAuth: 'gw:s3cret', timeoutMs: 2_000 });
  const schema = { schemaType: 'JSON' as const, schema: '{"type":"object"}', references: [] };
  assert.equal(await client.register('a-value', schema), 7);
  assert.equal(await client.register('a-value', schema), 7);
  assert.deepEqual(await client.schemaById(7), schema);
  assert.deepEqual(await client.schemaById(7), schema);
  assert.deepEqual(await client.version('a-value', 'latest'), {
    subject: 'a-value',
    version: 3,
    id: 9,
    schemaType: 'AVRO',
    schema: '"int"',
    references: [],
  });
  assert.equal(seen.filter((r) => r.url === '/subjects/a-value/versions').length, 1, 'one registration call');
  assert.equal(seen.filter((r) => r.url === '/schemas/ids/7').length, 1, 'one fetch by id');
  assert.equal(seen[0]!.authorization, `Basic ${Buffer.from('gw:s3cret').toString('base64')}`);
  assert.deepEqual(JSON.parse(seen[0]!.body), { schemaType: 'JSON', schema: '{"type":"object"}' });
  await assert.rejects(
    client.version('x', 1),
    (e: GatewayError) => e.errorCode === 40401 && /not found/.test(e.message),
  );
});

it('names the subjects that use a schema id (so a policy can decide who may produce with it)', async () => {
  const client = new RegistryClient({ url: base, timeoutMs: 2_000 });
  assert.deepEqual(await client.subjectsOf(7), ['a-value', 'b-value']);
  assert.deepEqual(await client.subjectsOf(123), [], 'an id the registry does not know is used by no subject');
});

it('takes credentials from the URL, and answers 50003 when the registry refuses or is away', async () => {
  const client = new RegistryClient({ url: base.replace('http://', 'http://u%40x:p%3A1@'), timeoutMs: 2_000 });
  await assert.rejects(client.schemaById(8), (e: GatewayError) => e.errorCode === 40401);
  assert.equal(seen.at(-1)!.authorization, `Basic ${Buffer.from('u@x:p:1').toString('base64')}`);
  const bearer = new RegistryClient({ url: base, bearerToken: 't0k', timeoutMs: 2_000 });
  await assert.rejects(bearer.schemaById(5), (e: GatewayError) => e.errorCode === 50003);
  assert.equal(seen.at(-1)!.authorization, 'Bearer t0k');
  const away = new RegistryClient({ url: 'http://127.0.0.1:1', timeoutMs: 1_000 });
  await assert.rejects(away.schemaById(1), (e: GatewayError) => e.errorCode === 50003);
});
