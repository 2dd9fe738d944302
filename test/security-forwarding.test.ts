// Forwarding between replicas cannot be aimed. A replica forwards a consumer-instance request only
// to the configured origin of the owning replica, on a path rebuilt from the route; absolute-form
// targets and dot segments are refused before any handler runs; a forwarded caller identity is
// trusted only with the sibling's signature (PEER_SECRET), which is what lets certificate-identified
// consumers work across replicas over mTLS.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { RunningGateway } from '../src/gateway.js';
import { V2, post, startTestGateway } from './support/gateway.js';
import { closeAdmin, uniqueName } from './support/kafka.js';
import { freePort } from './support/net.js';
import { PeerProof } from '../src/policy/auth/peer-proof.js';
import { canary, rawRequest } from './support/raw-http.js';
import { generateCerts, httpsRequest, newKey, sha256, tempDir } from './support/security.js';

/** A peer that records what reaches it and answers every request with headers that name itself. */
async function recordingPeer() {
  const seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders }> = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers });
    req.resume();
    const self = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    res.writeHead(200, {
      'content-type': 'application/vnd.kafka.v2+json',
      'x-kafka-rest-forwarded-by': self,
      location: `${self}/elsewhere`,
      'set-cookie': 'peer=1',
    });
    res.end('{"partitions":[]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { port, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const INSTANCE_TARGET =
  /^\/consumers\/[^/]+\/instances\/[^/]+(\/(records|offsets|subscription|assignments|positions(\/beginning|\/end)?))?(\?(timeout|max_bytes)=\d+(&(timeout|max_bytes)=\d+)*)?$/;

describe('forwarding cannot be aimed', () => {
  let sink: Awaited<ReturnType<typeof canary>>;
  let peer: Awaited<ReturnType<typeof recordingPeer>>;
  let gw: RunningGateway;

  before(async () => {
    sink = await canary();
    peer = await recordingPeer();
    gw = await startTestGateway({ NODE_ID: 'n1', PEER_URLS: `n2=http://127.0.0.1:${peer.port}` });
  });
  after(async () => {
    await gw.close();
    await Promise.all([sink.close(), peer.close()]);
  });

  it('refuses absolute-form targets and dot segments with 400, and nothing reaches another host', async () => {
    const c = `127.0.0.1:${sink.port}`;
    const refused = [
      `PUT http://${c}/consumers/zzz/instances/x/../../../../any/path?q=1`,
      `GET http://${c}/consumers/g/instances/x/records`,
      `GET https://${c}/consumers/g/instances/x/records`,
      `GET //${c}/consumers/g/instances/x/records`,
      'PUT /consumers/zzz/instances/x/../../../../any/path?q=1',
      'GET /consumers/g/instances/x/%2e%2e/%2e%2e/%2e%2e/%2e%2e/any',
      'GET /consumers/g/instances/x/%2E%2E/%2E%2E/%2E%2E/%2E%2E/any',
      'GET /consumers/g/instances/x/..%2f..%2f..%2f..%2fany',
      'GET /consumers/g/instances/%2e%2e%2f%2e%2e%2fany/records',
      'GET /consumers/g/instances/x/./records',
      'POST /topics/..',
    ];
    for (const target of refused) {
      const [method, path] = target.split(' ');
      const reply = await rawRequest(
        gw.url,
        `${method} ${path} HTTP/1.1\r\nHost: ${c}\r\nContent-Type: ${V2}\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello`,
      );
      assert.ok(reply.status === 400, `${target} → ${reply.status}`);
      assert.match(reply.body, /"error_code":400/, target);
    }
    // Targets node's parser or the router already refuse: whatever the answer, nothing is forwarded.
    for (const target of [
      'GET /consumers/g/instances/x\\..\\..\\..\\..\\any',
      `CONNECT ${c}`,
      'OPTIONS *',
      `GET /consumers/g/instances/x/records?@${c}/`,
      `GET /consumers/g/instances/x/records#@${c}`,
    ]) {
      const [method, path] = target.split(' ');
      await rawRequest(gw.url, `${method} ${path} HTTP/1.1\r\nHost: ${c}\r\nConnection: close\r\n\r\n`);
    }
    assert.equal(sink.connections(), 0, 'the host named by the caller received nothing');
    for (const r of peer.seen) assert.match(r.url, INSTANCE_TARGET, `the peer saw only instance targets: ${r.url}`);
  });

  it('forwards to the configured peer on a rebuilt path, whatever Host or query the caller sends', async () => {
    const before = peer.seen.length;
    const instance = `rest-consumer-n2-${randomUUID()}`;
    const reply = await rawRequest(
      gw.url,
      `GET /consumers/g1/instances/${instance}/records?timeout=10&max_bytes=99&url=http://${'127.0.0.1'}:${sink.port}/ HTTP/1.1\r\n` +
        `Host: 127.0.0.1:${sink.port}\r\nX-Forwarded-Host: 127.0.0.1:${sink.port}\r\nAccept: ${V2}\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(reply.status, 200);
    const seen = peer.seen.slice(before);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.url, `/consumers/g1/instances/${instance}/records?timeout=10&max_bytes=99`);
    assert.equal(seen[0]!.headers.host, `127.0.0.1:${peer.port}`, 'the peer is addressed as configured');
    assert.equal(sink.connections(), 0);
    // The peer's own address (in any header it sends) never reaches the caller.
    assert.doesNotMatch(reply.head, new RegExp(String(peer.port)), 'no peer address in the answer headers');
    assert.match(reply.head, /x-kafka-rest-forwarded-by: n2/i, 'the answering replica is named by node id');
  });

  it('does not forward unknown instance sub-resources', async () => {
    const before = peer.seen.length;
    const instance = `rest-consumer-n2-${randomUUID()}`;
    const res = await post(`${gw.url}/consumers/g1/instances/${instance}/admin`, V2, {});
    assert.equal(res.status, 404);
    assert.equal(peer.seen.length, before);
  });
});

describe('a forwarded identity is trusted only when the sibling proves it (PEER_SECRET)', () => {
  const tmp = tempDir();
  const secret = newKey() + newKey();
  const keys = { alice: newKey(), mallory: newKey() };
  let a: RunningGateway;
  let b: RunningGateway;
  let cert: (name: string) => Buffer;
  let tlsA: RunningGateway;
  let tlsB: RunningGateway;

  before(async () => {
    cert = generateCerts(tmp.dir);
    const [pa, pb, ta, tb] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const apiKeys = { AUTH_METHODS: 'apikey', API_KEYS: `alice:${sha256(keys.alice)},mallory:${sha256(keys.mallory)}` };
    const tls = {
      TLS_CERT_FILE: `${tmp.dir}/server.crt`,
      TLS_KEY_FILE: `${tmp.dir}/server.key`,
      TLS_CA_FILE: `${tmp.dir}/ca.crt`,
      TLS_CLIENT_AUTH: 'require',
      AUTH_METHODS: 'cert',
      PEER_SECRET: secret,
    };
    [a, b, tlsA, tlsB] = await Promise.all([
      startTestGateway({
        ...apiKeys,
        PORT: String(pa),
        NODE_ID: 'a',
        PEER_URLS: `b=http://127.0.0.1:${pb}`,
        PEER_SECRET: secret,
      }),
      startTestGateway({
        ...apiKeys,
        PORT: String(pb),
        NODE_ID: 'b',
        PEER_URLS: `a=http://127.0.0.1:${pa}`,
        PEER_SECRET: secret,
      }),
      startTestGateway({ ...tls, PORT: String(ta), NODE_ID: 'ta', PEER_URLS: `tb=https://127.0.0.1:${tb}` }),
      startTestGateway({ ...tls, PORT: String(tb), NODE_ID: 'tb', PEER_URLS: `ta=https://127.0.0.1:${ta}` }),
    ]);
  });
  after(async () => {
    await Promise.all([a, b, tlsA, tlsB].map((g) => g?.close()));
    tmp.remove();
    await closeAdmin();
  });

  it('serves the owner through a sibling, and refuses a request that only claims to be forwarded', async () => {
    const group = uniqueName('proof');
    const created = await post(`${a.url}/consumers/${group}`, V2, {}, { 'x-api-key': keys.alice });
    assert.equal(created.status, 200);
    const path = `/consumers/${group}/instances/${created.body.instance_id}/assignments`;
    const viaB = await fetch(`${b.url}${path}`, { headers: { 'x-api-key': keys.alice } });
    assert.equal(viaB.status, 200, 'alice reaches her instance through b');
    const asMallory = await fetch(`${b.url}${path}`, { headers: { 'x-api-key': keys.mallory } });
    assert.equal(asMallory.status, 404, 'another caller does not, through any replica');

    // Mallory talks to the owner directly and claims a sibling forwarded alice's request.
    const principal = Buffer.from(JSON.stringify({ id: 'apikey:alice', kind: 'apikey' })).toString('base64url');
    const attempts: Array<Record<string, string>> = [
      { 'x-kafka-rest-forwarded-by': 'b' },
      { 'x-kafka-rest-forwarded-by': 'b', 'x-kafka-rest-principal': principal },
      {
        'x-kafka-rest-forwarded-by': 'b',
        'x-kafka-rest-principal': principal,
        'x-kafka-rest-peer-time': String(Date.now()),
        'x-kafka-rest-body-sha256': sha256(''),
        'x-kafka-rest-peer-signature': '0'.repeat(64),
      },
    ];
    for (const forged of attempts) {
      const res = await fetch(`${a.url}${path}`, { headers: { 'x-api-key': keys.mallory, ...forged } });
      assert.equal(res.status, 401, JSON.stringify(Object.keys(forged)));
      assert.equal(((await res.json()) as { error_code: number }).error_code, 40101);
    }
  });

  it('lets a certificate-identified consumer use its instance through another replica (mTLS + signature)', async () => {
    const group = uniqueName('mtls');
    const device = { ca: cert('ca.crt'), cert: cert('device-1.crt'), key: cert('device-1.key') };
    const created = await httpsRequest(`${tlsA.url}/consumers/${group}`, {
      ...device,
      method: 'POST',
      headers: { 'content-type': V2 },
      body: '{}',
    });
    assert.equal(created.status, 200);
    const path = `/consumers/${group}/instances/${created.body.instance_id}/subscription`;
    const viaB = await httpsRequest(`${tlsB.url}${path}`, device);
    assert.equal(viaB.status, 200, JSON.stringify(viaB.body));
    assert.deepEqual(viaB.body, { topics: [] });
    const other = await httpsRequest(`${tlsB.url}${path}`, {
      ca: cert('ca.crt'),
      cert: cert('dashboard.crt'),
      key: cert('dashboard.key'),
    });
    assert.equal(other.status, 404, 'another certificate does not reach it');
  });
});

describe('peer proof (broker-free)', () => {
  it('accepts a signed request once: a replay, another content type or another body digest is refused', () => {
    const proof = new PeerProof(Buffer.from('x'.repeat(40)));
    const identity = { id: 'apikey:alice', kind: 'apikey' as const };
    const target = '/consumers/g/instances/i/offsets';
    const headers = {
      ...proof.sign({ method: 'POST', target, from: 'a', identity, contentType: V2, body: Buffer.from('{}') }),
      'content-type': V2,
    };
    assert.ok('identity' in proof.verify('POST', target, headers));
    assert.ok('refused' in proof.verify('POST', target, headers), 'a replay within the window');
    const again = {
      ...proof.sign({ method: 'POST', target, from: 'a', identity, contentType: V2, body: Buffer.from('{}') }),
      'content-type': 'application/json',
    };
    assert.ok('refused' in proof.verify('POST', target, again), 'another content type');
    const other = proof.sign({ method: 'POST', target, from: 'a', identity, body: Buffer.from('{}') });
    assert.ok('refused' in proof.verify('POST', `${target}x`, other), 'another path');
  });
});
