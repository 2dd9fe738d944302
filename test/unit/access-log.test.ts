// ACCESS_LOG decides which requests get a log line: every one (the default), only errors, or none —
// and what is not logged is not built. A real express app and pino logger, no broker.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import express from 'express';
import pino from 'pino';
import { loadConfig } from '../../src/config/config.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';
import { InFlightRequests, observeRequests, type AccessLog } from '../../src/observability/requests.js';

async function linesFor(accessLog: AccessLog | undefined, paths: string[]): Promise<Array<Record<string, unknown>>> {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const app = express();
  app.use(
    observeRequests({
      logger: pino({ level: 'info' }, sink),
      metrics: new GatewayMetrics({ defaultMetrics: false }),
      inFlight: new InFlightRequests(),
      accessLog,
    }),
  );
  app.get('/ok', (_req, res) => res.status(200).end());
  app.get('/missing', (_req, res) => res.status(404).end());
  app.get('/broken', (_req, res) => res.status(500).end());
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as AddressInfo;
  for (const p of paths) await (await fetch(`http://127.0.0.1:${port}${p}`)).arrayBuffer();
  await new Promise((r) => server.close(r));
  return lines.filter((l) => l.msg === 'request');
}

describe('access log (ACCESS_LOG)', () => {
  const paths = ['/ok', '/missing', '/broken'];
  it('logs every request by default', async () => {
    assert.deepEqual(
      (await linesFor(undefined, paths)).map((l) => l.status),
      [200, 404, 500],
    );
  });
  it('errors: only requests answered with an error status', async () => {
    assert.deepEqual(
      (await linesFor('errors', paths)).map((l) => [l.status, l.level]),
      [
        [404, 30],
        [500, 50],
      ],
    );
  });
  it('off: no request lines at all', async () => {
    assert.deepEqual(await linesFor('off', paths), []);
  });
  it('is parsed once at start-up; a bad value stops the process naming it', () => {
    assert.equal(loadConfig({ KAFKA_BROKERS: 'x:1' }).observability.accessLog, 'all');
    assert.equal(loadConfig({ KAFKA_BROKERS: 'x:1', ACCESS_LOG: 'errors' }).observability.accessLog, 'errors');
    assert.throws(() => loadConfig({ KAFKA_BROKERS: 'x:1', ACCESS_LOG: 'sometimes' }), /ACCESS_LOG/);
  });
});
