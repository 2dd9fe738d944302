/**
 * JSON that does not round numbers. JSON.parse turns 1150000000000000001 into 1150000000000000000;
 * a 64-bit tweet id must reach Kafka as sent. Bodies whose text has no run of 16+ digits cannot
 * hold such a number, so they take the fast native path; the rest are parsed with lossless-json,
 * which keeps every unsafe number as its original text.
 */
import {
  isLosslessNumber,
  isSafeNumber,
  LosslessNumber,
  parse as losslessParse,
  stringify as losslessStringify,
} from 'lossless-json';

export interface ParsedJson {
  value: unknown;
  /** True when the value may contain LosslessNumber instances (use stringifyJson / plainView). */
  lossless: boolean;
}

const LONG_DIGITS = /\d{16}/;

function parseNumber(text: string): number | LosslessNumber {
  return isSafeNumber(text) ? Number(text) : new LosslessNumber(text);
}

/** Parses JSON text; throws SyntaxError with the parser's message for malformed input. */
export function parseJson(text: string): ParsedJson {
  if (!LONG_DIGITS.test(text)) return { value: JSON.parse(text), lossless: false };
  return { value: losslessParse(text, null, parseNumber), lossless: true };
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
