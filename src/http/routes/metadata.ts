/** GET /, /topics, /topics/{t}, /topics/{t}/partitions[/{p}[/offsets]], /brokers. */
import type { Request } from 'express';
import { Errors, GatewayError } from '../../core/errors.js';
import type { MetadataService } from '../../core/ports.js';
import { v2Offers } from '../negotiation.js';
import type { OperationHandlers } from '../contract-router.js';
import type { Operation } from '../operation.js';

export interface MetadataRouteDeps {
  operation: Operation;
  metadata: MetadataService;
  strictMediaTypes: boolean;
  /** error_code for an unknown topic (see Config.http.unknownTopicErrorCode). */
  unknownTopicErrorCode: 40401 | 40403;
  /** Policy hook: may this request describe this topic? (false hides it from lists, 403 elsewhere) */
  canDescribe?: (req: Request, topic: string) => boolean;
  authorizeDescribe?: (req: Request, topic: string) => void;
}

export function metadataHandlers(deps: MetadataRouteDeps): OperationHandlers {
  const offers = v2Offers(deps.strictMediaTypes);
  const { operation } = deps;
  const metadata = deps.unknownTopicErrorCode === 40403 ? asConfluent6(deps.metadata) : deps.metadata;

  return {
    getRoot: operation({ id: 'getRoot', offers }, () => ({ body: {} })),

    listTopics: operation({ id: 'listTopics', offers }, async ({ req }) => {
      const topics = await metadata.listTopics();
      return { body: deps.canDescribe ? topics.filter((t) => deps.canDescribe!(req, t)) : topics };
    }),

    getTopic: operation({ id: 'getTopic', offers }, async ({ req, params }) => {
      deps.authorizeDescribe?.(req, params.topic as string);
      return { body: await metadata.getTopic(params.topic as string) };
    }),

    listPartitions: operation({ id: 'listPartitions', offers }, async ({ req, params }) => {
      deps.authorizeDescribe?.(req, params.topic as string);
      return { body: await metadata.getPartitions(params.topic as string) };
    }),

    getPartition: operation({ id: 'getPartition', offers }, async ({ req, params }) => {
      deps.authorizeDescribe?.(req, params.topic as string);
      const partitions = await metadata.getPartitions(params.topic as string);
      const p = partitions.find((x) => x.partition === params.partition);
      if (p === undefined) throw Errors.partitionNotFound();
      return { body: p };
    }),

    getPartitionOffsets: operation({ id: 'getPartitionOffsets', offers }, async ({ req, params }) => {
      deps.authorizeDescribe?.(req, params.topic as string);
      return { body: await metadata.getPartitionOffsets(params.topic as string, params.partition as number) };
    }),

    listBrokers: operation({ id: 'listBrokers', offers }, async () => ({
      body: { brokers: await metadata.listBrokers() },
    })),
  };
}

/** The same lookups, answering an unknown topic as Confluent ≥ 6.0 does (40403). */
function asConfluent6(metadata: MetadataService): MetadataService {
  const renamed = async <T>(lookup: Promise<T>): Promise<T> => {
    try {
      return await lookup;
    } catch (err) {
      if (err instanceof GatewayError && err.errorCode === 40401) throw Errors.topicNotHosted();
      throw err;
    }
  };
  return {
    listTopics: () => metadata.listTopics(),
    partitionCount: (t) => metadata.partitionCount(t),
    listBrokers: () => metadata.listBrokers(),
    getTopic: (t) => renamed(metadata.getTopic(t)),
    getPartitions: (t) => renamed(metadata.getPartitions(t)),
    getPartitionOffsets: (t, p) => renamed(metadata.getPartitionOffsets(t, p)),
  };
}
