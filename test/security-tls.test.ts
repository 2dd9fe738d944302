// HTTPS with client certificates from scripts/gen-certs.sh: with required mTLS only a certificate
// of the configured CA that is in date gets a connection at all; its subject (CN) is the identity
// the policy sees. With optional client certificates a bad one is a 401, never anonymous access.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningGateway } from '../src/gateway.js';
import { JSON_V2, startTestGateway } from './support/gateway.js';
import { closeAdmin, createTopic, recordCount, uniqueName } from './support/kafka.js';
import {
  AUDIENCE,
  HS_SECRET,
  ISSUER,
  generateCerts,
  hsToken,
  httpsRequest,
  tempDir,
  writeFile,
} from './support/security.js';

const tmp = tempDir();
let cert: (name: string) => Buffer;
let topic: string;
let required: RunningGateway;
let optional: RunningGateway;

before(async () => {
  cert = generateCerts(tmp.dir);
  topic = await createTopic(1, uniqueName('device-1-readings'));
  const policy = writeFile(
    tmp.dir,
    'policy.yaml',
    `rules:\n  - who: { id: 'cert:device-1' }\n    allow: [{ operations: [produce], topics: ['${topic}'] }]\n  - who: { id: 'jwt:device-1' }\n    allow: [{ operations: [produce], topics: ['${topic}'] }]\n`,
  );
  const tls = {
    TLS_CERT_FILE: `${tmp.dir}/server.crt`,
    TLS_KEY_FILE: `${tmp.dir}/server.key`,
    TLS_CA_FILE: `${tmp.dir}/ca.crt`,
    POLICY_FILE: policy,
  };
  required = await startTestGateway({ ...tls, TLS_CLIENT_AUTH: 'require', AUTH_METHODS: 'cert' });
  optional = await startTestGateway({
    ...tls,
    TLS_CLIENT_AUTH: 'request',
    AUTH_METHODS: 'cert,jwt',
    JWT_ALGORITHMS: 'HS256',
    JWT_SECRET: HS_SECRET,
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
  });
});
after(async () => {
  await required?.close();
  await optional?.close();
  await closeAdmin();
  tmp.remove();
});

const produce = (gw: RunningGateway, client?: string, headers: Record<string, string> = {}) =>
  httpsRequest(`${gw.url}/topics/${topic}`, {
    method: 'POST',
    headers: { 'content-type': JSON_V2, ...headers },
    body: JSON.stringify({ records: [{ value: { bpm: 61 } }] }),
    ca: cert('ca.crt'),
    cert: client === undefined ? undefined : cert(`${client}.crt`),
    key: client === undefined ? undefined : cert(`${client}.key`),
  });

describe('required client certificates (TLS_CLIENT_AUTH=require)', () => {
  it('serves HTTPS, and a good certificate is the identity: device-1 may produce, dashboard may not', async () => {
    assert.match(required.url, /^https:/);
    const before = await recordCount(topic);
    const ok = await produce(required, 'device-1');
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.match(String(ok.headers['strict-transport-security']), /max-age/);
    const other = await produce(required, 'dashboard');
    assert.equal(other.status, 403);
    assert.equal(other.body.error_code, 40301);
    assert.equal(await recordCount(topic), before + 1);
  });

  for (const [name, client] of [
    ['a certificate from an unknown CA', 'rogue'],
    ['an expired certificate', 'expired'],
    ['no certificate', undefined],
  ] as const) {
    it(`refuses the connection for ${name}, producing nothing`, async () => {
      const before = await recordCount(topic);
      await assert.rejects(produce(required, client), (err: Error & { code?: string }) => {
        // The TLS layer refuses: an alert, a reset, or a closed socket, depending on TLS version and timing.
        assert.match(`${err.code ?? ''} ${err.message}`, /alert|ECONNRESET|socket hang up|EPIPE|certificate/i);
        return true;
      });
      assert.equal(await recordCount(topic), before);
    });
  }
});

describe('optional client certificates (TLS_CLIENT_AUTH=request)', () => {
  it('a good certificate authenticates; a bad one or none without a token is 401', async () => {
    const before = await recordCount(topic);
    assert.equal((await produce(optional, 'device-1')).status, 200);
    for (const client of ['expired', 'rogue', undefined]) {
      const res = await produce(optional, client);
      assert.equal(res.status, 401, String(client));
      assert.equal(res.body.error_code, 40101);
      assert.ok(res.headers['www-authenticate']);
    }
    const expired = await produce(optional, 'expired');
    assert.match(expired.body.message, /CERT_HAS_EXPIRED|expired/i);
    assert.equal(await recordCount(topic), before + 1);
  });

  it('a token works without a certificate', async () => {
    const res = await produce(optional, undefined, { authorization: `Bearer ${hsToken({ sub: 'device-1' })}` });
    assert.equal(res.status, 200);
  });
});
