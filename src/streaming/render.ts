/**
 * A stream's events carry each record exactly as the v2 fetch renders it: this uses the fetch's
 * own renderer (http/consumers/records.ts), one record per event.
 */
import type { ConsumedRecord, EmbeddedFormat } from '../core/ports.js';
import type { SchemaFormats } from '../formats/schema-formats.js';
import { fieldRenderer, renderRecords } from '../http/consumers/records.js';
import type { RenderedBatch } from './record-stream.js';

/** The v2 renderer of an instance's format, one text per record (stopping at one it cannot read). */
export function v2Renderer(
  format: EmbeddedFormat,
  extensions: boolean,
  schemaFormats?: SchemaFormats,
): (records: ConsumedRecord[]) => Promise<RenderedBatch> {
  return async (records) => {
    const fields = await fieldRenderer(format, records, schemaFormats);
    const texts: string[] = [];
    const one: ConsumedRecord[] = [];
    for (const r of records) {
      one[0] = r;
      const rendered = renderRecords(one, fields, extensions);
      if (rendered.count === 0) return { texts, failure: rendered.failure };
      // `[record]` → `record`
      texts.push(rendered.text.slice(1, -1));
    }
    return { texts };
  };
}
