/**
 * Assembles the security layer from the configuration: what runs at the door before any body is
 * read (authentication, rate limits, overload shedding), the authorization hooks the routes call,
 * the produce quota, and the Redis connection behind shared counters.
 */
import type { Request, RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { RouteTable } from '../core/route-table.js';
import {
  Authenticator,
  authenticationMiddleware,
  isVerifiedPeerHop,
  peerBodyCheck,
  peerHopMiddleware,
} from './auth/middleware.js';
import { PeerProof } from './auth/peer-proof.js';
import { Authorizer } from './authz/authorizer.js';
import { authorizeAtDoor, refuseUnroutable } from './authz/door.js';
import { rememberRoute } from './limits/classify.js';
import { MemoryQuotaCounter, RedisQuotaCounter, produceQuota } from './limits/quotas.js';
import { rateLimiters } from './limits/rate-limits.js';
import { createRedis, redisReadinessCheck } from './limits/redis.js';
import { produceShedding } from './limits/shedding.js';

/** Probes stay reachable without credentials and are never throttled. */
export const EXEMPT_PATHS = new Set(['/healthz', '/readyz']);
const isExempt = (req: Request) => EXEMPT_PATHS.has(req.path);
/** Scrapes are not throttled (with authentication on, /metrics on the API port needs a credential). */
const isUnthrottled = (req: Request) => isExempt(req) || req.path === '/metrics';

export interface Security {
  /**
   * Middleware for before the body is read, in order: the matched route, a sibling's proof,
   * authentication, authorization from the route, rate limits, shedding.
   */
  door: RequestHandler[];
  /** Middleware for right after the body is read (a proved hop's body digest). */
  afterBody: RequestHandler[];
  /** Signs requests forwarded to sibling replicas (PEER_SECRET), undefined without a secret. */
  peerProof?: PeerProof;
  authorizer: Authorizer;
  /** Produce quota (records/bytes per second), for the produce route's admit hook. */
  admitProduce?: (req: Request, topic: string, records: number, bytes: number) => Promise<void>;
  redis?: Redis;
  /** Readiness: resolves when the shared counters are reachable (always, without Redis). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export function createSecurity(config: Config, logger: Logger, routes: RouteTable): Security {
  const sec = config.security;
  const { peerSecret } = config.consumers;
  const peerProof = peerSecret === undefined ? undefined : new PeerProof(peerSecret);
  const authenticator = new Authenticator(sec.auth);
  const authorizer = new Authorizer(sec.policy);
  const redis = sec.limits.redisUrl === undefined ? undefined : createRedis(sec.limits.redisUrl, logger);

  logStance(config, logger);

  // Probes are never throttled; a sibling's proved hop was metered where it entered.
  const skipExempt =
    (handler: RequestHandler): RequestHandler =>
    (req, res, next) =>
      isUnthrottled(req) || isVerifiedPeerHop(res) ? next() : handler(req, res, next);
  const shedding = produceShedding({
    maxRequests: sec.limits.maxInFlightProduceRequests,
    maxBytes: sec.limits.maxInFlightProduceBytes,
    maxPerClient: sec.limits.maxInFlightProducePerClient,
    maxBytesPerClient: sec.limits.maxInFlightProduceBytesPerClient,
    maxBodyBytes: config.http.maxBodyBytes,
  });
  const remember = rememberRoute(routes);
  const door: RequestHandler[] = [
    (req, res, next) => {
      remember(req, res);
      next();
    },
  ];
  if (peerProof !== undefined) door.push(peerHopMiddleware(peerProof, logger));
  if (authenticator.enabled) door.push(authenticationMiddleware(authenticator, isExempt, logger));
  door.push(refuseUnroutable());
  if (authorizer.enabled) door.push(authorizeAtDoor(authorizer));
  door.push(...rateLimiters(sec.limits, redis).map(skipExempt));
  door.push(shedding.middleware);

  const quotas = sec.limits.recordsPerSecond > 0 || sec.limits.bytesPerSecond > 0;
  return {
    door,
    afterBody: peerProof === undefined ? [] : [peerBodyCheck()],
    peerProof,
    authorizer,
    admitProduce: quotas
      ? produceQuota(redis === undefined ? new MemoryQuotaCounter() : new RedisQuotaCounter(redis), sec.limits)
      : undefined,
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
  if (config.http.trustProxy === true)
    logger.warn(
      'TRUST_PROXY=true trusts one proxy hop: the address that hop reports is the client address used for limits. ' +
        'Prefer the proxy addresses (TRUST_PROXY=10.0.0.5) so no other caller can choose its own address.',
    );
  const { peers, peerSecret } = config.consumers;
  if (Object.keys(peers).length > 0 && peerSecret === undefined)
    logger.warn(
      'PEER_URLS without PEER_SECRET: forwarded requests are authenticated again from their headers, so ' +
        'callers identified by a client certificate cannot use an instance through another replica',
    );
}
