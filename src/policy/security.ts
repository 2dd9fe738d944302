/**
 * Assembles the security layer from the configuration: what runs at the door before any body is
 * read (authentication, rate limits, overload shedding), the authorization hooks the routes call,
 * the produce quota, and the Redis connection behind shared counters.
 */
import type { Request, RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { Authenticator, authenticationMiddleware } from './auth/middleware.js';
import { Authorizer } from './authz/authorizer.js';
import { MemoryQuotaCounter, RedisQuotaCounter, produceQuota } from './limits/quotas.js';
import { rateLimiters } from './limits/rate-limits.js';
import { createRedis, redisReadinessCheck } from './limits/redis.js';
import { produceShedding, type InFlight } from './limits/shedding.js';

/** Probes stay reachable without credentials and are never throttled. */
export const EXEMPT_PATHS = new Set(['/healthz', '/readyz', '/livez', '/metrics']);
const isExempt = (req: Request) => EXEMPT_PATHS.has(req.path);

export interface Security {
  /** Middleware for before the body is read: authentication, rate limits, shedding. */
  door: RequestHandler[];
  authorizer: Authorizer;
  /** Produce quota (records/bytes per second), for the produce route's admit hook. */
  admitProduce?: (req: Request, topic: string, records: number, bytes: number) => Promise<void>;
  inFlight: () => InFlight;
  redis?: Redis;
  /** Readiness: resolves when the shared counters are reachable (always, without Redis). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export function createSecurity(config: Config, logger: Logger): Security {
  const sec = config.security;
  const authenticator = new Authenticator(sec.auth);
  const authorizer = new Authorizer(sec.policy);
  const redis = sec.limits.redisUrl === undefined ? undefined : createRedis(sec.limits.redisUrl, logger);

  logStance(config, logger);

  const skipExempt =
    (handler: RequestHandler): RequestHandler =>
    (req, res, next) =>
      isExempt(req) ? next() : handler(req, res, next);
  const shedding = produceShedding({
    maxRequests: sec.limits.maxInFlightProduceRequests,
    maxBytes: sec.limits.maxInFlightProduceBytes,
    maxPerClient: sec.limits.maxInFlightProducePerClient,
    maxBodyBytes: config.http.maxBodyBytes,
  });
  const door: RequestHandler[] = [];
  if (authenticator.enabled) door.push(authenticationMiddleware(authenticator, isExempt, logger));
  door.push(...rateLimiters(sec.limits, redis).map(skipExempt));
  door.push(shedding.middleware);

  const quotas = sec.limits.recordsPerSecond > 0 || sec.limits.bytesPerSecond > 0;
  return {
    door,
    authorizer,
    admitProduce: quotas
      ? produceQuota(redis === undefined ? new MemoryQuotaCounter() : new RedisQuotaCounter(redis), sec.limits)
      : undefined,
    inFlight: shedding.stats,
    redis,
    ready: () => (redis === undefined ? Promise.resolve() : redisReadinessCheck(redis)),
    close: async () => {
      if (redis === undefined) return;
      // QUIT politely when connected, but never wait on a Redis that is away (it would queue forever).
      if (redis.status === 'ready') {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          redis.quit().catch(() => undefined),
          new Promise((resolve) => (timer = setTimeout(resolve, 1_000))),
        ]);
        clearTimeout(timer);
      }
      redis.disconnect();
    },
  };
}

/** Says at start what the door lets in, so an open gateway is never open by accident unnoticed. */
function logStance(config: Config, logger: Logger): void {
  const { auth, policy, tls, limits } = config.security;
  if (auth.methods.length === 0)
    logger.warn(
      'authentication is OFF (AUTH_METHODS is empty): every caller is anonymous and may do everything the policy allows',
    );
  else if (auth.allowAnonymous)
    logger.warn(
      { methods: auth.methods },
      'anonymous access is ON (AUTH_ALLOW_ANONYMOUS=true): callers without credentials get in as "anonymous"',
    );
  else logger.info({ methods: auth.methods }, 'authentication required');
  if (policy === undefined) logger.info('no POLICY_FILE: every authenticated caller may use every topic and group');
  else logger.info({ policy: policy.source, rules: policy.rules.length }, 'authorization policy loaded');
  if (tls !== undefined) logger.info({ clientAuth: tls.clientAuth }, 'HTTPS on');
  if (limits.redisUrl !== undefined) logger.info('rate-limit counters in Redis (shared by every replica)');
}
