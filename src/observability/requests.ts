/**
 * What happens around every request, before anything else runs: a request id (the caller's
 * X-Request-Id when it is sane, else a new one, echoed in the response), one log line and the
 * request metrics when the response ends, and the count of requests in flight that a graceful
 * shutdown waits for.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { Errors, type GatewayError } from '../core/errors.js';
import { identityOf } from '../policy/identity.js';
import { isValidationFailure, type GatewayMetrics } from './metrics.js';

/** Ids we accept from callers: short, printable, no spaces (so they cannot forge log lines). */
const SANE_REQUEST_ID = /^[\w.:@/+=-]{1,128}$/;

/** Paths probed every second or scraped: logged at debug so they do not drown the request log. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** Status recorded for a request whose connection closed before the response was complete. */
export const CLIENT_CLOSED = 499;

/** Counts requests in flight; once closing, refuses new ones and lets the running ones finish. */
export class InFlightRequests {
  private readonly active = new Set<ServerResponse>();
  private closing = false;
  private draining = false;
  private idleWaiters: Array<() => void> = [];

  get size(): number {
    return this.active.size;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  /**
   * Shutdown's first phase: requests are still served, but every response says `Connection:
   * close`, so keep-alive clients move to new connections (which the load balancer, seeing
   * /readyz 503, sends elsewhere) one complete response at a time instead of being cut off.
   */
  startDraining(): void {
    this.draining = true;
    for (const res of this.active) if (!res.headersSent) res.shouldKeepAlive = false;
  }

  /** From now on new requests get 503, and running ones are answered with `Connection: close`. */
  startClosing(): void {
    this.startDraining();
    this.closing = true;
  }

  /** Resolves when no request is in flight, or after `timeoutMs`; true when they all finished. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.active.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  track(res: ServerResponse): void {
    this.active.add(res);
    if (this.draining) res.shouldKeepAlive = false;
  }

  done(res: ServerResponse): void {
    if (!this.active.delete(res) || this.active.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    waiters.forEach((w) => w());
  }
}

/**
 * Which requests get an access-log line (ACCESS_LOG): every one (`all`, at info), only those
 * answered with an error status (`errors`), or none (`off`; unexpected errors are still logged
 * where they happen). At thousands of requests a second the lines are a real cost (~100 MB an
 * hour); what is not logged is not even built.
 */
export type AccessLog = 'all' | 'errors' | 'off';

export interface RequestObserverDeps {
  logger: Logger;
  metrics: GatewayMetrics;
  inFlight: InFlightRequests;
  accessLog?: AccessLog;
}

export function observeRequests({ logger, metrics, inFlight, accessLog = 'all' }: RequestObserverDeps): RequestHandler {
  const log = logger.child({ component: 'http' });
  const logs = (status: number): 'error' | 'info' | 'debug' | undefined => {
    if (accessLog === 'off') return undefined;
    const serverError = status >= 500 && status !== 503;
    if (accessLog === 'errors' && status < 400) return undefined;
    return serverError ? 'error' : 'info';
  };
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    inFlight.track(res);

    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      inFlight.done(res);
      const status = res.writableFinished ? res.statusCode : CLIENT_CLOSED;
      const route = routeOf(req);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.observeRequest(req.method, route, status, seconds);
      let level = logs(status);
      if (level === 'info' && QUIET_PATHS.has(req.path)) level = 'debug';
      // Nothing is built for a line the level or ACCESS_LOG drops (req.ip alone walks the proxy chain).
      if (level === undefined || !log.isLevelEnabled(level)) return;
      const line = {
        reqId: requestId,
        method: req.method,
        path: req.path,
        route,
        status,
        ms: Math.round(seconds * 10_000) / 10,
        identity: identityOf(res).id,
        ip: req.ip,
        bytesIn: Number(req.headers['content-length'] ?? 0),
      };
      log[level](line, 'request');
    };
    res.once('finish', end);
    res.once('close', end);
    // A response queued behind a pipelined request emits neither when the client closes the
    // connection: the socket's close ends it, so nothing stays counted (or held) forever.
    const socket = req.socket;
    socket.once('close', end);
    res.once('finish', () => socket.off('close', end));

    if (inFlight.isClosing) {
      // Shutting down: this connection is told to go away, and the client may retry elsewhere.
      next(Errors.shuttingDown());
      return;
    }
    next();
  };
}

/** The matched express route pattern, so metrics never get one series per topic or instance id. */
function routeOf(req: Request): string {
  const pattern = (req.route as { path?: unknown } | undefined)?.path;
  return typeof pattern === 'string' ? `${req.baseUrl}${pattern}` : 'unmatched';
}

/** Counts requests refused as invalid; passes the error on to the error handler unchanged. */
export function countValidationFailures(
  metrics: GatewayMetrics,
  toGatewayError: (err: unknown) => GatewayError | undefined,
): ErrorRequestHandler {
  return (err, _req, _res, next) => {
    const gatewayError = toGatewayError(err);
    if (gatewayError !== undefined && isValidationFailure(gatewayError.errorCode))
      metrics.validationFailed(gatewayError.errorCode);
    next(err);
  };
}
