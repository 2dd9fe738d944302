/**
 * The produce fast lane. Express's router walks every layer of the app for every request, which
 * caps a gateway near the "8k requests/s set by the web framework" users report. Produce requests
 * (`POST /topics/{t}` and `…/partitions/{p}`), the benchmark's hot path, skip the walk: they run
 * the app's own middleware and produce handler, in the same order, composed directly.
 *
 * Nothing here decides anything: the same functions answer, only the dispatch differs. Anything
 * unusual (a query string, an encoded or invalid name) takes the ordinary express path.
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

const PRODUCE_PATH = /^\/topics\/([A-Za-z0-9._-]{1,249})(?:\/partitions\/(\d{1,10}))?\/?$/;

export interface FastLaneParts {
  /** The app's middleware that runs before routes, in order. */
  before: RequestHandler[];
  produceToTopic: RequestHandler;
  produceToPartition: RequestHandler;
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
export function withFastLane(app: Express, parts: FastLaneParts): FastLane {
  assertSameChain(app, parts.before);
  const surface = expressSurface(app);
  class LaneRequest extends IncomingMessage {}
  class LaneResponse<R extends IncomingMessage = IncomingMessage> extends ServerResponse<R> {}
  Object.defineProperties(LaneRequest.prototype, surface.request);
  Object.defineProperties(LaneResponse.prototype, surface.response);

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const m = req.method === 'POST' && req instanceof LaneRequest ? PRODUCE_PATH.exec(req.url ?? '') : null;
    if (m === null) {
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
    const partition = m[2];
    request.params = partition === undefined ? { topic: m[1]! } : { topic: m[1]!, partition };
    // The route pattern, for metrics and logs (as express's router would set it).
    (request as { route?: unknown }).route = {
      path: partition === undefined ? '/topics/:topic' : '/topics/:topic/partitions/:partition',
    };
    run(
      request,
      response,
      [...parts.before, partition === undefined ? parts.produceToTopic : parts.produceToPartition],
      parts.onError,
    );
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
