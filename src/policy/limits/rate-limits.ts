/**
 * Request-rate limits with express-rate-limit, keyed by caller: separate budgets for produce,
 * consume and metadata requests, plus per-topic produce budgets. Counters live in Redis when
 * REDIS_URL is set (shared by every replica), else in this process.
 */
import { Errors } from '../../core/errors.js';
import type { Request, RequestHandler, Response } from 'express';
import { rateLimit, type RateLimitInfo, type Store } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import type { SecurityConfig } from '../../config/security.js';
import { familyOf, produceTopic, type Family } from './classify.js';
import { clientKey } from '../identity.js';

type Limits = SecurityConfig['limits'];

/**
 * rate-limit-redis loads its two Lua scripts once, at start-up, and keeps the promise: a load that
 * failed (Redis not up yet, or slower than the command timeout) failed every later request with
 * it, so the limiter answered 503 until the gateway restarted. Here a failed load is retried by
 * the next request that needs it.
 */
class RetryingRedisStore extends RedisStore {
  override async increment(key: string): ReturnType<RedisStore['increment']> {
    await this.incrementScriptSha.catch(() => (this.incrementScriptSha = this.loadIncrementScript()));
    return super.increment(key);
  }

  override async get(key: string): ReturnType<RedisStore['get']> {
    await this.getScriptSha.catch(() => (this.getScriptSha = this.loadGetScript()));
    return super.get(key);
  }
}

export function rateLimiters(limits: Limits, redis: Redis | undefined): RequestHandler[] {
  const store = (name: string): Store | undefined =>
    redis === undefined
      ? undefined
      : new RetryingRedisStore({
          prefix: `krg:rl:${name}:`,
          sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as Promise<RedisReply>,
        });
  const make = (
    name: string,
    limit: (req: Request, res: Response) => number,
    key: (req: Request, res: Response) => string,
    skip: (req: Request, res: Response) => boolean,
  ): RequestHandler => {
    const limiter = rateLimit({
      windowMs: limits.windowMs,
      limit,
      keyGenerator: key,
      skip,
      store: store(name),
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      passOnStoreError: false,
      identifier: name,
      handler: (req, _res, next) => {
        const reset = (req as Request & { rateLimit?: RateLimitInfo }).rateLimit?.resetTime?.getTime();
        const seconds = reset === undefined ? limits.windowMs / 1000 : (reset - Date.now()) / 1000;
        next(
          Errors.tooManyRequests(`Too many ${name} requests; retry in ${Math.max(1, Math.ceil(seconds))} s.`, seconds),
        );
      },
      // Keys are principals or addresses passed through ipKeyGenerator (see keys.ts).
      validate: { keyGeneratorIpFallback: false },
    });
    // A store failure (Redis away) is refused as 503: traffic is never let through unmetered.
    return (req, res, next) =>
      limiter(req, res, (err?: unknown) => next(err === undefined ? undefined : toOverload(err)));
  };

  const handlers: RequestHandler[] = [];
  const families: Array<[Family, number]> = [
    ['produce', limits.produce],
    ['consume', limits.consume],
    ['metadata', limits.metadata],
  ];
  for (const [family, limit] of families) {
    if (limit > 0)
      handlers.push(
        make(
          family,
          () => limit,
          clientKey,
          (req) => familyOf(req) !== family,
        ),
      );
  }
  if (limits.topics.length > 0) {
    const rules = limits.topics.map((t) => ({ re: globToRegExp(t.pattern), limit: t.limit }));
    const ruleFor = (req: Request) => {
      const topic = produceTopic(req);
      return topic === undefined ? undefined : rules.find((r) => r.re.test(topic));
    };
    handlers.push(
      make(
        'topic produce',
        (req) => ruleFor(req)?.limit ?? 0,
        (req, res) => `${clientKey(req, res)}|${produceTopic(req)}`,
        (req) => ruleFor(req) === undefined,
      ),
    );
  }
  return handlers;
}

function toOverload(err: unknown) {
  if (err instanceof Error && err.name === 'GatewayError') return err;
  return Errors.overloaded('Rate limiting is unavailable; retry later.');
}

export function globToRegExp(glob: string): RegExp {
  const source = glob
    .split('*')
    .map((part) =>
      part
        .split('?')
        .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.'),
    )
    .join('.*');
  return new RegExp(`^${source}$`);
}
