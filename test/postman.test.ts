// Postman, named by the users: the collection shipped in postman/ runs the whole v2 flow with
// newman (Postman's own runner) against the real gateway — directly, with a bearer token, and
// through the nginx stage at /prod/ over HTTPS.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { RunningGateway } from '../src/gateway.js';
import { startTestGateway } from './support/gateway.js';
import { closeAdmin, createTopic, uniqueName } from './support/kafka.js';
import { noNginx, startStageProxy } from './support/nginx.js';
import { AUDIENCE, HS_SECRET, ISSUER, hsToken, tempDir, writeFile } from './support/security.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const COLLECTION = path.join(root, 'postman/kafka-rest-gateway.postman_collection.json');
const NEWMAN = path.join(root, 'node_modules/.bin/newman');
const DEMO_TOPICS = path.join(root, 'config/demo/topics.yaml');

interface NewmanSummary {
  run: {
    stats: { requests: { total: number; failed: number }; assertions: { total: number; failed: number } };
    failures: Array<{ error: { message: string }; source?: { name?: string } }>;
    executions: Array<{ item: { name: string }; response?: { code: number } }>;
  };
}

const tmp = tempDir('krg-newman-');
let runTopic = 'heartrate';
after(() => tmp.remove());

/** `newman run` of the shipped collection; resolves with its JSON report and exit code. */
function newman(vars: Record<string, string>, extra: string[] = []): Promise<{ code: number; report: NewmanSummary }> {
  const report = path.join(tmp.dir, `report-${Date.now()}.json`);
  const args = ['run', COLLECTION, '--reporters', 'json', '--reporter-json-export', report, ...extra];
  // A topic of this run's own: the shared demo topic may hold other tests' non-JSON records, which a
  // json consumer reading from the beginning rightly refuses (40801).
  for (const [k, v] of Object.entries({ topic: runTopic, ...vars })) args.push('--env-var', `${k}=${v}`);
  return new Promise((resolve) => {
    execFile(NEWMAN, args, { timeout: 120_000 }, (err) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, report: JSON.parse(readFileSync(report, 'utf8')) as NewmanSummary });
    });
  });
}

function assertAllPassed({ code, report }: { code: number; report: NewmanSummary }): void {
  const failures = report.run.failures.map((f) => `${f.source?.name ?? '?'}: ${f.error.message}`);
  assert.deepEqual(failures, []);
  assert.equal(code, 0);
  assert.deepEqual(
    report.run.executions.map((e) => e.response?.code),
    // v2: produce, create, subscribe, fetch, commit, committed, delete; v3: cluster, create topic, produce, delete topic.
    [200, 200, 204, 200, 200, 200, 204, 200, 201, 200, 204],
  );
  assert.ok(report.run.stats.assertions.total >= 10);
}

describe('the Postman collection, run by newman', () => {
  let gw: RunningGateway;
  let authGw: RunningGateway;
  before(async () => {
    runTopic = await createTopic(1, uniqueName('postman'));
    [gw, authGw] = await Promise.all([
      startTestGateway({ TOPICS_CONFIG: DEMO_TOPICS }),
      startTestGateway({
        TOPICS_CONFIG: DEMO_TOPICS,
        AUTH_METHODS: 'jwt',
        JWT_ALGORITHMS: 'HS256',
        JWT_SECRET: HS_SECRET,
        JWT_ISSUER: ISSUER,
        JWT_AUDIENCE: AUDIENCE,
      }),
    ]);
  });
  after(async () => {
    await Promise.all([gw?.close(), authGw?.close()]);
    await closeAdmin();
  });

  it('runs produce, create, subscribe, fetch, commit, committed offsets and delete, every check passing', async () => {
    assertAllPassed(await newman({ baseUrl: gw.url }));
  });

  it('sends the token collection variable as a bearer token, and fails without it', async () => {
    const token = hsToken({ sub: 'postman-user' });
    assertAllPassed(await newman({ baseUrl: authGw.url, token }));
    const anonymous = await newman({ baseUrl: authGw.url });
    assert.notEqual(anonymous.code, 0);
    assert.equal(anonymous.report.run.executions[0]!.response?.code, 401);
  });

  it('runs through the nginx stage at /prod/ over HTTPS', { skip: noNginx }, async () => {
    const proxied = await startTestGateway({ TOPICS_CONFIG: DEMO_TOPICS, TRUST_PROXY: 'loopback' });
    const stage = await startStageProxy(proxied.url);
    try {
      const ca = writeFile(tmp.dir, 'stage-ca.crt', stage.ca.toString());
      assertAllPassed(await newman({ baseUrl: stage.url }, ['--ssl-extra-ca-certs', ca]));
    } finally {
      await stage.stop();
      await proxied.close();
    }
  });

  it('keeps GET bodies: the committed-offsets request disables Postman body pruning', () => {
    const collection = JSON.parse(readFileSync(COLLECTION, 'utf8')) as {
      item: Array<{ request: { method: string; body?: unknown }; protocolProfileBehavior?: Record<string, boolean> }>;
    };
    const getsWithBody = collection.item.filter((i) => i.request.method === 'GET' && i.request.body !== undefined);
    assert.ok(getsWithBody.length > 0);
    for (const item of getsWithBody) assert.equal(item.protocolProfileBehavior?.disableBodyPruning, true);
  });
});
