/**
 * The Redis connection that holds rate-limit and quota counters when REDIS_URL is set, so limits
 * hold across gateway replicas. Commands fail fast while Redis is away (the limiter then answers
 * 503 rather than letting traffic through unmetered).
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export function createRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    enableOfflineQueue: true,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  let down = false;
  redis.on('error', (err: Error) => {
    if (!down) logger.warn({ err: err.message }, 'redis unavailable; rate-limited requests answer 503');
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.info('redis reachable again');
    down = false;
  });
  return redis;
}

/** Readiness check for /readyz: resolves when Redis answers PING within the timeout. */
export async function redisReadinessCheck(redis: Redis, timeoutMs = 1_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('redis did not answer PING in time')), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
