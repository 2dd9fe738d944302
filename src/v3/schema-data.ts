/**
 * A v3 Data object that names a schema (Confluent's SchemaManagerImpl rules), checked at once and
 * resolved through the registry (src/formats) afterwards:
 *
 *   schema_id       type, schema_version, schema absent; the format is the registered schema's
 *   schema_version  type, schema absent; subject from `subject` or TOPIC_NAME
 *   schema (text)   type AVRO|JSONSCHEMA|PROTOBUF required; registered under the subject
 *   none, no type   the subject's latest version
 *
 * The subject is `subject`, else `subject_name_strategy` (TOPIC_NAME `<topic>-key|value`,
 * RECORD_NAME the schema's record name, TOPIC_RECORD_NAME `<topic>-<record name>`), else
 * TOPIC_NAME; `subject` and a strategy together, and a record-name strategy without schema_id or
 * schema, are 400s. `data: null` writes a null field (the schema is still resolved and reported).
 */
import { Errors, GatewayError } from '../core/errors.js';
import { checkShape, plainView } from '../core/json.js';
import { compile, type Codec } from '../formats/codecs.js';
import {
  DataError,
  checkSchema,
  type SchemaFormat,
  type SchemaFormats,
  type TopicAccess,
} from '../formats/schema-formats.js';

export type SchemaDataType = 'AVRO' | 'JSONSCHEMA' | 'PROTOBUF';
type Strategy = 'TOPIC_NAME' | 'RECORD_NAME' | 'TOPIC_RECORD_NAME';

export interface SchemaReport {
  type: SchemaDataType;
  size: number;
  subject: string;
  schema_id: number;
  schema_version: number;
}

export interface SchemaField {
  bytes: Buffer | null;
  report: SchemaReport;
}

const FORMAT: Record<SchemaDataType, SchemaFormat> = { AVRO: 'avro', JSONSCHEMA: 'jsonschema', PROTOBUF: 'protobuf' };
const TYPE_OF = { AVRO: 'AVRO', JSON: 'JSONSCHEMA', PROTOBUF: 'PROTOBUF' } as const;
const STRATEGIES = new Set<string>(['TOPIC_NAME', 'RECORD_NAME', 'TOPIC_RECORD_NAME']);

const unsupported = (message: string) => Errors.badRequest(`Bad Request: Unsupported argument: ${message}`);

export function isSchemaType(type: unknown): type is SchemaDataType {
  return type === 'AVRO' || type === 'JSONSCHEMA' || type === 'PROTOBUF';
}

export interface SchemaDataContext {
  formats: SchemaFormats;
  /** With a policy: which subjects' schema ids the caller may use (src/formats/schema-formats.ts). */
  access?: TopicAccess;
  topic: string;
  lossless: boolean;
  maxJsonDepth: number;
  maxStringLength: number;
}

/**
 * Checks the Data object's combination now (throwing this record's 400) and returns the work that
 * resolves the schema and encodes the data (rejecting with this record's error).
 */
export function planSchemaData(
  field: 'key' | 'value',
  d: Record<string, unknown>,
  ctx: SchemaDataContext,
): () => Promise<SchemaField> {
  const present = (k: string) => d[k] !== undefined && d[k] !== null;
  const type = present('type') ? (d.type as SchemaDataType) : undefined;
  if (present('subject') && present('subject_name_strategy'))
    throw unsupported(`${field}: subject and subject_name_strategy cannot be used together.`);
  if (present('subject') && (typeof d.subject !== 'string' || d.subject === ''))
    throw Errors.badRequest(`Bad Request: ${field}.subject must be a non-empty string.`);
  const strategyRaw = d.subject_name_strategy;
  if (present('subject_name_strategy') && (typeof strategyRaw !== 'string' || !STRATEGIES.has(strategyRaw)))
    throw Errors.badRequest(
      `Bad Request: ${field}.subject_name_strategy must be one of TOPIC_NAME, RECORD_NAME, TOPIC_RECORD_NAME.`,
    );
  const strategy = (strategyRaw ?? undefined) as Strategy | undefined;
  const explicit = present('subject') ? (d.subject as string) : undefined;
  const plainInt = (k: string) => (ctx.lossless ? plainView(d[k]) : d[k]);

  const subjectFor = (codec: Codec | undefined): string => {
    if (explicit !== undefined) return explicit;
    if (strategy === undefined || strategy === 'TOPIC_NAME') return `${ctx.topic}-${field}`;
    const name = codec?.recordName;
    if (name === undefined)
      throw Errors.badRequest(`Bad Request: ${field}: ${strategy} needs a schema with a record name.`);
    return strategy === 'RECORD_NAME' ? name : `${ctx.topic}-${name}`;
  };
  const needsRecordName = strategy === 'RECORD_NAME' || strategy === 'TOPIC_RECORD_NAME';
  const noRecordStrategy = () => {
    if (needsRecordName)
      throw Errors.badRequest(
        `Bad Request: ${field}: Cannot use schema_subject_strategy=${strategy} without schema_id or schema.`,
      );
  };

  let resolve: () => Promise<{ codec: Codec; subject: string; version: number }>;
  if (present('schema_id')) {
    const id = plainInt('schema_id');
    if (type !== undefined) throw unsupported(`${field}: type cannot be used with schema_id.`);
    if (present('schema_version')) throw unsupported(`${field}: schema_version cannot be used with schema_id.`);
    if (present('schema')) throw unsupported(`${field}: schema cannot be used with schema_id.`);
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0)
      throw Errors.badRequest(`Bad Request: ${field}.schema_id must be a non-negative integer.`);
    resolve = async () => {
      const codec = await ctx.formats.schemaById(id, ctx.access);
      const subject = subjectFor(codec);
      return { codec, subject, version: await ctx.formats.versionOf(subject, id) };
    };
  } else if (present('schema_version')) {
    const version = plainInt('schema_version');
    if (type !== undefined) throw unsupported(`${field}: type cannot be used with schema_version.`);
    if (present('schema')) throw unsupported(`${field}: schema cannot be used with schema_version.`);
    if (typeof version !== 'number' || !Number.isSafeInteger(version) || (version < 1 && version !== -1))
      throw Errors.badRequest(`Bad Request: ${field}.schema_version must be a positive integer (or -1, the latest).`);
    noRecordStrategy();
    const subject = subjectFor(undefined);
    resolve = async () => {
      const found = await ctx.formats.atVersion(subject, version === -1 ? 'latest' : version);
      return { codec: found.codec, subject, version: found.version };
    };
  } else if (present('schema')) {
    if (type === undefined) throw unsupported(`${field}: schema needs a type (AVRO, JSONSCHEMA or PROTOBUF).`);
    if (typeof d.schema !== 'string') throw Errors.badRequest(`Bad Request: ${field}.schema must be a string.`);
    const text = d.schema;
    const format = FORMAT[type];
    const schemaType = format === 'jsonschema' ? 'JSON' : type === 'AVRO' ? 'AVRO' : 'PROTOBUF';
    // The record name comes from the text itself, before anything is registered.
    let subject: string;
    if (needsRecordName && explicit === undefined) {
      checkSchema({ schemaType, schema: text, references: [] }, format);
      subject = subjectFor(compile(0, { schemaType, schema: text, references: [], dependencies: [] }));
    } else subject = subjectFor(undefined);
    resolve = async () => {
      const codec = await ctx.formats.registerUnder(subject, format, text);
      return { codec, subject, version: await ctx.formats.versionOf(subject, codec.id) };
    };
  } else {
    if (type !== undefined)
      throw unsupported(`${field}: type ${type} needs schema_id, schema_version or schema (or no type: the latest).`);
    noRecordStrategy();
    const subject = subjectFor(undefined);
    resolve = async () => {
      const found = await ctx.formats.atVersion(subject, 'latest');
      return { codec: found.codec, subject, version: found.version };
    };
  }

  return async () => {
    const { codec, subject, version } = await resolve();
    if (type !== undefined && TYPE_OF[codec.schemaType] !== type)
      throw Errors.schemaSerialization(`Schema ${codec.id} is a ${codec.schemaType} schema, not ${type}.`);
    const bytes = encode(field, codec, d.data, ctx);
    return {
      bytes,
      report: {
        type: TYPE_OF[codec.schemaType],
        size: bytes?.length ?? 0,
        subject,
        schema_id: codec.id,
        schema_version: version,
      },
    };
  };
}

function encode(field: string, codec: Codec, data: unknown, ctx: SchemaDataContext): Buffer | null {
  if (data === undefined || data === null) return null;
  const path = `${field}.data`;
  const shape = checkShape(data, ctx.maxJsonDepth, ctx.maxStringLength);
  if (shape !== undefined) throw Errors.recordValidation([{ path, message: shape }]);
  try {
    return ctx.lossless ? codec.encode(plainView(data), { value: data }) : codec.encode(data);
  } catch (err) {
    if (err instanceof DataError)
      throw Errors.schemaDataInvalid(err.issues.map((i) => ({ path: `${path}${i.path}`, message: i.message })));
    if (err instanceof GatewayError) throw err;
    throw Errors.schemaDataInvalid([{ path, message: (err as Error).message }]);
  }
}
