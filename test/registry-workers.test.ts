/**
 * WORKERS=2: both workers serve the registry on the one shared port, one of them writes, and a
 * write that lands on the other is forwarded to the writer's own port (not to the shared one,
 * where it could land on the forwarding worker again).
 */
import { strict as assert } from 'node:assert';
import { after, before, it } from 'node:test';
import { GatewayProcess } from './support/gateway-process.js';
import { closeAdmin } from './support/kafka.js';
import { avroRecord, sr } from './support/registry.js';

let gw: GatewayProcess;
let registryUrl: string;

before(async () => {
  gw = await GatewayProcess.start(
    { WORKERS: '2' },
    { withRegistry: true, ready: (out) => (out.match(/"msg":"schema registry listening"/g) ?? []).length >= 2 },
  );
  registryUrl = gw.registryUrl!;
});

after(async () => {
  await gw.stop();
  await closeAdmin();
});

it('registers through the shared port whichever worker takes the request', async () => {
  const api = sr(registryUrl);
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      api.post(`/subjects/w${i}-value/versions`, { schema: avroRecord(`W${i}`, [{ name: 'a', type: 'int' }]) }),
    ),
  );
  for (const r of results) assert.equal(r.status, 200, r.text);
  const ids = results.map((r) => r.body.id as number);
  assert.equal(new Set(ids).size, ids.length);
  // A worker that forwarded answers only once it has read the write back.
  for (let i = 0; i < 20; i++) assert.equal((await api.get(`/subjects/w${i}-value/versions/latest`)).body.id, ids[i]);
});
