/**
 * Fetched records → the v2 response body: Confluent's five fields (topic, key, value, partition,
 * offset), plus `timestamp` and `headers` in lenient mode.
 *
 * How a key or value is written depends on the instance's format, through a FieldRenderer: json
 * writes the stored JSON text itself (checked, never re-encoded, so every number stays exact),
 * binary the base64 of the bytes (embedded-format.ts).
 * A new format adds its renderer here, next to those two. Pure: unit-tested in
 * test/unit/consumer-records.test.ts.
 */
import { Errors, type GatewayError } from '../../core/errors.js';
import type { ConsumedRecord, EmbeddedFormat } from '../../core/ports.js';
import type { SchemaFormats } from '../../formats/schema-formats.js';
import { renderField } from '../embedded-format.js';
import { FETCH_RENDER_BUDGET } from '../../formats/bounded-json.js';

export interface FieldRenderer {
  format: EmbeddedFormat;
  /** A key's or value's JSON text; throws for bytes the format cannot read. */
  field: (bytes: Buffer | null) => string;
  /**
   * Characters of JSON one fetch renders before it stops (the rest come next fetch; the first
   * record always goes): the schema formats' records may render far larger than their bytes.
   */
  maxChars?: number;
}

/** The formats that render on their own, by format. */
export const FIELD_RENDERERS: Readonly<Record<'json' | 'binary', FieldRenderer>> = {
  json: { format: 'json', field: (bytes) => renderField('json', bytes) },
  binary: { format: 'binary', field: (bytes) => renderField('binary', bytes) },
};

/**
 * The renderer for an instance's format and the records of one fetch: json and binary render on
 * their own; the schema formats first load the schemas the records' ids name (src/formats).
 */
export async function fieldRenderer(
  format: EmbeddedFormat,
  records: readonly ConsumedRecord[],
  schemaFormats?: SchemaFormats,
): Promise<FieldRenderer> {
  if (format === 'json' || format === 'binary') return FIELD_RENDERERS[format];
  const decoder = await schemaFormats!.decoderFor(records.flatMap((r) => [r.key, r.value]));
  return { format, field: (bytes) => decoder.render(bytes), maxChars: FETCH_RENDER_BUDGET };
}

export interface RenderedRecords {
  /** The JSON array. */
  text: string;
  /** Records in `text`: the first `count` of those given. */
  count: number;
  /** Raw key+value bytes of those records. */
  bytes: number;
  /** Why rendering stopped early (a record the format cannot read), if it did. */
  failure?: GatewayError;
}

/**
 * Renders `records` in order. Stops before the first record the format cannot read: if that is the
 * first record, the fetch fails with `failure` (40801 naming its offset), so the client can seek
 * past it; otherwise the records before it are answered and it comes first in the next fetch.
 */
export function renderRecords(
  records: readonly ConsumedRecord[],
  { format, field, maxChars = Infinity }: FieldRenderer,
  extensions: boolean,
): RenderedRecords {
  const parts: string[] = [];
  let bytes = 0;
  let chars = 0;
  // Hot loop (a fetch renders thousands of records): the quoted topic is computed once per topic.
  const quoted = new Map<string, string>();
  for (const r of records) {
    let key: string;
    let value: string;
    try {
      key = field(r.key);
      value = field(r.value);
    } catch (err) {
      const failure = Errors.recordNotDeserializable(
        `Cannot deserialize the record at ${r.topic}-${r.partition} offset ${r.offset} as ${format === 'json' ? 'JSON' : format} ` +
          `(${(err as Error).message}); seek past it with POST …/positions or read the topic with a binary consumer.`,
      );
      return { text: `[${parts.join(',')}]`, count: parts.length, bytes, failure };
    }
    // Past the fetch's budget: stop before this record, which comes first in the next fetch.
    chars += key.length + value.length;
    if (parts.length > 0 && chars > maxChars) break;
    bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0);
    let topic = quoted.get(r.topic);
    if (topic === undefined) quoted.set(r.topic, (topic = JSON.stringify(r.topic)));
    let text = `{"topic":${topic},"key":${key},"value":${value},"partition":${r.partition},"offset":${r.offset}`;
    if (extensions) {
      const headers =
        r.headers.length === 0
          ? '[]'
          : JSON.stringify(
              r.headers.map((h) => ({ key: h.key, value: h.value === null ? null : h.value.toString('base64') })),
            );
      text += `,"timestamp":${r.timestamp},"headers":${headers}`;
    }
    parts.push(`${text}}`);
  }
  return { text: `[${parts.join(',')}]`, count: parts.length, bytes };
}
