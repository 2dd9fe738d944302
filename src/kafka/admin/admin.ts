/**
 * Cluster administration for the v3 API, on kafkajs's admin client: the cluster and its brokers,
 * topics (list, describe, create, delete), topic settings (describe, alter, reset), consumer
 * groups (members and their assignments) and consumer lag.
 *
 * Two admin clients, for the reason src/kafka/metadata.ts gives: kafkajs keeps one metadata
 * snapshot per client and a single-topic read replaces it, so the end-offset reads behind lag
 * have a client of their own. Every failure becomes a catalog error here (kafka/errors.ts for
 * the Kafka side); v3 speaks of an unknown topic as 40403 and of a refused request as 40002.
 */
import kafkajs, { type Admin, type Kafka } from 'kafkajs';
import { Errors, GatewayError } from '../../core/errors.js';
import type {
  AdminService,
  AdminTopic,
  ClusterSummary,
  ConfigChange,
  ConfigEntry,
  ConfigSource,
  GroupDescription,
  NewTopicSpec,
  PartitionLag,
} from '../../core/ports.js';
import { tolerateOfflinePartitions } from '../client.js';
import { classifyKafkaError, hasKafkaErrorType, kafkaMessage, toGatewayError } from '../errors.js';

const { AssignerProtocol, ConfigResourceTypes } = kafkajs;

/** Kafka's answers that mean "this request is wrong" (v3: 400, error_code 40002), not "Kafka failed". */
const REFUSALS = [
  'TOPIC_ALREADY_EXISTS',
  'INVALID_TOPIC_EXCEPTION',
  'INVALID_PARTITIONS',
  'INVALID_REPLICATION_FACTOR',
  'INVALID_REPLICA_ASSIGNMENT',
  'INVALID_CONFIG',
  'INVALID_REQUEST',
  'POLICY_VIOLATION',
  'UNSUPPORTED_VERSION',
];

const SOURCES: Record<number, ConfigSource> = {
  1: 'DYNAMIC_TOPIC_CONFIG',
  2: 'DYNAMIC_BROKER_CONFIG',
  3: 'DYNAMIC_DEFAULT_BROKER_CONFIG',
  4: 'STATIC_BROKER_CONFIG',
  5: 'DEFAULT_CONFIG',
  6: 'DYNAMIC_BROKER_LOGGER_CONFIG',
};

interface RawPartition {
  partitionId: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

export interface KafkaAdminOptions {
  /** How long a created topic may take to get a leader for every partition. */
  createTimeoutMs?: number;
}

export class KafkaAdmin implements AdminService {
  private readonly admin: Admin;
  private readonly offsetsAdmin: Admin;
  /** The last setting change queued per topic: the next one starts after it (see alterTopicConfigs). */
  private readonly configTurns = new Map<string, Promise<void>>();
  private connected: Promise<void> | undefined;
  /** Metadata reads on `admin`, one at a time (see metadataOf). */
  private metadataQueue: Promise<unknown> = Promise.resolve();

  constructor(
    kafka: Kafka,
    private readonly options: KafkaAdminOptions = {},
  ) {
    this.admin = kafka.admin();
    this.offsetsAdmin = kafka.admin();
  }

  connect(): Promise<void> {
    this.connected ??= Promise.all([this.admin.connect(), this.offsetsAdmin.connect()]).then(
      () => undefined,
      (err: unknown) => {
        this.connected = undefined;
        throw toGatewayError(err);
      },
    );
    return this.connected;
  }

  async disconnect(): Promise<void> {
    await Promise.all([this.admin.disconnect(), this.offsetsAdmin.disconnect()]);
  }

  async cluster(): Promise<ClusterSummary> {
    const c = await this.call(() => this.admin.describeCluster());
    return {
      clusterId: c.clusterId,
      controller: c.controller ?? null,
      brokers: c.brokers
        .map((b) => ({ id: b.nodeId, host: b.host, port: b.port, rack: null }))
        .sort((a, b) => a.id - b.id),
    };
  }

  async listTopics(): Promise<AdminTopic[]> {
    const { topics } = await this.call(() => this.metadataOf());
    return topics.map((t) => toTopic(t.name, t.partitions as RawPartition[])).sort((a, b) => cmp(a.name, b.name));
  }

  async getTopic(name: string): Promise<AdminTopic> {
    const { topics } = await this.call(() => this.metadataOf([name]));
    const t = topics.find((x) => x.name === name);
    if (t === undefined) throw Errors.topicNotHosted();
    return toTopic(name, t.partitions as RawPartition[]);
  }

  async createTopic(spec: NewTopicSpec, validateOnly: boolean): Promise<void> {
    const created = await this.call(() =>
      this.admin.createTopics({
        validateOnly,
        waitForLeaders: false,
        topics: [
          {
            topic: spec.name,
            numPartitions: spec.partitions ?? -1,
            replicationFactor: spec.replicationFactor ?? -1,
            configEntries: spec.configs,
          },
        ],
      }),
    );
    // kafkajs answers false (instead of failing) when the topic already exists.
    if (!created) throw Errors.kafkaRefused(`Topic '${spec.name}' already exists.`);
    if (!validateOnly) await this.waitForLeaders(spec.name);
  }

  async deleteTopic(name: string): Promise<void> {
    // Kafka's answer for an unknown topic comes only after kafkajs's retries: ask first.
    await this.getTopic(name);
    await this.call(() => this.admin.deleteTopics({ topics: [name] }));
  }

  async topicConfigs(name: string): Promise<ConfigEntry[]> {
    const described = await this.call(() =>
      this.admin.describeConfigs({
        resources: [{ type: ConfigResourceTypes.TOPIC, name }],
        includeSynonyms: true,
      }),
    );
    const entries = described.resources[0]?.configEntries ?? [];
    return entries
      .map((e): ConfigEntry => ({
        name: e.configName,
        value: e.isSensitive ? null : e.configValue,
        isDefault: e.isDefault,
        isReadOnly: e.readOnly,
        isSensitive: e.isSensitive,
        source: SOURCES[(e as { configSource?: number }).configSource ?? 0] ?? 'UNKNOWN',
        synonyms: ((e as { configSynonyms?: RawSynonym[] }).configSynonyms ?? []).map((s) => ({
          name: s.configName,
          value: e.isSensitive ? null : s.configValue,
          source: SOURCES[s.configSource] ?? 'UNKNOWN',
        })),
      }))
      .sort((a, b) => cmp(a.name, b.name));
  }

  /**
   * kafkajs has no IncrementalAlterConfigs: the topic's overrides are read, changed and written
   * back whole with AlterConfigs (one request, so Kafka applies all or none). Changes to one topic
   * through this gateway therefore run one at a time (a per-topic queue), each after the previous
   * one is visible: parallel changes of different settings would otherwise each write back a read
   * taken before the others, and lose them. A change made by another tool (or another replica)
   * between the read and the write is still lost — stated in the README.
   */
  alterTopicConfigs(name: string, changes: ConfigChange[], validateOnly: boolean): Promise<void> {
    const previous = this.configTurns.get(name) ?? Promise.resolve();
    const turn = previous.then(
      () => this.alterNow(name, changes, validateOnly),
      () => this.alterNow(name, changes, validateOnly),
    );
    const tail = turn.then(
      () => undefined,
      () => undefined,
    );
    this.configTurns.set(name, tail);
    void tail.then(() => {
      if (this.configTurns.get(name) === tail) this.configTurns.delete(name);
    });
    return turn;
  }

  private async alterNow(name: string, changes: ConfigChange[], validateOnly: boolean): Promise<void> {
    const current = await this.topicConfigs(name);
    const known = new Set(current.map((c) => c.name));
    for (const change of changes) if (!known.has(change.name)) throw Errors.configNotFound(change.name);
    const overrides = new Map<string, string | null>();
    for (const c of current) if (c.source === 'DYNAMIC_TOPIC_CONFIG') overrides.set(c.name, c.value);
    for (const change of changes) {
      if (change.operation === 'DELETE') overrides.delete(change.name);
      else overrides.set(change.name, change.value ?? null);
    }
    await this.call(() =>
      this.admin.alterConfigs({
        validateOnly,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name,
            configEntries: [...overrides].map(([configName, value]) => ({ name: configName, value: value ?? '' })),
          },
        ],
      }),
    );
    if (!validateOnly) await this.untilVisible(name, changes);
  }

  /**
   * The controller accepted the change; brokers apply it a moment later. Answering only once a
   * read shows it means a client's next read (or next change, which starts from a read) sees it.
   * Not visible within 5 s: a retriable 50003, never a 204 for a change that may not hold.
   */
  private async untilVisible(name: string, changes: ConfigChange[]): Promise<void> {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const now = new Map((await this.topicConfigs(name)).map((c) => [c.name, c]));
      const applied = changes.every((change) => {
        const c = now.get(change.name);
        if (change.operation === 'DELETE') return c?.source !== 'DYNAMIC_TOPIC_CONFIG';
        return c?.source === 'DYNAMIC_TOPIC_CONFIG' && (c.isSensitive || c.value === (change.value ?? ''));
      });
      if (applied) return;
      if (Date.now() > deadline)
        throw Errors.kafkaRetriable(
          `Kafka accepted the change of ${changes.map((c) => c.name).join(', ')} but does not show it yet: read the setting, then retry if needed.`,
        );
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Every group Kafka knows, described (one DescribeGroups request per coordinator and 100 groups), by id. */
  async listGroups(): Promise<GroupDescription[]> {
    const { groups } = await this.call(() => this.admin.listGroups());
    const ids = groups.map((g) => g.groupId).sort(cmp);
    const out: GroupDescription[] = [];
    for (let i = 0; i < ids.length; i += 100) {
      const { groups: described } = await this.call(() => this.admin.describeGroups(ids.slice(i, i + 100)));
      for (const g of described) {
        const d = toDescription(g);
        if (d !== undefined) out.push(d);
      }
    }
    return out.sort((a, b) => cmp(a.groupId, b.groupId));
  }

  async describeGroup(groupId: string): Promise<GroupDescription | undefined> {
    const { groups } = await this.call(() => this.admin.describeGroups([groupId]));
    return toDescription(groups.find((x) => x.groupId === groupId));
  }

  async groupLags(groupId: string): Promise<PartitionLag[]> {
    const [committed, group] = await Promise.all([
      this.call(() => this.admin.fetchOffsets({ groupId })),
      this.describeGroup(groupId),
    ]);
    const owners = new Map<string, { consumerId: string; clientId: string; instanceId: string | null }>();
    for (const m of group?.members ?? []) {
      for (const a of m.assignments) {
        owners.set(`${a.topic}\0${a.partition}`, {
          consumerId: m.memberId,
          clientId: m.clientId,
          instanceId: m.instanceId,
        });
      }
    }
    const lags: PartitionLag[] = [];
    for (const t of committed) {
      const withOffsets = t.partitions.filter((p) => Number(p.offset) >= 0);
      if (withOffsets.length === 0) continue;
      let ends: Map<number, number>;
      try {
        const offsets = await this.call(() => this.offsetsAdmin.fetchTopicOffsets(t.topic));
        ends = new Map(offsets.map((o) => [o.partition, Number(o.high)]));
      } catch (err) {
        // A topic deleted since the commit has no end offsets: its partitions are skipped (as Confluent's).
        if (err instanceof GatewayError && err.errorCode === 40403) continue;
        throw err;
      }
      for (const p of withOffsets) {
        const end = ends.get(p.partition);
        if (end === undefined) continue;
        const current = Number(p.offset);
        const owner = owners.get(`${t.topic}\0${p.partition}`);
        lags.push({
          topic: t.topic,
          partition: p.partition,
          currentOffset: current,
          logEndOffset: end,
          lag: Math.max(0, end - current),
          consumerId: owner?.consumerId ?? '',
          clientId: owner?.clientId ?? '',
          instanceId: owner?.instanceId ?? null,
        });
      }
    }
    return lags;
  }

  private async waitForLeaders(name: string): Promise<void> {
    const deadline = Date.now() + (this.options.createTimeoutMs ?? 30_000);
    for (;;) {
      try {
        const { topics } = await tolerateOfflinePartitions(() => this.metadataOf([name]));
        const partitions = (topics[0]?.partitions ?? []) as RawPartition[];
        if (partitions.length > 0 && partitions.every((p) => p.leader >= 0)) return;
      } catch (err) {
        if (classifyKafkaError(err) !== 'unknownTopicOrPartition' && !hasKafkaErrorType(err, 'LEADER_NOT_AVAILABLE'))
          throw this.mapped(err);
      }
      if (Date.now() > deadline)
        throw Errors.kafkaRetriable(`Topic ${name} was created but has no leader for every partition yet.`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * kafkajs keeps one metadata snapshot per admin client and a single-topic read replaces it:
   * concurrent reads of different topics on one client can find their topic gone mid-call (a
   * TypeError inside kafkajs, seen as 500s under concurrent requests). So they take turns.
   */
  private metadataOf(topics?: string[]): ReturnType<Admin['fetchTopicMetadata']> {
    const read = this.metadataQueue.then(() =>
      this.admin.fetchTopicMetadata(topics === undefined ? undefined : { topics }),
    );
    this.metadataQueue = read.catch(() => undefined);
    return read;
  }

  /** One Kafka call, connected first, tolerant of other topics' offline partitions, failures mapped. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    await this.connect();
    try {
      return await tolerateOfflinePartitions(fn);
    } catch (err) {
      throw this.mapped(err);
    }
  }

  private mapped(err: unknown): GatewayError {
    if (err instanceof GatewayError) return err;
    if (REFUSALS.some((type) => hasKafkaErrorType(err, type))) return Errors.kafkaRefused(kafkaMessage(err));
    if (classifyKafkaError(err) === 'unknownTopicOrPartition') return Errors.topicNotHosted();
    return toGatewayError(err);
  }
}

interface RawSynonym {
  configName: string;
  configValue: string | null;
  configSource: number;
}

type RawGroup = Awaited<ReturnType<Admin['describeGroups']>>['groups'][number];

/** kafkajs's group description in the port's terms; undefined for a group Kafka does not know (DEAD). */
function toDescription(g: RawGroup | undefined): GroupDescription | undefined {
  if (g === undefined || g.state === 'Dead') return undefined;
  return {
    groupId: g.groupId,
    state: stateOf(g.state),
    protocolType: g.protocolType,
    protocol: g.protocol,
    coordinator: null,
    members: g.members
      .map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        instanceId: (m as { groupInstanceId?: string | null }).groupInstanceId ?? null,
        host: m.clientHost,
        assignments: decodeAssignment(g.protocolType, m.memberAssignment),
      }))
      .sort((a, b) => cmp(a.memberId, b.memberId)),
  };
}

function toTopic(name: string, partitions: RawPartition[]): AdminTopic {
  const sorted = [...partitions].sort((a, b) => a.partitionId - b.partitionId);
  return {
    name,
    // Kafka's internal topics (__consumer_offsets, __transaction_state …) all start with two underscores.
    internal: name.startsWith('__'),
    replicationFactor: sorted[0]?.replicas.length ?? 0,
    partitions: sorted.map((p) => ({
      partition: p.partitionId,
      leader: p.leader ?? -1,
      replicas: p.replicas,
      isr: p.isr,
    })),
  };
}

/** kafkajs's `PreparingRebalance` → v3's `PREPARING_REBALANCE`. */
function stateOf(state: string): string {
  const upper = state.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
  return upper === '' ? 'UNKNOWN' : upper;
}

/** A consumer group member's assignment (the consumer protocol's bytes); nothing for other protocols. */
function decodeAssignment(protocolType: string, bytes: Buffer): Array<{ topic: string; partition: number }> {
  if (protocolType !== 'consumer' || bytes.length === 0) return [];
  let decoded;
  try {
    decoded = AssignerProtocol.MemberAssignment.decode(bytes);
  } catch {
    return []; // a client with an assignment format of its own
  }
  const out: Array<{ topic: string; partition: number }> = [];
  for (const [topic, partitions] of Object.entries(decoded?.assignment ?? {})) {
    for (const partition of partitions) out.push({ topic, partition });
  }
  return out.sort((a, b) => cmp(a.topic, b.topic) || a.partition - b.partition);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
