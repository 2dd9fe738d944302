/** A v2 consumer instance driven over HTTP, the way scripts and dashboards use one. */
import assert from 'node:assert/strict';
import http from 'node:http';
import { JSON_V2, V2, post, request, type Reply } from './gateway.js';

export interface FetchedRecord {
  topic: string;
  key: unknown;
  value: unknown;
  partition: number;
  offset: number;
  timestamp?: number;
  headers?: Array<{ key: string; value: string | null }>;
}

export class ConsumerClient {
  constructor(
    readonly baseUri: string,
    readonly instanceId: string,
    private readonly headers: Record<string, string> = {},
  ) {}

  /** Creates an instance (asserting 200) at `gatewayUrl`. */
  static async create(
    gatewayUrl: string,
    group: string,
    body: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ): Promise<ConsumerClient> {
    const res = await post(`${gatewayUrl}/consumers/${group}`, V2, body, headers);
    assert.equal(res.status, 200, res.text);
    return new ConsumerClient(res.body.base_uri as string, res.body.instance_id as string, headers);
  }

  /** The same instance addressed through another gateway (e.g. another replica). */
  via(gatewayUrl: string): ConsumerClient {
    const path = new URL(this.baseUri).pathname;
    return new ConsumerClient(`${gatewayUrl}${path}`, this.instanceId, this.headers);
  }

  post(path: string, body?: unknown): Promise<Reply> {
    if (body === undefined) return request(`${this.baseUri}${path}`, { method: 'POST', headers: this.headers });
    return post(`${this.baseUri}${path}`, V2, body, this.headers);
  }

  get(path: string, headers: Record<string, string> = {}, body?: unknown): Promise<Reply> {
    if (body === undefined) return request(`${this.baseUri}${path}`, { headers: { ...this.headers, ...headers } });
    return getWithBody(`${this.baseUri}${path}`, { ...this.headers, ...headers, 'content-type': V2 }, body);
  }

  delete(path = ''): Promise<Reply> {
    return request(`${this.baseUri}${path}`, { method: 'DELETE', headers: this.headers });
  }

  async subscribe(topics: string[]): Promise<void> {
    const res = await this.post('/subscription', { topics });
    assert.equal(res.status, 204, res.text);
  }

  /** One fetch; asserts 200 and returns the records. */
  async fetch(accept = JSON_V2, query = ''): Promise<FetchedRecord[]> {
    const res = await this.get(`/records${query}`, { accept });
    assert.equal(res.status, 200, res.text);
    return res.body as FetchedRecord[];
  }

  /** Fetches until `count` records arrived (or fails after `timeoutMs`). */
  async fetchUntil(count: number, accept = JSON_V2, timeoutMs = 20_000, query = ''): Promise<FetchedRecord[]> {
    const out: FetchedRecord[] = [];
    const deadline = Date.now() + timeoutMs;
    while (out.length < count) {
      if (Date.now() > deadline) assert.fail(`only ${out.length} of ${count} records arrived in ${timeoutMs} ms`);
      out.push(...(await this.fetch(accept, query)));
    }
    return out;
  }
}

/** `GET …/offsets` carries a JSON body, which fetch() refuses to send: plain node:http does. */
function getWithBody(url: string, headers: Record<string, string>, body: unknown): Promise<Reply> {
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'GET', headers: { ...headers, 'content-length': payload.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
          resolve({ status: res.statusCode ?? 0, headers: h, text, body: text === '' ? undefined : JSON.parse(text) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
