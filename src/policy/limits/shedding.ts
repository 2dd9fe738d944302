/**
 * Overload shedding for produce: a cap on produce requests (and their declared body bytes) in
 * flight, overall and per caller. Beyond it the request is answered 503 with Retry-After at once,
 * before its body is read, so a surge costs neither memory nor Kafka capacity and the queue of
 * work in the gateway stays bounded. The per-caller cap keeps one flooding client from using up
 * the room that well-behaved clients need, in requests and in declared bytes.
 */
import { Errors } from '../../core/errors.js';
import type { RequestHandler } from 'express';
import { declaresBody, familyOf } from './classify.js';
import { clientKey } from '../identity.js';

export interface SheddingOptions {
  maxRequests: number;
  maxBytes: number;
  /** 0 = no per-caller cap. */
  maxPerClient: number;
  /** Declared body bytes one caller may have in flight (0 = no per-caller byte cap). */
  maxBytesPerClient: number;
  /** Bytes assumed for a body of unknown length (chunked): the largest allowed body. */
  maxBodyBytes: number;
}

export interface InFlight {
  requests: number;
  bytes: number;
  shed: number;
}

/**
 * A streaming body (v3 produce) is charged the largest body at admission, then what it actually
 * holds: `recharge(req, bytes)` sets its charge (records read and not yet answered), so a quiet
 * long-lived stream does not hold 1 MiB of the budgets for its lifetime.
 */
const recharges = new WeakMap<object, (bytes: number) => void>();
export function recharge(req: object, bytes: number): void {
  recharges.get(req)?.(bytes);
}

export function produceShedding(options: SheddingOptions): { middleware: RequestHandler; stats: () => InFlight } {
  let requests = 0;
  let bytes = 0;
  let shed = 0;
  const perClient = new Map<string, { requests: number; bytes: number; held: number }>();

  const middleware: RequestHandler = (req, res, next) => {
    // Produce requests count against the request caps; every request that declares a body (a
    // consumer commit, an unknown route's upload…) is charged its bytes, so no body is read unbudgeted.
    const produce = familyOf(req) === 'produce';
    if (!produce && !declaresBody(req)) return next();
    // A body that may never arrive holds its share until the body deadline (BODY_TIMEOUT_MS) ends it.
    const declared = Number(req.headers['content-length']);
    // A compressed body inflates up to the body limit: charge that, not its compressed length.
    const encoded = (req.headers['content-encoding'] ?? 'identity').toLowerCase() !== 'identity';
    let cost =
      !encoded && Number.isFinite(declared) && declared >= 0
        ? Math.min(declared, options.maxBodyBytes)
        : options.maxBodyBytes;
    const key = clientKey(req, res);
    const mine = perClient.get(key) ?? { requests: 0, bytes: 0, held: 0 };
    if (
      (produce && requests >= options.maxRequests) ||
      (bytes > 0 && bytes + cost > options.maxBytes) ||
      (produce && options.maxPerClient > 0 && mine.requests >= options.maxPerClient) ||
      (options.maxBytesPerClient > 0 && mine.bytes > 0 && mine.bytes + cost > options.maxBytesPerClient)
    ) {
      shed++;
      // The unread body is not wanted: close the connection after the answer instead of draining it.
      res.setHeader('Connection', 'close');
      return next(Errors.overloaded());
    }
    if (produce) {
      requests++;
      mine.requests++;
    }
    bytes += cost;
    mine.bytes += cost;
    mine.held++;
    perClient.set(key, mine);
    let released = false;
    recharges.set(req, (next: number) => {
      if (released) return;
      bytes += next - cost;
      mine.bytes += next - cost;
      cost = next;
    });
    const release = () => {
      if (released) return;
      released = true;
      if (produce) {
        requests--;
        mine.requests--;
      }
      bytes -= cost;
      mine.bytes -= cost;
      if (--mine.held <= 0) perClient.delete(key);
    };
    res.once('finish', release);
    res.once('close', release);
    // A response queued behind a pipelined request may emit neither: the socket's close releases it.
    req.socket.once('close', release);
    res.once('finish', () => req.socket.off('close', release));
    next();
  };
  return { middleware, stats: () => ({ requests, bytes, shed }) };
}
