// Consumer forwarding and OPTIONS on the real app (broker-free): a request for an instance another
// replica owns goes to that replica's configured origin, on a path rebuilt from the operation, with
// only the query parameters the operation declares; OPTIONS answers every contract path.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { FakeKafka, startFakeGateway } from '../support/fakes.js';

const seen: Array<{ method: string; url: string }> = [];
const owner = http.createServer((req, res) => {
  seen.push({ method: req.method!, url: req.url! });
  req.resume();
  res.writeHead(200, { 'content-type': 'application/vnd.kafka.json.v2+json' }).end('[]');
});
let gw: Awaited<ReturnType<typeof startFakeGateway>>;
before(async () => {
  await new Promise<void>((resolve) => owner.listen(0, '127.0.0.1', resolve));
  const ownerUrl = `http://127.0.0.1:${(owner.address() as AddressInfo).port}/base`;
  gw = await startFakeGateway(
    new FakeKafka({ events: 1 }),
    {},
    {
      directory: { candidates: () => [{ nodeId: 'n2', url: ownerUrl }] },
    },
  );
});
after(async () => {
  await gw.close();
  owner.close();
});

describe('forwarding to the replica that owns an instance', () => {
  it('rebuilds the path from the operation and passes only the query parameters it declares', async () => {
    seen.length = 0;
    const res = await fetch(`${gw.url}/consumers/g/instances/i/records?timeout=100&max_bytes=5&evil=http://x`, {
      headers: { accept: 'application/vnd.kafka.json.v2+json' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-kafka-rest-forwarded-by'), 'n2');
    const seek = await fetch(`${gw.url}/consumers/g/instances/i/positions/beginning/?x=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.kafka.v2+json' },
      body: '{"partitions":[{"topic":"events","partition":0}]}',
    });
    assert.equal(seek.status, 200);
    assert.deepEqual(seen, [
      { method: 'GET', url: '/base/consumers/g/instances/i/records?timeout=100&max_bytes=5' },
      { method: 'POST', url: '/base/consumers/g/instances/i/positions/beginning' },
    ]);
  });

  it('forwards nothing for a method the contract does not declare there', async () => {
    seen.length = 0;
    const res = await fetch(`${gw.url}/consumers/g/instances/i/records`, { method: 'DELETE' });
    assert.equal(res.status, 405);
    assert.deepEqual(seen, []);
  });
});

describe('OPTIONS', () => {
  it('answers every contract path with its methods', async () => {
    const res = await fetch(`${gw.url}/topics/events`, { method: 'OPTIONS' });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('allow'), 'GET, OPTIONS, POST');
  });
});
