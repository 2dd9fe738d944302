// A bad setting stops the real process at start-up with one line naming it (and no stack trace).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/config.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function start(env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src/main.ts')], {
    env: { ...process.env, KAFKA_BROKERS: '127.0.0.1:1', LOG_LEVEL: 'silent', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('configuration', () => {
  for (const [name, value] of [
    ['PORT', 'eighty'],
    ['STRICT_MEDIA_TYPES', 'maybe'],
    ['UNKNOWN_TOPIC_ERROR_CODE', '40404'],
    ['MAX_BODY_BYTES', '10'],
    ['LOG_LEVEL', 'loud'],
    ['PUBLIC_URL', 'not a url'],
    ['PUBLIC_URL', 'https://user:secret@gw.example.com/prod'],
    ['PUBLIC_URL', 'https://gw.example.com/prod?a=1'],
    ['TOPICS_CONFIG', '/nonexistent/topics.yaml'],
  ] as const) {
    it(`${name}=${value} stops the process with one line naming ${name}`, () => {
      const run = start({ [name]: value });
      assert.equal(run.status, 2, run.stderr);
      const lines = run.stderr.trim().split('\n');
      assert.equal(lines.length, 1, run.stderr);
      assert.match(lines[0]!, new RegExp(`^configuration error: ${name}`));
      assert.doesNotMatch(run.stderr, /\n\s+at /);
    });
  }

  it('defaults are what the README says', () => {
    const c = loadConfig({});
    assert.equal(c.http.port, 8082);
    assert.equal(c.http.host, '127.0.0.1');
    assert.equal(c.http.maxBodyBytes, 1024 * 1024);
    assert.equal(c.http.strictMediaTypes, false);
    assert.equal(c.http.workers, 1);
    assert.equal(c.produce.maxRecordsPerRequest, 10_000);
    assert.equal(c.consumers.instanceTimeoutMs, 300_000);
    assert.deepEqual(c.kafka.brokers, []);
  });
});
