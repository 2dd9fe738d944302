// Graceful shutdown of the real process, as an orchestrator does it: SIGTERM in the middle of a
// produce load. Every record a client got a 200 for must be in Kafka; every other request must end
// in an error status or a closed connection; the process must exit within SHUTDOWN_TIMEOUT_MS.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { JSON_V2 } from './support/gateway.js';
import { brokers, closeAdmin, createTopic, readRecords, recordCount } from './support/kafka.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

after(() => closeAdmin());

interface Gateway {
  proc: ChildProcess;
  url: string;
  exited: Promise<{ code: number | null; at: number }>;
  logs: string[];
}

/** Runs `node src/main.ts` as operators do, and waits for its "gateway listening" log line. */
async function spawnGateway(env: Record<string, string>): Promise<Gateway> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      KAFKA_BROKERS: brokers.join(','),
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      // No schema registry on the fixed port 8081 (another process may hold it).
      SCHEMA_REGISTRY_ENABLED: 'false',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    proc.once('exit', (code) => resolve({ code, at: Date.now() })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start: ${logs.join('\n')}`)), 60_000);
    let buffered = '';
    proc.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        logs.push(line);
        const m = /"url":"(http:\/\/[^"]+)".*"msg":"gateway listening"/.exec(line);
        if (m !== null) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      }
    });
    proc.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    void exited.then(() => reject(new Error(`gateway exited: ${logs.join('\n')}`)));
  });
  return { proc, url, exited, logs };
}

interface Outcome {
  ids: string[];
  status?: number;
  body?: { offsets: Array<{ error_code: number | null }> };
  error?: string;
  sentAt: number;
  doneAt: number;
}

describe('graceful shutdown', () => {
  it('SIGTERM under produce load: every 200 is in Kafka, nothing else claims success', async () => {
    const topic = await createTopic(3);
    const timeoutMs = 8_000;
    const gw = await spawnGateway({ SHUTDOWN_TIMEOUT_MS: String(timeoutMs), PRODUCE_LINGER_MS: '20' });

    const outcomes: Outcome[] = [];
    let sigtermAt = Infinity;
    const worker = async (w: number) => {
      // Bounded: at most 400 requests per worker, and it stops at its first failure after SIGTERM.
      for (let i = 0; i < 400; i++) {
        const ids = [0, 1, 2, 3, 4].map((k) => `w${w}-r${i}-${k}`);
        const body = JSON.stringify({ records: ids.map((id) => ({ value: { id, heartrate: '72' } })) });
        const sentAt = Date.now();
        try {
          const res = await fetch(`${gw.url}/topics/${topic}`, {
            method: 'POST',
            headers: { 'content-type': JSON_V2 },
            body: Buffer.from(body),
          });
          const text = await res.text();
          outcomes.push({ ids, status: res.status, body: JSON.parse(text), sentAt, doneAt: Date.now() });
          if (res.status !== 200 && Date.now() >= sigtermAt) return;
        } catch (err) {
          outcomes.push({ ids, error: (err as Error).message, sentAt, doneAt: Date.now() });
          if (Date.now() >= sigtermAt) return;
        }
      }
    };
    const load = Promise.all(Array.from({ length: 12 }, (_, w) => worker(w)));

    // Let the load build up, then stop the gateway in the middle of it.
    while (outcomes.filter((o) => o.status === 200).length < 60) await new Promise((r) => setTimeout(r, 10));
    sigtermAt = Date.now();
    gw.proc.kill('SIGTERM');
    const { code, at: exitedAt } = await gw.exited;
    await load;

    assert.equal(code, 0, `clean exit expected; logs:\n${gw.logs.slice(-5).join('\n')}`);
    assert.ok(
      exitedAt - sigtermAt <= timeoutMs + 1_000,
      `exited ${exitedAt - sigtermAt} ms after SIGTERM (bound ${timeoutMs})`,
    );

    const ok = outcomes.filter((o) => o.status === 200);
    for (const o of ok) {
      assert.ok(
        o.body!.offsets.every((x) => x.error_code === null),
        'a 200 carried a record that Kafka did not take',
      );
    }
    for (const o of outcomes.filter((x) => x.status !== 200)) {
      assert.ok(o.error !== undefined || o.status === 503, `unexpected answer ${o.status} ${JSON.stringify(o.body)}`);
    }
    // Requests in flight when SIGTERM arrived were finished, not dropped.
    const drained = ok.filter((o) => o.sentAt < sigtermAt && o.doneAt > sigtermAt);
    assert.ok(drained.length > 0, 'no request in flight at SIGTERM completed');

    const stored = await readRecords(topic, await recordCount(topic));
    const storedIds = new Set(stored.map((r) => (JSON.parse(r.value!.toString()) as { id: string }).id));
    const acked = ok.flatMap((o) => o.ids);
    const missing = acked.filter((id) => !storedIds.has(id));
    assert.deepEqual(missing, [], `${missing.length} acknowledged records are not in Kafka`);
    assert.ok(gw.logs.some((l) => l.includes('"msg":"stopped"')));
    console.log(
      `[shutdown] ${acked.length} records acknowledged, ${stored.length} stored, ${drained.length} requests ` +
        `drained after SIGTERM, ${outcomes.length - ok.length} refused or cut, exit after ${exitedAt - sigtermAt} ms`,
    );
  });

  it('exits within SHUTDOWN_TIMEOUT_MS even when a request never finishes', async () => {
    const timeoutMs = 3_000;
    const gw = await spawnGateway({ SHUTDOWN_TIMEOUT_MS: String(timeoutMs) });
    const { port } = new URL(gw.url);
    // A client that announces a body and stalls after a few bytes keeps its request in flight.
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`POST /topics/t HTTP/1.1\r\nHost: x\r\nContent-Type: ${JSON_V2}\r\nContent-Length: 1000\r\n\r\n{"rec`);
    const socketClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    // Socket timing on purpose: the spawned gateway shows nothing outside its process when it has
    // read the headers; 200 ms lets it, before SIGTERM.
    await new Promise((r) => setTimeout(r, 200));

    const sigtermAt = Date.now();
    gw.proc.kill('SIGTERM');
    const { at: exitedAt } = await gw.exited;
    await socketClosed;
    assert.ok(
      exitedAt - sigtermAt <= timeoutMs + 1_000,
      `exited ${exitedAt - sigtermAt} ms after SIGTERM (bound ${timeoutMs})`,
    );
    assert.ok(gw.logs.some((l) => l.includes('closing requests still running')));
  });

  it('drains as a load balancer expects: not ready first, keeps serving with Connection: close, no resets', async () => {
    const topic = await createTopic(3);
    const delayMs = 1_500;
    const gw = await spawnGateway({ SHUTDOWN_TIMEOUT_MS: '8000', SHUTDOWN_DELAY_MS: String(delayMs) });
    const { port } = new URL(gw.url);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 6 });
    const send = (method: string, pathName: string, body?: string, via: http.Agent | false = agent) =>
      new Promise<{ status: number; connection?: string; body: string }>((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            method,
            path: pathName,
            agent: via,
            headers: body === undefined ? {} : { 'content-type': JSON_V2, 'content-length': Buffer.byteLength(body) },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => (text += d));
            res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body: text }));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(body);
      });

    // An idle keep-alive connection, opened before SIGTERM and never used again: it must be closed
    // by the server (a FIN), not reset and not left open.
    const idle = net.connect(Number(port), '127.0.0.1');
    const idleEvents: string[] = [];
    idle.on('error', (e) => idleEvents.push(`error ${e.message}`));
    idle.on('end', () => idleEvents.push('end'));
    await new Promise<void>((resolve) => idle.once('connect', () => resolve()));
    idle.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise<void>((resolve) => idle.once('data', () => resolve()));

    // The load balancer: probes /readyz on its own connections and stops routing here a little
    // after it first sees 503 (well inside the delay), as kube-proxy or an ALB does.
    let sigtermAt = Infinity;
    let notReadyAt = Infinity;
    let routing = true;
    const prober = (async () => {
      while (routing) {
        // Bounded: a gateway that never reports not-ready stops being probed 3 s after SIGTERM.
        if (Date.now() - sigtermAt > 3_000) routing = false;
        const r = await send('GET', '/readyz', undefined, false).catch(() => undefined);
        if (r !== undefined && r.status === 503 && notReadyAt === Infinity) {
          notReadyAt = Date.now();
          setTimeout(() => (routing = false), 300);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const outcomes: Array<{ sentAt: number; at: number; status?: number; connection?: string; error?: string }> = [];
    const worker = async () => {
      for (let i = 0; i < 2_000 && routing; i++) {
        const body = JSON.stringify({ records: [{ value: { i } }] });
        const sentAt = Date.now();
        try {
          const r = await send('POST', `/topics/${topic}`, body);
          outcomes.push({ sentAt, at: Date.now(), status: r.status, connection: r.connection });
        } catch (err) {
          outcomes.push({ sentAt, at: Date.now(), error: (err as Error).message });
        }
      }
    };
    const load = Promise.all(Array.from({ length: 6 }, () => worker()));
    const warmUp = Date.now() + 30_000;
    while (outcomes.filter((o) => o.status === 200).length < 50) {
      assert.ok(Date.now() < warmUp, `no load before SIGTERM: ${JSON.stringify(outcomes.slice(-3))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    sigtermAt = Date.now();
    gw.proc.kill('SIGTERM');
    await Promise.all([load, prober]);
    const { code, at: exitedAt } = await gw.exited;
    agent.destroy();

    assert.equal(code, 0);
    assert.ok(notReadyAt - sigtermAt < 500, `/readyz turned 503 only ${notReadyAt - sigtermAt} ms after SIGTERM`);
    const after = outcomes.filter((o) => o.at > sigtermAt);
    const errors = after.filter((o) => o.error !== undefined);
    assert.deepEqual(errors, [], 'a keep-alive client saw a broken connection while the balancer still routed here');
    const served = after.filter((o) => o.status === 200);
    assert.ok(served.length > 0, 'nothing was served after SIGTERM while the balancer still routed here');
    assert.deepEqual(
      after.filter((o) => o.status !== 200),
      [],
      'requests during the delay must be served, not refused',
    );
    // Sent once /readyz said 503, so certainly while draining.
    assert.ok(
      served.filter((o) => o.sentAt > notReadyAt).every((o) => o.connection === 'close'),
      'responses while draining must carry Connection: close',
    );
    assert.ok(exitedAt - sigtermAt >= delayMs, `exited ${exitedAt - sigtermAt} ms after SIGTERM, before the delay`);
    assert.deepEqual(idleEvents, ['end'], 'the idle keep-alive connection was not closed cleanly');
    idle.destroy();
    console.log(
      `[drain] ${served.length} requests served after SIGTERM , 0 errors; ` +
        `/readyz 503 after ${notReadyAt - sigtermAt} ms; exit after ${exitedAt - sigtermAt} ms`,
    );
  });
});
