/**
 * The json consumer's check that stored bytes are JSON (core/json-syntax.ts) must say exactly
 * what JSON.parse says: a record it wrongly accepted would make a fetch answer invalid JSON, one
 * it wrongly refused would stop a consumer with 40801. Compared on edge cases, on generated
 * values printed with random whitespace, and on thousands of single-byte mutations of them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertJson } from '../../src/core/json-syntax.js';

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function checks(bytes: Buffer): boolean {
  try {
    assertJson(bytes);
    return true;
  } catch (err) {
    assert.ok(err instanceof SyntaxError, 'only SyntaxError is thrown');
    return false;
  }
}

function agree(text: string): void {
  assert.equal(checks(Buffer.from(text)), parses(text), `disagree on ${JSON.stringify(text).slice(0, 200)}`);
}

/** A small deterministic generator, so a failure reproduces. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const SCALARS = [
  '0',
  '-0',
  '1',
  '-12.5e+3',
  '1E-7',
  '0.25',
  'true',
  'false',
  'null',
  '""',
  '"a\\"b"',
  '"\\u00e9\\n"',
  '"é✓"',
];
const WS = ['', ' ', '\n', '\t', '\r\n', '  '];

function value(rand: () => number, depth: number): string {
  const ws = () => WS[Math.floor(rand() * WS.length)]!;
  const pick = rand();
  if (depth > 4 || pick < 0.4) return SCALARS[Math.floor(rand() * SCALARS.length)]!;
  const n = Math.floor(rand() * 4);
  const items = Array.from({ length: n }, (_, i) =>
    pick < 0.7
      ? `${ws()}"k${i}"${ws()}:${ws()}${value(rand, depth + 1)}${ws()}`
      : `${ws()}${value(rand, depth + 1)}${ws()}`,
  );
  return pick < 0.7 ? `{${items.join(',') || ws()}}` : `[${items.join(',') || ws()}]`;
}

const MUTATIONS = [
  '',
  ',',
  ':',
  '{',
  '}',
  '[',
  ']',
  '"',
  '\\',
  '0',
  '-',
  '.',
  'e',
  '+',
  'x',
  ' ',
  '\u0001',
  'u',
  'n',
  '1',
];

describe('JSON syntax check without parsing', () => {
  it('agrees with JSON.parse on edge cases', () => {
    for (const text of [
      '',
      ' ',
      '{}',
      '[]',
      '[ ]',
      '{ }',
      '1',
      ' 1 ',
      '01',
      '-',
      '-01',
      '1.',
      '.5',
      '1e',
      '1e+',
      '1.5e3',
      '-0.0e-0',
      '[1,]',
      '[,1]',
      '{"a":1,}',
      '{"a"}',
      '{"a":}',
      '{1:2}',
      "{'a':1}",
      '"abc',
      '"a\\x"',
      '"\\u12"',
      '"\\u12g4"',
      '"\\uD800"',
      '"tab\there"',
      '"nl\nhere"',
      'tru',
      'true false',
      'nul',
      'NaN',
      'Infinity',
      '[1 2]',
      '{"a":1 "b":2}',
      '\ufeff{}',
      '[[[]]]',
      '[[[]]',
      ']',
      '{"a":[1,{"b":null}],"c":"d"}',
      '1 2',
      '"\u007f"',
      '[-]',
      '[1e5,-2E-3]',
    ]) {
      agree(text);
    }
  });

  it('agrees with JSON.parse on generated values and their single-byte mutations', () => {
    const rand = random(20261201);
    let mutated = 0;
    for (let i = 0; i < 400; i++) {
      const text = value(rand, 0);
      agree(text);
      for (let m = 0; m < 25; m++, mutated++) {
        const at = Math.floor(rand() * (text.length + 1));
        const cut = rand() < 0.5 ? 1 : 0;
        const insert = MUTATIONS[Math.floor(rand() * MUTATIONS.length)]!;
        agree(text.slice(0, at) + insert + text.slice(at + cut));
      }
    }
    assert.ok(mutated >= 10_000);
  });

  it('refuses bytes that are not UTF-8 (JSON.parse of the decoded text would see U+FFFD and accept them)', () => {
    assert.equal(checks(Buffer.from([0x22, 0xff, 0x22])), false);
    assert.equal(checks(Buffer.from([0x22, 0xc3, 0x22])), false, 'a truncated sequence');
    assert.equal(checks(Buffer.from('"é"')), true);
  });

  it('takes nesting as deep as JSON.parse does, without recursion', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    assert.equal(checks(Buffer.from(deep)), parses(deep));
    assert.equal(checks(Buffer.from('['.repeat(100_000))), false);
  });

  it('refuses 115 million unclosed brackets with a SyntaxError (a JS array as the stack crashed V8 past ~113M)', () => {
    // A value like this fits a broker's message limit compressed (~110 KB gzip): a poison pill.
    assert.throws(() => assertJson(Buffer.alloc(115_000_000, 0x5b)), SyntaxError);
  });

  it('names where the text breaks', () => {
    assert.throws(() => assertJson(Buffer.from('{"a":1,}')), /at position 7/);
    assert.throws(() => assertJson(Buffer.from('{"a":')), /Unexpected end of JSON input/);
  });
});
