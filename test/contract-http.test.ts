// The contract at the HTTP edges: a body that says the same thing twice is refused instead of
// silently keeping the last value, and a 405 tells the client which methods the path has.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningGateway } from '../src/gateway.js';
import { JSON_V2, V2, post, request, startTestGateway } from './support/gateway.js';
import { closeAdmin, createTopic, recordCount } from './support/kafka.js';
import { rawRequest } from './support/raw-http.js';

let gw: RunningGateway;
before(async () => {
  gw = await startTestGateway();
});
after(async () => {
  await gw.close();
  await closeAdmin();
});

describe('duplicate keys in a JSON body', () => {
  it('refuses a produce body that names "records" twice, and produces nothing', async () => {
    const topic = await createTopic(1);
    // Last-one-wins would store {"v":2} while a proxy or log in between saw {"v":1}.
    const body = '{"records":[{"value":{"v":1}}],"records":[{"value":{"v":2}}]}';
    const res = await post(`${gw.url}/topics/${topic}`, JSON_V2, body);
    assert.equal(res.status, 400);
    assert.equal(res.body.error_code, 400);
    assert.match(res.body.message, /[Dd]uplicate key "records"/);
    // A lossless-number body takes the other parser: same answer.
    const exact = '{"records":[{"value":1.50}],"records":[{"value":2.50}]}';
    assert.equal((await post(`${gw.url}/topics/${topic}`, JSON_V2, exact)).status, 400);
    assert.equal(await recordCount(topic), 0);
  });

  it('refuses a consumer-creation body with a repeated top-level key', async () => {
    const body = '{"name":"a","format":"json","format":"binary"}';
    const res = await post(`${gw.url}/consumers/g-dup`, V2, body);
    assert.equal(res.status, 400);
    assert.match(res.body.message, /[Dd]uplicate key "format"/);
  });

  it('still accepts the same key name at different levels or inside strings', async () => {
    const topic = await createTopic(1);
    const body = '{"records":[{"value":{"records":"\\"records\\":1","value":{"value":1}}}]}';
    const res = await post(`${gw.url}/topics/${topic}`, JSON_V2, body);
    assert.equal(res.status, 200, res.text);
  });
});

describe('an Expect header other than 100-continue', () => {
  it('is served as if absent, not answered with a bare 417 outside the contract', async () => {
    const res = await rawRequest(gw.url, 'GET /topics HTTP/1.1\r\nHost: x\r\nExpect: foo\r\nConnection: close\r\n\r\n');
    assert.equal(res.status, 200);
  });
});

describe('405 Method Not Allowed', () => {
  it('names the methods the path has in Allow', async () => {
    const topics = await request(`${gw.url}/topics`, { method: 'DELETE' });
    assert.equal(topics.status, 405);
    assert.equal(topics.headers.get('allow'), 'GET, OPTIONS');
    const topic = await request(`${gw.url}/topics/x`, { method: 'PUT' });
    assert.equal(topic.status, 405);
    assert.equal(topic.headers.get('allow'), 'GET, OPTIONS, POST');
    const instance = await request(`${gw.url}/consumers/g/instances/i/subscription`, { method: 'PUT' });
    assert.equal(instance.status, 405);
    assert.equal(instance.headers.get('allow'), 'DELETE, GET, OPTIONS, POST');
  });

  it('OPTIONS lists every method of the path, not only those of the first router that matched', async () => {
    const res = await request(`${gw.url}/topics/x`, { method: 'OPTIONS' });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('allow'), 'GET, OPTIONS, POST');
  });

  it('refuses HEAD, which the contract does not declare: a HEAD of a fetch would hand out records nobody reads', async () => {
    for (const path of ['/topics', '/topics/x', '/consumers/g/instances/i/records']) {
      const res = await request(`${gw.url}${path}`, { method: 'HEAD' });
      assert.equal(res.status, 405, path);
    }
  });
});
