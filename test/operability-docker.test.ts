// The container image and the compose file, checked without a Docker engine: what an operator relies
// on (non-root, production dependencies only, a health check, signals reaching node, loopback-only
// ports, settings the gateway accepts) is read from the files themselves.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { loadConfig } from '../src/config/config.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const read = (f: string) => readFileSync(path.join(root, f), 'utf8');

interface Stage {
  name: string;
  instructions: Array<{ op: string; args: string }>;
}

/** Dockerfile → stages of instructions (continuation lines joined, comments dropped). */
function parseDockerfile(text: string): Stage[] {
  const logical = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, op, args] = /^(\S+)\s*(.*)$/.exec(line)!;
    if (op!.toUpperCase() === 'FROM') {
      stages.push({ name: / AS (\S+)$/i.exec(args!)?.[1] ?? String(stages.length), instructions: [] });
    }
    stages.at(-1)?.instructions.push({ op: op!.toUpperCase(), args: args! });
  }
  return stages;
}

describe('Dockerfile', () => {
  const stages = parseDockerfile(read('Dockerfile'));
  const final = stages.at(-1)!;
  const all = (op: string) => final.instructions.filter((i) => i.op === op).map((i) => i.args);

  it('is multi-stage: compiled in one stage, run from another with production dependencies only', () => {
    assert.ok(stages.length >= 2);
    assert.ok(stages[0]!.instructions.some((i) => i.op === 'RUN' && /npm run build/.test(i.args)));
    const installs = all('RUN').filter((r) => /npm (ci|install)/.test(r));
    assert.equal(installs.length, 1);
    assert.match(installs[0]!, /npm ci --omit=dev/);
    // Only the compiled output comes from the build stage, never its node_modules (dev tools).
    for (const copy of all('COPY').filter((c) => c.startsWith('--from='))) {
      assert.doesNotMatch(copy, /node_modules/);
    }
    assert.ok(all('COPY').some((c) => /--from=build \S*dist/.test(c)));
  });

  it('runs as a non-root user, listens on all interfaces, checks /healthz, and lets node get SIGTERM', () => {
    const users = all('USER');
    assert.equal(users.length, 1);
    assert.doesNotMatch(users[0]!, /^(root|0)(:|$)/);
    const userAt = final.instructions.findIndex((i) => i.op === 'USER');
    const cmdAt = final.instructions.findIndex((i) => i.op === 'CMD');
    assert.ok(userAt < cmdAt, 'USER must come before the command');
    assert.match(all('ENV').join(' '), /HOST=0\.0\.0\.0/);
    const [healthcheck] = all('HEALTHCHECK');
    assert.match(healthcheck ?? '', /\/healthz/);
    assert.match(healthcheck ?? '', /CMD \["node"/, 'the health check needs nothing but node');
    assert.deepEqual(JSON.parse(all('CMD')[0]!), ['node', 'dist/main.js']);
  });

  it('ships the files the compiled gateway reads at run time', () => {
    const copied = all('COPY').join('\n');
    for (const needed of ['openapi.yaml', 'config']) {
      assert.match(copied, new RegExp(`(^|\\s)${needed}(\\s|$)`), needed);
      assert.ok(existsSync(path.join(root, needed)));
    }
  });

  it('needs no devDependency at run time: every package src/ imports is a production dependency', () => {
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    const files = readdirSync(path.join(root, 'src'), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.ts'));
    const missing: string[] = [];
    const seen = new Set<string>();
    for (const f of files) {
      const text = readFileSync(path.join(root, 'src', f), 'utf8');
      // Value imports (type-only imports vanish when compiled) and require.resolve'd package files.
      const specs = [
        ...text.matchAll(/^import\s+(?!type\s)[^'"]*?from\s+'([^'.][^']*)'/gm),
        ...text.matchAll(/\bresolve\('([^'./][^']*)'\)/g),
      ].map((m) => m[1]!);
      for (const spec of specs) {
        if (spec.startsWith('node:')) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        seen.add(name);
        if (pkg.dependencies[name] === undefined) missing.push(`${f}: ${name}`);
      }
    }
    for (const used of ['express', 'kafkajs', 'prom-client', 'swagger-ui-dist']) assert.ok(seen.has(used), used);
    assert.deepEqual(missing, []);
  });

  it('keeps secrets, caches and local builds out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    for (const entry of ['node_modules', '.git', 'certs', '.env', 'dist', '.cache']) {
      assert.ok(ignored.includes(entry), entry);
    }
  });
});

describe('docker-compose.yml', () => {
  type Service = {
    image?: string;
    build?: string;
    environment?: Record<string, string | number>;
    ports?: string[];
    depends_on?: Record<string, { condition: string }>;
    stop_grace_period?: string;
    healthcheck?: unknown;
  };
  const compose = YAML.parse(read('docker-compose.yml')) as { services: Record<string, Service> };
  const { kafka, redis, gateway } = compose.services;

  it('runs Apache Kafka in KRaft mode, Redis, and the gateway built from this Dockerfile', () => {
    assert.match(kafka?.image ?? '', /^apache\/kafka:/);
    assert.match(String(kafka?.environment?.KAFKA_PROCESS_ROLES), /broker/);
    assert.match(String(kafka?.environment?.KAFKA_PROCESS_ROLES), /controller/);
    assert.match(redis?.image ?? '', /^redis:/);
    assert.equal(gateway?.build, '.');
    assert.ok(kafka?.healthcheck !== undefined && redis?.healthcheck !== undefined);
    assert.deepEqual(gateway?.depends_on, {
      kafka: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
  });

  it('configures the gateway with the demo policy, settings it accepts, and ports on loopback only', () => {
    const env = Object.fromEntries(Object.entries(gateway?.environment ?? {}).map(([k, v]) => [k, String(v)]));
    assert.equal(env.KAFKA_BROKERS, 'kafka:9092');
    assert.equal(env.TOPICS_CONFIG, '/app/config/demo/topics.yaml');
    assert.match(env.REDIS_URL ?? '', /^redis:\/\/redis:/);
    // The same settings pass the gateway's own validation (the policy file at its repository path).
    const config = loadConfig({ ...env, TOPICS_CONFIG: path.join(root, 'config/demo/topics.yaml') });
    assert.ok(config.topics.rules.some((r) => r.name === 'heartrate'));
    for (const p of gateway?.ports ?? []) assert.match(p, /^127\.0\.0\.1:/);
    const grace = Number(/^(\d+)s$/.exec(gateway?.stop_grace_period ?? '')?.[1]) * 1000;
    assert.ok(grace > config.http.shutdownTimeoutMs, 'Docker must not SIGKILL during a graceful shutdown');
  });
});

describe('a container started without KAFKA_BROKERS', () => {
  it('says so in one line and exits 2 (an image carries no local Kafka to start)', () => {
    // The image's layout: the code, its contract and config, no scripts/ (so no local Kafka).
    const app = mkdtempSync(path.join(os.tmpdir(), 'image-'));
    try {
      for (const item of ['src', 'openapi.yaml', 'config', 'package.json'])
        cpSync(path.join(root, item), path.join(app, item), { recursive: true });
      symlinkSync(path.join(root, 'node_modules'), path.join(app, 'node_modules'));
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        NODE_ENV: 'production',
        PORT: '0',
        SCHEMA_REGISTRY_ENABLED: 'false',
      };
      delete env.KAFKA_BROKERS;
      const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(app, 'src/main.ts')], {
        cwd: app,
        env,
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(run.status, 2);
      const lines = `${run.stdout}${run.stderr}`.trim().split('\n');
      assert.deepEqual(lines, [
        'configuration error: KAFKA_BROKERS is not set, and this install has no local Kafka to start',
      ]);
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });
});
