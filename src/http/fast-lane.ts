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
import { expressPath, type OperationHandlers } from './contract-router.js';

export interface FastLaneParts {
  /** The app's middleware that runs before routes, in order. */
  before: RequestHandler[];
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
 * The lane must run exactly the app's middleware: every handler of `parts.before` is mounted on the
 * app, in the same order. Checked once at start-up, so a middleware added to one path and not the
 * other stops the process instead of silently skipping produce.
 */
function assertSameChain(app: Express, before: RequestHandler[]): void {
  const router = (app as unknown as { router: { stack: Array<{ handle: unknown }> } }).router;
  const mounted = router.stack.map((layer) => layer.handle);
  let at = -1;
  for (const [i, handler] of before.entries()) {
    const found = mounted.indexOf(handler, at + 1);
    if (found < 0)
      throw new Error(
        `fast lane: middleware #${i} (${handler.name || 'anonymous'}) is not mounted on the app in order`,
      );
    at = found;
  }
}

/** A request listener where produce requests take the fast lane and all others go to express. */
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
    return { pattern, names, path: expressPath(operation.template), chain: [...parts.before, handler] };
  });
}

export function withFastLane(app: Express, parts: FastLaneParts): FastLane {
  assertSameChain(app, parts.before);
  const lanes = laneRoutes(parts);
  const surface = expressSurface(app);
  class LaneRequest extends IncomingMessage {}
  class LaneResponse<R extends IncomingMessage = IncomingMessage> extends ServerResponse<R> {}
  Object.defineProperties(LaneRequest.prototype, surface.request);
  Object.defineProperties(LaneResponse.prototype, surface.response);

  const match = (url: string): { lane: LaneRoute; m: RegExpExecArray } | undefined => {
    if (url.includes('?') || url.includes('%')) return undefined;
    for (const lane of lanes) {
      const m = lane.pattern.exec(url);
      if (m !== null) return { lane, m };
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
    const { lane, m } = found;
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
