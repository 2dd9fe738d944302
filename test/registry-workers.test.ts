/**
 * WORKERS=2: both workers serve the registry on the one shared port, one of them writes, and a
 * write that lands on the other is forwarded to the writer's own port (not to the shared one,
 * where it could land on the forwarding worker again).
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { brokers, closeAdmin, uniqueName } from './support/kafka.js';
import { freePort } from './support/net.js';
import { avroRecord, sr } from './support/registry.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let child: ChildProcess;
let registryUrl: string;
let output = '';

before(async () => {
  const [port, registryPort] = [await freePort(), await freePort()];
  registryUrl = `http://127.0.0.1:${registryPort}`;
  child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/main.ts')], {
    env: {
      ...process.env,
      KAFKA_BROKERS: brokers.join(','),
      PORT: String(port),
      WORKERS: '2',
      LOG_LEVEL: 'info',
      SCHEMA_REGISTRY_ENABLED: 'true',
      SCHEMA_REGISTRY_PORT: String(registryPort),
      SCHEMA_REGISTRY_TOPIC: uniqueName('_schemas-workers'),
      SCHEMA_REGISTRY_GROUP: uniqueName('sr-workers'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  const deadline = Date.now() + 60_000;
  while ((output.match(/"msg":"schema registry listening"/g) ?? []).length < 2) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`registry did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

after(async () => {
  if (child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
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
