/**
 * Scale-out without sticky sessions: a request for a consumer instance that lives on another
 * replica is forwarded there (method, path, headers including Authorization, body) and its answer
 * relayed, instead of a silent 40403. The owner is read from the generated name
 * (`rest-consumer-<nodeId>-<uuid>`); for client-chosen names every peer is asked in turn (a
 * replica that does not hold the instance answers 40403 without side effects). A marker header
 * stops a forwarded request from being forwarded again.
 */
import http from 'node:http';
import https from 'node:https';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { ConsumerDirectory, ConsumerService } from '../core/ports.js';

export const FORWARDED_BY = 'x-kafka-rest-forwarded-by';

const GENERATED = /^rest-consumer-([A-Za-z0-9_]{1,32})-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
]);

/** Peers from PEER_URLS (node id → base URL). */
export class StaticConsumerDirectory implements ConsumerDirectory {
  constructor(
    private readonly nodeId: string,
    private readonly peers: Record<string, string>,
  ) {}

  candidates(_group: string, instance: string): string[] {
    const m = GENERATED.exec(instance);
    if (m !== null) {
      const owner = m[1]!;
      if (owner === this.nodeId) return [];
      const url = this.peers[owner];
      return url === undefined ? [] : [url];
    }
    return Object.entries(this.peers)
      .filter(([id]) => id !== this.nodeId)
      .map(([, url]) => url);
  }
}

export interface ForwardingOptions {
  consumers: ConsumerService;
  directory: ConsumerDirectory;
  nodeId: string;
  logger: Logger;
  /** Upper bound on a forwarded request (a fetch may long-poll at the owner). */
  timeoutMs: number;
}

/** Mount at `/consumers/:group/instances/:instance`. */
export function forwardToOwner(options: ForwardingOptions): RequestHandler {
  return (req, res, next) => {
    const group = req.params.group as string;
    const instance = req.params.instance as string;
    if (options.consumers.has(group, instance) || req.headers[FORWARDED_BY] !== undefined) return next();
    const candidates = options.directory.candidates(group, instance);
    if (candidates.length === 0) return next();
    forward(req, res, candidates, options).then((done) => (done ? undefined : next()), next);
  };
}

interface Relayed {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** True when a peer's answer was relayed; false when no peer holds the instance. */
async function forward(req: Request, res: Response, peers: string[], options: ForwardingOptions): Promise<boolean> {
  for (const peer of peers) {
    let answer: Relayed;
    try {
      answer = await send(req, peer, options);
    } catch (err) {
      // An unreachable owner took its instances with it: the caller gets 40403 like any lost instance.
      options.logger.warn({ err, peer, url: req.originalUrl }, 'forwarding to the owning replica failed');
      continue;
    }
    if (answer.status === 404 && isInstanceNotFound(answer.body)) continue;
    res.status(answer.status);
    for (const [k, v] of Object.entries(answer.headers)) {
      if (v !== undefined && !HOP_BY_HOP.has(k)) res.setHeader(k, v);
    }
    res.setHeader(FORWARDED_BY, String(answer.headers[FORWARDED_BY] ?? peer));
    res.end(answer.body);
    return true;
  }
  return false;
}

function send(req: Request, peer: string, options: ForwardingOptions): Promise<Relayed> {
  const target = new URL(req.originalUrl, `${peer}/`);
  const headers: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
  const body = Buffer.isBuffer(req.body) ? req.body : undefined;
  if (body !== undefined) headers['content-length'] = body.length;
  headers[FORWARDED_BY] = options.nodeId;
  headers['x-forwarded-for'] = [req.headers['x-forwarded-for'], req.socket.remoteAddress].filter(Boolean).join(', ');
  const client = target.protocol === 'https:' ? https : http;
  return new Promise<Relayed>((resolve, reject) => {
    const out = client.request(target, { method: req.method, headers, timeout: options.timeoutMs }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () =>
        resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) }),
      );
      answer.on('error', reject);
    });
    // A client that gives up (e.g. on a long poll) cancels the forwarded request too, so the owner
    // does not count records as returned that nobody will receive.
    req.res?.once('close', () => {
      if (!req.res?.writableFinished) out.destroy(new Error('client went away'));
    });
    out.on('timeout', () => out.destroy(new Error(`no answer from ${peer} within ${options.timeoutMs} ms`)));
    out.on('error', reject);
    out.end(body);
  });
}

function isInstanceNotFound(body: Buffer): boolean {
  try {
    return (JSON.parse(body.toString('utf8')) as { error_code?: unknown }).error_code === 40403;
  } catch {
    return false;
  }
}
