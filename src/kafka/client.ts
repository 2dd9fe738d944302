/** One kafkajs client per process, with kafkajs's logs routed into the gateway's logger. */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { Logger } from 'pino';

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** Told of every kafkajs error log, by kafkajs namespace (for the Kafka error metric). */
  onError?: (namespace: string) => void;
}

export function createKafka({ brokers, clientId, logger, onError }: KafkaClientOptions): Kafka {
  const log = logger.child({ component: 'kafkajs' });
  return new Kafka({
    brokers,
    clientId,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        if (expectedKafkaCondition(entry)) log.info(rest, message);
        else if (level <= logLevel.ERROR) {
          log.error(rest, message);
          onError?.(namespace);
        } else log.warn(rest, message);
      },
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 5_000 },
  });
}

/** Kept for existing importers; the classification lives in ./errors.ts. */
export { isRetriable } from './errors.js';

/**
 * kafkajs rejects a whole metadata response when any one partition in it reports an error (an
 * offline partition answers LEADER_NOT_AVAILABLE), so one leaderless partition of someone else's
 * topic would fail every metadata read and every produce that needs a refresh. Inside
 * `tolerateOfflinePartitions`, partition errors are kept as data instead (the partition's leader
 * is then -1) and topic errors only fail a response that holds no healthy topic. Scoped with
 * AsyncLocalStorage so other kafkajs clients (consumers) keep kafkajs's own behaviour.
 */
const tolerant = new AsyncLocalStorage<boolean>();

export function tolerateOfflinePartitions<T>(call: () => Promise<T>): Promise<T> {
  return tolerant.run(true, call);
}

interface MetadataResponseData {
  topicMetadata: Array<{ topicErrorCode: number; partitionMetadata: unknown[] }>;
}
type Parse = (data: MetadataResponseData) => Promise<MetadataResponseData>;

function patchMetadataParse(): void {
  const require = createRequire(import.meta.url);
  for (let version = 0; version <= 6; version++) {
    let mod: { parse: Parse; tolerantPatched?: boolean };
    try {
      mod = require(`kafkajs/src/protocol/requests/metadata/v${version}/response`) as typeof mod;
    } catch {
      continue; // a kafkajs without this version: nothing to patch
    }
    if (mod.tolerantPatched === true) continue;
    const strict = mod.parse;
    mod.parse = async (data) => {
      if (tolerant.getStore() !== true) return strict(data);
      const healthy = data.topicMetadata.filter((t) => t.topicErrorCode === 0);
      // A single-topic read of an unknown topic must still fail as kafkajs expects.
      if (healthy.length === 0 && data.topicMetadata.length > 0) return strict(data);
      return { ...data, topicMetadata: healthy };
    };
    mod.tolerantPatched = true;
  }
}
patchMetadataParse();

/**
 * kafkajs 2.2.4: a consumer stopped while its fetch manager is rebalancing its fetchers (a broker
 * just left the cluster) can get new fetchers after the stop; their fetch answers [] at once
 * because the runner is no longer running, and each fetcher spins on it forever in microtasks —
 * the whole process stops answering (reproduced: DELETE an instance within ~4 s of a broker kill).
 * A stopped runner's fetch therefore fails instead, which ends the fetcher and, as the runner is
 * not running, its fetch loop.
 */
function patchStoppedRunnerFetch(): void {
  const require = createRequire(import.meta.url);
  let Runner: {
    prototype: { fetch: (nodeId: number) => Promise<unknown[]>; running?: boolean };
    stopFetchPatched?: boolean;
  };
  try {
    Runner = require('kafkajs/src/consumer/runner') as typeof Runner;
  } catch {
    return;
  }
  if (Runner.stopFetchPatched === true) return;
  const fetch = Runner.prototype.fetch;
  Runner.prototype.fetch = function (this: { running?: boolean }, nodeId: number) {
    if (this.running !== true) return Promise.reject(new Error('the consumer was stopped'));
    return fetch.call(this, nodeId);
  };
  Runner.stopFetchPatched = true;
}
patchStoppedRunnerFetch();

/**
 * kafkajs error logs of conditions that are expected and handled: creating a topic that already
 * exists (a race with another replica's start-up), and a group or transaction coordinator that
 * is still loading, not yet available or just moved on a fresh cluster (kafkajs retries). Logged at info, not counted as errors.
 */
const EXPECTED_KAFKA_CONDITION =
  /already exists|coordinator is loading|coordinator is not available|not the correct coordinator|COORDINATOR_LOAD_IN_PROGRESS|COORDINATOR_NOT_AVAILABLE|NOT_COORDINATOR|TOPIC_ALREADY_EXISTS/i;

export function expectedKafkaCondition(entry: { message?: string; error?: unknown }): boolean {
  return typeof entry.error === 'string' && EXPECTED_KAFKA_CONDITION.test(entry.error);
}
