// Red-team findings of issue 9, each as the attacker tried it against the real process: a regex
// that would stall the replica, case-variant paths that dodged limits, bodies that never arrive,
// one caller taking every consumer instance or every socket, JWT `crit`, tokens in logs, a
// client-chosen X-Forwarded-For, tenant globs that cross dots, /metrics, bad certificates next to
// a token, and a record header that says who produced a record.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import { startGateway, type RunningGateway } from '../src/gateway.js';
import { createLogger } from '../src/observability/logger.js';
import { may, type Policy } from '../src/policy/authz/policy.js';
import { JSON_V2, V2, post, request, startTestGateway, testConfig } from './support/gateway.js';
import { brokers, closeAdmin, createTopic, readRecords, recordCount, uniqueName } from './support/kafka.js';
import { idleSocket, rawRequest } from './support/raw-http.js';
import { waitUntil } from './support/wait.js';
import {
  AUDIENCE,
  HS_SECRET,
  ISSUER,
  generateCerts,
  hsToken,
  httpsRequest,
  newKey,
  sha256,
  tempDir,
  writeFile,
} from './support/security.js';

const tmp = tempDir();
const gateways: RunningGateway[] = [];
const start = async (env: Record<string, string>) => {
  const gw = await startTestGateway(env);
  gateways.push(gw);
  return gw;
};
after(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  tmp.remove();
  await closeAdmin();
});

/** Raw produce headers with a declared body that is never sent. */
const unsentBody = (topic: string, extra = '') =>
  `POST /topics/${topic} HTTP/1.1\r\nHost: x\r\nContent-Type: ${JSON_V2}\r\nContent-Length: 1048576\r\n${extra}\r\n`;

describe('topic_pattern runs in linear time', () => {
  it('answers a catastrophic pattern at once while /healthz stays responsive, and refuses back-references with 422', async () => {
    const gw = await start({});
    const topic = await createTopic(1, uniqueName('redos'));
    const created = await post(`${gw.url}/consumers/${uniqueName('g')}`, V2, { format: 'json' });
    const base = created.body.base_uri as string;
    const t0 = Date.now();
    const [sub, health] = await Promise.all([
      post(`${base}/subscription`, V2, { topic_pattern: '(.|.|.|.|.|.|.|.)*X' }),
      (async () => {
        // Socket timing on purpose: /healthz is asked just after the subscribe, while its pattern runs.
        await new Promise((r) => setTimeout(r, 20));
        const h0 = Date.now();
        const res = await request(`${gw.url}/healthz`);
        return { status: res.status, ms: Date.now() - h0 };
      })(),
    ]);
    assert.equal(sub.status, 204);
    assert.equal(health.status, 200);
    assert.ok(health.ms < 1_000, `/healthz took ${health.ms} ms`);
    assert.ok(Date.now() - t0 < 3_000);
    // A topic long enough to make a backtracking engine stall on that pattern.
    const long = await createTopic(1, `${topic}-${'a'.repeat(60)}`);
    const again = await post(`${base}/subscription`, V2, { topic_pattern: '(a|a|aa)*(a|a)*b' });
    assert.equal(again.status, 204, long);
    for (const pattern of ['(a)\\1', '(?<=a)b']) {
      const res = await post(`${base}/subscription`, V2, { topic_pattern: pattern });
      assert.equal(res.status, 422, pattern.slice(0, 20));
      assert.equal(res.body.error_code, 422);
    }
    const tooLong = await post(`${base}/subscription`, V2, { topic_pattern: 'x'.repeat(1001) });
    assert.equal(tooLong.status, 400, 'longer than the contract allows');
    const ok = await post(`${base}/subscription`, V2, { topic_pattern: `${topic}|nothing-[0-9]+` });
    assert.equal(ok.status, 204);
    const sub2 = await request(`${base}/subscription`, { headers: { accept: V2 } });
    assert.deepEqual(sub2.body.topics, [topic]);
  });
});

describe('routes are case-sensitive and limits follow the matched route', () => {
  it('answers /TOPICS/x with 404 and counts every spelling of a produce route against the produce limit', async () => {
    const gw = await start({ RATE_LIMIT_PRODUCE: '2', RATE_LIMIT_METADATA: '1000' });
    const topic = await createTopic(1, uniqueName('case'));
    const body = { records: [{ value: { n: 1 } }] };
    for (const path of [`/TOPICS/${topic}`, `/Topics/${topic}`, `/topics/${topic}/PARTITIONS/0`]) {
      const res = await post(`${gw.url}${path}`, JSON_V2, body);
      assert.equal(res.status, 404, path);
    }
    assert.equal((await post(`${gw.url}/topics/${topic}`, JSON_V2, body)).status, 200);
    assert.equal((await post(`${gw.url}/topics/${topic}/`, JSON_V2, body)).status, 200);
    const third = await post(`${gw.url}/topics/${topic}/partitions/0`, JSON_V2, body);
    assert.equal(third.status, 429, 'the trailing-slash and partition spellings counted too');
    assert.equal(await recordCount(topic), 2);
  });
});

describe('authorization and byte budgets before the body is read', () => {
  it('refuses callers without a produce right before reading, so their unsent bodies hold no budget', async () => {
    const keys = { writer: newKey(), nobody: newKey() };
    const topic = await createTopic(1, uniqueName('budget'));
    const policy = writeFile(
      tmp.dir,
      'budget-policy.yaml',
      `rules:\n  - who: { id: 'apikey:writer' }\n    allow: [{ operations: [produce], topics: ['${topic}'] }]\n`,
    );
    const gw = await start({
      AUTH_METHODS: 'apikey',
      API_KEYS: `writer:${sha256(keys.writer)},nobody:${sha256(keys.nobody)}`,
      POLICY_FILE: policy,
      SHED_MAX_INFLIGHT_BYTES: String(16 * 1024 * 1024),
    });
    const t0 = Date.now();
    const replies = await Promise.all(
      Array.from({ length: 60 }, () => rawRequest(gw.url, unsentBody(topic, `X-API-Key: ${keys.nobody}\r\n`))),
    );
    assert.deepEqual([...new Set(replies.map((r) => r.status))], [403]);
    assert.ok(Date.now() - t0 < 5_000, 'answered without waiting for the bodies');
    const ok = await post(
      `${gw.url}/topics/${topic}`,
      JSON_V2,
      { records: [{ value: 1 }] },
      { 'x-api-key': keys.writer },
    );
    assert.equal(ok.status, 200);
  });

  it('charges declared bytes per caller, so one address cannot take the whole budget; slow bodies get 408', async () => {
    const topic = await createTopic(1, uniqueName('slow'));
    const gw = await start({
      SHED_MAX_INFLIGHT_BYTES: String(24 * 1024 * 1024),
      SHED_MAX_INFLIGHT_BYTES_PER_CLIENT: String(8 * 1024 * 1024),
      BODY_TIMEOUT_MS: '1500',
    });
    // 40 requests of 1 MiB declared, from one address, whose bodies never come.
    let shed = 0;
    const flood = Array.from({ length: 40 }, () =>
      rawRequest(gw.url, unsentBody(topic), '127.0.0.1', 8_000).then((r) => {
        if (r.status === 503) shed++;
        return r;
      }),
    );
    // The flood holds its budget once the gateway has shed the requests beyond it (answered at once).
    await waitUntil('the flood to be shed', () => shed >= 30);
    const small = '{"records":[{"value":1}]}';
    const other = await rawRequest(
      gw.url,
      `POST /topics/${topic} HTTP/1.1\r\nHost: x\r\nContent-Type: ${JSON_V2}\r\nContent-Length: ${small.length}\r\nConnection: close\r\n\r\n${small}`,
      '127.0.0.2',
    );
    assert.equal(other.status, 200, `another client is still served: ${other.body}`);
    const statuses = (await Promise.all(flood)).map((r) => r.status);
    assert.ok(statuses.filter((s) => s === 503).length >= 30, `most of the flood is shed: ${statuses.join(',')}`);
    const slow = statuses.filter((s) => s === 408);
    assert.ok(slow.length >= 1 && slow.length <= 8, `the admitted ones time out with 408: ${statuses.join(',')}`);
    const timedOut = (await Promise.all(flood)).find((r) => r.status === 408)!;
    assert.match(timedOut.body, /"error_code":408/);
    assert.match(timedOut.head, /connection: close/i);
  });
  it('charges a compressed body at the size it may inflate to, not its compressed length', async () => {
    const topic = await createTopic(1, uniqueName('gzbudget'));
    const gw = await start({ SHED_MAX_INFLIGHT_BYTES_PER_CLIENT: String(4 * 1024 * 1024), BODY_TIMEOUT_MS: '1500' });
    const gz = `POST /topics/${topic} HTTP/1.1\r\nHost: x\r\nContent-Type: ${JSON_V2}\r\nContent-Encoding: gzip\r\nContent-Length: 100\r\n\r\n`;
    const statuses = (
      await Promise.all(Array.from({ length: 10 }, () => rawRequest(gw.url, gz, '127.0.0.1', 8_000)))
    ).map((r) => r.status);
    assert.equal(statuses.filter((st) => st === 503).length, 6, statuses.join(','));
  });
});

describe('per-caller caps', () => {
  it('lets one caller hold at most MAX_CONSUMER_INSTANCES_PER_CLIENT instances, naming the cap in a 429', async () => {
    const gw = await start({ MAX_CONSUMER_INSTANCES_PER_CLIENT: '3', MAX_CONSUMER_INSTANCES: '50' });
    const group = uniqueName('cap');
    const create = (from: string) =>
      rawRequest(
        gw.url,
        `POST /consumers/${group} HTTP/1.1\r\nHost: x\r\nContent-Type: ${V2}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
        from,
      );
    for (let i = 0; i < 3; i++) assert.equal((await create('127.0.0.1')).status, 200);
    const fourth = await create('127.0.0.1');
    assert.equal(fourth.status, 429);
    assert.match(fourth.body, /MAX_CONSUMER_INSTANCES_PER_CLIENT=3/);
    assert.match(fourth.head, /retry-after: \d+/i);
    assert.equal((await create('127.0.0.2')).status, 200, 'another caller still gets an instance');
  });

  it('caps connections per client address and in total, and closes sockets that never send headers', async () => {
    const gw = await start({ MAX_CONNECTIONS: '60', MAX_CONNECTIONS_PER_CLIENT: '25', HEADERS_TIMEOUT_MS: '1000' });
    const hog = await Promise.all(Array.from({ length: 40 }, () => idleSocket(gw.url, '127.0.0.1')));
    const hog2 = await Promise.all(Array.from({ length: 40 }, () => idleSocket(gw.url, '127.0.0.3')));
    const openSockets = () => [...hog, ...hog2].filter((s) => !s.destroyed && s.readyState === 'open').length;
    // Sockets beyond the caps are closed by the gateway as they arrive, well before the header
    // timeout (1 s) would close them all anyway: look for that within 700 ms (a timeout falls
    // through to the assertion, which says how many are left).
    await waitUntil('sockets beyond the caps to be closed', () => openSockets() <= 50, { timeoutMs: 700 }).catch(
      () => undefined,
    );
    const open = openSockets();
    assert.ok(open <= 50, `${open} idle sockets still open`);
    const res = await rawRequest(gw.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', '127.0.0.2');
    assert.equal(res.status, 200, 'a legitimate client is served');
    // Idle sockets that never sent a request are closed after the header timeout.
    await waitUntil('idle sockets to be closed', () => openSockets() === 0, { timeoutMs: 10_000 }).catch(
      () => undefined,
    );
    const still = openSockets();
    assert.equal(still, 0, `${still} idle sockets outlived HEADERS_TIMEOUT_MS`);
    for (const s of [...hog, ...hog2]) s.destroy();
  });
});

describe('credentials', () => {
  const jwtEnv = {
    AUTH_METHODS: 'jwt',
    JWT_ALGORITHMS: 'HS256',
    JWT_SECRET: HS_SECRET,
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
  };

  it('refuses a JWT whose crit names anything, and tokens older than JWT_MAX_TOKEN_AGE_S', async () => {
    const gw = await start({ ...jwtEnv, JWT_MAX_TOKEN_AGE_S: '600' });
    const good = hsToken({ sub: 'device-1' });
    assert.equal((await request(`${gw.url}/topics`, { headers: { authorization: `Bearer ${good}` } })).status, 200);
    const crit = jwt.sign({ sub: 'device-1', exp: Math.floor(Date.now() / 1000) + 300 }, HS_SECRET, {
      algorithm: 'HS256',
      issuer: ISSUER,
      audience: AUDIENCE,
      header: { alg: 'HS256', crit: ['exp'] } as jwt.JwtHeader,
    });
    const refused = await request(`${gw.url}/topics`, { headers: { authorization: `Bearer ${crit}` } });
    assert.equal(refused.status, 401);
    assert.match(refused.body.message, /crit/);
    const old = hsToken({ sub: 'device-1', iat: Math.floor(Date.now() / 1000) - 3_600 }, { expiresIn: 7_200 });
    assert.equal((await request(`${gw.url}/topics`, { headers: { authorization: `Bearer ${old}` } })).status, 401);
    const noIat = hsToken({ sub: 'device-1' }, { noTimestamp: true });
    assert.equal((await request(`${gw.url}/topics`, { headers: { authorization: `Bearer ${noIat}` } })).status, 401);
  });

  it('never writes a token from the query string into the log', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const config = testConfig({ ...jwtEnv, KAFKA_BROKERS: brokers.join(','), HOST: '127.0.0.1', PORT: '0' });
    const gw = await startGateway(config, createLogger('debug', sink));
    gateways.push(gw);
    const secret = hsToken({ sub: 'leaky' }).split('.').slice(0, 2).join('.') + '.c2VjcmV0LXNpZ25hdHVyZQ';
    await request(`${gw.url}/topics?access_token=${secret}&api_key=k3y-${secret}`);
    await request(`${gw.url}/nothing/here?token=${secret}`);
    await request(`${gw.url}/topics?access_token=${secret}`, { headers: { authorization: 'Bearer nope' } });
    await waitUntil('the three requests to be logged', () => lines.length >= 3, { timeoutMs: 5_000 }).catch(
      () => false,
    );
    assert.ok(lines.length >= 3, 'the requests were logged');
    for (const line of lines)
      assert.ok(!line.includes('c2VjcmV0LXNpZ25hdHVyZQ'), `token in log: ${line.slice(0, 200)}`);
  });

  it('keys limits on the address the trusted hop reports, never on a client-chosen leftmost X-Forwarded-For', async () => {
    const gw = await start({ TRUST_PROXY: 'true', RATE_LIMIT_METADATA: '2' });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await request(`${gw.url}/topics`, { headers: { 'x-forwarded-for': `6.6.6.${i}, 10.0.0.1` } });
      statuses.push(res.status);
    }
    assert.deepEqual(statuses, [200, 200, 429, 429]);
  });

  it('refuses a bad client certificate with 401 even when a valid token is present (TLS_CLIENT_AUTH=request)', async () => {
    const certDir = tempDir();
    const cert = generateCerts(certDir.dir);
    try {
      const gw = await start({
        ...jwtEnv,
        AUTH_METHODS: 'jwt,cert',
        TLS_CERT_FILE: `${certDir.dir}/server.crt`,
        TLS_KEY_FILE: `${certDir.dir}/server.key`,
        TLS_CA_FILE: `${certDir.dir}/ca.crt`,
        TLS_CLIENT_AUTH: 'request',
      });
      const headers = { authorization: `Bearer ${hsToken({ sub: 'device-1' })}` };
      const withRogue = await httpsRequest(`${gw.url}/topics`, {
        ca: cert('ca.crt'),
        cert: cert('rogue.crt'),
        key: cert('rogue.key'),
        headers,
      });
      assert.equal(withRogue.status, 401);
      const tokenOnly = await httpsRequest(`${gw.url}/topics`, { ca: cert('ca.crt'), headers });
      assert.equal(tokenOnly.status, 200);
    } finally {
      certDir.remove();
    }
  });
});

describe('policy globs on dot-separated names', () => {
  const policy: Policy = {
    rules: [
      { who: {}, allow: [{ operations: ['produce'], topics: ['tenant.{claims.tenant}.*'], groups: [] }] },
      { who: { kind: 'apikey' }, allow: [{ operations: ['admin'], topics: ['*'], groups: ['*'] }] },
      { who: { kind: 'cert' }, allow: [{ operations: ['consume'], topics: ['logs.**'], groups: ['g-{name}'] }] },
    ],
  };
  const tenant = (t: string) => ({ id: `jwt:${t}`, kind: 'jwt' as const, claims: { tenant: t } });

  it('keeps `*` within one segment, so tenant a cannot reach tenant a.b, and refuses dotted values before a glob', () => {
    assert.ok(may(policy, tenant('a'), 'produce', { topic: 'tenant.a.events' }));
    assert.ok(!may(policy, tenant('a'), 'produce', { topic: 'tenant.a.b.events' }), 'a into a.b');
    assert.ok(!may(policy, tenant('a.b'), 'produce', { topic: 'tenant.a.b.events' }), 'dotted value before a glob');
    assert.ok(!may(policy, tenant('*'), 'produce', { topic: 'tenant.x.events' }), 'a glob in a value is literal');
    assert.ok(may(policy, { id: 'apikey:ops', kind: 'apikey' }, 'produce', { topic: 'any.thing.at.all' }), 'lone *');
    const cert = { id: 'cert:a.b', kind: 'cert' as const };
    assert.ok(may(policy, cert, 'consume', { topic: 'logs.x.y.z' }), '** crosses dots');
    assert.ok(may(policy, cert, 'consume', { group: 'g-a.b' }), 'a dotted value with no glob after it is literal');
    const suffix: Policy = {
      rules: [{ who: {}, allow: [{ operations: ['produce'], topics: ['suffix.**.{claims.tenant}'], groups: [] }] }],
    };
    assert.ok(may(suffix, tenant('c'), 'produce', { topic: 'suffix.x.c' }));
    assert.ok(!may(suffix, tenant('b.c'), 'produce', { topic: 'suffix.x.b.c' }), 'a glob before a dotted value');
    assert.ok(may(suffix, tenant('c'), 'produce', { topic: 'suffix.x.b.c' }), 'c owns every name ending in .c');
  });
});

describe('metrics and the principal record header', () => {
  it('serves /metrics on the API port only to authenticated callers when authentication is on', async () => {
    const key = newKey();
    const gw = await start({ AUTH_METHODS: 'apikey', API_KEYS: `ops:${sha256(key)}` });
    assert.equal((await fetch(`${gw.url}/metrics`)).status, 401);
    const ok = await fetch(`${gw.url}/metrics`, { headers: { 'x-api-key': key } });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /http_request/);
    assert.equal((await fetch(`${gw.url}/healthz`)).status, 200, 'probes stay open');
  });

  it('stamps every record with the authenticated principal, replacing a header the client forged', async () => {
    const key = newKey();
    const topic = await createTopic(1, uniqueName('stamp'));
    const gw = await start({
      AUTH_METHODS: 'apikey',
      API_KEYS: `sensor-7:${sha256(key)}`,
      RECORD_PRINCIPAL_HEADER: 'x-principal',
    });
    const forged = Buffer.from('apikey:admin').toString('base64');
    const res = await post(
      `${gw.url}/topics/${topic}`,
      JSON_V2,
      {
        records: [
          { value: 1, headers: [{ key: 'x-principal', value: forged }] },
          {
            value: 2,
            headers: [
              { key: 'X-Principal', value: forged },
              { key: 'x-principal ', value: forged },
            ],
          },
        ],
      },
      { 'x-api-key': key },
    );
    assert.equal(res.status, 200);
    const stored = await readRecords(topic, 2);
    for (const r of stored) {
      const values = Object.entries(r.headers ?? {})
        .filter(([k]) => k.trim().toLowerCase() === 'x-principal')
        .map(([, v]) => String(v));
      assert.deepEqual(values, ['apikey:sensor-7']);
    }
  });
});

describe('second attack round (issue 9 re-attacked)', () => {
  it('refuses topic patterns whose RE2 program is too large, and matches big ones without stalling', async () => {
    const gw = await start({});
    const prefix = uniqueName('many');
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => createTopic(1, `${prefix}.sensor-readings.building-${i}.v1`)),
    );
    const created = await post(`${gw.url}/consumers/${uniqueName('g')}`, V2, { format: 'json' });
    const base = created.body.base_uri as string;
    const heavy = `${'(.{0,31}){0,31}'.repeat(66)}X`;
    const t0 = Date.now();
    const refused = await post(`${base}/subscription`, V2, { topic_pattern: heavy });
    assert.equal(refused.status, 422);
    assert.match(refused.body.message, /too complex/);
    assert.ok(Date.now() - t0 < 2_000);
    const largest = await post(`${base}/subscription`, V2, { topic_pattern: `${prefix}\\..{1,200}` });
    assert.equal(largest.status, 204);
    const sub = await request(`${base}/subscription`, { headers: { accept: V2 } });
    assert.equal(sub.body.topics.length, 20);
  });

  it('closes a connection that pipelines too many requests, and nothing stays in flight after it closes', async () => {
    const gw = await startTestGateway({ MAX_PIPELINED_REQUESTS: '8', SHUTDOWN_TIMEOUT_MS: '20000' });
    const burst = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(2_000);
    const reply = await rawRequest(gw.url, burst, '127.0.0.1', 5_000);
    const answered = (reply.head + reply.body).split('HTTP/1.1 200').length - 1;
    assert.ok(answered <= 8, `${answered} pipelined requests answered`);
    const ok = await request(`${gw.url}/healthz`);
    assert.equal(ok.status, 200, 'still serving');
    const t0 = Date.now();
    await gw.close();
    assert.ok(Date.now() - t0 < 5_000, `shutdown waited ${Date.now() - t0} ms for requests nobody will finish`);
  });

  it('answers an unknown path or method before reading its body', async () => {
    const gw = await start({ BODY_TIMEOUT_MS: '10000' });
    const t0 = Date.now();
    const unknown = await rawRequest(gw.url, 'POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n');
    assert.equal(unknown.status, 404);
    const wrongMethod = await rawRequest(gw.url, 'PUT /topics HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n');
    assert.equal(wrongMethod.status, 405);
    assert.match(wrongMethod.head, /allow: GET, OPTIONS/i);
    assert.ok(Date.now() - t0 < 3_000, 'no wait for bodies that never come');
  });

  it('resolves a pattern only among topics the caller may consume: it neither fails on nor reveals hidden ones', async () => {
    const keys = { a: newKey(), ops: newKey() };
    const run = uniqueName('vis').replace(/-/g, '');
    const mine = await createTopic(1, `tenant.${run}a.x`);
    await createTopic(1, `secret${run}.payroll`);
    const policy = writeFile(
      tmp.dir,
      'vis-policy.yaml',
      `rules:\n  - who: { id: 'apikey:a' }\n    allow: [{ operations: [consume], topics: ['tenant.${run}a.*'], groups: ['*'] }]\n` +
        `  - who: { id: 'apikey:ops' }\n    allow: [{ operations: [admin], topics: ['*'], groups: ['*'] }]\n`,
    );
    const gw = await start({
      AUTH_METHODS: 'apikey',
      API_KEYS: `a:${sha256(keys.a)},ops:${sha256(keys.ops)}`,
      POLICY_FILE: policy,
    });
    const h = { 'x-api-key': keys.a };
    const created = await post(`${gw.url}/consumers/${uniqueName('g')}`, V2, {}, h);
    const base = created.body.base_uri as string;
    const res = await post(`${base}/subscription`, V2, { topic_pattern: `.*${run}.*` }, h);
    assert.equal(res.status, 204);
    const sub = await request(`${base}/subscription`, { headers: { accept: V2, ...h } });
    assert.deepEqual(sub.body.topics, [mine]);
    // /metrics names every topic: only a caller with admin on every topic reads it.
    assert.equal((await fetch(`${gw.url}/metrics`, { headers: h })).status, 403);
    assert.equal((await fetch(`${gw.url}/metrics`, { headers: { 'x-api-key': keys.ops } })).status, 200);
  });

  it('does not echo a credential put where the Authorization scheme goes', async () => {
    const gw = await start({ AUTH_METHODS: 'apikey', API_KEYS: `x:${sha256(newKey())}` });
    const res = await request(`${gw.url}/topics`, { headers: { authorization: 'key-ops-0123456789abcdef' } });
    assert.equal(res.status, 401);
    assert.doesNotMatch(res.text, /key-ops/);
  });
});
