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
  /** CreateTime in epoch ms; Kafka's client clock at send when absent. */
  timestamp?: number;
}

/** A record's fate; 40002: Kafka refused this record itself (sending it again fails the same way). */
export type ProduceOutcome =
  { ok: true; partition: number; offset: number } | { ok: false; errorCode: 40002 | 50002 | 50003; error: string };

export interface ProduceService {
  /**
   * Resolves once Kafka acknowledged (acks=all) or failed every record; never rejects. `deadline`
   * (epoch ms, default: now + the produce timeout) is when unacknowledged records are answered 50003.
   */
  produce(topic: string, records: OutgoingRecord[], deadline?: number): Promise<ProduceOutcome[]>;
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

// ---------------------------------------------------------------------------------------------
// Consumer instances (the v2 consumer API). The Kafka bridge (src/kafka/consumers) implements
// these; the routes see only bytes, partitions and offsets.

/**
 * The v2 embedded format: how keys and values travel inside the JSON envelope, for produce (the
 * Content-Type) and for a consumer instance (chosen at creation). avro, jsonschema and protobuf go
 * through the schema registry (src/formats); consumed records are decoded by the id in each.
 */
export type EmbeddedFormat = 'json' | 'binary' | 'avro' | 'jsonschema' | 'protobuf';

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface PartitionOffset extends TopicPartition {
  offset: number;
  metadata?: string;
}

/** A record as Kafka stored it; the route renders key and value in the instance's format. */
export interface ConsumedRecord {
  topic: string;
  key: Buffer | null;
  value: Buffer | null;
  partition: number;
  offset: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  headers: RecordHeader[];
}

/** The whitelisted settings a client may choose at creation; nothing else reaches Kafka. */
export interface ConsumerSettings {
  format: EmbeddedFormat;
  /** `none`: a fetch fails (40903) for an assigned partition with no committed offset and no seek, as Kafka's poll. */
  autoOffsetReset: 'earliest' | 'latest' | 'none';
  autoCommit: boolean;
  /** Bytes a fetch waits for before answering early; ≤ 0 = answer as soon as any record is ready. */
  fetchMinBytes: number;
  /** Longest wait of a fetch; undefined = the server default. */
  requestTimeoutMs?: number;
}

export interface FetchOptions {
  /** Longest wait for records (already capped by the instance and server settings). */
  timeoutMs: number;
  /** Raw key+value bytes the answer may carry (at least one record is always returned). */
  maxBytes: number;
  /** Aborted when the HTTP client goes away: the wait ends and nothing is handed out. */
  signal?: AbortSignal;
}

export interface FetchResult {
  records: ConsumedRecord[];
  /**
   * Call once the response was written: the first `count` records count as returned to the client
   * (commit-all and auto-commit never go past them); the rest will be read again. Only the first
   * call counts.
   */
  delivered(count: number): void;
}

export interface ConsumerInstance {
  readonly group: string;
  readonly name: string;
  readonly format: EmbeddedFormat;
  /** The instance's own longest fetch wait (consumer.request.timeout.ms), if it chose one. */
  readonly requestTimeoutMs?: number;
  /** Replaces the subscription; an empty list unsubscribes. Throws 40903 while assigned. */
  subscribe(topics: string[]): Promise<void>;
  subscription(): string[];
  /** Also clears a manual assignment (Kafka semantics). */
  unsubscribe(): Promise<void>;
  /** Manual assignment; throws 40903 while subscribed. */
  assign(partitions: TopicPartition[]): Promise<void>;
  /** Current partitions: the manual assignment, or what the group gave this member. */
  assignment(): TopicPartition[];
  /** Explicit offsets are stored as given (the route adds 1); none = what was returned to the client. */
  commit(offsets?: PartitionOffset[]): Promise<void>;
  committed(partitions: TopicPartition[]): Promise<PartitionOffset[]>;
  /** Throws 40903 for a partition that is not assigned. */
  seek(offsets: PartitionOffset[]): Promise<void>;
  seekToTimestamps(timestamps: Array<TopicPartition & { timestamp: number }>): Promise<void>;
  seekToBeginning(partitions: TopicPartition[]): Promise<void>;
  seekToEnd(partitions: TopicPartition[]): Promise<void>;
  fetch(options: FetchOptions): Promise<FetchResult>;
}

export interface ConsumerService {
  /** Throws 40902 for a duplicate name, 429 when the instance cap is reached. */
  /**
   * `owner` is the principal that may use the instance; `capKey` whom the per-caller instance cap
   * counts (the principal, or an anonymous caller's address), the owner when not given.
   */
  create(
    group: string,
    settings: ConsumerSettings,
    owner: string,
    name?: string,
    capKey?: string,
  ): Promise<ConsumerInstance>;
  /** The instance if it lives here and belongs to `owner`, else 404 40403. Refreshes its idle timer. */
  get(group: string, name: string, owner: string): ConsumerInstance;
  /** Whether this replica holds the instance (no ownership check, no idle refresh). */
  has(group: string, name: string): boolean;
  delete(group: string, name: string, owner: string): Promise<void>;
  /** Name of a new instance: `rest-consumer-<nodeId>-<uuid>`. */
  generateName(): string;
  /** Closes every instance (commits returned offsets when auto-commit is on, leaves the groups). */
  close(): Promise<void>;
}

/**
 * Where consumer instances live when several gateway replicas share the work: which replicas may
 * own an instance this one does not hold. A static map from PEER_URLS today; Redis or cluster
 * workers could implement the same interface.
 */
export interface Peer {
  nodeId: string;
  /** Base URL (origin, and optionally a path prefix) configured for that replica. */
  url: string;
}

export interface ConsumerDirectory {
  /** The replicas to ask, most likely owner first; empty = nobody else has it. */
  candidates(group: string, instance: string): Peer[];
}

// ---------------------------------------------------------------------------------------------
// Schema registry (issue 12). The embedded registry (src/registry) and the client of an external
// Confluent-compatible one (SCHEMA_REGISTRY_URL) both implement this; the schema formats
// (src/formats) see only this interface.

export type SchemaType = 'AVRO' | 'JSON' | 'PROTOBUF';

export interface SchemaReference {
  name: string;
  subject: string;
  version: number;
}

export interface SchemaText {
  schemaType: SchemaType;
  schema: string;
  references: SchemaReference[];
}

export interface RegisteredSchema extends SchemaText {
  id: number;
  subject: string;
  version: number;
}

export interface SchemaRegistry {
  /** Registers a schema under a subject (idempotent: the same schema answers its existing id), checking compatibility. */
  register(subject: string, schema: SchemaText): Promise<number>;
  /** A schema by its global id; throws 40403 (schema not found). */
  schemaById(id: number): Promise<SchemaText>;
  /** A subject's version (or its latest); throws 40401 / 40402. */
  version(subject: string, version: number | 'latest'): Promise<RegisteredSchema>;
  /**
   * The subjects using a schema id (soft-deleted versions too); throws 40403 for an unknown id.
   * Without it (an external registry), a policy makes produce by schema id fail closed.
   */
  subjectsOf?(id: number): Promise<string[]>;
}

// ---------------------------------------------------------------------------------------------
// Cluster administration (the v3 API, issue 14). The Kafka bridge (src/kafka/admin) implements
// this; the v3 handlers (src/v3) see only these types. Failures are GatewayErrors from the
// catalog (40403 unknown topic, 40002 refused by Kafka, 404 unknown group …).

export interface BrokerSummary {
  id: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface ClusterSummary {
  clusterId: string;
  controller: number | null;
  brokers: BrokerSummary[];
}

export interface AdminPartition {
  partition: number;
  /** -1 when the partition has no leader. */
  leader: number;
  replicas: number[];
  isr: number[];
}

export interface AdminTopic {
  name: string;
  internal: boolean;
  replicationFactor: number;
  partitions: AdminPartition[];
}

export interface NewTopicSpec {
  name: string;
  /** Undefined = the broker's num.partitions. */
  partitions?: number;
  /** Undefined = the broker's default.replication.factor. */
  replicationFactor?: number;
  configs: Array<{ name: string; value: string }>;
}

export type ConfigSource =
  | 'DYNAMIC_TOPIC_CONFIG'
  | 'DYNAMIC_BROKER_CONFIG'
  | 'DYNAMIC_DEFAULT_BROKER_CONFIG'
  | 'STATIC_BROKER_CONFIG'
  | 'DEFAULT_CONFIG'
  | 'DYNAMIC_BROKER_LOGGER_CONFIG'
  | 'UNKNOWN';

export interface ConfigEntry {
  name: string;
  /** null for sensitive settings and settings without a value. */
  value: string | null;
  isDefault: boolean;
  isReadOnly: boolean;
  isSensitive: boolean;
  source: ConfigSource;
  synonyms: Array<{ name: string; value: string | null; source: ConfigSource }>;
}

/** One change of a topic's settings: SET a value, or DELETE the override (back to the default). */
export interface ConfigChange {
  name: string;
  operation: 'SET' | 'DELETE';
  value?: string | null;
}

export interface GroupMember {
  memberId: string;
  clientId: string;
  instanceId: string | null;
  host: string;
  assignments: TopicPartition[];
}

export interface GroupDescription {
  groupId: string;
  /** Kafka's state, upper-cased with underscores: STABLE, EMPTY, PREPARING_REBALANCE … */
  state: string;
  protocolType: string;
  /** The assignor (e.g. RoundRobinAssigner, range), '' when none. */
  protocol: string;
  coordinator: number | null;
  members: GroupMember[];
}

export interface PartitionLag {
  topic: string;
  partition: number;
  /** The group's committed offset. */
  currentOffset: number;
  /** The partition's end offset (high watermark). */
  logEndOffset: number;
  /** max(0, logEndOffset − currentOffset). */
  lag: number;
  /** The member owning the partition now, '' when none. */
  consumerId: string;
  clientId: string;
  instanceId: string | null;
}

export interface AdminService {
  cluster(): Promise<ClusterSummary>;
  listTopics(): Promise<AdminTopic[]>;
  /** Throws 40403 for an unknown topic. */
  getTopic(name: string): Promise<AdminTopic>;
  /** Throws 40002 when it exists or Kafka refuses the spec; resolves once every partition has a leader. */
  createTopic(spec: NewTopicSpec, validateOnly: boolean): Promise<void>;
  /** Throws 40403 for an unknown topic. */
  deleteTopic(name: string): Promise<void>;
  /** Every setting of the topic, sorted by name; throws 40403 for an unknown topic. */
  topicConfigs(name: string): Promise<ConfigEntry[]>;
  /** Applies the changes together (40002 when Kafka refuses one; nothing changes then). */
  alterTopicConfigs(name: string, changes: ConfigChange[], validateOnly: boolean): Promise<void>;
  /** Every group, described (groups Kafka does not know are left out), by id. */
  listGroups(): Promise<GroupDescription[]>;
  /** undefined when Kafka knows no such group (its state is DEAD). */
  describeGroup(groupId: string): Promise<GroupDescription | undefined>;
  /** One entry per partition with a committed offset; empty when the group committed none. */
  groupLags(groupId: string): Promise<PartitionLag[]>;
}
