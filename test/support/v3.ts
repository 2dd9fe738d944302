/** Helpers for the v3 API suites: JSON calls, the cluster id, and a raw streaming produce client. */
import http from 'node:http';
import { after, before } from 'node:test';
import type { RunningGateway } from '../../src/gateway.js';
import { request, startTestGateway, type Reply } from './gateway.js';
import { closeAdmin } from './kafka.js';

export const JSON_TYPE = 'application/json';

/** A JSON call to the gateway: `body` is sent as JSON with Content-Type application/json. */
export function v3(
  base: string,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  if (init.body !== undefined) headers['content-type'] ??= JSON_TYPE;
  return request(`${base}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    body:
      init.body === undefined
        ? undefined
        : Buffer.from(typeof init.body === 'string' ? init.body : JSON.stringify(init.body)),
  });
}

/** A produce request with a whole body; the answer as text (reports are one JSON object per line). */
export async function produceText(
  url: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': JSON_TYPE, ...headers },
    body: Buffer.from(body),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** The cluster id the gateway reports (`GET /v3/clusters`). */
export async function clusterIdOf(base: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await v3(base, '/v3/clusters', { headers });
  if (res.status !== 200) throw new Error(`GET /v3/clusters answered ${res.status}: ${res.text}`);
  return res.body.data[0].cluster_id as string;
}

/**
 * The gateway of a v3 test file: started (and its cluster id read) before the file's tests, closed
 * with the shared admin client after them.
 */
export function v3TestGateway(env: Record<string, string> = {}): {
  readonly url: string;
  readonly cluster: string;
  recordsUrl(topic: string): string;
} {
  let gw: RunningGateway | undefined;
  let cluster = '';
  before(async () => {
    gw = await startTestGateway(env);
    cluster = await clusterIdOf(gw.url);
  });
  after(async () => {
    await gw?.close();
    await closeAdmin();
  });
  return {
    get url() {
      return gw!.url;
    },
    get cluster() {
      return cluster;
    },
    recordsUrl: (topic) => `${gw!.url}/v3/clusters/${cluster}/topics/${topic}/records`,
  };
}

/** Reports of a whole (non-streamed) produce body: one JSON object per CRLF-terminated line. */
export function reportsOf(text: string): Array<Record<string, unknown>> {
  return text
    .split('\r\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * One long-lived chunked produce request: `write` sends bytes as they come, `reports` yields each
 * report as it is streamed back, `end` half-closes the body. The response's status and headers
 * are in `response` once they arrived.
 */
export class ProduceStream {
  readonly req: http.ClientRequest;
  readonly response: Promise<http.IncomingMessage>;
  private buffered = '';
  private readonly queue: Array<Record<string, unknown>> = [];
  private waiting: Array<() => void> = [];
  private ended = false;

  constructor(url: string, headers: Record<string, string> = {}) {
    const u = new URL(url);
    this.req = http.request({
      host: u.hostname,
      port: u.port,
      path: u.pathname,
      method: 'POST',
      headers: { 'content-type': JSON_TYPE, 'transfer-encoding': 'chunked', ...headers },
    });
    this.response = new Promise((resolve, reject) => {
      this.req.once('response', (res) => {
        res.setEncoding('utf8');
        res.on('data', (text: string) => {
          this.buffered += text;
          let i: number;
          while ((i = this.buffered.indexOf('\r\n')) >= 0) {
            const line = this.buffered.slice(0, i);
            this.buffered = this.buffered.slice(i + 2);
            if (line !== '') this.queue.push(JSON.parse(line) as Record<string, unknown>);
          }
          this.wake();
        });
        res.on('end', () => {
          this.ended = true;
          this.wake();
        });
        res.on('error', () => {
          this.ended = true;
          this.wake();
        });
        resolve(res);
      });
      this.req.once('error', (err) => {
        this.ended = true;
        this.wake();
        reject(err);
      });
    });
    this.response.catch(() => undefined);
  }

  /** Writes, waiting for the socket to take it (so a paused server really stops a writer). */
  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.req.write(data)) resolve();
      else this.req.once('drain', () => resolve());
    });
  }

  end(): void {
    this.req.end();
  }

  /** Reports received and not yet taken. */
  get pending(): number {
    return this.queue.length;
  }

  /** The next report, or undefined once the answer ended without one. */
  async next(timeoutMs = 30_000): Promise<Record<string, unknown> | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0 && !this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no report within the timeout');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiting.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.queue.shift();
  }

  /** Whether the response has ended. */
  get done(): boolean {
    return this.ended;
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = [];
    for (const f of w) f();
  }
}
