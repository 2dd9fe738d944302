/**
 * What the HTTP layer needs from Kafka, in the gateway's own terms. The Kafka bridge (src/kafka)
 * implements these; route handlers see only these types, never kafkajs's.
 */

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

/** A record ready to be sent: bytes in, bytes out. */
export interface OutgoingRecord {
  key: Buffer | null;
  value: Buffer | null;
  /** Explicit partition; otherwise the key hash (murmur2) or a sticky round-robin choice. */
  partition?: number;
  headers?: RecordHeader[];
}

export type ProduceOutcome =
  { ok: true; partition: number; offset: number } | { ok: false; errorCode: 50002 | 50003; error: string };

export interface ProduceService {
  /** Resolves once Kafka acknowledged (acks=all) or failed every record; never rejects. */
  produce(topic: string, records: OutgoingRecord[]): Promise<ProduceOutcome[]>;
}

export interface ReplicaInfo {
  broker: number;
  leader: boolean;
  in_sync: boolean;
}

export interface PartitionInfo {
  partition: number;
  leader: number;
  replicas: ReplicaInfo[];
}

export interface TopicInfo {
  name: string;
  configs: Record<string, string | null>;
  partitions: PartitionInfo[];
}

export interface MetadataService {
  listTopics(): Promise<string[]>;
  /** Throws GatewayError 40401 for an unknown topic. */
  getTopic(topic: string): Promise<TopicInfo>;
  getPartitions(topic: string): Promise<PartitionInfo[]>;
  /** Throws 40401 / 40402. */
  getPartitionOffsets(topic: string, partition: number): Promise<{ beginning_offset: number; end_offset: number }>;
  listBrokers(): Promise<number[]>;
  /**
   * Partition count from a short-lived cache (refreshed on a miss), or undefined when the topic
   * does not exist. This is the produce path's fail-fast check.
   */
  partitionCount(topic: string): Promise<number | undefined>;
}
