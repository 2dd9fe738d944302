/**
 * The v3 API's request handlers by operationId, for the contract router (http/contract-router.ts):
 * each admin operation and the produce operation wrapped with the operation wrapper (Accept
 * negotiation, parameter validation from openapi.yaml). Everything v3 speaks `application/json`.
 */
import type { Request, RequestHandler } from 'express';
import { Errors } from '../core/errors.js';
import type { AdminService, MetadataService, ProduceService, RecordHeader } from '../core/ports.js';
import { publicBaseUrl } from '../http/base-uri.js';
import { hasBody } from '../http/json-body.js';
import type { SchemaFormats } from '../formats/schema-formats.js';
import type { Operation } from '../http/operation.js';
import type { Resource } from '../policy/authz/policy.js';
import type { OpenApiValidator } from '../policy/validation/openapi.js';
import type { RecordSchemas } from '../policy/validation/record-schemas.js';
import { v3AdminHandlers } from './admin-handlers.js';
import { v3ProduceHandler, type V3ProduceLimits } from './produce-stream.js';

export const V3_TYPE = 'application/json';
const OFFERS = [V3_TYPE] as const;

/** The operation that streams its body (the app must not buffer it). */
export const V3_STREAMING_OPERATION = 'produceRecord';

export interface V3RouteDeps {
  operation: Operation;
  validator: OpenApiValidator;
  admin: AdminService;
  metadata: MetadataService;
  producer: ProduceService;
  recordSchemas: RecordSchemas;
  /** The schema registry's formats (AVRO, JSONSCHEMA, PROTOBUF records); absent = no registry. */
  schemaFormats?: SchemaFormats;
  limits: V3ProduceLimits;
  publicUrl?: string;
  trustProxy: unknown;
  publicHosts?: readonly string[];
  /** Policy checks; absent = no policy file (everything allowed). */
  authorize?: (req: Request, operation: 'describe' | 'admin', resource: Resource) => void;
  may?: (req: Request, operation: 'describe' | 'admin', resource: Resource) => boolean;
  authorizeProduce?: (req: Request, topic: string) => void;
  admit?: (req: Request, topic: string, records: number, bytes: number) => Promise<void>;
  principalHeader?: (req: Request) => RecordHeader;
  onProduced?: (topic: string, records: number, bytes: number) => void;
  /** A record refused as invalid (gateway_validation_failures_total). */
  onInvalid?: (errorCode: number) => void;
  /** The gateway's own topics (the schema registry's): not deleted or reconfigured over v3. */
  ownTopics?: readonly string[];
}

export function v3Handlers(deps: V3RouteDeps): Record<string, RequestHandler> {
  const admin = v3AdminHandlers({
    admin: deps.admin,
    baseUrl: (req) =>
      publicBaseUrl(req, { publicUrl: deps.publicUrl, trustProxy: deps.trustProxy, publicHosts: deps.publicHosts }),
    validateBody: (operationId, body) => deps.validator.validateBody(operationId, V3_TYPE, body),
    authorize: deps.authorize,
    may: deps.may,
    ownTopics: deps.ownTopics,
  });
  // A body in another type than JSON is a 415, judged before Accept (as Confluent).
  const checkContentType = (req: Request) => {
    if (!hasBody(req) && req.method !== 'POST' && req.method !== 'PUT') return;
    const type = req.headers['content-type']?.split(';')[0]!.trim().toLowerCase();
    if (hasBody(req) && type !== V3_TYPE) throw Errors.unsupportedMediaType();
  };
  const handlers: Record<string, RequestHandler> = {};
  for (const [id, handler] of Object.entries(admin)) {
    handlers[id] = deps.operation({ id, offers: OFFERS, checkContentType }, handler);
  }
  handlers[V3_STREAMING_OPERATION] = deps.operation(
    { id: V3_STREAMING_OPERATION, offers: OFFERS },
    v3ProduceHandler({
      metadata: deps.metadata,
      producer: deps.producer,
      recordSchemas: deps.recordSchemas,
      schemaFormats: deps.schemaFormats,
      mayDescribe: deps.may && ((req, topic) => deps.may!(req, 'describe', { topic })),
      limits: deps.limits,
      authorize: deps.authorizeProduce,
      admit: deps.admit,
      principalHeader: deps.principalHeader,
      onProduced: deps.onProduced,
      onInvalid: deps.onInvalid,
    }),
  );
  return handlers;
}
