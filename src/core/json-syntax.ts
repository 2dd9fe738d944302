/**
 * Checks that bytes are one JSON text (RFC 8259, UTF-8) without building any value.
 *
 * A json consumer renders each stored value as the text it is (byte-faithful), so it only needs
 * to know the bytes are JSON: JSON.parse would first decode them to a string and then allocate
 * every object, array and string of the value only to throw them away, which in a fetch of
 * thousands of records was most of the rendering time and much of the garbage. This scans the
 * bytes once with an explicit stack (no recursion, so depth is bounded by memory only, as
 * JSON.parse's is). It agrees with JSON.parse on valid UTF-8 input (test/unit/json-syntax.test.ts
 * compares the two on generated and mutated texts); bytes that are not UTF-8 are refused, where
 * decoding first would have replaced them with U+FFFD and rendered text Kafka never held.
 */
import { isUtf8 } from 'node:buffer';

const enum C {
  Tab = 0x09,
  Lf = 0x0a,
  Cr = 0x0d,
  Space = 0x20,
  Quote = 0x22,
  Plus = 0x2b,
  Comma = 0x2c,
  Minus = 0x2d,
  Dot = 0x2e,
  Slash = 0x2f,
  Zero = 0x30,
  Nine = 0x39,
  Colon = 0x3a,
  UpperE = 0x45,
  OpenBracket = 0x5b,
  Backslash = 0x5c,
  CloseBracket = 0x5d,
  LowerE = 0x65,
  OpenBrace = 0x7b,
  CloseBrace = 0x7d,
}

/** Bytes allowed after a backslash: " \ / b f n r t (u is handled apart). */
const SIMPLE_ESCAPE = new Uint8Array(256);
for (const c of '"\\/bfnrt') SIMPLE_ESCAPE[c.charCodeAt(0)] = 1;

/** Bytes that stand for themselves inside a string: all but control characters, `"` and `\`. */
const PLAIN = new Uint8Array(256).fill(1, 0x20);
PLAIN[C.Quote] = 0;
PLAIN[C.Backslash] = 0;

const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

/** Throws a SyntaxError naming the first position where `bytes` stop being one JSON text. */
export function assertJson(bytes: Uint8Array): void {
  const at = firstError(bytes);
  if (at === -1) return;
  if (at >= bytes.length) throw new SyntaxError('Unexpected end of JSON input');
  if (at === -2) throw new SyntaxError('Not valid UTF-8');
  throw new SyntaxError(`Unexpected byte 0x${bytes[at]!.toString(16).padStart(2, '0')} at position ${at}`);
}

/** Position of the first byte that breaks the grammar, bytes.length at a premature end, -2 for bad UTF-8, -1 if valid. */
function firstError(b: Uint8Array): number {
  const n = b.length;
  // Containers open at this point (1 = object, 0 = array), one byte each: a JS array here made
  // V8 abort the process once ~113 million brackets were open.
  let stack = new Uint8Array(64);
  let depth = 0;
  let i = skipWs(b, 0);
  for (;;) {
    // A value starts at i.
    if (i >= n) return n;
    const c = b[i]!;
    if (c === C.OpenBrace || c === C.OpenBracket) {
      const object = c === C.OpenBrace;
      i = skipWs(b, i + 1);
      if (i >= n) return n;
      if (b[i] === (object ? C.CloseBrace : C.CloseBracket)) {
        i++;
      } else {
        if (depth === stack.length) {
          const grown = new Uint8Array(stack.length * 2);
          grown.set(stack);
          stack = grown;
        }
        stack[depth++] = object ? 1 : 0;
        if (object) {
          i = member(b, i);
          if (i < 0) return ~i;
        }
        continue;
      }
    } else if (c === C.Quote) {
      i = string(b, i);
      if (i < 0) return ~i;
    } else if (c === C.Minus || (c >= C.Zero && c <= C.Nine)) {
      i = number(b, i);
      if (i < 0) return ~i;
    } else if (c === 0x74 /* t */) {
      i = literal(b, i, 'true');
      if (i < 0) return ~i;
    } else if (c === 0x66 /* f */) {
      i = literal(b, i, 'false');
      if (i < 0) return ~i;
    } else if (c === 0x6e /* n */) {
      i = literal(b, i, 'null');
      if (i < 0) return ~i;
    } else {
      return i;
    }
    // A value ended before i: close containers, or move to the next element or member.
    for (;;) {
      i = skipWs(b, i);
      if (depth === 0) {
        if (i < n) return i;
        return isUtf8(b) ? -1 : -2;
      }
      if (i >= n) return n;
      const object = stack[depth - 1] === 1;
      const d = b[i]!;
      if (d === C.Comma) {
        i = skipWs(b, i + 1);
        if (object) {
          i = member(b, i);
          if (i < 0) return ~i;
        }
        break;
      }
      if (d !== (object ? C.CloseBrace : C.CloseBracket)) return i;
      depth--;
      i++;
    }
  }
}

function skipWs(b: Uint8Array, i: number): number {
  for (;;) {
    const c = b[i];
    if (c !== C.Space && c !== C.Lf && c !== C.Cr && c !== C.Tab) return i;
    i++;
  }
}

/** `"name" :` from i; returns the position of the value after it, or ~error. */
function member(b: Uint8Array, i: number): number {
  if (i >= b.length) return ~b.length;
  if (b[i] !== C.Quote) return ~i;
  i = string(b, i);
  if (i < 0) return i;
  i = skipWs(b, i);
  if (i >= b.length) return ~b.length;
  if (b[i] !== C.Colon) return ~i;
  return skipWs(b, i + 1);
}

/** A string starting at the quote at i; returns the position after its closing quote, or ~error. */
function string(b: Uint8Array, i: number): number {
  const n = b.length;
  i++;
  for (;;) {
    while (i < n && PLAIN[b[i]!] === 1) i++;
    if (i >= n) return ~n;
    const c = b[i]!;
    if (c === C.Quote) return i + 1;
    if (c < 0x20) return ~i;
    // A backslash: an escape.
    const e = b[i + 1];
    if (e === undefined) return ~n;
    if (e === 0x75 /* u */) {
      for (let k = 2; k < 6; k++) {
        if (i + k >= n) return ~n;
        if (HEX[b[i + k]!] === 0) return ~(i + k);
      }
      i += 6;
    } else if (SIMPLE_ESCAPE[e] === 1) {
      i += 2;
    } else {
      return ~(i + 1);
    }
  }
}

/** -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? from i; the position after it, or ~error. */
function number(b: Uint8Array, i: number): number {
  if (b[i] === C.Minus) i++;
  if (b[i] === C.Zero) {
    i++;
  } else {
    const start = i;
    i = digits(b, i);
    if (i === start) return ~Math.min(i, b.length);
  }
  if (b[i] === C.Dot) {
    const start = ++i;
    i = digits(b, i);
    if (i === start) return ~Math.min(i, b.length);
  }
  if (b[i] === C.LowerE || b[i] === C.UpperE) {
    i++;
    if (b[i] === C.Plus || b[i] === C.Minus) i++;
    const start = i;
    i = digits(b, i);
    if (i === start) return ~Math.min(i, b.length);
  }
  return i;
}

function digits(b: Uint8Array, i: number): number {
  for (;;) {
    const c = b[i];
    if (c === undefined || c < C.Zero || c > C.Nine) return i;
    i++;
  }
}

function literal(b: Uint8Array, i: number, word: string): number {
  for (let k = 0; k < word.length; k++) {
    if (i + k >= b.length) return ~b.length;
    if (b[i + k] !== word.charCodeAt(k)) return ~(i + k);
  }
  return i + word.length;
}
