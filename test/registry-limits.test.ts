/**
 * The registry's own listener holds the main listener's connection limits (issue 12 B11): one
 * address cannot keep thousands of idle sockets open there, sockets that never send a request
 * are closed after HEADERS_TIMEOUT_MS, and a body that does not arrive within BODY_TIMEOUT_MS is a 408.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { closeAdmin } from './support/kafka.js';
import { idleSocket, rawRequest } from './support/raw-http.js';
import { startRegistryGateway, type RegistryGateway } from './support/registry.js';
import { waitUntil } from './support/wait.js';

let reg: RegistryGateway;

before(async () => {
  reg = await startRegistryGateway({
    env: { MAX_CONNECTIONS_PER_CLIENT: '5', HEADERS_TIMEOUT_MS: '1000', BODY_TIMEOUT_MS: '1000' },
  });
});
after(async () => {
  await reg?.gw.close();
  await closeAdmin();
});

describe('registry listener limits', () => {
  it('closes idle sockets beyond MAX_CONNECTIONS_PER_CLIENT at once, and the rest after the header timeout', async () => {
    const hog = await Promise.all(Array.from({ length: 20 }, () => idleSocket(reg.url, '127.0.0.1')));
    const open = () => hog.filter((s) => !s.destroyed && s.readyState === 'open').length;
    await waitUntil('sockets beyond the cap to be closed', () => open() <= 5, { timeoutMs: 700 }).catch(
      () => undefined,
    );
    assert.ok(open() <= 5, `${open()} idle sockets still open`);
    const other = await rawRequest(
      reg.url,
      'GET /subjects HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      '127.0.0.2',
    );
    assert.equal(other.status, 200, 'another client is served');
    await waitUntil('idle sockets to be closed', () => open() === 0, { timeoutMs: 5_000 }).catch(() => undefined);
    assert.equal(open(), 0, 'idle sockets outlived HEADERS_TIMEOUT_MS');
    for (const s of hog) s.destroy();
  });

  it('answers 408 to a body that does not arrive within BODY_TIMEOUT_MS', async () => {
    const started = Date.now();
    const res = await rawRequest(
      reg.url,
      'POST /subjects/slow-value/versions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"schema":',
      '127.0.0.3',
      8_000,
    );
    assert.equal(res.status, 408, res.head);
    assert.match(res.body, /"error_code":408/);
    assert.ok(Date.now() - started < 4_000);
  });
});
