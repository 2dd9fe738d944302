/**
 * The v2 consumer API: `/consumers/{group}` and `/consumers/{group}/instances/{instance}/…`.
 *
 * Bodies are JSON validated against openapi.yaml; what the body means (+1 on explicit commits,
 * Confluent's empty-body rules) is decided here, creation settings in http/consumers/settings.ts,
 * how records are written in http/consumers/records.ts; the Kafka side lives in
 * src/kafka/consumers behind ConsumerService. Every instance belongs to the identity that
 * created it; anyone else gets 40403, exactly like a missing instance.
 */
import type { Request } from 'express';
import { Errors } from '../../core/errors.js';
import type { ConsumerInstance, ConsumerService, MetadataService, TopicPartition } from '../../core/ports.js';
import { clientKey, identityOf } from '../../policy/identity.js';
import type { OpenApiValidator } from '../../policy/validation/openapi.js';
import { publicBaseUrl } from '../base-uri.js';
import { compileTopicPattern } from '../../policy/validation/topic-pattern.js';
import { fieldRenderer, renderRecords } from '../consumers/records.js';
import { type CreateBody, MAX_INSTANCE_WAIT_MS, lenientCreateFields, settingsFrom } from '../consumers/settings.js';
import { hasBody, jsonBody } from '../json-body.js';
import { V2, checkControlContentType, consumerOffers, negotiateFetch } from '../negotiation.js';
import type { OperationHandlers } from '../contract-router.js';
import type { Operation } from '../operation.js';
import type { SchemaFormats } from '../../formats/schema-formats.js';
import { RecordStreams } from '../../streaming/record-stream.js';
import { v2Renderer } from '../../streaming/render.js';

export interface ConsumerRouteDeps {
  operation: Operation;
  validator: OpenApiValidator;
  consumers: ConsumerService;
  metadata: MetadataService;
  strictMediaTypes: boolean;
  publicUrl?: string;
  trustProxy: unknown;
  /** PUBLIC_HOSTS (see http/base-uri.ts). */
  publicHosts?: readonly string[];
  /** Where ignored consumer properties are reported (lenient create). */
  logger?: { warn: (fields: object, message: string) => void };
  limits: {
    /** Server default fetch wait (CONSUMER_REQUEST_TIMEOUT_MS). */
    requestTimeoutMs: number;
    /** Cap on max_bytes (CONSUMER_MAX_FETCH_BYTES). */
    maxFetchBytes: number;
  };
  /** Authorization hook (policy layer), called on create; throws a GatewayError to refuse. */
  authorizeGroup?: (req: Request, group: string) => void;
  /**
   * Authorization hook called with every topic a request names: subscribe (a topic_pattern is
   * resolved to the topics it matches at subscribe time, and those are checked), assign, explicit
   * commits and committed-offset reads. Throws a GatewayError to refuse.
   */
  authorizeTopics?: (req: Request, topics: string[]) => void;
  /** Whether the caller may consume a topic (pattern subscriptions match only those). */
  canConsume?: (req: Request, topic: string) => boolean;
  /** Decodes avro, jsonschema and protobuf records (src/formats); without it those formats are refused at create. */
  schemaFormats?: SchemaFormats;
  /** Streaming consume (src/streaming): `Accept: text/event-stream` on a records fetch. */
  streams?: RecordStreams;
}

type Partitions = { partitions: TopicPartition[] };
type OffsetsBody = { offsets?: Array<TopicPartition & { offset: number; metadata?: string | null }> };
type PositionsBody = OffsetsBody & {
  timestamps?: Array<TopicPartition & { timestamp: string; metadata?: string | null }>;
};

export function consumerHandlers(deps: ConsumerRouteDeps): OperationHandlers {
  const handlers: OperationHandlers = {};
  const strict = deps.strictMediaTypes;
  const offers = consumerOffers(strict);
  // Content-Type is judged before Accept (both wrong → 415, as Confluent); body-less requests never.
  const checkContentType = (req: Request) => {
    if (hasBody(req)) checkControlContentType(req.headers['content-type'], strict);
  };
  const op: Operation = (options, handler) => deps.operation({ checkContentType, ...options }, handler);
  const instanceOf = (req: Request, params: Record<string, unknown>): ConsumerInstance =>
    deps.consumers.get(params.group as string, params.instance as string, identityOf(req.res!).id);

  /** The request's JSON body, undefined when there is none; checked against openapi.yaml. */
  const body = <T>(req: Request, operationId: string): T | undefined => {
    if (!hasBody(req)) return undefined;
    checkControlContentType(req.headers['content-type'], strict);
    const { value } = jsonBody(req)!;
    deps.validator.validateBody(operationId, V2, value);
    return value as T;
  };
  /**
   * Unknown topics and partitions are a 404 at once (40401/40402), as for produce, instead of the
   * coordinator's timeout: the same fail-fast metadata check.
   */
  const partitionsExist = async (partitions: TopicPartition[]): Promise<void> => {
    for (const topic of topicsOf(partitions)) {
      const count = await deps.metadata.partitionCount(topic);
      if (count === undefined) throw Errors.topicNotFound();
      if (partitions.some((p) => p.topic === topic && p.partition >= count)) throw Errors.partitionNotFound();
    }
  };
  const required = <T>(req: Request, operationId: string): T => {
    const value = body<T>(req, operationId);
    if (value === undefined) throw Errors.unprocessable('Request body is required.');
    return value;
  };

  handlers.createConsumer = op({ id: 'createConsumer', offers }, async ({ req, params }) => {
    const group = params.group as string;
    deps.authorizeGroup?.(req, group);
    const raw = hasBody(req) ? jsonBody(req)!.value : undefined;
    const b = (strict ? body<CreateBody>(req, 'createConsumer') : lenientCreateBody(req, raw)) ?? {};
    const settings = settingsFrom(b, deps.schemaFormats !== undefined);
    const name = b.id ?? b.name;
    const owner = identityOf(req.res!).id;
    const instance = await deps.consumers.create(group, settings, owner, name, clientKey(req, req.res!));
    const base = publicBaseUrl(req, deps);
    return {
      body: {
        instance_id: instance.name,
        base_uri: `${base}/consumers/${encodeURIComponent(group)}/instances/${encodeURIComponent(instance.name)}`,
      },
    };
  });

  handlers.deleteConsumer = op({ id: 'deleteConsumer', offers }, async ({ req, params }) => {
    await deps.consumers.delete(params.group as string, params.instance as string, identityOf(req.res!).id);
    return {};
  });

  handlers.subscribe = op({ id: 'subscribe', offers }, async ({ req, params }) => {
    const instance = instanceOf(req, params);
    if (hasBody(req)) subscribeTypes(jsonBody(req)!.value);
    const b = required<{ topics?: string[]; topic_pattern?: string }>(req, 'subscribe');
    if (b.topics !== undefined && b.topic_pattern !== undefined) {
      throw Errors.illegalState('Subscription to topics, partitions and pattern are mutually exclusive.');
    }
    if (b.topics !== undefined) {
      deps.authorizeTopics?.(req, b.topics);
      await instance.subscribe(b.topics);
    } else if (b.topic_pattern !== undefined) {
      const pattern = compileTopicPattern(b.topic_pattern);
      // As a Kafka consumer's pattern subscription: only topics the caller may consume are
      // matched, so a pattern neither fails on nor reveals topics hidden from the caller.
      const mayConsume = deps.canConsume;
      const visible = (await deps.metadata.listTopics()).filter((t) => mayConsume?.(req, t) ?? true);
      const matched = (await pattern.filter(visible)).sort();
      await instance.subscribe(matched);
    }
    return {};
  });

  handlers.getSubscription = op({ id: 'getSubscription', offers }, ({ req, params }) => ({
    body: { topics: instanceOf(req, params).subscription() },
  }));

  handlers.unsubscribe = op({ id: 'unsubscribe', offers }, async ({ req, params }) => {
    await instanceOf(req, params).unsubscribe();
    return {};
  });

  handlers.assignPartitions = op({ id: 'assignPartitions', offers }, async ({ req, params }) => {
    const instance = instanceOf(req, params);
    const { partitions } = required<Partitions>(req, 'assignPartitions');
    deps.authorizeTopics?.(req, topicsOf(partitions));
    await instance.assign(partitions);
    return {};
  });

  handlers.getAssignments = op({ id: 'getAssignments', offers }, ({ req, params }) => ({
    body: { partitions: instanceOf(req, params).assignment() },
  }));

  handlers.commitOffsets = op({ id: 'commitOffsets', offers }, async ({ req, params }) => {
    const instance = instanceOf(req, params);
    const b = body<OffsetsBody>(req, 'commitOffsets');
    if (b?.offsets === undefined) {
      // Empty body (or {}): commit exactly what this instance has returned to its client.
      await instance.commit();
    } else {
      deps.authorizeTopics?.(req, topicsOf(b.offsets));
      await partitionsExist(b.offsets);
      // Confluent semantics: you send the offset of the last record you processed.
      await instance.commit(
        b.offsets.map((o) => ({
          topic: o.topic,
          partition: o.partition,
          offset: o.offset + 1,
          metadata: o.metadata ?? undefined,
        })),
      );
    }
    return { body: [] };
  });

  handlers.getCommittedOffsets = op({ id: 'getCommittedOffsets', offers }, async ({ req, params }) => {
    const instance = instanceOf(req, params);
    const b = body<Partitions>(req, 'getCommittedOffsets');
    // Confluent answers a body-less GET with this (sic).
    if (b === undefined) throw Errors.partitionNotFound();
    deps.authorizeTopics?.(req, topicsOf(b.partitions));
    await partitionsExist(b.partitions);
    const offsets = await instance.committed(b.partitions);
    return {
      body: { offsets: offsets.map((o) => ({ ...o, metadata: o.metadata ?? '' })) },
    };
  });

  handlers.seek = op({ id: 'seek', offers }, async ({ req, params }) => {
    const instance = instanceOf(req, params);
    const b = required<PositionsBody>(req, 'seek');
    const offsets = (b.offsets ?? []).map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset }));
    const timestamps = (b.timestamps ?? []).map((t) => {
      const ms = Date.parse(t.timestamp);
      if (Number.isNaN(ms)) throw Errors.badRequest(`timestamps: "${t.timestamp}" is not an ISO-8601 date-time.`);
      return { topic: t.topic, partition: t.partition, timestamp: ms };
    });
    await instance.seek(offsets);
    await instance.seekToTimestamps(timestamps);
    return {};
  });

  for (const [suffix, id] of [
    ['beginning', 'seekToBeginning'],
    ['end', 'seekToEnd'],
  ] as const) {
    handlers[id] = op({ id, offers }, async ({ req, params }) => {
      const instance = instanceOf(req, params);
      const { partitions } = required<Partitions>(req, id);
      await (suffix === 'beginning' ? instance.seekToBeginning(partitions) : instance.seekToEnd(partitions));
      return {};
    });
  }

  handlers.fetchRecords = op({ id: 'fetchRecords', offers, deferAccept: true }, async ({ req, res, params, query }) => {
    const instance = instanceOf(req, params);
    if (deps.streams !== undefined && RecordStreams.wanted(req.headers.accept)) {
      const maxBytes = query.max_bytes as number | undefined;
      await deps.streams.serve({
        req,
        res,
        instance,
        caller: clientKey(req, req.res!),
        maxBytes: maxBytes !== undefined && maxBytes > 0 ? Math.min(maxBytes, deps.limits.maxFetchBytes) : undefined,
        keepAlive: () => instanceOf(req, params),
        render: v2Renderer(instance.format, !strict, deps.schemaFormats),
      });
      return {};
    }
    const { type, matches } = negotiateFetch(req.headers.accept, instance.format, strict);
    res.locals.responseType = type;
    if (!matches) throw Errors.consumerFormatMismatch();

    const wait = Math.min(instance.requestTimeoutMs ?? deps.limits.requestTimeoutMs, MAX_INSTANCE_WAIT_MS);
    const timeout = query.timeout as number | undefined;
    const maxBytesQuery = query.max_bytes as number | undefined;
    const abort = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const result = await instance.fetch({
      // `timeout` can only shorten the wait, as in Confluent.
      timeoutMs: timeout !== undefined && timeout > 0 ? Math.min(timeout, wait) : wait,
      maxBytes:
        maxBytesQuery !== undefined && maxBytesQuery > 0
          ? Math.min(maxBytesQuery, deps.limits.maxFetchBytes)
          : deps.limits.maxFetchBytes,
      signal: abort.signal,
    });
    const { body, count, failure } = renderRecords(
      result.records,
      await fieldRenderer(instance.format, result.records, deps.schemaFormats),
      !strict,
    );
    if (count === 0) {
      result.delivered(0);
      if (failure !== undefined) throw failure;
    } else {
      // Records count as returned only once the response has been handed to the client's socket.
      res.once('finish', () => {
        result.delivered(count);
      });
      res.once('close', () => result.delivered(0));
    }
    return { body, contentType: type };
  });

  /**
   * Lenient create: Kafka consumer properties are accepted as settings.ts says (security-relevant
   * ones refused, other unknown ones ignored with a logged warning); what remains is validated
   * against openapi.yaml as usual.
   */
  function lenientCreateBody(req: Request, raw: unknown): CreateBody | undefined {
    if (raw === undefined) return undefined;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return body<CreateBody>(req, 'createConsumer');
    const { kept, ignored } = lenientCreateFields(raw as Record<string, unknown>);
    checkControlContentType(req.headers['content-type'], strict);
    deps.validator.validateBody('createConsumer', V2, kept);
    if (ignored.length > 0) {
      // Bounded: a body of thousands of junk keys must not become megabytes of log.
      deps.logger?.warn(
        { group: req.params.group, ignored: ignored.slice(0, 20).map((k) => k.slice(0, 100)), count: ignored.length },
        'consumer properties ignored at create',
      );
    }
    return kept as CreateBody;
  }

  return handlers;
}

/**
 * A subscribe body of the wrong JSON types (`"topics": "t"`, `"topics": [1]`, `"topic_pattern": 5`)
 * is a 422, as Confluent's bean validation answers; other problems stay 400 (openapi.yaml).
 */
function subscribeTypes(body: unknown): void {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return;
  const { topics, topic_pattern: pattern } = body as Record<string, unknown>;
  const issues: Array<{ path: string; message: string }> = [];
  if (topics !== undefined && topics !== null) {
    if (!Array.isArray(topics)) issues.push({ path: '/topics', message: 'must be array' });
    else
      topics.forEach((t, i) => {
        if (typeof t !== 'string') issues.push({ path: `/topics/${i}`, message: 'must be string' });
      });
  }
  if (pattern !== undefined && pattern !== null && typeof pattern !== 'string') {
    issues.push({ path: '/topic_pattern', message: 'must be string' });
  }
  if (issues.length > 0) {
    throw Errors.unprocessable(issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
  }
}

function topicsOf(list: TopicPartition[]): string[] {
  return [...new Set(list.map((p) => p.topic))];
}
