/**
 * JSON text of a decoded record, given up on as soon as it would pass a length: a few bytes of
 * Avro or protobuf can stand for megabytes of JSON (2,000 one-byte enum values whose symbol is
 * 100,000 characters long), so the cap is checked while the text is built, never after.
 */

/** A record whose JSON would be longer than its cap (renderRecords answers 40801 for it). */
export class OutputTooLargeError extends Error {
  constructor(readonly maxChars: number) {
    super(`its JSON would be longer than ${maxChars} characters`);
  }
}

/**
 * The rendered JSON of a record that takes `encodedBytes` bytes in Kafka may be at most
 * RENDER_RATIO times that, never less than RENDER_FLOOR (protobuf renders every default, Avro
 * every field name, from a few bytes) and never more than RENDER_CEILING characters.
 */
export const RENDER_RATIO = 256;
export const RENDER_FLOOR = 64 * 1024;
export const RENDER_CEILING = 16 * 1024 * 1024;

/**
 * Characters of keys and values one v2 fetch renders in the schema formats (the default
 * CONSUMER_MAX_FETCH_BYTES): a fetch of many small records, each under its own cap, stops here and
 * answers the records before; the first record of a fetch always goes.
 */
export const FETCH_RENDER_BUDGET = 64 * 1024 * 1024;

export function renderCap(encodedBytes: number): number {
  return Math.min(RENDER_CEILING, Math.max(RENDER_FLOOR, RENDER_RATIO * encodedBytes));
}

/**
 * JSON.stringify's output for plain data (objects, arrays, strings, finite numbers, booleans,
 * null; undefined members left out) plus bigint as an exact integer; throws OutputTooLargeError
 * once the text would pass `maxChars`.
 */
export function boundedJson(value: unknown, maxChars: number): string {
  const parts: string[] = [];
  let size = 0;
  const add = (s: string) => {
    size += s.length;
    if (size > maxChars) throw new OutputTooLargeError(maxChars);
    parts.push(s);
  };
  const walk = (v: unknown): void => {
    switch (typeof v) {
      case 'string':
        // Checked before the escape is built: a long string costs at least its length.
        if (size + v.length + 2 > maxChars) throw new OutputTooLargeError(maxChars);
        add(JSON.stringify(v));
        return;
      case 'number':
        add(Number.isFinite(v) ? String(v) : 'null');
        return;
      case 'bigint':
        add(v.toString());
        return;
      case 'boolean':
        add(v ? 'true' : 'false');
        return;
      case 'object':
        if (v === null) {
          add('null');
        } else if (Array.isArray(v)) {
          add('[');
          v.forEach((item, i) => {
            if (i > 0) add(',');
            if (item === undefined || typeof item === 'function') add('null');
            else walk(item);
          });
          add(']');
        } else {
          add('{');
          let first = true;
          for (const [k, item] of Object.entries(v)) {
            if (item === undefined || typeof item === 'function') continue;
            if (!first) add(',');
            first = false;
            if (size + k.length + 3 > maxChars) throw new OutputTooLargeError(maxChars);
            add(JSON.stringify(k));
            add(':');
            walk(item);
          }
          add('}');
        }
        return;
      default:
        add('null');
    }
  };
  walk(value);
  return parts.join('');
}
