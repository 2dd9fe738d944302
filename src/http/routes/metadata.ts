/** GET /, /topics, /topics/{t}, /topics/{t}/partitions[/{p}[/offsets]], /brokers. */
import { Router, type Request } from 'express';
import { Errors, GatewayError } from '../../core/errors.js';
import type { MetadataService } from '../../core/ports.js';
import { v2Offers } from '../negotiation.js';
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

export function metadataRoutes(deps: MetadataRouteDeps): Router {
  const router = Router({ caseSensitive: true });
  const offers = v2Offers(deps.strictMediaTypes);
  const { operation } = deps;
  const metadata = deps.unknownTopicErrorCode === 40403 ? asConfluent6(deps.metadata) : deps.metadata;

  router.get(
    '/',
    operation({ id: 'getRoot', offers }, () => ({ body: {} })),
  );

  router.get(
    '/topics',
    operation({ id: 'listTopics', offers }, async ({ req }) => {
      const topics = await metadata.listTopics();
      return { body: deps.canDescribe ? topics.filter((t) => deps.canDescribe!(req, t)) : topics };
    }),
  );

  router.get(
    '/topics/:topic',
    operation({ id: 'getTopic', offers }, async ({ req, params }) => {
      deps.authorizeDescribe?.(req, params.topic as string);
      return { body: await metadata.getTopic(params.topic as string) };
    }),
  );

  router.get(
    '/topics/:topic/partitions',
    operation({ id: 'listPartitions', offers }, async ({ req, params }) => {
      deps.authorizeDescribe?.(req, params.topic as string);
      return { body: await metadata.getPartitions(params.topic as string) };
    }),
  );

  router.get(
    '/topics/:topic/partitions/:partition',
    operation({ id: 'getPartition', offers }, async ({ req, params }) => {
      deps.authorizeDescribe?.(req, params.topic as string);
      const partitions = await metadata.getPartitions(params.topic as string);
      const p = partitions.find((x) => x.partition === params.partition);
      if (p === undefined) throw Errors.partitionNotFound();
      return { body: p };
    }),
  );

  router.get(
    '/topics/:topic/partitions/:partition/offsets',
    operation({ id: 'getPartitionOffsets', offers }, async ({ req, params }) => {
      deps.authorizeDescribe?.(req, params.topic as string);
      return { body: await metadata.getPartitionOffsets(params.topic as string, params.partition as number) };
    }),
  );

  router.get(
    '/brokers',
    operation({ id: 'listBrokers', offers }, async () => ({ body: { brokers: await metadata.listBrokers() } })),
  );

  return router;
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
