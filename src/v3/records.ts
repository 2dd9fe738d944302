/**
 * One v3 produce record: `{partition_id?, headers?: [{name, value: base64}], key?: Data,
 * value?: Data, timestamp?}` with `Data = {type: BINARY|JSON|STRING, data}`, turned into the
 * bytes Kafka stores, or refused with the reason (Confluent's texts where it has one):
 *   BINARY — base64 text, stored as the decoded bytes;
 *   JSON   — any JSON value, stored as compact UTF-8 JSON with numbers exactly as written;
 *   STRING — a string, stored as its UTF-8 bytes.
 * AVRO, JSONSCHEMA, PROTOBUF and schema selectors (schema_id, schema_version, schema, subject,
 * subject_name_strategy) go through the schema registry (schema-data.ts), so such a record is
 * decoded asynchronously. A Data without `type` is the subject's latest schema when the registry
 * is on (as Confluent); without a registry it is JSON, and schema types are a 42206.
 */
import { Errors, GatewayError, type ValidationIssue } from '../core/errors.js';
import { checkShape, parseJson, plainView, stringifyJson } from '../core/json.js';
import type { OutgoingRecord, RecordHeader } from '../core/ports.js';
import type { RecordSchemas } from '../policy/validation/record-schemas.js';
import type { SchemaFormats, TopicAccess } from '../formats/schema-formats.js';
import { isSchemaType, planSchemaData, type SchemaField, type SchemaReport } from './schema-data.js';

export type DataType = 'BINARY' | 'JSON' | 'STRING';

/** What a report says of a key or value: its type and size, and for schema types the schema used. */
export type DataReport = { type: DataType; size: number } | SchemaReport;

export interface DecodedRecord {
  record: OutgoingRecord;
  /** The timestamp the record carries (the client's, else the gateway's clock at decoding). */
  timestamp: number;
  key?: DataReport;
  value?: DataReport;
}

export interface DecodeRules {
  topic: string;
  partitions: number;
  maxJsonDepth: number;
  maxStringLength: number;
  recordSchemas: RecordSchemas;
  /** The schema registry's formats; absent = no registry (schema types are a 42206). */
  schemaFormats?: SchemaFormats;
  /** With a policy: the topics whose subjects' schema ids the caller may use (others answer as missing ids). */
  schemaAccess?: TopicAccess;
  /** RECORD_PRINCIPAL_HEADER stamp, replacing any client header of that name. */
  stamp?: RecordHeader;
}

const FIELDS = new Set(['partition_id', 'headers', 'key', 'value', 'timestamp']);
const DATA_FIELDS = new Set([
  'type',
  'data',
  'subject',
  'subject_name_strategy',
  'schema_id',
  'schema_version',
  'schema',
]);
const SELECTORS = ['subject', 'subject_name_strategy', 'schema_id', 'schema_version', 'schema'] as const;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const bad = (message: string) => Errors.badRequest(`Bad Request: ${message}`);

/**
 * Parses and checks one record's JSON text; throws a GatewayError for this record alone. A record
 * with a schema key or value is answered as the work left (asking the registry), whose promise
 * rejects with that record's error; the caller runs those in input order, so a record can use a
 * schema an earlier record registered, as with Confluent's sequential serializer.
 */
export function decodeRecord(text: string, rules: DecodeRules): DecodedRecord | (() => Promise<DecodedRecord>) {
  let parsed;
  try {
    parsed = parseJson(text);
  } catch (err) {
    throw bad(`Error processing JSON: ${(err as Error).message}`);
  }
  const { value: raw, lossless } = parsed;
  const r = raw as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!FIELDS.has(k)) throw bad(`Unrecognized field "${k}".`);

  const partitionRaw = lossless ? numberView(r.partition_id, 'partition_id must be an integer.') : r.partition_id;
  let partition: number | undefined;
  if (partitionRaw !== undefined && partitionRaw !== null) {
    if (typeof partitionRaw !== 'number' || !Number.isInteger(partitionRaw))
      throw bad('partition_id must be an integer.');
    if (partitionRaw < 0 || partitionRaw >= rules.partitions) throw Errors.partitionNotFound();
    partition = partitionRaw;
  }

  let timestamp = Date.now();
  const tsRaw = lossless
    ? numberView(r.timestamp, 'timestamp must be an ISO-8601 date-time or epoch milliseconds.')
    : r.timestamp;
  if (tsRaw !== undefined && tsRaw !== null) {
    const ms = typeof tsRaw === 'string' ? Date.parse(tsRaw) : typeof tsRaw === 'number' ? tsRaw : NaN;
    if (!Number.isSafeInteger(ms) || ms < 0)
      throw bad('timestamp must be an ISO-8601 date-time or epoch milliseconds.');
    timestamp = ms;
  }

  const headers = decodeHeaders(r.headers, rules.stamp);
  const key = decodeData('key', r.key, lossless, rules);
  const value = decodeData('value', r.value, lossless, rules);

  if (rules.recordSchemas.has(rules.topic)) {
    const view = {
      key: key?.type === 'JSON' ? (lossless ? plainView(key.json) : key.json) : undefined,
      value: value?.type === 'JSON' ? (lossless ? plainView(value.json) : value.json) : undefined,
    };
    const issues = rules.recordSchemas.check(rules.topic, [view]);
    if (issues.length > 0) throw Errors.recordValidation(issues.map(renamed));
  }

  const plainReport = (d: DecodedData) => ({ type: d.type as DataType, size: d.bytes?.length ?? 0 });
  if (key?.schema === undefined && value?.schema === undefined) {
    return {
      record: { key: key?.bytes ?? null, value: value?.bytes ?? null, partition, headers, timestamp },
      timestamp,
      key: key === undefined ? undefined : plainReport(key),
      value: value === undefined ? undefined : plainReport(value),
    };
  }
  const resolve = (d: DecodedData | undefined): Promise<{ bytes: Buffer | null; report: DataReport } | undefined> =>
    d === undefined
      ? Promise.resolve(undefined)
      : d.schema !== undefined
        ? d.schema()
        : Promise.resolve({ bytes: d.bytes, report: plainReport(d) });
  return () =>
    Promise.all([resolve(key), resolve(value)]).then(([k, v]) => ({
      record: { key: k?.bytes ?? null, value: v?.bytes ?? null, partition, headers, timestamp },
      timestamp,
      key: k?.report,
      value: v?.report,
    }));
}

/** A scalar field's plain value; a number no double holds (1e400) is this record's 400, not a crash. */
function numberView(v: unknown, message: string): unknown {
  try {
    return plainView(v);
  } catch {
    throw bad(message);
  }
}

/** `records[0].value/x` → `value/x`: a v3 record is reported alone. */
function renamed(issue: ValidationIssue): ValidationIssue {
  return { ...issue, path: issue.path.replace(/^records\[0\]\./, '') };
}

interface DecodedData {
  type: DataType | 'SCHEMA';
  bytes: Buffer | null;
  json?: unknown;
  /** A schema Data: resolves the schema and encodes the data. */
  schema?: () => Promise<SchemaField>;
}

function decodeData(
  field: 'key' | 'value',
  raw: unknown,
  lossless: boolean,
  rules: DecodeRules,
): DecodedData | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw bad(`${field} must be an object {"type", "data"}.`);
  const d = raw as Record<string, unknown>;
  for (const k of Object.keys(d)) if (!DATA_FIELDS.has(k)) throw bad(`Unrecognized field "${field}.${k}".`);
  const selector = SELECTORS.find((k) => d[k] !== undefined && d[k] !== null);
  const typeless = d.type === undefined || d.type === null;
  if (!typeless && !isSchemaType(d.type) && d.type !== 'BINARY' && d.type !== 'JSON' && d.type !== 'STRING')
    throw bad(`${field}.type must be one of BINARY, JSON, STRING, AVRO, JSONSCHEMA, PROTOBUF.`);
  if (!typeless && !isSchemaType(d.type) && selector !== undefined)
    throw bad(`Unsupported argument: ${field}.${selector} cannot be used with type ${String(d.type)}.`);
  if (isSchemaType(d.type) || selector !== undefined || (typeless && rules.schemaFormats !== undefined)) {
    if (rules.schemaFormats === undefined)
      throw Errors.v3PayloadError('Schema Registry must be configured when using schemas.');
    const schema = planSchemaData(field, d, {
      formats: rules.schemaFormats,
      access: rules.schemaAccess,
      topic: rules.topic,
      lossless,
      maxJsonDepth: rules.maxJsonDepth,
      maxStringLength: rules.maxStringLength,
    });
    return { type: 'SCHEMA', bytes: null, schema };
  }
  const type = typeless ? 'JSON' : (d.type as DataType);
  const data = d.data;
  if (data === undefined || data === null) return { type, bytes: null };
  if (type === 'BINARY') {
    if (typeof data !== 'string' || !BASE64.test(data))
      throw bad(`data=${short(data, lossless)} is not a base64 string.`);
    return { type, bytes: Buffer.from(data, 'base64') };
  }
  if (type === 'STRING') {
    if (typeof data !== 'string') throw bad(`data=${short(data, lossless)} is not a string.`);
    if (data.length > rules.maxStringLength)
      throw Errors.recordValidation([
        { path: `${field}.data`, message: `must be at most ${rules.maxStringLength} characters` },
      ]);
    return { type, bytes: Buffer.from(data, 'utf8') };
  }
  const problem = checkShape(data, rules.maxJsonDepth, rules.maxStringLength);
  if (problem !== undefined) throw Errors.recordValidation([{ path: `${field}.data`, message: problem }]);
  return { type, bytes: Buffer.from(stringifyJson(data, lossless), 'utf8'), json: data };
}

function decodeHeaders(raw: unknown, stamp: RecordHeader | undefined): RecordHeader[] | undefined {
  let headers: RecordHeader[] | undefined;
  if (raw !== undefined && raw !== null) {
    if (!Array.isArray(raw)) throw bad('headers must be an array of {"name", "value"}.');
    headers = raw.map((h: unknown, i) => {
      const o = h as Record<string, unknown> | null;
      if (o === null || typeof o !== 'object' || typeof o.name !== 'string')
        throw bad(`headers[${i}] must be {"name": string, "value": base64 string or null}.`);
      if (o.value !== undefined && o.value !== null && (typeof o.value !== 'string' || !BASE64.test(o.value)))
        throw bad(`headers[${i}].value is not a base64 string.`);
      return { key: o.name, value: typeof o.value === 'string' ? Buffer.from(o.value, 'base64') : null };
    });
  }
  if (stamp === undefined) return headers;
  const same = (key: string) => key.trim().toLowerCase() === stamp.key.toLowerCase();
  return [...(headers ?? []).filter((h) => !same(h.key)), stamp];
}

function short(v: unknown, lossless: boolean): string {
  const text = stringifyJson(v, lossless);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** A report's error body for a record that failed: `{error_code, message}`. */
export function errorReport(err: unknown): { error_code: number; message: string } {
  if (err instanceof GatewayError) return { error_code: err.errorCode, message: err.message };
  return { error_code: 500, message: 'Internal Server Error' };
}
