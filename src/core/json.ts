/**
 * JSON that keeps every number exactly as written. JSON.parse + JSON.stringify re-print numbers:
 * 1150000000000000001 (a 64-bit tweet id) becomes 1150000000000000000, a stream processor's 36.0
 * becomes 36, 1e400 becomes null. Bodies with no number that could change (no fraction, exponent,
 * 16+ digit run or -0 where a value starts) take the fast native path; the rest are parsed with
 * lossless-json, which keeps each number that would not print back the same as its original text.
 */
import {
  isLosslessNumber,
  LosslessNumber,
  parse as losslessParse,
  stringify as losslessStringify,
} from 'lossless-json';

export interface ParsedJson {
  value: unknown;
  /** True when the value may contain LosslessNumber instances (use stringifyJson / plainView). */
  lossless: boolean;
}

/**
 * A number literal that might not print back as written, where a JSON value starts (after ':',
 * '[' or ','), so digits inside strings such as IP addresses do not count. A false alarm (a string
 * holding ": 1.5", or a decimal that does round-trip) only costs the slower parser.
 */
const MAYBE_CHANGED_NUMBER = /[:,[]\s*(?:-?\d+[.eE]|-?\d{16}|-0\s*[,\]}])/;

function parseNumber(text: string): number | LosslessNumber {
  const n = Number(text);
  return String(n) === text ? n : new LosslessNumber(text);
}

/**
 * Parses JSON text; throws SyntaxError with the parser's message for malformed input, and for an
 * object body that repeats a top-level key (JSON.parse would silently keep the last one, so a
 * proxy or log that read the first saw a different request than the one acted on).
 */
export function parseJson(text: string): ParsedJson {
  const parsed: ParsedJson = MAYBE_CHANGED_NUMBER.test(text)
    ? { value: losslessParse(text, null, parseNumber), lossless: true }
    : { value: JSON.parse(text), lossless: false };
  if (parsed.value !== null && typeof parsed.value === 'object' && !Array.isArray(parsed.value)) {
    const repeated = repeatedTopLevelKey(text);
    if (repeated !== undefined) throw new SyntaxError(`Duplicate key ${JSON.stringify(repeated)} in the JSON object`);
  }
  return parsed;
}

/**
 * The first key that occurs twice in the top-level object of valid JSON text, else undefined. One
 * pass: strings are skipped with indexOf, so the cost is a fraction of the parse itself.
 */
export function repeatedTopLevelKey(text: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let end = text.indexOf('"', i + 1);
      // A quote preceded by an odd number of backslashes is escaped: keep looking.
      for (;;) {
        let slashes = 0;
        while (text.charCodeAt(end - 1 - slashes) === 0x5c) slashes++;
        if (slashes % 2 === 0) break;
        end = text.indexOf('"', end + 1);
      }
      if (depth === 1 && expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (seen.has(key)) return key;
        seen.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      if (depth === 1) expectKey = true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    } else if (c === 0x2c /* , */ && depth === 1) {
      expectKey = true;
    }
  }
  return undefined;
}

/** Compact JSON text of a value produced by parseJson. */
export function stringifyJson(value: unknown, lossless: boolean): string {
  if (!lossless) return JSON.stringify(value);
  return losslessStringify(value) as string;
}

/**
 * The same value with exact numbers turned into ordinary (possibly rounded) numbers, for schema
 * validation only: JSON Schema keywords compare numbers, they never serialize them.
 */
export function plainView(value: unknown): unknown {
  if (isLosslessNumber(value)) return (value as LosslessNumber).valueOf();
  if (Array.isArray(value)) return value.map(plainView);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = plainView(v);
    return out;
  }
  return value;
}

/**
 * Checks nesting depth and string length of a parsed value; returns a description of the first
 * violation, or undefined. Iterative, so hostile nesting cannot overflow the stack.
 */
export function checkShape(value: unknown, maxDepth: number, maxString: number): string | undefined {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.length > maxString) return `a string is longer than ${maxString} characters`;
    } else if (v !== null && typeof v === 'object' && !isLosslessNumber(v)) {
      if (depth > maxDepth) return `nesting is deeper than ${maxDepth} levels`;
      const children = Array.isArray(v) ? v : Object.values(v);
      for (const c of children)
        if (c !== null && typeof c === 'object') stack.push([c, depth + 1]);
        else if (typeof c === 'string' && c.length > maxString)
          return `a string is longer than ${maxString} characters`;
      if (!Array.isArray(v)) {
        for (const k of Object.keys(v)) if (k.length > maxString) return `a key is longer than ${maxString} characters`;
      }
    }
  }
  return undefined;
}
