/**
 * Scale-out without sticky sessions: a request for a consumer instance that lives on another
 * replica is forwarded there and its answer relayed, instead of a silent 40403. The owner is read
 * from the generated name (`rest-consumer-<nodeId>-<uuid>`); for client-chosen names every peer is
 * asked in turn (a replica that does not hold the instance answers 40403 without side effects).
 *
 * What is forwarded is rebuilt, never copied: the destination is the configured origin of the
 * owning replica, the path is rebuilt from the validated route parameters and one of the
 * contract's instance sub-resources, and only the query parameters the contract declares for it
 * travel along. The caller has been authenticated here already; with PEER_SECRET the request is
 * signed so the owner can trust who the caller is (policy/auth/peer-proof.ts).
 */
import http from 'node:http';
import https from 'node:https';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { ConsumerDirectory, ConsumerService, Peer } from '../core/ports.js';
import type { ContractOperation } from '../core/route-table.js';
import { PEER_HEADERS, type PeerProof } from '../policy/auth/peer-proof.js';
import { identityOf } from '../policy/identity.js';

export const FORWARDED_BY = PEER_HEADERS.from;
const INSTANCE_PATH = '/consumers/{group}/instances/{instance}';

const GENERATED = /^rest-consumer-([A-Za-z0-9_]{1,32})-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Request headers that describe the caller's request to the owner; nothing else is passed on. */
const PASSED_ON = [
  'accept',
  'accept-encoding',
  'content-type',
  'authorization',
  'x-api-key',
  'x-request-id',
  'traceparent',
  'tracestate',
  // Where a streaming consume resumes (src/streaming): the owner seeks to it.
  'last-event-id',
];
/** Answer headers relayed back to the caller. */
const RELAYED = [
  'content-type',
  'content-encoding',
  'retry-after',
  'www-authenticate',
  'allow',
  'ratelimit',
  'ratelimit-policy',
  'vary',
  // A streamed answer (text/event-stream): no caching, and no buffering by a proxy in front.
  'cache-control',
  'x-accel-buffering',
];

/** Peers from PEER_URLS (node id → base URL). */
export class StaticConsumerDirectory implements ConsumerDirectory {
  constructor(
    private readonly nodeId: string,
    private readonly peers: Record<string, string>,
  ) {}

  candidates(_group: string, instance: string): Peer[] {
    const m = GENERATED.exec(instance);
    if (m !== null) {
      const owner = m[1]!;
      if (owner === this.nodeId) return [];
      const url = this.peers[owner];
      return url === undefined ? [] : [{ nodeId: owner, url }];
    }
    return Object.entries(this.peers)
      .filter(([id]) => id !== this.nodeId)
      .map(([nodeId, url]) => ({ nodeId, url }));
  }
}

export interface ForwardingOptions {
  consumers: ConsumerService;
  directory: ConsumerDirectory;
  nodeId: string;
  logger: Logger;
  /** Upper bound on a forwarded request (a fetch may long-poll at the owner). */
  timeoutMs: number;
  /** Signs forwarded requests (PEER_SECRET); without it the owner re-authenticates from the headers. */
  proof?: PeerProof;
  /** TLS to https peers: the CA that signs them (TLS_CA_FILE) and the certificate to present. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
}

/**
 * For the contract router (http/contract-router.ts): the forwarding step that runs before each
 * operation on an instance (after authentication); none for other operations.
 */
export function forwardToOwner(options: ForwardingOptions): (operation: ContractOperation) => RequestHandler[] {
  const agents = {
    http: new http.Agent({ keepAlive: true }),
    https: new https.Agent({ keepAlive: true, ca: options.tls?.ca, cert: options.tls?.cert, key: options.tls?.key }),
  };
  return (operation) => {
    if (!operation.template.startsWith(INSTANCE_PATH)) return [];
    // The sub-resource (`''`, `/records`, `/positions/beginning`, …) and the query parameters the
    // operation declares: the only shape this operation's forwarded request can take.
    const sub = operation.template.slice(INSTANCE_PATH.length);
    const allowed = new Set(operation.query);
    const forwarding: RequestHandler = (req, res, next) => {
      const group = req.params.group as string;
      const instance = req.params.instance as string;
      if (options.consumers.has(group, instance) || req.headers[FORWARDED_BY] !== undefined) return next();
      const candidates = options.directory.candidates(group, instance);
      if (candidates.length === 0) return next();
      const target = rebuiltTarget(req, group, instance, sub, allowed);
      forward(req, res, target, candidates, options, agents).then((done) => (done ? undefined : next()), next);
    };
    return [forwarding];
  };
}

/** `/consumers/<group>/instances/<instance><sub-resource>?<declared params>`. */
function rebuiltTarget(req: Request, group: string, instance: string, sub: string, allowed: Set<string>): string {
  const q = req.originalUrl.indexOf('?');
  const query = new URLSearchParams();
  if (q >= 0) {
    for (const [k, v] of new URLSearchParams(req.originalUrl.slice(q + 1))) if (allowed.has(k)) query.append(k, v);
  }
  const search = query.size > 0 ? `?${query.toString()}` : '';
  return `/consumers/${encodeURIComponent(group)}/instances/${encodeURIComponent(instance)}${sub}${search}`;
}

interface Relayed {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** An event stream (src/streaming): piped to the caller as it comes, never buffered. */
  stream?: http.IncomingMessage;
}

/** True when a peer's answer was relayed; false when no peer holds the instance. */
async function forward(
  req: Request,
  res: Response,
  target: string,
  peers: Peer[],
  options: ForwardingOptions,
  agents: Agents,
): Promise<boolean> {
  for (const peer of peers) {
    let answer: Relayed;
    try {
      answer = await send(req, target, peer, options, agents);
    } catch (err) {
      // An unreachable owner took its instances with it: the caller gets 40403 like any lost instance.
      options.logger.warn({ err, peer: peer.nodeId }, 'forwarding to the owning replica failed');
      continue;
    }
    if (answer.status === 404 && isInstanceNotFound(answer.body)) continue;
    res.status(answer.status);
    for (const name of RELAYED) {
      const v = answer.headers[name];
      if (v !== undefined) res.setHeader(name, v);
    }
    // Which replica answered, by node id (never its address).
    res.setHeader(FORWARDED_BY, peer.nodeId);
    if (answer.stream !== undefined) {
      const stream = answer.stream;
      res.flushHeaders();
      // The owner went away mid-stream: end the caller's stream (an EventSource reconnects).
      stream.on('error', () => undefined);
      stream.once('close', () => {
        if (!res.writableEnded) res.end();
      });
      stream.pipe(res);
      await new Promise<void>((resolve) => res.once('close', resolve));
      return true;
    }
    res.end(answer.body);
    return true;
  }
  return false;
}

interface Agents {
  http: http.Agent;
  https: https.Agent;
}

function send(req: Request, target: string, peer: Peer, options: ForwardingOptions, agents: Agents): Promise<Relayed> {
  // The peer's configured origin and base path; the target can only add to the path.
  const base = new URL(peer.url);
  const url = new URL(base.origin);
  const q = target.indexOf('?');
  url.pathname = base.pathname.replace(/\/+$/, '') + (q < 0 ? target : target.slice(0, q));
  if (q >= 0) url.search = target.slice(q);
  const headers: http.OutgoingHttpHeaders = {};
  for (const name of PASSED_ON) {
    const v = req.headers[name];
    if (v !== undefined) headers[name] = v;
  }
  const body = Buffer.isBuffer(req.body) && req.body.length > 0 ? req.body : undefined;
  if (body !== undefined) headers['content-length'] = body.length;
  headers[FORWARDED_BY] = options.nodeId;
  if (options.proof !== undefined)
    Object.assign(
      headers,
      options.proof.sign({
        method: req.method,
        contentType: typeof req.headers['content-type'] === 'string' ? req.headers['content-type'] : undefined,
        // Exactly what the owner will see as its request target (a peer URL may carry a base path).
        target: url.pathname + url.search,
        from: options.nodeId,
        identity: identityOf(req.res!),
        body,
      }),
    );
  headers['x-forwarded-for'] = [req.headers['x-forwarded-for'], req.socket.remoteAddress].filter(Boolean).join(', ');
  const secure = url.protocol === 'https:';
  return new Promise<Relayed>((resolve, reject) => {
    const out = (secure ? https : http).request(
      url,
      { method: req.method, headers, timeout: options.timeoutMs, agent: secure ? agents.https : agents.http },
      (answer) => {
        if (answer.statusCode === 200 && isEventStream(answer.headers['content-type'])) {
          // Each event reaches the caller as the owner writes it; the owner sees the caller's
          // pace through the pipe's backpressure, and the caller's leaving closes it (below).
          answer.socket.setTimeout(0);
          resolve({ status: 200, headers: answer.headers, body: Buffer.alloc(0), stream: answer });
          return;
        }
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () =>
          resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) }),
        );
        answer.on('error', reject);
      },
    );
    // A client that gives up (e.g. on a long poll) cancels the forwarded request too, so the owner
    // does not count records as returned that nobody will receive.
    req.res?.once('close', () => {
      if (!req.res?.writableFinished) out.destroy(new Error('client went away'));
    });
    out.on('timeout', () => out.destroy(new Error(`no answer from ${peer.nodeId} within ${options.timeoutMs} ms`)));
    out.on('error', reject);
    out.end(body);
  });
}

function isEventStream(contentType: string | undefined): boolean {
  return contentType?.split(';')[0]?.trim().toLowerCase() === 'text/event-stream';
}

function isInstanceNotFound(body: Buffer): boolean {
  try {
    return (JSON.parse(body.toString('utf8')) as { error_code?: unknown }).error_code === 40403;
  } catch {
    return false;
  }
}
