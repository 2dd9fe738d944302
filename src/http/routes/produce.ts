/**
 * POST /topics/{topic} and POST /topics/{topic}/partitions/{partition}.
 *
 * Order of checks (each failure produces nothing): Content-Type → Accept → body size and JSON →
 * envelope (openapi.yaml) → topic exists → schema-registry formats refused when the registry is
 * off → limits → partitions exist → json: each record against the topic's JSON Schema (a file, or
 * the registry's `<topic>-value`) → avro/jsonschema/protobuf: 42201/42202, the schemas resolved,
 * each record checked and framed (src/formats) → encode → Kafka (acks=all) → offsets (with the
 * schema ids used).
 */
import type { Request, RequestHandler } from 'express';
import { Errors, type ValidationIssue } from '../../core/errors.js';
import { checkShape, plainView, type ParsedJson } from '../../core/json.js';
import type {
  EmbeddedFormat,
  MetadataService,
  OutgoingRecord,
  ProduceService,
  RecordHeader,
} from '../../core/ports.js';
import type { RecordSchemas } from '../../policy/validation/record-schemas.js';
import type { OpenApiValidator } from '../../policy/validation/openapi.js';
import { encodeField, encodeHeaders } from '../embedded-format.js';
import { jsonBody } from '../json-body.js';
import { mediaTypeOf, produceFormat, v2Offers } from '../negotiation.js';
import type { Operation } from '../operation.js';
import { encodeWithSchemas, type EncodedRecords } from '../../formats/produce-records.js';
import type { SchemaFormat, SchemaFormats } from '../../formats/schema-formats.js';

export interface ProduceRouteDeps {
  operation: Operation;
  validator: OpenApiValidator;
  recordSchemas: RecordSchemas;
  metadata: MetadataService;
  producer: ProduceService;
  strictMediaTypes: boolean;
  limits: { maxRecordsPerRequest: number; maxJsonDepth: number; maxStringLength: number; requestTimeoutMs: number };
  /** Called after a successful produce, for metrics. */
  onProduced?: (topic: string, records: number, bytes: number) => void;
  /** avro, jsonschema and protobuf (src/formats); without it they are refused with 415. */
  schemaFormats?: SchemaFormats;
  /** Authorization hook (policy layer); throws a GatewayError to refuse. */
  authorize?: (req: Request, topic: string) => void;
  /** With a policy file: whether the caller may describe a topic (which schema ids it may use). */
  canDescribe?: (req: Request, topic: string) => boolean;
  /** Quota hook (policy layer), called once the records are valid and encoded, before Kafka; throws 429 to refuse. */
  admit?: (req: Request, topic: string, records: number, bytes: number) => Promise<void>;
  /**
   * RECORD_PRINCIPAL_HEADER: the header that carries the authenticated caller on every record; a
   * client-sent header of that name is replaced, so consumers can trust it.
   */
  principalHeader?: (req: Request) => RecordHeader;
}

interface EnvelopeRecord {
  key?: unknown;
  value?: unknown;
  partition?: number | null;
  headers?: Array<{ key: string; value: string | null }>;
}

/** The two produce operations as request handlers: mounted from the contract and on the fast lane. */
export type ProduceHandlers = {
  produceToTopic: RequestHandler;
  produceToPartition: RequestHandler;
};

export function produceHandlers(deps: ProduceRouteDeps): ProduceHandlers {
  const offers = v2Offers(deps.strictMediaTypes);
  const checkContentType = (req: Request) => void produceFormat(req.headers['content-type'], deps.strictMediaTypes);

  const handle = (operationId: 'produceToTopic' | 'produceToPartition') =>
    deps.operation({ id: operationId, offers, checkContentType }, async ({ req, params }) => {
      const topic = params.topic as string;
      const pathPartition = params.partition as number | undefined;
      const format = produceFormat(req.headers['content-type'], deps.strictMediaTypes);
      deps.authorize?.(req, topic);

      const { value: body, lossless } = parseBody(req);
      // No `records` at all is a 422, as Confluent's bean validation answers (not a 400 for the other keys).
      if (typeof body === 'object' && body !== null && !Array.isArray(body) && !('records' in body)) {
        throw Errors.unprocessable('records: must not be null; expected {"records":[…]}.');
      }
      deps.validator.validateBody(operationId, mediaTypeOf(format), body);
      // The produce deadline counts from here; a broker that does not answer metadata must not
      // hold the request past it.
      const deadline = Date.now() + deps.limits.requestTimeoutMs;
      const partitions = await beforeDeadline(deps.metadata.partitionCount(topic), deps.limits.requestTimeoutMs);
      // The topic is checked before the schema-registry formats are refused, as Confluent does.
      if (partitions === undefined) throw Errors.topicNotFound();
      const plainFormat = format === 'json' || format === 'binary' ? format : undefined;
      const schemaFormats = deps.schemaFormats;
      if (plainFormat === undefined && schemaFormats === undefined) refuseSchemaFormat(format, body as SchemaEnvelope);
      const records = (body as { records: EnvelopeRecord[] }).records;
      checkLimits(records, format, deps.limits, deps.strictMediaTypes);

      if (pathPartition !== undefined && pathPartition >= partitions) throw Errors.partitionNotFound();
      for (const r of records)
        if (typeof r.partition === 'number' && r.partition >= partitions) throw Errors.partitionNotFound();

      if (format === 'json' && deps.recordSchemas.has(topic)) {
        // A value schema from the schema registry is (re)read here; file schemas cost nothing.
        const reading = deps.recordSchemas.prepare(topic);
        if (reading !== undefined) await reading;
        const view = lossless ? (plainView(records) as EnvelopeRecord[]) : records;
        const issues = deps.recordSchemas.check(topic, view);
        if (issues.length > 0) throw Errors.recordValidation(issues);
      }

      // avro, jsonschema, protobuf: schemas resolved and every record framed before anything is sent.
      let schemaEncoded: EncodedRecords | undefined;
      if (plainFormat === undefined) {
        const envelope = body as SchemaEnvelope;
        schemaEncoded = await encodeWithSchemas(
          schemaFormats!,
          topic,
          format as SchemaFormat,
          envelope,
          lossless,
          deps.limits,
          deps.canDescribe === undefined ? undefined : (t) => deps.canDescribe!(req, t),
        );
      }

      let bytes = 0;
      const stamp = deps.principalHeader?.(req);
      const outgoing = records.map((r, i): OutgoingRecord => {
        const key =
          plainFormat !== undefined ? encodeField(plainFormat, r.key, lossless) : schemaEncoded!.fields[i]!.key;
        const value =
          plainFormat !== undefined ? encodeField(plainFormat, r.value, lossless) : schemaEncoded!.fields[i]!.value;
        bytes += (key?.length ?? 0) + (value?.length ?? 0);
        return {
          key,
          value,
          partition: typeof r.partition === 'number' ? r.partition : pathPartition,
          headers: withStamp(r.headers === undefined ? undefined : encodeHeaders(r.headers), stamp),
        };
      });

      await deps.admit?.(req, topic, outgoing.length, bytes);
      const outcomes = await deps.producer.produce(topic, outgoing, deadline);
      deps.onProduced?.(topic, outcomes.filter((o) => o.ok).length, bytes);
      return {
        body: {
          offsets: outcomes.map((o) =>
            o.ok
              ? { partition: o.partition, offset: o.offset, error_code: null, error: null }
              : { partition: null, offset: null, error_code: o.errorCode, error: o.error },
          ),
          key_schema_id: schemaEncoded?.keySchemaId ?? null,
          value_schema_id: schemaEncoded?.valueSchemaId ?? null,
        },
      };
    });

  return { produceToTopic: handle('produceToTopic'), produceToPartition: handle('produceToPartition') };
}

interface SchemaEnvelope {
  records: EnvelopeRecord[];
  key_schema?: string | null;
  key_schema_id?: number | null;
  value_schema?: string | null;
  value_schema_id?: number | null;
}

/**
 * avro, jsonschema and protobuf need a schema registry, which the gateway does not have yet. A
 * request that lacks the schema its records need gets Confluent's own answer (42201/42202), as
 * Confluent checks that before it contacts the registry; any other gets 415 with an explanation.
 */
function refuseSchemaFormat(format: string, body: SchemaEnvelope): never {
  const has = (v: unknown) => v !== undefined && v !== null;
  if (body.records.some((r) => has(r.key)) && !has(body.key_schema) && !has(body.key_schema_id)) {
    throw Errors.keySchemaMissing();
  }
  if (body.records.some((r) => has(r.value)) && !has(body.value_schema) && !has(body.value_schema_id)) {
    throw Errors.valueSchemaMissing();
  }
  throw Errors.schemaRegistryUnsupported(format);
}

function parseBody(req: Request): ParsedJson {
  const body = jsonBody(req);
  if (body === undefined) throw Errors.unprocessable('Request body is empty; expected {"records":[…]}.');
  return body;
}

function checkLimits(
  records: EnvelopeRecord[],
  format: EmbeddedFormat,
  limits: ProduceRouteDeps['limits'],
  strict: boolean,
): void {
  if (records.length > limits.maxRecordsPerRequest) {
    throw Errors.unprocessable(
      `Too many records: ${records.length} in one request, the limit is ${limits.maxRecordsPerRequest}.`,
    );
  }
  const issues: ValidationIssue[] = [];
  records.forEach((r, i) => {
    if (strict && r.headers !== undefined) {
      throw Errors.badRequest(`records[${i}]: must NOT have additional property "headers" (strict mode)`);
    }
    if (format !== 'json') return;
    for (const field of ['key', 'value'] as const) {
      const problem = checkShape(r[field], limits.maxJsonDepth, limits.maxStringLength);
      if (problem !== undefined) issues.push({ path: `records[${i}].${field}`, message: problem });
    }
  });
  if (issues.length > 0) throw Errors.recordValidation(issues);
}

function withStamp(headers: RecordHeader[] | undefined, stamp: RecordHeader | undefined): RecordHeader[] | undefined {
  if (stamp === undefined) return headers;
  // Look-alikes (`X-Principal`, `x-principal `) go too, so no consumer can mistake one for it.
  const same = (key: string) => key.trim().toLowerCase() === stamp.key.toLowerCase();
  return [...(headers ?? []).filter((h) => !same(h.key)), stamp];
}

/** The value, or a retriable 50003 once `ms` have passed without it. */
function beforeDeadline<T>(value: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Errors.kafkaRetriable(`Kafka did not answer the topic's metadata within ${ms} ms.`)),
      ms,
    );
  });
  return Promise.race([value, late]).finally(() => clearTimeout(timer));
}
