#!/usr/bin/env node
// What security costs per produce request: the same single-record produce against in-process
// gateways with security off, and with JWT authentication + policy + rate limits + quotas on
// (in memory, and in Redis when redis-server is installed). Reports throughput, latency and the
// gateway's CPU time per request, plus the bare cost of verifying one token per algorithm.
//
//   node --import tsx bench/security-cost.mjs [seconds-per-run=10] [connections=16]
//
// Bounded: each run lasts the given seconds; everything binds to 127.0.0.1 and is stopped at the end.
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import jwt from 'jsonwebtoken';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { loadConfig } from '../src/config/config.ts';
import { startGateway } from '../src/gateway.ts';
import { createTopicAndWait } from '../src/kafka/create-topic.ts';
import { Authenticator } from '../src/policy/auth/middleware.ts';
import { startLocalKafka } from '../scripts/local-kafka.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const seconds = Number(process.argv[2] ?? 10);
const connections = Number(process.argv[3] ?? 16);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'sec-bench-'));
const SECRET = 'bench-secret-of-at-least-32-bytes-long!!';
const ISSUER = 'https://issuer.bench';
const AUDIENCE = 'kafka-rest';
const topic = 'bench-security';

const kafka = process.env.KAFKA_BROKERS ? undefined : await startLocalKafka();
const brokers = process.env.KAFKA_BROKERS ?? kafka.brokers;
const admin = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
await admin.connect();
await createTopicAndWait(admin, { topic, numPartitions: 3 });
await admin.disconnect();

const policy = path.join(tmp, 'policy.yaml');
writeFileSync(
  policy,
  `rules:\n  - who: { kind: jwt, claims: { role: device } }\n    allow: [{ operations: [produce], topics: ['bench-*'] }]\n`,
);
const securityOn = {
  AUTH_METHODS: 'jwt',
  JWT_ALGORITHMS: 'HS256',
  JWT_SECRET: SECRET,
  JWT_ISSUER: ISSUER,
  JWT_AUDIENCE: AUDIENCE,
  POLICY_FILE: policy,
  RATE_LIMIT_PRODUCE: '1000000000',
  RATE_LIMIT_TOPICS: 'bench-*=1000000000',
  QUOTA_RECORDS_PER_SEC: '1000000000',
  QUOTA_BYTES_PER_SEC: '1000000000000',
};
const token = jwt.sign({ sub: 'device-1', role: 'device' }, SECRET, {
  algorithm: 'HS256',
  issuer: ISSUER,
  audience: AUDIENCE,
  expiresIn: 3600,
});

let redis;
const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
if (hasRedis) {
  const port = 6390 + Math.floor(Math.random() * 500);
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  await new Promise((r) => setTimeout(r, 500));
  redis.url = `redis://127.0.0.1:${port}`;
}

const scenarios = [
  { name: 'security off', env: {}, headers: {} },
  { name: 'JWT + policy + limits + quotas (memory)', env: securityOn, headers: { authorization: `Bearer ${token}` } },
];
if (redis) {
  scenarios.push({
    name: 'JWT + policy + limits + quotas (Redis)',
    env: { ...securityOn, REDIS_URL: redis.url },
    headers: { authorization: `Bearer ${token}` },
  });
}

const body = JSON.stringify({ records: [{ value: { deviceid: 'AppleWatch4', heartrate: '72' } }] });
const results = [];
for (const s of scenarios) {
  const config = loadConfig({
    KAFKA_BROKERS: brokers,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    ...s.env,
  });
  const gw = await startGateway(config, pino({ level: 'silent' }));
  const url = `${gw.url}/topics/${topic}`;
  await autocannon(url, s.headers, 2); // warm-up
  const cpu0 = process.cpuUsage();
  const run = await autocannon(url, s.headers, seconds);
  const cpu = process.cpuUsage(cpu0);
  await gw.close();
  const requests = run.requests.total;
  results.push({
    scenario: s.name,
    requests,
    non2xx: run.non2xx,
    reqPerSec: Math.round(run.requests.average),
    latencyMs: { p50: run.latency.p50, p99: run.latency.p99 },
    gatewayCpuMicrosPerRequest: Math.round((cpu.user + cpu.system) / Math.max(1, requests)),
  });
  console.log(results.at(-1));
}

// Bare verification cost per token, without HTTP or Kafka.
const es = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = (k) => k.export({ format: 'pem', type: 'spki' });
const verifyCost = {};
for (const [alg, signKey, extra] of [
  ['HS256', SECRET, { secret: Buffer.from(SECRET) }],
  ['ES256', es.privateKey, { publicKey: pem(es.publicKey) }],
  ['RS256', rsa.privateKey, { publicKey: pem(rsa.publicKey) }],
]) {
  const auth = new Authenticator({
    methods: ['jwt'],
    allowAnonymous: false,
    apiKeys: [],
    jwt: {
      algorithms: [alg],
      issuer: ISSUER,
      audience: [AUDIENCE],
      clockToleranceSeconds: 5,
      identityClaim: 'sub',
      jwksCacheMs: 0,
      jwksRefreshCooldownMs: 0,
      ...extra,
    },
  });
  const t = jwt.sign({ sub: 'device-1' }, signKey, {
    algorithm: alg,
    issuer: ISSUER,
    audience: AUDIENCE,
    expiresIn: 60,
  });
  const req = { headers: { authorization: `Bearer ${t}` }, socket: {} };
  const n = 5000;
  for (let i = 0; i < 500; i++) await auth.authenticate(req);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await auth.authenticate(req);
  verifyCost[alg] = Number((process.hrtime.bigint() - t0) / BigInt(n)) / 1000;
}
console.log('token verification, µs per request:', verifyCost);

const off = results[0];
const summary = {
  date: new Date().toISOString(),
  seconds,
  connections,
  machine: `${os.cpus().length} cores, ${os.cpus()[0]?.model}`,
  results,
  extraCpuMicrosPerRequest: Object.fromEntries(
    results.slice(1).map((r) => [r.scenario, r.gatewayCpuMicrosPerRequest - off.gatewayCpuMicrosPerRequest]),
  ),
  tokenVerificationMicros: verifyCost,
};
mkdirSync(path.join(root, 'bench-results'), { recursive: true });
writeFileSync(path.join(root, 'bench-results/security-cost.json'), JSON.stringify(summary, null, 2));
console.log(JSON.stringify(summary.extraCpuMicrosPerRequest));

redis?.kill();
await kafka?.stop();
rmSync(tmp, { recursive: true, force: true });
process.exit(0);

function autocannon(url, headers, duration) {
  const args = [
    path.join(root, 'node_modules/autocannon/autocannon.js'),
    '--json',
    '-c',
    String(connections),
    '-d',
    String(duration),
    '-m',
    'POST',
    '-H',
    'content-type=application/vnd.kafka.json.v2+json',
    ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}=${v}`]),
    '-b',
    body,
    url,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`autocannon exited ${code}`)),
    );
  });
}
