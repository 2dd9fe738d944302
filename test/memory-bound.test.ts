// Bounded memory, measured on the real process: a flood of concurrent 1 MB produce bodies, far more
// than the in-flight byte cap admits, must keep the gateway's peak resident memory (the kernel's
// VmHWM high-water mark, so no sampling or timing is involved) under the bound the README states:
// start-up RSS + MEMORY_BOUND_FIXED_MB + MEMORY_BOUND_FACTOR × SHED_MAX_INFLIGHT_BYTES.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { after, describe, it } from 'node:test';
import { GatewayProcess } from './support/gateway-process.js';
import { JSON_V2 } from './support/gateway.js';
import { closeAdmin, createTopic } from './support/kafka.js';

/** The README's bound (Operations → Memory): keep these in step with it. */
const MEMORY_BOUND_FIXED_MB = 128;
const MEMORY_BOUND_FACTOR = 3;

const MB = 1024 * 1024;
const gateways: GatewayProcess[] = [];
after(async () => {
  await Promise.all(gateways.map((g) => g.stop()));
  await closeAdmin();
});

/** Peak and current resident set of a process, in MB. */
function memoryOf(pid: number): { peakMb: number; rssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)![1]);
  return { peakMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
}

describe('memory under a flood of large bodies', () => {
  it('keeps peak RSS under start-up + the documented multiple of the in-flight byte cap', async () => {
    const capBytes = 32 * MB;
    const gw = await GatewayProcess.start({
      SHED_MAX_INFLIGHT_BYTES: String(capBytes),
      // One test client: no per-caller cap, so the global one is what is measured.
      SHED_MAX_INFLIGHT_BYTES_PER_CLIENT: '0',
      SHUTDOWN_DELAY_MS: '0',
    });
    gateways.push(gw);
    const topic = await createTopic(3);
    const { port } = new URL(gw.url);
    // ~1 MB bodies of 100 records of 10 KB (each record well under the broker's 1 MB limit).
    const filler = 'x'.repeat(10_000);
    const body = Buffer.from(
      JSON.stringify({ records: Array.from({ length: 100 }, (_, i) => ({ value: { i, filler } })) }),
    );
    // Warm up (connections, metadata, JIT), then take the start-up figure.
    const send = (agent: http.Agent) =>
      new Promise<string>((resolve) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: `/topics/${topic}`,
            agent,
            headers: { 'content-type': JSON_V2, 'content-length': body.length },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(String(res.statusCode)));
          },
        );
        req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
        req.end(body);
      });
    const warm = new http.Agent({ keepAlive: true, maxSockets: 4 });
    for (let i = 0; i < 8; i++) assert.equal(await send(warm), '200');
    warm.destroy();
    const start = memoryOf(gw.pid);

    // The flood: 200 concurrent clients, 600 bodies (~600 MB offered, 19× the cap).
    const agent = new http.Agent({ keepAlive: true, maxSockets: 200 });
    const outcomes: Record<string, number> = {};
    let next = 0;
    await Promise.all(
      Array.from({ length: 200 }, async () => {
        while (next++ < 600) {
          const status = await send(agent);
          outcomes[status] = (outcomes[status] ?? 0) + 1;
        }
      }),
    );
    agent.destroy();
    const end = memoryOf(gw.pid);

    assert.ok((outcomes['200'] ?? 0) > 50, `too few bodies were admitted to measure: ${JSON.stringify(outcomes)}`);
    // A shed body is not read: its connection is closed after the 503, so a client still writing
    // it may see EPIPE/ECONNRESET instead. Nothing else is expected.
    assert.deepEqual(
      Object.keys(outcomes).filter((s) => !['200', '503', 'EPIPE', 'ECONNRESET'].includes(s)),
      [],
      `only 200 or a shed body expected: ${JSON.stringify(outcomes)}`,
    );
    const growthMb = end.peakMb - start.rssMb;
    const boundMb = MEMORY_BOUND_FIXED_MB + (MEMORY_BOUND_FACTOR * capBytes) / MB;
    console.log(
      `[memory] start-up RSS ${start.rssMb.toFixed(0)} MB, peak ${end.peakMb.toFixed(0)} MB: +${growthMb.toFixed(0)} MB ` +
        `for a ${capBytes / MB} MiB cap (bound +${boundMb} MB); ${JSON.stringify(outcomes)}`,
    );
    assert.ok(growthMb <= boundMb, `peak RSS grew ${growthMb.toFixed(0)} MB, bound ${boundMb} MB`);
  });
});
