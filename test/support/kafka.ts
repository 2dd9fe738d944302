/** The real broker the test run started (scripts/test.mjs), and native kafkajs helpers to look inside it. */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin, type KafkaMessage } from 'kafkajs';
import { createTopicAndWait } from '../../src/kafka/create-topic.js';

export const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
if (brokers.length === 0) throw new Error('KAFKA_BROKERS is not set: run the tests with `npm test`');

export const kafka = new Kafka({ brokers, clientId: 'test-native', logLevel: logLevel.NOTHING });

let adminPromise: Promise<Admin> | undefined;
export function admin(): Promise<Admin> {
  adminPromise ??= (async () => {
    const a = kafka.admin();
    await a.connect();
    return a;
  })();
  return adminPromise;
}

export function uniqueName(prefix = 't'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function createTopic(partitions = 1, name = uniqueName()): Promise<string> {
  const a = await admin();
  await createTopicAndWait(a, { topic: name, numPartitions: partitions });
  return name;
}

export interface StoredRecord {
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: KafkaMessage['headers'];
  timestamp: string;
}

/**
 * Reads exactly `count` records of a topic from the beginning with a native kafkajs consumer
 * (its own throwaway group), failing if they do not arrive within the timeout. Results are sorted
 * by partition, then offset.
 */
export async function readRecords(topic: string, count: number, timeoutMs = 20_000): Promise<StoredRecord[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const out: StoredRecord[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${out.length} of ${count} records arrived in ${timeoutMs} ms`)),
        timeoutMs,
      );
      if (count === 0) {
        clearTimeout(timer);
        resolve();
      }
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          out.push({
            partition,
            offset: Number(message.offset),
            key: message.key,
            value: message.value,
            headers: message.headers,
            timestamp: message.timestamp,
          });
          if (out.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

/** Number of records in a topic (sum of end - beginning offsets): "nothing was produced" checks. */
export async function recordCount(topic: string): Promise<number> {
  const a = await admin();
  const offsets = await a.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
}

export async function closeAdmin(): Promise<void> {
  if (adminPromise) await (await adminPromise).disconnect();
  adminPromise = undefined;
}

/** A broker of a test's own (scripts/local-kafka.mjs), for faults the shared broker must not see. */
export interface PrivateKafka {
  brokers: string;
  port: number;
  version: string;
  /** SIGKILL / SIGTERM / SIGSTOP / SIGCONT; `start` brings it back on the same port and data. */
  kill(): Promise<void>;
  shutdown(): Promise<void>;
  freeze(): void;
  thaw(): void;
  start(): Promise<void>;
  /** Ends it for good and deletes its data. */
  stop(): Promise<void>;
}

export async function startPrivateKafka(options: { heap?: string } = {}): Promise<PrivateKafka> {
  // A plain ESM script without type declarations (the same one that runs the test broker).
  const { startLocalKafka } = (await import('../../scripts/local-kafka.mjs' as string)) as {
    startLocalKafka: (o: { heap?: string }) => Promise<PrivateKafka>;
  };
  return startLocalKafka({ heap: options.heap ?? '384m' });
}

/** A private broker with a topic of `partitions` partitions (and any `others`, 1 partition) ready on it. */
export async function startPrivateKafkaWithTopic(
  topic: string,
  partitions: number,
  others: string[] = [],
): Promise<PrivateKafka> {
  const kafka = await startPrivateKafka({ heap: '512m' });
  const native = new Kafka({ brokers: [kafka.brokers], logLevel: logLevel.NOTHING }).admin();
  await native.connect();
  await createTopicAndWait(native, { topic, numPartitions: partitions });
  for (const other of others) await createTopicAndWait(native, { topic: other, numPartitions: 1 });
  await native.disconnect();
  return kafka;
}
