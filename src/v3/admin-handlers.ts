/**
 * The v3 API's cluster, broker, topic, partition, topic-config and consumer-group operations, as
 * functions of the request (one per operationId of openapi.yaml). They speak only the gateway's
 * ports (core/ports.ts AdminService); bodies are checked against openapi.yaml before use.
 *
 * Authorization (policy file): `describe` on a topic (or group) for reads, `admin` on the topic
 * for create, delete and config changes. Lists show only what the caller may describe. Cluster
 * and broker reads need an authenticated caller only (the door has seen to that).
 */
import type { Request } from 'express';
import { Errors } from '../core/errors.js';
import type {
  AdminService,
  AdminTopic,
  ConfigChange,
  ConfigEntry,
  GroupDescription,
  PartitionLag,
} from '../core/ports.js';
import { jsonBody } from '../http/json-body.js';
import type { OperationContext, Reply } from '../http/operation.js';
import type { Resource } from '../policy/authz/policy.js';
import { Links, list, resource } from './envelope.js';

export type V3Handler = (ctx: OperationContext) => Promise<Reply>;

export interface V3AdminDeps {
  admin: AdminService;
  /** The gateway's public base URL for this request (http/base-uri.ts publicBaseUrl). */
  baseUrl: (req: Request) => string;
  /** Checks a body against the operation's schema in openapi.yaml (400/422 when it fails). */
  validateBody: (operationId: string, body: unknown) => void;
  /** Throws 403 unless the caller may; absent = no policy (everything allowed). */
  authorize?: (req: Request, operation: 'describe' | 'admin', resource: Resource) => void;
  /** Whether the caller may (for filtering lists); absent = yes. */
  may?: (req: Request, operation: 'describe' | 'admin', resource: Resource) => boolean;
  /** The gateway's own topics (the schema registry's): never deleted or reconfigured over v3. */
  ownTopics?: readonly string[];
}

export function v3AdminHandlers(deps: V3AdminDeps): Record<string, V3Handler> {
  const { admin } = deps;
  let clusterId: Promise<string> | undefined;
  /** The cluster id never changes while the gateway runs: read once (again after a failure). */
  const ownClusterId = (): Promise<string> => {
    clusterId ??= admin.cluster().then(
      (c) => c.clusterId,
      (err: unknown) => {
        clusterId = undefined;
        throw err;
      },
    );
    return clusterId;
  };
  /** The links for a request naming `cluster_id`; 404 when it is not this cluster's id. */
  const linksFor = async (ctx: OperationContext): Promise<Links> => {
    const id = await ownClusterId();
    const asked = ctx.params.cluster_id as string | undefined;
    if (asked !== undefined && asked !== id) throw Errors.clusterNotFound(asked);
    return new Links(deps.baseUrl(ctx.req), id);
  };
  const authorize = (req: Request, op: 'describe' | 'admin', res: Resource) => {
    // Whatever the policy says: Kafka's internal topics (`__…`) are not administered over HTTP.
    if (op === 'admin' && 'topic' in res && res.topic.startsWith('__')) throw Errors.internalTopic(res.topic);
    // Nor the gateway's own (the schema registry's store): deleting it loses every schema.
    if (op === 'admin' && 'topic' in res && deps.ownTopics?.includes(res.topic)) throw Errors.gatewayTopic(res.topic);
    deps.authorize?.(req, op, res);
  };
  const may = (req: Request, op: 'describe' | 'admin', res: Resource) => deps.may?.(req, op, res) ?? true;
  const body = (ctx: OperationContext, operationId: string): Record<string, unknown> => {
    const parsed = jsonBody(ctx.req)?.value;
    if (parsed === undefined) throw Errors.v3PayloadError('Request body is empty. Data is required.');
    deps.validateBody(operationId, parsed);
    return parsed as Record<string, unknown>;
  };
  const topicParam = (ctx: OperationContext) => ctx.params.topic_name as string;
  const groupParam = (ctx: OperationContext) => ctx.params.consumer_group_id as string;

  const clusterView = async (l: Links) => {
    const c = await admin.cluster();
    return resource('KafkaCluster', l.cluster(), l.crn(), {
      cluster_id: l.clusterId,
      controller: c.controller === null ? null : l.related('brokers', c.controller),
      acls: l.related('acls'),
      brokers: l.related('brokers'),
      broker_configs: l.related('broker-configs'),
      consumer_groups: l.related('consumer-groups'),
      topics: l.related('topics'),
      partition_reassignments: l.related('topics', '-', 'partitions', '-', 'reassignment'),
    });
  };
  const topicView = (l: Links, t: AdminTopic) =>
    resource('KafkaTopic', l.cluster('topics', t.name), l.crn(['topic', t.name]), {
      cluster_id: l.clusterId,
      topic_name: t.name,
      is_internal: t.internal,
      replication_factor: t.replicationFactor,
      partitions_count: t.partitions.length,
      partitions: l.related('topics', t.name, 'partitions'),
      configs: l.related('topics', t.name, 'configs'),
      partition_reassignments: l.related('topics', t.name, 'partitions', '-', 'reassignment'),
      authorized_operations: [],
    });
  const partitionView = (l: Links, topic: string, p: AdminTopic['partitions'][number]) =>
    resource(
      'KafkaPartition',
      l.cluster('topics', topic, 'partitions', p.partition),
      l.crn(['topic', topic], ['partition', p.partition]),
      {
        cluster_id: l.clusterId,
        topic_name: topic,
        partition_id: p.partition,
        leader: p.leader < 0 ? null : l.related('topics', topic, 'partitions', p.partition, 'replicas', p.leader),
        replicas: l.related('topics', topic, 'partitions', p.partition, 'replicas'),
        reassignment: l.related('topics', topic, 'partitions', p.partition, 'reassignment'),
      },
    );
  const configView = (l: Links, topic: string, c: ConfigEntry) =>
    resource(
      'KafkaTopicConfig',
      l.cluster('topics', topic, 'configs', c.name),
      l.crn(['topic', topic], ['config', c.name]),
      {
        cluster_id: l.clusterId,
        topic_name: topic,
        name: c.name,
        value: c.value,
        is_default: c.isDefault,
        is_read_only: c.isReadOnly,
        is_sensitive: c.isSensitive,
        source: c.source,
        synonyms: c.synonyms,
      },
    );
  const brokerView = (l: Links, b: { id: number; host: string; port: number; rack: string | null }) =>
    resource('KafkaBroker', l.cluster('brokers', b.id), l.crn(['broker', b.id]), {
      cluster_id: l.clusterId,
      broker_id: b.id,
      host: b.host,
      port: b.port,
      rack: b.rack,
      configs: l.related('brokers', b.id, 'configs'),
      partition_replicas: l.related('brokers', b.id, 'partition-replicas'),
    });
  const groupView = (l: Links, g: GroupDescription) =>
    resource('KafkaConsumerGroup', l.cluster('consumer-groups', g.groupId), l.crn(['consumer-group', g.groupId]), {
      cluster_id: l.clusterId,
      consumer_group_id: g.groupId,
      is_simple: g.protocolType === '',
      partition_assignor: g.protocol,
      state: g.state,
      type: 'CLASSIC',
      is_mixed_consumer_group: false,
      coordinator: g.coordinator === null ? null : l.related('brokers', g.coordinator),
      consumers: l.related('consumer-groups', g.groupId, 'consumers'),
      lag_summary: l.related('consumer-groups', g.groupId, 'lag-summary'),
    });
  const consumerView = (l: Links, g: string, m: GroupDescription['members'][number]) =>
    resource(
      'KafkaConsumer',
      l.cluster('consumer-groups', g, 'consumers', m.memberId),
      l.crn(['consumer-group', g], ['consumer', m.memberId]),
      {
        cluster_id: l.clusterId,
        consumer_group_id: g,
        consumer_id: m.memberId,
        instance_id: m.instanceId,
        client_id: m.clientId,
        assignments: l.related('consumer-groups', g, 'consumers', m.memberId, 'assignments'),
      },
    );
  const assignmentView = (l: Links, g: string, consumer: string, a: { topic: string; partition: number }) =>
    resource(
      'KafkaConsumerAssignment',
      l.cluster('consumer-groups', g, 'consumers', consumer, 'assignments', a.topic, 'partitions', a.partition),
      l.crn(['consumer-group', g], ['consumer', consumer], ['assignment', a.topic], ['partition', a.partition]),
      {
        cluster_id: l.clusterId,
        consumer_group_id: g,
        consumer_id: consumer,
        topic_name: a.topic,
        partition_id: a.partition,
        partition: l.related('topics', a.topic, 'partitions', a.partition),
        lag: l.related('consumer-groups', g, 'lags', a.topic, 'partitions', a.partition),
      },
    );
  const lagView = (l: Links, g: string, x: PartitionLag) =>
    resource(
      'KafkaConsumerLag',
      l.cluster('consumer-groups', g, 'lags', x.topic, 'partitions', x.partition),
      l.crn(['consumer-group', g], ['lag', x.topic], ['partition', x.partition]),
      {
        cluster_id: l.clusterId,
        consumer_group_id: g,
        topic_name: x.topic,
        partition_id: x.partition,
        current_offset: x.currentOffset,
        log_end_offset: x.logEndOffset,
        lag: x.lag,
        consumer_id: x.consumerId,
        instance_id: x.instanceId,
        client_id: x.clientId,
      },
    );

  const topicOf = async (ctx: OperationContext, op: 'describe' | 'admin') => {
    const name = topicParam(ctx);
    authorize(ctx.req, op, { topic: name });
    return admin.getTopic(name);
  };
  const groupOf = async (ctx: OperationContext): Promise<GroupDescription> => {
    const g = groupParam(ctx);
    authorize(ctx.req, 'describe', { group: g });
    const described = await admin.describeGroup(g);
    if (described === undefined) throw Errors.consumerGroupNotFound(g);
    return described;
  };
  const memberOf = async (ctx: OperationContext) => {
    const g = await groupOf(ctx);
    const id = ctx.params.consumer_id as string;
    const m = g.members.find((x) => x.memberId === id);
    if (m === undefined) throw Errors.consumerNotFound(id);
    return { g, m };
  };
  const lagsOf = async (ctx: OperationContext): Promise<PartitionLag[]> => {
    const g = groupParam(ctx);
    authorize(ctx.req, 'describe', { group: g });
    // Lags reveal topic names and sizes: only topics the caller may describe are shown.
    const lags = (await admin.groupLags(g)).filter((x) => may(ctx.req, 'describe', { topic: x.topic }));
    if (lags.length === 0 && (await admin.describeGroup(g)) === undefined) throw Errors.consumerGroupNotFound(g);
    return lags;
  };

  const handlers: Record<string, V3Handler> = {
    listKafkaClusters: async (ctx) => {
      const l = await linksFor(ctx);
      return { body: list('KafkaCluster', l.clusters(), [await clusterView(l)]) };
    },
    getKafkaCluster: async (ctx) => ({ body: await clusterView(await linksFor(ctx)) }),

    listKafkaBrokers: async (ctx) => {
      const l = await linksFor(ctx);
      const { brokers } = await admin.cluster();
      return {
        body: list(
          'KafkaBroker',
          l.cluster('brokers'),
          brokers.map((b) => brokerView(l, b)),
        ),
      };
    },
    getKafkaBroker: async (ctx) => {
      const l = await linksFor(ctx);
      const id = ctx.params.broker_id as number;
      const b = (await admin.cluster()).brokers.find((x) => x.id === id);
      if (b === undefined) throw Errors.brokerNotFound(id);
      return { body: brokerView(l, b) };
    },

    listKafkaTopics: async (ctx) => {
      const l = await linksFor(ctx);
      // Kafka's internal topics (`__consumer_offsets`, …) are left out, as Confluent's list does.
      const topics = (await admin.listTopics()).filter(
        (t) => !t.name.startsWith('__') && may(ctx.req, 'describe', { topic: t.name }),
      );
      return {
        body: list(
          'KafkaTopic',
          l.cluster('topics'),
          topics.map((t) => topicView(l, t)),
        ),
      };
    },
    createKafkaTopic: async (ctx) => {
      const l = await linksFor(ctx);
      const b = body(ctx, 'createKafkaTopic');
      const name = b.topic_name as string;
      authorize(ctx.req, 'admin', { topic: name });
      const validateOnly = b.validate_only === true;
      await admin.createTopic(
        {
          name,
          partitions: b.partitions_count as number | undefined,
          replicationFactor: b.replication_factor as number | undefined,
          configs: ((b.configs as Array<{ name: string; value: string | null }> | undefined) ?? [])
            // A setting without a value (absent or null) is the default: nothing to send.
            .filter((c): c is { name: string; value: string } => typeof c.value === 'string')
            .map((c) => ({ name: c.name, value: c.value })),
        },
        validateOnly,
      );
      ctx.res.setHeader('Location', l.cluster('topics', name));
      if (validateOnly) {
        const t: AdminTopic = {
          name,
          internal: false,
          replicationFactor: (b.replication_factor as number | undefined) ?? 0,
          partitions: Array.from({ length: (b.partitions_count as number | undefined) ?? 0 }, (_, i) => ({
            partition: i,
            leader: -1,
            replicas: [],
            isr: [],
          })),
        };
        return { status: 200, body: topicView(l, t) };
      }
      return { status: 201, body: topicView(l, await admin.getTopic(name)) };
    },
    getKafkaTopic: async (ctx) => {
      const l = await linksFor(ctx);
      return { body: topicView(l, await topicOf(ctx, 'describe')) };
    },
    deleteKafkaTopic: async (ctx) => {
      await linksFor(ctx);
      const name = topicParam(ctx);
      authorize(ctx.req, 'admin', { topic: name });
      await admin.deleteTopic(name);
      return {};
    },

    listKafkaPartitions: async (ctx) => {
      const l = await linksFor(ctx);
      const t = await topicOf(ctx, 'describe');
      return {
        body: list(
          'KafkaPartition',
          l.cluster('topics', t.name, 'partitions'),
          t.partitions.map((p) => partitionView(l, t.name, p)),
        ),
      };
    },
    getKafkaPartition: async (ctx) => {
      const l = await linksFor(ctx);
      const t = await topicOf(ctx, 'describe');
      const p = t.partitions.find((x) => x.partition === (ctx.params.partition_id as number));
      if (p === undefined) throw Errors.partitionNotFound();
      return { body: partitionView(l, t.name, p) };
    },

    listKafkaTopicConfigs: async (ctx) => {
      const l = await linksFor(ctx);
      const t = await topicOf(ctx, 'describe');
      const configs = await admin.topicConfigs(t.name);
      return {
        body: list(
          'KafkaTopicConfig',
          l.cluster('topics', t.name, 'configs'),
          configs.map((c) => configView(l, t.name, c)),
        ),
      };
    },
    getKafkaTopicConfig: async (ctx) => {
      const l = await linksFor(ctx);
      const t = await topicOf(ctx, 'describe');
      const name = ctx.params.name as string;
      const c = (await admin.topicConfigs(t.name)).find((x) => x.name === name);
      if (c === undefined) throw Errors.configNotFound(name);
      return { body: configView(l, t.name, c) };
    },
    updateKafkaTopicConfig: async (ctx) => {
      await linksFor(ctx);
      const b = body(ctx, 'updateKafkaTopicConfig');
      const t = await topicOf(ctx, 'admin');
      await admin.alterTopicConfigs(
        t.name,
        [{ name: ctx.params.name as string, operation: 'SET', value: b.value as string | null }],
        false,
      );
      return {};
    },
    resetKafkaTopicConfig: async (ctx) => {
      await linksFor(ctx);
      const t = await topicOf(ctx, 'admin');
      await admin.alterTopicConfigs(t.name, [{ name: ctx.params.name as string, operation: 'DELETE' }], false);
      return {};
    },
    updateKafkaTopicConfigBatch: async (ctx) => {
      await linksFor(ctx);
      const b = body(ctx, 'updateKafkaTopicConfigBatch');
      const t = await topicOf(ctx, 'admin');
      const data = b.data as Array<{ name: string; value?: string | null; operation?: string }>;
      const changes: ConfigChange[] = data.map((d) => ({
        name: d.name,
        operation: d.operation?.toUpperCase() === 'DELETE' ? 'DELETE' : 'SET',
        value: d.value ?? null,
      }));
      await admin.alterTopicConfigs(t.name, changes, b.validate_only === true);
      return {};
    },

    listKafkaConsumerGroups: async (ctx) => {
      const l = await linksFor(ctx);
      const groups = (await admin.listGroups()).filter((g) => may(ctx.req, 'describe', { group: g.groupId }));
      return {
        body: list(
          'KafkaConsumerGroup',
          l.cluster('consumer-groups'),
          groups.map((g) => groupView(l, g)),
        ),
      };
    },
    getKafkaConsumerGroup: async (ctx) => {
      const l = await linksFor(ctx);
      return { body: groupView(l, await groupOf(ctx)) };
    },
    listKafkaConsumers: async (ctx) => {
      const l = await linksFor(ctx);
      const g = await groupOf(ctx);
      return {
        body: list(
          'KafkaConsumer',
          l.cluster('consumer-groups', g.groupId, 'consumers'),
          g.members.map((m) => consumerView(l, g.groupId, m)),
        ),
      };
    },
    getKafkaConsumer: async (ctx) => {
      const l = await linksFor(ctx);
      const { g, m } = await memberOf(ctx);
      return { body: consumerView(l, g.groupId, m) };
    },
    listKafkaConsumerAssignments: async (ctx) => {
      const l = await linksFor(ctx);
      const { g, m } = await memberOf(ctx);
      return {
        body: list(
          'KafkaConsumerAssignment',
          l.cluster('consumer-groups', g.groupId, 'consumers', m.memberId, 'assignments'),
          m.assignments.map((a) => assignmentView(l, g.groupId, m.memberId, a)),
        ),
      };
    },
    getKafkaConsumerAssignment: async (ctx) => {
      const l = await linksFor(ctx);
      const { g, m } = await memberOf(ctx);
      const a = m.assignments.find(
        (x) => x.topic === (ctx.params.topic_name as string) && x.partition === (ctx.params.partition_id as number),
      );
      if (a === undefined) throw Errors.assignmentNotFound();
      return { body: assignmentView(l, g.groupId, m.memberId, a) };
    },
    listKafkaConsumerLags: async (ctx) => {
      const l = await linksFor(ctx);
      const lags = await lagsOf(ctx);
      if (lags.length === 0) throw Errors.consumerLagsNotFound();
      // Confluent's order: the largest lag first, then topic, then partition.
      lags.sort(
        (a, b) => b.lag - a.lag || (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0) || a.partition - b.partition,
      );
      const g = groupParam(ctx);
      return {
        body: list(
          'KafkaConsumerLag',
          l.cluster('consumer-groups', g, 'lags'),
          lags.map((x) => lagView(l, g, x)),
        ),
      };
    },
    getKafkaConsumerLag: async (ctx) => {
      const l = await linksFor(ctx);
      const lags = await lagsOf(ctx);
      const topic = ctx.params.topic_name as string;
      authorize(ctx.req, 'describe', { topic });
      const x = lags.find((y) => y.topic === topic && y.partition === (ctx.params.partition_id as number));
      if (x === undefined) throw Errors.consumerLagsNotFound();
      return { body: lagView(l, groupParam(ctx), x) };
    },
    getKafkaConsumerGroupLagSummary: async (ctx) => {
      const l = await linksFor(ctx);
      const lags = await lagsOf(ctx);
      if (lags.length === 0) throw Errors.consumerGroupOffsetsNotFound();
      const g = groupParam(ctx);
      let max = lags[0]!;
      let total = 0;
      for (const x of lags) {
        total += x.lag;
        if (x.lag > max.lag) max = x;
      }
      return {
        body: resource(
          'KafkaConsumerGroupLagSummary',
          l.cluster('consumer-groups', g, 'lag-summary'),
          l.crn(['consumer-group', g], ['lag-summary', '']).replace(/=$/, ''),
          {
            cluster_id: l.clusterId,
            consumer_group_id: g,
            max_lag_consumer_id: max.consumerId,
            max_lag_instance_id: max.instanceId,
            max_lag_client_id: max.clientId,
            max_lag_topic_name: max.topic,
            max_lag_partition_id: max.partition,
            max_lag: max.lag,
            total_lag: total,
            max_lag_consumer:
              max.consumerId === '' ? null : l.related('consumer-groups', g, 'consumers', max.consumerId),
            max_lag_partition: l.related('topics', max.topic, 'partitions', max.partition),
          },
        ),
      };
    },
  };
  return handlers;
}
