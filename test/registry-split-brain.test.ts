/**
 * Two registry writers at once (issue 12 B1), as the attacker made them: registry A (a real
 * process) leads, is frozen (SIGSTOP) with registrations queued at it until registry B takes
 * over, then thawed while B registers. Whatever each client is told must be true afterwards: a
 * 200's id is that schema's id and its subject's version; anything else is a retriable 5xx.
 */
import { strict as assert } from 'node:assert';
import { after, describe, it } from 'node:test';
import { until } from './support/cluster.js';
import { GatewayProcess } from './support/gateway-process.js';
import { closeAdmin, uniqueName } from './support/kafka.js';
import { freePort } from './support/net.js';
import { TEST_PEER_SECRET, avroRecord, sr, startRegistryGateway, type RegistryGateway } from './support/registry.js';

let a: GatewayProcess | undefined;
let b: RegistryGateway | undefined;
after(async () => {
  if (a !== undefined) {
    process.kill(a.pid, 'SIGCONT');
    await a.stop('SIGKILL');
  }
  await b?.gw.close();
  await closeAdmin();
});

const schemaOf = (name: string) => avroRecord(name.replace(/-/g, '_'), [{ name: 'f', type: 'int' }]);

describe('registry split brain', () => {
  it('a leader frozen past its session and thawed never answers an id that is not its schema’s', async () => {
    const topic = uniqueName('_schemas-split');
    const group = uniqueName('sr-split');
    const aPort = await freePort();
    const env = {
      SCHEMA_REGISTRY_ENABLED: 'true',
      SCHEMA_REGISTRY_TOPIC: topic,
      SCHEMA_REGISTRY_GROUP: group,
      PEER_SECRET: TEST_PEER_SECRET,
    };
    a = await GatewayProcess.start({ ...env, SCHEMA_REGISTRY_PORT: String(aPort), NODE_ID: 'a' });
    const aUrl = `http://127.0.0.1:${aPort}`;
    b = await startRegistryGateway({ topic, group, env: { NODE_ID: 'b' } });
    const leaderB = b.gw.schemaRegistry!.leader!;
    await until('A to lead', async () => (await leaderB())?.url === aUrl, 20_000);
    // One registration through A first, so both hold a schema (ids continue from there).
    assert.equal((await sr(aUrl).post('/subjects/r0-value/versions', { schema: schemaOf('r0') })).status, 200);

    process.kill(a.pid, 'SIGSTOP');
    const call = (base: string, subject: string) =>
      fetch(`${base}/subjects/${subject}/versions`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
        body: JSON.stringify({ schema: schemaOf(subject) }),
        signal: AbortSignal.timeout(45_000),
      }).then(
        async (res) => ({
          subject,
          status: res.status,
          body: (await res.json()) as { id?: number; error_code?: number },
        }),
        (err: Error) => ({ subject, status: 0, body: { error_code: 0, message: err.message } as { id?: number } }),
      );
    const atA = Array.from({ length: 6 }, (_, i) => call(aUrl, `r1-a${i}`));
    await until('B to lead', async () => (await leaderB())?.self === true, 30_000);
    const atB = Array.from({ length: 30 }, (_, i) => call(b!.url, `r1-b${i}`));
    await new Promise((r) => setTimeout(r, 200));
    process.kill(a.pid, 'SIGCONT');
    const answers = await Promise.all([...atA, ...atB]);

    const api = sr(b.url);
    const wrong: string[] = [];
    for (const { subject, status, body } of answers) {
      if (status !== 200) {
        // Not registered: a retriable error (or the client's own timeout), never a 4xx.
        if (!(status === 0 || status >= 500)) wrong.push(`${subject}: ${status} ${JSON.stringify(body)}`);
        continue;
      }
      await until(
        `B to read ${subject}`,
        async () => (await api.get(`/subjects/${subject}/versions`)).status === 200,
        10_000,
      ).catch(() => undefined);
      const version = await api.get(`/subjects/${subject}/versions/latest`);
      const byId = await api.get(`/schemas/ids/${body.id}`);
      if (version.body?.id !== body.id || byId.body?.schema !== schemaOf(subject))
        wrong.push(`${subject}: told id ${body.id}; the subject holds ${version.text}; id ${body.id} is ${byId.text}`);
    }
    assert.deepEqual(wrong, []);
    assert.ok(answers.filter((x) => x.status === 200).length >= 30, JSON.stringify(answers.map((x) => x.status)));
  });
});
