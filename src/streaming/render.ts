/**
 * A stream's events carry each record exactly as the v2 fetch renders it: this uses the fetch's
 * own renderer (http/consumers/records.ts), one record per event.
 */
import { ByteWriter } from '../core/byte-writer.js';
import type { ConsumedRecord, EmbeddedFormat } from '../core/ports.js';
import type { SchemaFormats } from '../formats/schema-formats.js';
import { fieldRenderer, writeRecords } from '../http/consumers/records.js';
import type { RenderedBatch } from './record-stream.js';

/** The v2 renderer of an instance's format: each record's JSON object (stopping at one it cannot read). */
export function v2Renderer(
  format: EmbeddedFormat,
  extensions: boolean,
  schemaFormats?: SchemaFormats,
): (records: ConsumedRecord[]) => Promise<RenderedBatch> {
  return async (records) => {
    const fields = await fieldRenderer(format, records, schemaFormats);
    const out = new ByteWriter(Math.min(1 << 20, 256 + records.length * 128));
    const { ends, failure } = writeRecords(records, fields, extensions, out);
    return { body: out.view(), ends, failure };
  };
}
