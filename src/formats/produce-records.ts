/**
 * The produce route's schema path (avro, jsonschema, protobuf), kept out of the json/binary path:
 * the schemas a request names are resolved (registered when sent as text), then every record's
 * key and value is checked and framed before anything is sent. One bad record fails the request
 * with every problem listed, and nothing is produced.
 */
import { Errors, type ValidationIssue } from '../core/errors.js';
import { isLosslessNumber, type LosslessNumber } from 'lossless-json';
import { checkShape } from '../core/json.js';
import type { Codec } from './codecs.js';
import { DataError, type SchemaFormat, type SchemaFormats, type TopicAccess } from './schema-formats.js';

export interface SchemaEnvelope {
  records: Array<{ key?: unknown; value?: unknown }>;
  key_schema?: string | null;
  key_schema_id?: number | null;
  value_schema?: string | null;
  value_schema_id?: number | null;
}

export interface EncodedRecords {
  keySchemaId: number | null;
  valueSchemaId: number | null;
  fields: Array<{ key: Buffer | null; value: Buffer | null }>;
}

const has = (v: unknown) => v !== undefined && v !== null;

/**
 * Confluent's order: keys without a key schema (42201), values without a value schema (42202),
 * then the schemas (400 / 42205 / 42207), then the data (400 listing each record's problems).
 */
export async function encodeWithSchemas(
  formats: SchemaFormats,
  topic: string,
  format: SchemaFormat,
  body: SchemaEnvelope,
  lossless: boolean,
  limits: { maxJsonDepth: number; maxStringLength: number },
  /** With a policy file: the topics the caller may describe (schema ids are usable only through them). */
  access?: TopicAccess,
): Promise<EncodedRecords> {
  const { records } = body;
  if (records.some((r) => has(r.key)) && !has(body.key_schema) && !has(body.key_schema_id)) {
    throw Errors.keySchemaMissing();
  }
  if (records.some((r) => has(r.value)) && !has(body.value_schema) && !has(body.value_schema_id)) {
    throw Errors.valueSchemaMissing();
  }
  // Both given: the id wins, as in Confluent's v2 producer.
  const choose = (schema: string | null | undefined, id: number | null | undefined) =>
    has(id) ? { id: id! } : has(schema) ? { schema: schema! } : undefined;
  const keyChoice = choose(body.key_schema, body.key_schema_id);
  const valueChoice = choose(body.value_schema, body.value_schema_id);
  const [keyCodec, valueCodec] = await Promise.all([
    keyChoice === undefined ? undefined : formats.forProduce(topic, 'key', format, keyChoice, access),
    valueChoice === undefined ? undefined : formats.forProduce(topic, 'value', format, valueChoice, access),
  ]);

  const issues: ValidationIssue[] = [];
  const encode = (codec: Codec | undefined, v: unknown, path: string): Buffer | null => {
    if (!has(v) || codec === undefined) return null;
    const shape = checkShape(v, limits.maxJsonDepth, limits.maxStringLength);
    if (shape !== undefined) {
      issues.push({ path, message: shape });
      return null;
    }
    try {
      return lossless ? codec.encode(plainOf(v), { value: v }) : codec.encode(v);
    } catch (err) {
      if (!(err instanceof DataError)) throw err;
      for (const i of err.issues) issues.push({ path: `${path}${i.path}`, message: i.message });
      return null;
    }
  };
  const fields = records.map((r, i) => ({
    key: encode(keyCodec, r.key, `records[${i}].key`),
    value: encode(valueCodec, r.value, `records[${i}].value`),
  }));
  if (issues.length > 0) throw Errors.schemaDataInvalid(issues);
  return { keySchemaId: keyCodec?.id ?? null, valueSchemaId: valueCodec?.id ?? null, fields };
}

/**
 * The value with exact numbers as JS values the codecs check: integers past 2^53 as bigint (Avro
 * longs keep them exact), others as numbers, one past a double's range as ±Infinity or 0 (plainView
 * throws there, which was a 500; the exact text is still what JSON Schema stores).
 */
function plainOf(value: unknown): unknown {
  if (isLosslessNumber(value)) {
    const n = value as LosslessNumber;
    try {
      return n.valueOf();
    } catch {
      return Number(n.toString());
    }
  }
  if (Array.isArray(value)) return value.map(plainOf);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = plainOf(v);
    return out;
  }
  return value;
}
