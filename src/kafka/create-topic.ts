/**
 * Creates a topic and waits until every partition has a leader.
 *
 * kafkajs's own `waitForLeaders` retries only LEADER_NOT_AVAILABLE, but a KRaft broker may
 * answer UNKNOWN_TOPIC_OR_PARTITION for a moment after the controller accepted the topic, and
 * kafkajs then fails the whole call. So we create without it and poll metadata ourselves,
 * treating both answers as "not yet".
 */
import type { Admin } from 'kafkajs';

export interface NewTopic {
  topic: string;
  numPartitions: number;
  replicationFactor?: number;
  /** Topic-level configs, e.g. max.message.bytes. */
  configEntries?: Array<{ name: string; value: string }>;
}

const NOT_YET = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);

/** Resolves true when this call created the topic (and it is ready), false when it already existed. */
export async function createTopicAndWait(admin: Admin, spec: NewTopic, timeoutMs = 30_000): Promise<boolean> {
  // An existing topic is not created again: Kafka's TOPIC_ALREADY_EXISTS answer is logged by
  // kafkajs as an error, for what is the normal case on every restart.
  // An existing topic is taken as it is: with other partition counts than asked, or with a
  // partition offline, it must not stop a start (Kafka's own auto-created topics have one partition).
  if ((await admin.listTopics()).includes(spec.topic)) return false;
  const created = await admin.createTopics({ topics: [spec], waitForLeaders: false });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [spec.topic] });
      const partitions = topics[0]?.partitions ?? [];
      if (partitions.length >= spec.numPartitions && partitions.every((p) => p.leader >= 0)) return created;
    } catch (e) {
      if (!NOT_YET.has((e as { type?: string }).type ?? '')) throw e;
    }
    if (Date.now() > deadline) throw new Error(`topic ${spec.topic} has no leader after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
