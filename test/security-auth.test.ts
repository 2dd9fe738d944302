// Authentication at the door: every way a credential can be missing or wrong is refused with 401
// and produces nothing; JWTs (HS256, ES256 from a PEM, RS256 from a rotating JWKS) and API keys
// get in; anonymous access exists only when configured, and the start-up log says so.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import pino from 'pino';
import { loadConfig } from '../src/config/config.js';
import { startGateway, type RunningGateway } from '../src/gateway.js';
import { JSON_V2, post, request, startTestGateway, testConfig } from './support/gateway.js';
import { brokers, closeAdmin, createTopic, recordCount } from './support/kafka.js';
import {
  AUDIENCE,
  HS_SECRET,
  ISSUER,
  ecKeyPair,
  hsToken,
  newKey,
  rsaKeyPair,
  sha256,
  tempDir,
  writeFile,
} from './support/security.js';

const tmp = tempDir();
const es = ecKeyPair();
const rsa1 = rsaKeyPair();
const rsa2 = rsaKeyPair();
const deviceKey = newKey();

// A JWKS endpoint on 127.0.0.1 whose key set can be rotated during the test.
let published = [{ ...rsa1.publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig', alg: 'RS256' }];
let jwksFetches = 0;
const jwks = http.createServer((_req, res) => {
  jwksFetches++;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ keys: published }));
});

let gw: RunningGateway;
before(async () => {
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  gw = await startTestGateway({
    AUTH_METHODS: 'jwt,apikey',
    JWT_ALGORITHMS: 'HS256,RS256,ES256',
    JWT_SECRET: HS_SECRET,
    JWT_PUBLIC_KEY_FILE: writeFile(
      tmp.dir,
      'es256.pub.pem',
      es.publicKey.export({ format: 'pem', type: 'spki' }) as string,
    ),
    JWT_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`,
    JWT_JWKS_REFRESH_COOLDOWN_MS: '0',
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    API_KEYS: `lobby-sensor:${sha256(deviceKey)}`,
    CORS_ORIGINS: 'https://dashboard.example',
  });
});
after(async () => {
  await gw?.close();
  jwks.close();
  await closeAdmin();
  tmp.remove();
});

const now = () => Math.floor(Date.now() / 1000);
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const produce = (topic: string, headers: Record<string, string>) =>
  post(`${gw.url}/topics/${topic}`, JSON_V2, { records: [{ value: { heartrate: 72 } }] }, headers);

describe('authentication fails closed', () => {
  const cases: Array<[string, () => Record<string, string>, RegExp]> = [
    ['no credential at all', () => ({}), /required/],
    ['an empty Authorization header', () => ({ authorization: '' }), /empty/],
    ['"Bearer" with no token', () => ({ authorization: 'Bearer ' }), /empty/],
    ['a malformed token', () => ({ authorization: 'Bearer not-a-jwt' }), /malformed/],
    ['a token of three garbage parts', () => ({ authorization: 'Bearer aaa.bbb.ccc' }), /malformed/],
    ['the wrong scheme (Basic)', () => ({ authorization: 'Basic ZGV2aWNlOnNlY3JldA==' }), /scheme/],
    [
      'alg: none',
      () => ({
        authorization: `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'device-1', iss: ISSUER, aud: AUDIENCE, exp: now() + 300 })}.`,
      }),
      /algorithm "none"/,
    ],
    [
      'an expired token',
      () => ({ authorization: `Bearer ${hsToken({ sub: 'device-1', exp: now() - 60 }, { expiresIn: undefined })}` }),
      /expired/,
    ],
    [
      'a token not valid yet',
      () => ({ authorization: `Bearer ${hsToken({ sub: 'device-1', nbf: now() + 60 })}` }),
      /not valid yet/,
    ],
    [
      'a token signed with another secret',
      () => ({ authorization: `Bearer ${hsToken({ sub: 'device-1' }, {}, 'another-secret-that-is-32-bytes-long!!')}` }),
      /signature/,
    ],
    [
      'an HS256 token whose secret is the ES256 public key (key confusion)',
      () => ({
        authorization: `Bearer ${hsToken({ sub: 'device-1' }, {}, es.publicKey.export({ format: 'pem', type: 'spki' }) as string)}`,
      }),
      /signature/,
    ],
    [
      'a token from another issuer',
      () => ({ authorization: `Bearer ${hsToken({ sub: 'device-1' }, { issuer: 'https://evil.test' })}` }),
      /issuer/,
    ],
    [
      'a token for another audience',
      () => ({ authorization: `Bearer ${hsToken({ sub: 'device-1' }, { audience: 'billing' })}` }),
      /audience/,
    ],
    [
      'a token without expiry',
      () => ({ authorization: `Bearer ${hsToken({ sub: 'device-1' }, { expiresIn: undefined })}` }),
      /expiry/,
    ],
    [
      'an RS256 token signed with a key the JWKS does not publish',
      () => ({
        authorization: `Bearer ${jwt.sign({ sub: 'device-1' }, rsaKeyPair().privateKey, { algorithm: 'RS256', keyid: 'k9', issuer: ISSUER, audience: AUDIENCE, expiresIn: 300 })}`,
      }),
      /unknown key/,
    ],
    ['a wrong API key', () => ({ 'x-api-key': newKey() }), /API key/],
    ['an empty API key', () => ({ 'x-api-key': '' }), /API key/],
  ];

  for (const [name, headers, message] of cases) {
    it(`refuses ${name} with 401 and produces nothing`, async () => {
      const topic = await createTopic(1);
      const res = await produce(topic, headers());
      assert.equal(res.status, 401, res.text);
      assert.equal(res.body.error_code, 40101);
      assert.match(res.body.message, message);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="kafka-rest"/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', 'helmet headers on refusals too');
      assert.equal(await recordCount(topic), 0);
    });
  }

  it('refuses metadata without a credential too, but probes stay open', async () => {
    assert.equal((await request(`${gw.url}/topics`)).status, 401);
    assert.equal((await request(`${gw.url}/brokers`)).status, 401);
    assert.notEqual((await request(`${gw.url}/healthz`)).status, 401);
  });
});

describe('valid credentials get in', () => {
  it('HS256 token: produces, and a token just past expiry is still inside the clock tolerance', async () => {
    const topic = await createTopic(1);
    assert.equal((await produce(topic, { authorization: `Bearer ${hsToken({ sub: 'device-1' })}` })).status, 200);
    const late = hsToken({ sub: 'device-1', exp: now() - 2 }, { expiresIn: undefined });
    assert.equal((await produce(topic, { authorization: `bearer ${late}` })).status, 200);
    assert.equal(await recordCount(topic), 2);
  });

  it('ES256 token verified with the PEM public key', async () => {
    const topic = await createTopic(1);
    const token = jwt.sign({ sub: 'watch-7' }, es.privateKey, {
      algorithm: 'ES256',
      issuer: ISSUER,
      audience: AUDIENCE,
      expiresIn: 60,
    });
    assert.equal((await produce(topic, { authorization: `Bearer ${token}` })).status, 200);
    assert.equal(await recordCount(topic), 1);
  });

  it('RS256 tokens from the JWKS; a rotated-in key is fetched on its first unknown kid', async () => {
    const topic = await createTopic(1);
    const sign = (key: typeof rsa1.privateKey, kid: string) =>
      jwt.sign({ sub: 'svc-a' }, key, {
        algorithm: 'RS256',
        keyid: kid,
        issuer: ISSUER,
        audience: AUDIENCE,
        expiresIn: 60,
      });
    assert.equal((await produce(topic, { authorization: `Bearer ${sign(rsa1.privateKey, 'k1')}` })).status, 200);
    const fetchesBefore = jwksFetches;
    assert.equal((await produce(topic, { authorization: `Bearer ${sign(rsa1.privateKey, 'k1')}` })).status, 200);
    assert.equal(jwksFetches, fetchesBefore, 'known kid: served from the cache');

    published = [...published, { ...rsa2.publicKey.export({ format: 'jwk' }), kid: 'k2', use: 'sig', alg: 'RS256' }];
    assert.equal((await produce(topic, { authorization: `Bearer ${sign(rsa2.privateKey, 'k2')}` })).status, 200);
    assert.equal(jwksFetches, fetchesBefore + 1, 'unknown kid: one refetch');
    // A token claiming k2 but signed with k1's key is still refused.
    assert.equal((await produce(topic, { authorization: `Bearer ${sign(rsa1.privateKey, 'k2')}` })).status, 401);
    assert.equal(await recordCount(topic), 3);
  });

  it('API key (stored hashed) identifies a device that cannot sign tokens', async () => {
    const topic = await createTopic(1);
    assert.equal((await produce(topic, { 'x-api-key': deviceKey })).status, 200);
    assert.equal(await recordCount(topic), 1);
  });

  it('CORS: an allowed origin gets a preflight answer; others get no CORS headers', async () => {
    const preflight = await request(`${gw.url}/topics/x`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://dashboard.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://dashboard.example');
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /Authorization/);
    const other = await request(`${gw.url}/topics`, { headers: { origin: 'https://evil.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    assert.equal(other.status, 401);
  });
});

describe('anonymous access', () => {
  it('exists only when configured, is logged at start, and never excuses a bad credential', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const config = testConfig({
      KAFKA_BROKERS: brokers.join(','),
      HOST: '127.0.0.1',
      PORT: '0',
      AUTH_METHODS: 'jwt',
      AUTH_ALLOW_ANONYMOUS: 'true',
      JWT_ALGORITHMS: 'HS256',
      JWT_SECRET: HS_SECRET,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
    });
    const anon = await startGateway(config, pino({ level: 'info' }, sink));
    try {
      assert.ok(
        lines.some((l) => /anonymous access is ON/.test(l)),
        'the start-up log says anonymous access is on',
      );
      const topic = await createTopic(1);
      const ok = await post(`${anon.url}/topics/${topic}`, JSON_V2, { records: [{ value: 1 }] });
      assert.equal(ok.status, 200);
      const bad = await post(
        `${anon.url}/topics/${topic}`,
        JSON_V2,
        { records: [{ value: 2 }] },
        {
          authorization: `Bearer ${hsToken({ sub: 'x' }, { audience: 'other' })}`,
        },
      );
      assert.equal(bad.status, 401);
      assert.equal(await recordCount(topic), 1);
    } finally {
      await anon.close();
    }
  });

  it('with authentication on and no anonymous setting, configuration without issuer or audience is refused', () => {
    assert.throws(
      () => loadConfig({ AUTH_METHODS: 'jwt', JWT_ALGORITHMS: 'HS256', JWT_SECRET: HS_SECRET, JWT_AUDIENCE: AUDIENCE }),
      /JWT_ISSUER/,
    );
    assert.throws(() => loadConfig({ AUTH_METHODS: 'jwt', JWT_ALGORITHMS: 'none' }), /JWT_ALGORITHMS/);
    assert.throws(() => loadConfig({ AUTH_METHODS: 'apikey', API_KEYS: 'lobby:plaintext-key' }), /API_KEYS/);
  });
});
