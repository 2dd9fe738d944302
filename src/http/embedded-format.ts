/**
 * The v2 embedded formats: how a record's key and value travel inside the JSON envelope.
 *   json   — any JSON value, stored in Kafka as compact UTF-8 JSON (numbers never rounded)
 *   binary — a base64 string, stored as the exact decoded bytes
 * null (or an absent field) is a Kafka null in both.
 */
import { stringifyJson } from '../core/json.js';
import type { EmbeddedFormat, RecordHeader } from '../core/ports.js';

/** The two formats that need no schema. */
type SchemalessFormat = Extract<EmbeddedFormat, 'json' | 'binary'>;

export function encodeField(format: SchemalessFormat, v: unknown, lossless: boolean): Buffer | null {
  if (v === null || v === undefined) return null;
  if (format === 'binary') return Buffer.from(v as string, 'base64');
  return Buffer.from(stringifyJson(v, lossless), 'utf8');
}

/** Headers were validated by openapi.yaml: `[{key: string, value: base64|null}]`. */
export function encodeHeaders(headers: Array<{ key: string; value: string | null }>): RecordHeader[] {
  return headers.map((h) => ({ key: h.key, value: h.value === null ? null : Buffer.from(h.value, 'base64') }));
}
