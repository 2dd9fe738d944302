/** One kafkajs client per process, with kafkajs's logs routed into the gateway's logger. */
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
        if (level <= logLevel.ERROR) {
          log.error(rest, message);
          onError?.(namespace);
        } else log.warn(rest, message);
      },
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 5_000 },
  });
}

/** Kept for existing importers; the classification lives in ./errors.ts. */
export { isRetriable } from './errors.js';
