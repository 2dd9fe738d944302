// v3 streaming produce behind the README's own nginx stage (issue 14, finding 6): nginx buffered
// the whole request body before passing it on (first report after ~3 s instead of at once) and
// refused a stream over 1 MB with its HTML 413. test/support/nginx.ts runs the README's block.
import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import type { RunningGateway } from '../src/gateway.js';
import { startTestGateway } from './support/gateway.js';
import { closeAdmin, createTopic, recordCount } from './support/kafka.js';
import { noNginx, startStageProxy, type StageProxy } from './support/nginx.js';
import { clusterIdOf } from './support/v3.js';

let gw: RunningGateway;
let stage: StageProxy | undefined;
let cluster: string;
before(async () => {
  gw = await startTestGateway({ TRUST_PROXY: 'loopback' });
  cluster = await clusterIdOf(gw.url);
  if (!noNginx) stage = await startStageProxy(gw.url);
});
after(async () => {
  await stage?.stop();
  await gw?.close();
  await closeAdmin();
});

/** A chunked produce stream over HTTPS through the stage; lines of the answer as they arrive. */
function streamThrough(url: string, ca: Buffer) {
  const lines: Array<{ at: number; text: string }> = [];
  let status = 0;
  let buffered = '';
  const waiters: Array<() => void> = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  const req = https.request(url, {
    method: 'POST',
    ca,
    headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
  });
  const done = new Promise<void>((resolve, reject) => {
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (t: string) => {
        buffered += t;
        let i: number;
        while ((i = buffered.indexOf('\r\n')) >= 0) {
          lines.push({ at: Date.now(), text: buffered.slice(0, i) });
          buffered = buffered.slice(i + 2);
        }
        wake();
      });
      res.on('end', () => {
        if (buffered !== '') lines.push({ at: Date.now(), text: buffered });
        wake();
        resolve();
      });
    });
    req.on('error', reject);
  });
  done.catch(() => undefined); // a failed assertion may leave the request to be torn down
  return {
    req,
    done,
    lines,
    status: () => status,
    async waitLines(n: number, timeoutMs: number): Promise<boolean> {
      const deadline = Date.now() + timeoutMs;
      while (lines.length < n && Date.now() < deadline)
        await new Promise<void>((r) => {
          const t = setTimeout(r, deadline - Date.now());
          waiters.push(() => {
            clearTimeout(t);
            r();
          });
        });
      return lines.length >= n;
    },
  };
}

describe('v3 produce through the README nginx stage', { skip: noNginx }, () => {
  it('the first report arrives while the body is still open, and a stream over 1 MB passes', async () => {
    const s = stage!;
    const topic = await createTopic(1);
    const stream = streamThrough(`${s.url}/v3/clusters/${cluster}/topics/${topic}/records`, s.ca);
    const sentAt = Date.now();
    stream.req.write(JSON.stringify({ value: { type: 'STRING', data: 'first' } }));
    assert.ok(await stream.waitLines(1, 1_500), 'no report within 1.5 s while the body is open');
    assert.equal(stream.status(), 200);
    assert.equal(JSON.parse(stream.lines[0]!.text).error_code, 200);
    const firstAfter = stream.lines[0]!.at - sentAt;
    // Then more than nginx's default 1 MB body limit, in records of 256 KiB.
    const big = JSON.stringify({ value: { type: 'STRING', data: 'x'.repeat(256 * 1024) } });
    for (let i = 0; i < 6; i++) stream.req.write(big);
    stream.req.end();
    await stream.done;
    const codes = stream.lines.map((l) => (JSON.parse(l.text) as { error_code: number }).error_code);
    assert.deepEqual(codes, [200, 200, 200, 200, 200, 200, 200]);
    assert.equal(await recordCount(topic), 7);
    assert.ok(firstAfter < 1_500, `first report after ${firstAfter} ms`);
  });
});
