// The contract, fuzzed: schemathesis (PyPI, pinned) generates requests from openapi.yaml for every
// operation (examples, coverage, fuzzing and stateful phases, all checks) against a real gateway
// and broker. The gateway must never answer a 5xx other than the documented ones and never a status
// the contract does not list for that operation. Other checks (e.g. "schema-valid request
// rejected": the schema cannot say that a topic must exist) are reported with their totals.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { RunningGateway } from '../src/gateway.js';
import { V2, post, startTestGateway } from './support/gateway.js';
import { closeAdmin, createTopic, uniqueName } from './support/kafka.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SCHEMATHESIS = '4.32.5';
const venv = path.join(root, '.cache', `schemathesis-${SCHEMATHESIS}`);
const st = path.join(venv, 'bin', 'st');
/** Examples per operation and phase: the whole run stays around a minute on two cores. */
const MAX_EXAMPLES = Number(process.env.FUZZ_MAX_EXAMPLES ?? 20);

/** The project's own venv under .cache/, created once (needs python3 and PyPI). */
function ensureSchemathesis(): void {
  if (existsSync(st)) return;
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status})`);
  };
  run('python3', ['-m', 'venv', venv]);
  run(path.join(venv, 'bin', 'pip'), ['install', '-q', `schemathesis==${SCHEMATHESIS}`]);
}

/**
 * The fuzzer lists topics and follows what it finds (stateful phase), and v3 can delete and
 * reconfigure topics: on a broker other test files share it may administer only topics of its
 * own prefix (which its random names never hit), so it can read everything and destroy nothing.
 */
const FUZZ_POLICY = `rules:
  - who: {}
    allow:
      - { operations: [produce, consume], topics: ['*'], groups: ['*'] }
      - { operations: [admin], topics: ['fuzzv3-*'], groups: ['fuzzv3-*'] }
`;

let gw: RunningGateway;
before(
  async () => {
    ensureSchemathesis();
    const policyDir = mkdtempSync(path.join(os.tmpdir(), 'fuzz-policy-'));
    writeFileSync(path.join(policyDir, 'policy.yaml'), FUZZ_POLICY);
    gw = await startTestGateway({ POLICY_FILE: path.join(policyDir, 'policy.yaml') });
  },
  { timeout: 600_000 },
);
after(async () => {
  await gw?.close();
  await closeAdmin();
});

interface Failure {
  code: string;
  title: string;
  count: number;
}

interface FuzzRun {
  output: string;
  cases: number;
  failures: Failure[];
  networkErrors: number;
  junit: string;
}

/** One schemathesis run against the test gateway, all checks; `config` is a schemathesis.toml. */
async function fuzz(label: string, config?: string): Promise<FuzzRun> {
  const reports = mkdtempSync(path.join(os.tmpdir(), 'fuzz-'));
  const junit = path.join(reports, 'junit.xml');
  const args: string[] = [];
  if (config !== undefined) {
    writeFileSync(path.join(reports, 'schemathesis.toml'), config);
    args.push('--config-file', path.join(reports, 'schemathesis.toml'));
  }
  args.push(
    'run',
    path.join(root, 'openapi.yaml'),
    '--url',
    gw.url,
    '--checks',
    'all',
    '--max-examples',
    String(MAX_EXAMPLES),
    '--seed',
    process.env.FUZZ_SEED ?? '1',
    '--workers',
    '2',
    '--no-color',
    '--report',
    'junit',
    '--report-junit-path',
    junit,
  );
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(st, args, { cwd: reports, env: { ...process.env, SCHEMATHESIS_TELEMETRY: 'false' } });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    // Bounded: a run that hangs is killed and fails the test.
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.once('error', reject);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
  const summary = output.slice(output.lastIndexOf('SUMMARY'));
  const failures: Failure[] = [...summary.matchAll(/❌ (ST\d+) ([^:\n]+): (\d+)/g)].map((m) => ({
    code: m[1]!,
    title: m[2]!,
    count: Number(m[3]),
  }));
  const cases = Number(/(\d+) generated/.exec(summary)?.[1] ?? 0);
  const networkErrors = Number(/Network Error: (\d+)/.exec(summary)?.[1] ?? 0);
  console.log(
    `[fuzz ${label}] ${cases} test cases, ${MAX_EXAMPLES} examples per operation; failures by check: ` +
      `${failures.map((f) => `${f.code} ${f.title} ${f.count}`).join('; ') || 'none'}; network errors ${networkErrors}`,
  );
  assert.ok(cases > 100, `schemathesis did not run:\n${output.slice(-3000)}`);
  assert.ok(existsSync(junit), 'no junit report');
  const junitText = readFileSync(junit, 'utf8');
  rmSync(reports, { recursive: true, force: true });
  return { output, cases, failures, networkErrors, junit: junitText };
}

/** ST1xx are the checks of the answers: server errors, undocumented statuses, content types, headers, schemas. */
function assertContractHeld(run: FuzzRun, { hangs }: { hangs: boolean } = { hangs: true }): void {
  const serverSide = run.failures.filter((f) => /^ST1\d\d$/.test(f.code));
  assert.deepEqual(serverSide, [], `schemathesis found:\n${run.output.slice(run.output.indexOf('FAILURES'))}`);
  assert.doesNotMatch(run.junit, /Server error|Undocumented status code/);
  // A request that got no answer within schemathesis's 10 s is a hang, not an answer.
  if (hangs) assert.equal(run.networkErrors, 0, `requests without an answer:\n${run.output.slice(0, 4000)}`);
}

describe('contract fuzzing (schemathesis)', () => {
  it('finds no 5xx and no undocumented status in any operation', { timeout: 900_000 }, async () => {
    assertContractHeld(await fuzz('random names'));
  });

  it(
    'finds none either against a topic and a consumer instance that exist',
    // (Its first finding, committing offsets of an unknown topic: ~10 s then 500, is fixed: 404 at once.)
    { timeout: 900_000 },
    async () => {
      const topic = await createTopic(3, uniqueName('fuzz'));
      const group = uniqueName('fuzz-g');
      const created = await post(`${gw.url}/consumers/${group}`, V2, { name: 'fuzz-i', format: 'json' });
      assert.equal(created.status, 200);
      const base = `${gw.url}/consumers/${group}/instances/fuzz-i`;
      assert.equal((await post(`${base}/subscription`, V2, { topics: [topic] })).status, 204);
      const config = [
        '[parameters]',
        `"path.topic" = "${topic}"`,
        `"path.group" = "${group}"`,
        '"path.instance" = "fuzz-i"',
        '',
      ].join('\n');
      assertContractHeld(await fuzz('existing names', config), { hangs: true });
    },
  );
});
