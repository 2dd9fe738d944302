/**
 * Fetched records → the v2 response body: Confluent's five fields (topic, key, value, partition,
 * offset), plus `timestamp` and `headers` in lenient mode.
 *
 * How a key or value is written depends on the instance's format, through a FieldRenderer: json
 * writes the stored JSON bytes themselves (checked, never re-encoded, so every number stays
 * exact), binary the base64 of the bytes. The body is built as bytes (core/byte-writer.ts).
 * A new format adds its renderer here, next to those two. Pure: unit-tested in
 * test/unit/consumer-records.test.ts.
 */
import { ByteWriter } from '../../core/byte-writer.js';
import { Errors, type GatewayError } from '../../core/errors.js';
import { assertJson } from '../../core/json-syntax.js';
import type { ConsumedRecord, EmbeddedFormat } from '../../core/ports.js';
import type { SchemaFormats } from '../../formats/schema-formats.js';
import { FETCH_RENDER_BUDGET } from '../../formats/bounded-json.js';

export interface FieldRenderer {
  format: EmbeddedFormat;
  /** Writes a key's or value's JSON; throws for bytes the format cannot read (writing nothing then). */
  write: (bytes: Buffer | null, out: ByteWriter) => void;
  /**
   * Bytes of JSON one fetch renders before it stops (the rest come next fetch; the first record
   * always goes): the schema formats' records may render far larger than their bytes.
   */
  maxOutputBytes?: number;
}

/** The formats that render on their own, by format. */
export const FIELD_RENDERERS: Readonly<Record<'json' | 'binary', FieldRenderer>> = {
  json: {
    format: 'json',
    // The stored text itself, checked (never parsed into values and printed again): byte-faithful,
    // so every number stays exact, and no garbage per record.
    write: (bytes, out) => {
      if (bytes === null) return out.ascii('null');
      assertJson(bytes);
      out.bytes(bytes);
    },
  },
  binary: {
    format: 'binary',
    write: (bytes, out) => out.ascii(bytes === null ? 'null' : `"${bytes.toString('base64')}"`),
  },
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
  return { format, write: (bytes, out) => out.text(decoder.render(bytes)), maxOutputBytes: FETCH_RENDER_BUDGET };
}

export interface RenderedRecords {
  /** The JSON array. */
  body: Buffer;
  /** Records in `body`: the first `count` of those given. */
  count: number;
  /** Raw key+value bytes of those records. */
  bytes: number;
  /** Why rendering stopped early (a record the format cannot read), if it did. */
  failure?: GatewayError;
}

/**
 * Renders `records` in order as the v2 fetch's JSON array. Stops before the first record the
 * format cannot read: if that is the first record, the fetch fails with `failure` (40801 naming
 * its offset), so the client can seek past it; otherwise the records before it are answered and
 * it comes first in the next fetch.
 */
export function renderRecords(
  records: readonly ConsumedRecord[],
  renderer: FieldRenderer,
  extensions: boolean,
): RenderedRecords {
  const out = new ByteWriter(Math.min(1 << 20, 256 + records.length * 128));
  out.ascii('[');
  const written = writeRecords(records, renderer, extensions, out, ',');
  out.ascii(']');
  return { body: out.view(), count: written.ends.length, bytes: written.bytes, failure: written.failure };
}

export interface WrittenRecords {
  /** Where each written record's JSON object ends in `out`, in order. */
  ends: number[];
  /** Raw key+value bytes of those records. */
  bytes: number;
  failure?: GatewayError;
}

/**
 * Writes each record's JSON object into `out` (with `separator` between them), stopping before
 * the first one the format cannot read or past the renderer's output budget. The v2 fetch and
 * the event stream (one event per object) both render through here.
 */
export function writeRecords(
  records: readonly ConsumedRecord[],
  { format, write, maxOutputBytes = Infinity }: FieldRenderer,
  extensions: boolean,
  out: ByteWriter,
  separator = '',
): WrittenRecords {
  const ends: number[] = [];
  let bytes = 0;
  const begin = out.length;
  // Hot loop (a fetch renders thousands of records): `{"topic":…,"key":` is encoded once per topic.
  const heads = new Map<string, Buffer>();
  for (const r of records) {
    const start = out.length;
    let head = heads.get(r.topic);
    if (head === undefined) heads.set(r.topic, (head = Buffer.from(`{"topic":${JSON.stringify(r.topic)},"key":`)));
    if (ends.length > 0) out.ascii(separator);
    out.bytes(head);
    try {
      write(r.key, out);
      out.ascii(',"value":');
      write(r.value, out);
    } catch (err) {
      out.truncate(start);
      const failure = Errors.recordNotDeserializable(
        `Cannot deserialize the record at ${r.topic}-${r.partition} offset ${r.offset} as ${format === 'json' ? 'JSON' : format} ` +
          `(${(err as Error).message}); seek past it with POST …/positions or read the topic with a binary consumer.`,
      );
      return { ends, bytes, failure };
    }
    // Past the fetch's budget: stop before this record, which comes first in the next fetch.
    if (ends.length > 0 && out.length - begin > maxOutputBytes) {
      out.truncate(start);
      break;
    }
    out.ascii(`,"partition":${r.partition},"offset":${r.offset}`);
    if (extensions) {
      out.ascii(`,"timestamp":${r.timestamp},"headers":`);
      if (r.headers.length === 0) out.ascii('[]');
      else
        out.text(
          JSON.stringify(
            r.headers.map((h) => ({ key: h.key, value: h.value === null ? null : h.value.toString('base64') })),
          ),
        );
    }
    out.ascii('}');
    ends.push(out.length);
    bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0);
  }
  return { ends, bytes };
}
