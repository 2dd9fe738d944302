/**
 * Records-per-second and bytes-per-second quotas per caller, charged just before records go to
 * Kafka (after validation, so a refused request costs nothing). One-second fixed windows; a single
 * request larger than the quota is admitted only into an empty window, so it can never starve.
 */
import { Errors } from '../../core/errors.js';
import type { Request } from 'express';
import type { Redis } from 'ioredis';
import { clientKey } from '../identity.js';

export interface QuotaCounter {
  /** Adds `amount` to `key`'s current window unless that would exceed `limit`; true when admitted. */
  tryAdd(key: string, amount: number, limit: number): Promise<boolean>;
}

/** Counters of this process; only the current second is kept, so memory stays bounded. */
export class MemoryQuotaCounter implements QuotaCounter {
  private window = 0;
  private used = new Map<string, number>();

  async tryAdd(key: string, amount: number, limit: number): Promise<boolean> {
    const now = Math.floor(Date.now() / 1000);
    if (now !== this.window) {
      this.window = now;
      this.used = new Map();
    }
    const current = this.used.get(key) ?? 0;
    if (current > 0 && current + amount > limit) return false;
    this.used.set(key, current + amount);
    return true;
  }
}

// Atomic check-and-add, so concurrent replicas cannot both squeeze under the limit.
const TRY_ADD = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local amount = tonumber(ARGV[1])
if current > 0 and current + amount > tonumber(ARGV[2]) then return 0 end
redis.call('INCRBY', KEYS[1], amount)
redis.call('PEXPIRE', KEYS[1], 2000)
return 1`;

/** Counters shared by every replica through Redis (windows by wall-clock second). */
export class RedisQuotaCounter implements QuotaCounter {
  constructor(private readonly redis: Redis) {}

  async tryAdd(key: string, amount: number, limit: number): Promise<boolean> {
    const window = Math.floor(Date.now() / 1000);
    const admitted = await this.redis.eval(TRY_ADD, 1, `krg:quota:${key}:${window}`, amount, limit);
    return admitted === 1;
  }
}

export function produceQuota(
  counter: QuotaCounter,
  limits: { recordsPerSecond: number; bytesPerSecond: number },
): (req: Request, topic: string, records: number, bytes: number) => Promise<void> {
  return async (req, _topic, records, bytes) => {
    const key = clientKey(req, req.res!);
    if (limits.bytesPerSecond > 0 && !(await counter.tryAdd(`bytes:${key}`, bytes, limits.bytesPerSecond)))
      throw Errors.tooManyRequests(`Byte quota of ${limits.bytesPerSecond} per second exceeded; retry in 1 s.`, 1);
    if (limits.recordsPerSecond > 0 && !(await counter.tryAdd(`records:${key}`, records, limits.recordsPerSecond)))
      throw Errors.tooManyRequests(`Record quota of ${limits.recordsPerSecond} per second exceeded; retry in 1 s.`, 1);
  };
}
