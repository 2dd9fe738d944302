/**
 * The produce fast lane. Express's router walks every layer of the app for every request, which
 * caps a gateway near the "8k requests/s set by the web framework" users report. Produce requests
 * (`POST /topics/{t}` and `…/partitions/{p}`), the benchmark's hot path, skip the walk: they run
 * the app's own middleware and produce handler, in the same order, composed directly.
 *
 * Nothing here decides anything: the same functions answer, only the dispatch differs. Which
 * requests take the lane comes from the contract (the produce operations' paths in openapi.yaml);
 * anything unusual (a query string, a percent-encoded name) takes the ordinary express path.
 *
 * Express also re-parents every request and response onto its own prototypes
 * (Object.setPrototypeOf), which alone costs ~60% of a minimal server's throughput: V8 loses its
 * fast paths for node's http objects. The lane instead has node create them from subclasses whose
 * prototypes already carry express's request/response surface (req.ip, req.path, res.status,
 * res.vary, …) — pass `serverOptions` to http(s).createServer — so the same middleware sees the
 * same API at no per-request cost. A server created without those options sends everything
 * through express (correct, but slower).
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorRequestHandler, Express, Request, RequestHandler, Response } from 'express';
import { compileTemplate, type RouteTable } from '../core/route-table.js';
import { withoutStagePrefix } from './base-uri.js';
import { expressPath, type OperationHandlers } from './contract-router.js';

export interface FastLaneParts {
  /** The app's middleware that runs before routes, in order: the lane runs exactly these. */
  before: RequestHandler[];
  /**
   * The app's other middleware before the routes, which the lane does not run: each answers only
   * paths no lane operation has (probes, docs, metrics, OPTIONS), or is the stage prefix, which
   * the lane strips itself.
   */
  beside: RequestHandler[];
  /** The first layer of the app that is not middleware before the routes (the contract's router). */
  until: RequestHandler;
  /** PUBLIC_URL's path, accepted in front of a lane path as express accepts it (http/base-uri.ts). */
  stagePrefix?: string;
  /** What express answers a request no route answered (404/405): a lane chain that ends unanswered gets the same. */
  unrouted: RequestHandler;
  /** The contract, for the paths of the lane's operations. */
  routes: RouteTable;
  /** The operations that take the lane (the two produce operations), by operationId. */
  lane: OperationHandlers;
  /** The app's error middleware, in order. */
  onError: ErrorRequestHandler[];
}

/** Own-property descriptors of everything express adds to requests and responses. */
function expressSurface(app: Express): { request: PropertyDescriptorMap; response: PropertyDescriptorMap } {
  const collect = (proto: object, stop: object): PropertyDescriptorMap => {
    const out: PropertyDescriptorMap = {};
    // express's request (response) object and anything between it and node's own prototype.
    for (let p: object | null = proto; p !== null && p !== stop; p = Object.getPrototypeOf(p) as object | null) {
      for (const [name, d] of Object.entries(Object.getOwnPropertyDescriptors(p))) {
        if (name !== 'constructor' && !(name in out)) out[name] = d;
      }
    }
    return out;
  };
  return {
    request: collect(app.request, IncomingMessage.prototype),
    response: collect(app.response, ServerResponse.prototype),
  };
}

export interface FastLane {
  listener: (req: IncomingMessage, res: ServerResponse) => void;
  /** For http(s).createServer: requests and responses born with express's surface. */
  serverOptions: { IncomingMessage: typeof IncomingMessage; ServerResponse: typeof ServerResponse };
}

/**
 * The lane must run exactly the app's middleware: every layer the app mounts before its routes is
 * either in `before` (in the same order) or in `beside`, and nothing else. Checked once at start-up,
 * so a middleware added to one path and not the other stops the process instead of silently
 * skipping produce.
 */
function assertSameChain(app: Express, parts: FastLaneParts): void {
  const router = (app as unknown as { router: { stack: Array<{ handle: unknown }> } }).router;
  const mounted = router.stack.map((layer) => layer.handle);
  const end = mounted.indexOf(parts.until);
  if (end < 0) throw new Error('fast lane: the routes are not mounted on the app');
  const name = (h: unknown) => (typeof h === 'function' && h.name) || 'anonymous';
  let next = 0;
  for (const [i, handler] of mounted.slice(0, end).entries()) {
    if (handler === parts.before[next]) next++;
    else if (!parts.beside.includes(handler as RequestHandler))
      throw new Error(
        `fast lane: middleware #${i} (${name(handler)}) of the app neither runs on the lane nor is declared beside it`,
      );
  }
  if (next < parts.before.length)
    throw new Error(
      `fast lane: middleware #${next} (${name(parts.before[next])}) is not mounted on the app in order before the routes`,
    );
}

interface LaneRoute {
  pattern: RegExp;
  names: string[];
  /** Express's pattern for the route, for metrics and logs (as its router would set req.route). */
  path: string;
  chain: RequestHandler[];
}

/** The lane's operations, from the contract: method POST only, each with its full handler chain. */
function laneRoutes(parts: FastLaneParts): LaneRoute[] {
  return Object.entries(parts.lane).map(([operationId, handler]) => {
    const operation = parts.routes.operations.find((o) => o.operationId === operationId);
    if (operation === undefined || operation.method !== 'POST')
      throw new Error(`fast lane: ${operationId} is not a POST operation of openapi.yaml`);
    const { pattern, names } = compileTemplate(operation.template);
    return {
      pattern,
      names,
      path: expressPath(operation.template),
      chain: [...parts.before, handler, parts.unrouted],
    };
  });
}

export function withFastLane(app: Express, parts: FastLaneParts): FastLane {
  assertSameChain(app, parts);
  const lanes = laneRoutes(parts);
  const surface = expressSurface(app);
  class LaneRequest extends IncomingMessage {}
  class LaneResponse<R extends IncomingMessage = IncomingMessage> extends ServerResponse<R> {}
  Object.defineProperties(LaneRequest.prototype, surface.request);
  Object.defineProperties(LaneResponse.prototype, surface.response);

  const prefix = parts.stagePrefix;
  const match = (raw: string): { lane: LaneRoute; m: RegExpExecArray; url: string } | undefined => {
    // Anything unusual is express's: a query, an encoded name, a fragment.
    if (raw.includes('?') || raw.includes('%') || raw.includes('#')) return undefined;
    const url = prefix === undefined ? raw : withoutStagePrefix(prefix, raw);
    for (const lane of lanes) {
      const m = lane.pattern.exec(url);
      if (m !== null) return { lane, m, url };
    }
    return undefined;
  };
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const found = req.method === 'POST' && req instanceof LaneRequest ? match(req.url ?? '') : undefined;
    if (found === undefined) {
      app(req, res);
      return;
    }
    // What express does before routing, except re-parenting node's objects (see above).
    const request = req as Request;
    const response = res as Response;
    request.res = response;
    response.req = request;
    response.locals ??= Object.create(null);
    request.originalUrl = req.url!;
    request.baseUrl = '';
    const { lane, m, url } = found;
    req.url = url;
    const params: Record<string, string> = {};
    lane.names.forEach((name, i) => (params[name] = m[i + 1]!));
    request.params = params;
    (request as { route?: unknown }).route = { path: lane.path };
    run(request, response, lane.chain, parts.onError);
  };
  return { listener, serverOptions: { IncomingMessage: LaneRequest, ServerResponse: LaneResponse } };
}

function run(req: Request, res: Response, chain: RequestHandler[], onError: ErrorRequestHandler[]): void {
  let i = 0;
  let e = 0;
  const fail = (err: unknown): void => {
    const handler = onError[e++];
    if (handler === undefined) return;
    try {
      handler(err, req, res, (next?: unknown) => fail(next ?? err));
    } catch (thrown) {
      fail(thrown);
    }
  };
  const next = (err?: unknown): void => {
    if (err !== undefined && err !== null) return fail(err);
    const handler = chain[i++];
    // A chain that ends without answering would leave the client hanging: answer it as an error.
    if (handler === undefined) {
      if (!res.headersSent) fail(new Error('fast lane: the produce chain ended without an answer'));
      return;
    }
    try {
      const result = handler(req, res, next) as unknown;
      if (result instanceof Promise) result.catch(fail);
    } catch (thrown) {
      fail(thrown);
    }
  };
  next();
}
