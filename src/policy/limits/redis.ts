/**
 * The Redis connection that holds rate-limit and quota counters when REDIS_URL is set, so limits
 * hold across gateway replicas. While Redis is away the limiter answers 503 rather than letting
 * traffic through unmetered, and it answers at once: a circuit breaker (below) stops commands from
 * queueing behind reconnect attempts.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** Reconnect attempts while Redis is away: often enough to serve again well within 1 s of its return. */
export const REDIS_RETRY_MAX_MS = 100;
/** Longest wait for one Redis command. */
export const REDIS_COMMAND_TIMEOUT_MS = 1_000;

export function createRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    // A Redis that hangs (connected, never answering) gets no more than this per command: the
    // limiter then answers 503 instead of holding the request with no answer at all.
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    // Queued until the first connection is up (start-up must not refuse traffic for a few ms);
    // the breaker below turns queueing off while Redis is known to be down.
    enableOfflineQueue: true,
    retryStrategy: (attempt) => Math.min(attempt * 20, REDIS_RETRY_MAX_MS),
  });
  let down = false;
  // Circuit breaker: once the connection is lost, commands fail immediately ("open") instead of
  // waiting in the offline queue for a reconnect that may take seconds; the first successful
  // reconnect closes it again. ioredis reads enableOfflineQueue on every command.
  const open = (reason: string) => {
    if (!down) logger.warn({ err: reason }, 'redis unavailable; rate-limited requests answer 503');
    down = true;
    redis.options.enableOfflineQueue = false;
    // Commands queued before the first connection would wait for a reconnect: fail them now too.
    // (ioredis's flushQueue is public but missing from its typings.)
    const flush = (redis as unknown as { flushQueue?: (err: Error, o: { commandQueue: boolean }) => void }).flushQueue;
    flush?.call(redis, new Error(`Redis unavailable: ${reason}`), { commandQueue: false });
  };
  redis.on('error', (err: Error) => open(err.message));
  redis.on('close', () => open('connection closed'));
  redis.on('ready', () => {
    if (down) logger.info('redis reachable again');
    down = false;
    redis.options.enableOfflineQueue = true;
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
