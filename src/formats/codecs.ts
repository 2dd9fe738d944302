/**
 * Compiled schemas: one Codec per registry id turns a record's JSON (as a v2 client sends it)
 * into Confluent wire-format bytes, and those bytes back into JSON text for a v2 response.
 *
 *   AVRO      avsc; the JSON is Avro's JSON encoding (unions as {"type": value}), as Confluent's proxy
 *   JSON      ajv validates the value against the JSON Schema; the bytes are the compact UTF-8 JSON
 *   PROTOBUF  protobufjs; the JSON is protobuf's JSON mapping (lowerCamelCase or proto field names,
 *             enums by name or number, 64-bit integers as numbers or strings, bytes as base64);
 *             the first message of the schema is the one written (message indexes [0])
 *
 * Parse problems are SchemaParseError (text that is not a schema at all) or InvalidSchemaError
 * (parsed, but not a valid schema); data problems are DataError with one issue per rule broken.
 */
import avro from 'avsc';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Ajv as Ajv07, type ErrorObject } from 'ajv';
import type { RegExpEngine } from 'ajv/dist/types/index.js';
import { RE2JS } from 're2js';
import addFormats from 'ajv-formats';
import protobuf from 'protobufjs';
import type { ValidationIssue } from '../core/errors.js';
import { stringifyJson } from '../core/json.js';
import type { SchemaText, SchemaType } from '../core/ports.js';
import { describe } from '../policy/validation/openapi.js';
import { packageMessages } from './protobuf-messages.js';
import { WireFormatError, decodeMessageIndexes, frame } from './wire.js';
import { OutputTooLargeError, boundedJson } from './bounded-json.js';

export class SchemaParseError extends Error {}
export class InvalidSchemaError extends Error {}
/** A value that does not fit the schema; paths are JSON pointers inside the value ('' = the value). */
export class DataError extends Error {
  constructor(readonly issues: ValidationIssue[]) {
    super(issues.map((i) => `${i.path === '' ? '' : `${i.path}: `}${i.message}`).join('; '));
  }
}

export interface Codec {
  readonly id: number;
  readonly schemaType: SchemaType;
  /**
   * The schema's record name, as Confluent's RecordNameStrategy names subjects: an Avro named
   * type's full name, a JSON Schema's title ("record" without one), the first protobuf message's
   * full name. Undefined for an Avro primitive.
   */
  readonly recordName?: string;
  /**
   * The record field's framed bytes. `plain` is the value with every number a JS number (for
   * checks); `exact`, when given, is the lossless parse, written as is by JSON Schema.
   */
  encode(plain: unknown, exact?: { value: unknown }): Buffer;
  /**
   * The JSON text of the payload after the 5-byte header. Throws on bytes the schema cannot read,
   * and OutputTooLargeError as soon as the text would be longer than `maxChars`.
   */
  decode(rest: Buffer, maxChars: number): string;
}

/** A schema with the schemas its references name, in dependency order (dependencies first). */
export interface ResolvedSchema extends SchemaText {
  dependencies: Array<{ name: string; schema: SchemaText }>;
}

export function compile(id: number, schema: ResolvedSchema): Codec {
  switch (schema.schemaType) {
    case 'AVRO':
      return avroCodec(id, schema);
    case 'JSON':
      return jsonCodec(id, schema);
    case 'PROTOBUF':
      return protobufCodec(id, schema);
    default:
      throw new InvalidSchemaError(`unknown schema type ${String(schema.schemaType)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Avro

function avroCodec(id: number, schema: ResolvedSchema): Codec {
  const registry: Record<string, avro.Type> = {};
  const parse = (text: string): avro.Type => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new SchemaParseError(`not JSON: ${(err as Error).message}`);
    }
    try {
      registry.long ??= exactLong();
      return avro.Type.forSchema(json as avro.Schema, { registry, wrapUnions: true, typeHook: guardedTypes });
    } catch (err) {
      throw new InvalidSchemaError((err as Error).message);
    }
  };
  for (const dep of schema.dependencies) parse(dep.schema.schema);
  const type = parse(schema.schema);
  return {
    id,
    schemaType: 'AVRO',
    recordName: type.name,
    encode(plain) {
      let value: unknown;
      try {
        // Avro's JSON encoding, as fromString reads it (wrapped unions, bytes as code points), from
        // the parsed value itself: integers past 2^53 are bigints there, and longs keep them exact.
        value = (type as unknown as AvroCopy)._copy(plain, { coerce: 2 });
      } catch (err) {
        throw new DataError(avroIssues(type, plain, (err as Error).message));
      }
      return frame(id, type.toBuffer(value));
    },
    decode(rest, maxChars) {
      // avsc's toString is JSON.stringify of this copy (unions wrapped, bytes as strings); the copy
      // shares the decoded strings, so only the text can grow past the bytes, and it is bounded.
      const value = (type as unknown as AvroCopy)._copy(type.fromBuffer(rest), { coerce: 3 });
      return boundedJson(value, maxChars);
    },
  };
}

const MIN_LONG = -(2n ** 63n);
const MAX_LONG = 2n ** 63n - 1n;
const isLong = (v: unknown): v is bigint | number =>
  typeof v === 'bigint' ? v >= MIN_LONG && v <= MAX_LONG : Number.isSafeInteger(v);

/**
 * Avro's long over its whole 64-bit range, as BigInt (avsc's own long is a JS number and refuses
 * anything past 2^53: a Java producer's ids or timestamps in nanoseconds would not decode). JSON
 * integers of any size are taken as written (the request body is parsed losslessly); strings and
 * fractions are not longs, as in Confluent's proxy. Rendered as exact JSON integers (boundedJson).
 */
function exactLong(): avro.Type {
  return avro.types.LongType.__with({
    fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
    toBuffer: (n: bigint) => {
      const buf = Buffer.alloc(8);
      buf.writeBigInt64LE(n);
      return buf;
    },
    fromJSON: (v: unknown) => {
      if (!isLong(v)) throw new Error(`${describeValue(v)} is not a valid long`);
      return BigInt(v);
    },
    toJSON: (n: bigint) => n,
    isValid: (v: unknown) => isLong(v),
    compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
  });
}

function describeValue(v: unknown): string {
  return typeof v === 'bigint' ? v.toString() : (JSON.stringify(v) ?? 'undefined');
}

/** Items of a block read from bytes that could each take no byte at all (null, empty records). */
const MAX_EMPTY_ITEMS = 100_000;

interface AvroTap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  skipLong(): void;
}
interface AvroInternals {
  typeName: string;
  size?: number;
  fields?: Array<{ type: avro.Type }>;
  underlyingType?: avro.Type;
  itemsType?: avro.Type;
  valuesType?: avro.Type;
  _read(tap: AvroTap): unknown;
}
const internals = (t: avro.Type) => t as unknown as AvroInternals;
/** avsc's deep copy; coerce 3 is the Avro JSON encoding Type#toString prints. */
interface AvroCopy {
  _copy(value: unknown, opts: { coerce: number }): unknown;
}

/**
 * Bytes from Kafka are untrusted: avsc reads an array's or map's block count and loops that many
 * times (a 10-byte record claiming 4 billion items holds the event loop). Arrays and maps are
 * built as these subclasses (avsc's typeHook), which refuse a block count larger than the bytes
 * left (each item takes at least a byte; a map entry has its key) or, for array items that may
 * take none (null, empty records), larger than MAX_EMPTY_ITEMS in all.
 */
const ArrayBase = avro.types.ArrayType as unknown as new (schema: unknown, opts: unknown) => avro.Type;
const MapBase = avro.types.MapType as unknown as new (schema: unknown, opts: unknown) => avro.Type;
const emptyItems = new WeakMap<avro.Type, boolean>();

function checkBlock(type: avro.Type, tap: AvroTap, n: number, readSoFar: number): void {
  const t = internals(type);
  let empty = false;
  if (t.itemsType !== undefined) {
    empty = emptyItems.get(type) ?? mayTakeNoBytes(t.itemsType, new Set());
    emptyItems.set(type, empty);
  }
  const limit = empty ? MAX_EMPTY_ITEMS - readSoFar : tap.buf.length - tap.pos;
  if (n > limit) throw new Error(`an Avro ${t.typeName} block claims ${n} items, more than its bytes can hold`);
}

/** Reads blocks as avsc does, each count checked first. */
function readBlocks(type: avro.Type, tap: AvroTap, item: (tap: AvroTap) => void): void {
  let read = 0;
  let n: number;
  while ((n = tap.readLong())) {
    if (n < 0) {
      n = -n;
      tap.skipLong(); // the block's size in bytes
    }
    checkBlock(type, tap, n, read);
    read += n;
    while (n--) item(tap);
  }
}

class GuardedArrayType extends ArrayBase {
  _read(tap: AvroTap): unknown[] {
    const items = internals(this).itemsType!;
    const out: unknown[] = [];
    readBlocks(this, tap, (t) => out.push(internals(items)._read(t)));
    return out;
  }
}

class GuardedMapType extends MapBase {
  _read(tap: AvroTap & { readString(): string }): Record<string, unknown> {
    const values = internals(this).valuesType!;
    const out: Record<string, unknown> = {};
    readBlocks(this, tap, (t) => {
      const key = (t as AvroTap & { readString(): string }).readString();
      out[key] = internals(values)._read(t);
    });
    return out;
  }
}

function guardedTypes(schema: unknown, opts: unknown): avro.Type | undefined {
  if (typeof schema !== 'object' || schema === null || 'logicalType' in schema) return undefined;
  const type = (schema as { type?: unknown }).type;
  if (type === 'array') return new GuardedArrayType(schema, opts);
  if (type === 'map') return new GuardedMapType(schema, opts);
  // `{"type": "long"}` is built afresh, not looked up: it too is the exact long (registered first).
  if (type === 'long') return (opts as { registry: Record<string, avro.Type> }).registry.long;
  return undefined;
}

function mayTakeNoBytes(t: avro.Type, seen: Set<avro.Type>): boolean {
  const o = internals(t);
  if (seen.has(t)) return false;
  seen.add(t);
  if (o.typeName === 'null') return true;
  if (o.typeName === 'fixed') return o.size === 0;
  if (o.typeName === 'record' || o.typeName === 'error')
    return (o.fields ?? []).every((f) => mayTakeNoBytes(f.type, seen));
  if (o.underlyingType !== undefined) return mayTakeNoBytes(o.underlyingType, seen);
  return false;
}

/** Where an Avro value breaks its schema, as precisely as avsc can say. */
function avroIssues(type: avro.Type, value: unknown, fallback: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  try {
    type.isValid(value, {
      errorHook: (path: string[], v: unknown, t: avro.Type) => {
        issues.push({
          path: path.map((p) => `/${p}`).join(''),
          message: `${describeValue(v)} is not a valid ${avroTypeName(t)}`,
        });
      },
    });
  } catch {
    // isValid reads in-memory values; a JSON-encoded one (bytes, wrapped unions) may trip it.
  }
  return issues.length > 0 && issues.length <= 100 ? issues : [{ path: '', message: fallback }];
}

function avroTypeName(t: avro.Type): string {
  const name = (t as { name?: string }).name;
  return name ?? (t as { typeName?: string }).typeName?.replace(/^abstract:/, '') ?? 'value';
}

// ---------------------------------------------------------------------------------------------
// JSON Schema

function jsonCodec(id: number, schema: ResolvedSchema): Codec {
  const parse = (text: string): Record<string, unknown> | boolean => {
    try {
      const json = JSON.parse(text) as unknown;
      if (typeof json === 'boolean' || (typeof json === 'object' && json !== null && !Array.isArray(json))) {
        return json as Record<string, unknown> | boolean;
      }
    } catch (err) {
      throw new SchemaParseError(`not JSON: ${(err as Error).message}`);
    }
    throw new InvalidSchemaError('a JSON Schema is an object or a boolean');
  };
  const root = parse(schema.schema);
  const draft = typeof root === 'object' ? String(root.$schema ?? '') : '';
  // Draft-07 and older are the common case in the wild (and Confluent's default); 2020-12 otherwise.
  // A client's schema runs its `pattern`s on its own values: RE2 keeps that linear-time.
  const options = { allErrors: true, strict: false, code: { regExp: re2Engine } };
  const ajv = /draft-0[4-7]/.test(draft) ? new Ajv07(options) : new Ajv2020(options);
  addFormats.default(ajv);
  let validate: ReturnType<Ajv07['compile']>;
  try {
    for (const dep of schema.dependencies) ajv.addSchema(parse(dep.schema.schema) as object, dep.name);
    validate = ajv.compile(root);
  } catch (err) {
    if (err instanceof SchemaParseError) throw err;
    throw new InvalidSchemaError((err as Error).message);
  }
  return {
    id,
    schemaType: 'JSON',
    recordName: typeof root === 'object' && typeof root.title === 'string' ? root.title : 'record',
    encode(plain, exact) {
      // JSON Schema compares numbers: an integer past 2^53 (a bigint in the plain view) is checked
      // as the nearest double (still an integer); the exact text is what is stored.
      if (!validate(exact === undefined ? plain : asNumbers(plain))) {
        throw new DataError(
          (validate.errors ?? []).map((e: ErrorObject) => ({ path: e.instancePath, message: describe(e) })),
        );
      }
      const text = exact === undefined ? JSON.stringify(plain) : stringifyJson(exact.value, true);
      return frame(id, Buffer.from(text, 'utf8'));
    },
    decode(rest, maxChars) {
      // A UTF-8 byte is at most one character: the cap can only be passed by a huge record.
      if (rest.length > maxChars) throw new OutputTooLargeError(maxChars);
      const text = rest.toString('utf8');
      JSON.parse(text); // validates only: the stored text is rendered as is (numbers exact)
      return text;
    },
  };
}

function asNumbers(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(asNumbers);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = asNumbers(v);
    return out;
  }
  return value;
}

/**
 * JSON Schema's `pattern` and `patternProperties` with RE2 (re2js): linear-time, so no schema can
 * make a record's check take exponential time. Look-around and back-references are not supported.
 */
const MAX_PATTERN_PROGRAM = 2_000;

export const re2Engine: RegExpEngine = Object.assign(
  (pattern: string) => {
    const re = RE2JS.compile(pattern);
    // Linear in the input, but also in the program: a huge counted repetition is refused too.
    if (re.programSize() > MAX_PATTERN_PROGRAM) {
      throw new Error(
        `pattern ${JSON.stringify(pattern.slice(0, 80))} is too complex for RE2 (${re.programSize()} instructions; at most ${MAX_PATTERN_PROGRAM})`,
      );
    }
    // toString: Ajv keys its compiled patterns by it (an object's default would make them all one).
    return { test: (s: string) => re.matcher(s).find(), toString: () => `re2:${pattern}` };
  },
  { code: 're2js' },
);

// ---------------------------------------------------------------------------------------------
// Protobuf

function protobufCodec(id: number, schema: ResolvedSchema): Codec {
  const root = new protobuf.Root();
  const loadedCommon = new Set<string>();
  const parse = (text: string): protobuf.IParserResult => {
    let parsed: protobuf.IParserResult;
    try {
      parsed = protobuf.parse(text, root, { keepCase: false, alternateCommentMode: true });
    } catch (err) {
      throw new SchemaParseError((err as Error).message);
    }
    for (const file of [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])]) {
      const common = protobuf.common.get(file);
      if (common !== null && !loadedCommon.has(file)) {
        loadedCommon.add(file);
        root.addJSON(common.nested as Record<string, protobuf.AnyNestedObject>);
      }
    }
    return parsed;
  };
  // The schema's own file first: its messages, in the order written, are what message indexes count.
  const main = parse(schema.schema);
  const messages = packageMessages(root, main.package);
  for (const dep of schema.dependencies) parse(dep.schema.schema);
  try {
    root.resolveAll();
  } catch (err) {
    throw new InvalidSchemaError((err as Error).message);
  }
  const first = messages[0];
  if (first === undefined) throw new InvalidSchemaError('the schema defines no message');

  return {
    id,
    schemaType: 'PROTOBUF',
    recordName: first.fullName.replace(/^\./, ''),
    encode(plain) {
      const issues: ValidationIssue[] = [];
      const normalized = fromJson(first, plain, '', issues);
      if (issues.length > 0) throw new DataError(issues.slice(0, 100));
      const message = first.fromObject(normalized as Record<string, unknown>);
      return frame(id, Buffer.from(first.encode(message).finish()), [0]);
    },
    decode(rest, maxChars) {
      const { indexes, payload } = decodeMessageIndexes(rest);
      let type: protobuf.Type | undefined = messages[indexes[0]!];
      for (const i of indexes.slice(1)) type = type?.nestedArray.filter(isType)[i];
      if (type === undefined) throw new WireFormatError(`no message at indexes [${indexes.join(',')}] in the schema`);
      const message = type.decode(payload);
      // Every default is rendered: a repeated empty message of a wide type costs two bytes each
      // and renders all its fields. That estimate comes first, so toObject never builds a bomb.
      if (protobufEstimate(type, message, maxChars) > maxChars) throw new OutputTooLargeError(maxChars);
      return boundedJson(
        type.toObject(message, { longs: String, enums: String, bytes: String, defaults: true, json: true }),
        maxChars,
      );
    },
  };
}

/** Characters of a message with every field at its default, per type. */
const defaultsSize = new WeakMap<protobuf.Type, number>();

function defaultsOf(type: protobuf.Type): number {
  let size = defaultsSize.get(type);
  if (size === undefined) {
    size = 2;
    for (const f of type.fieldsArray) {
      f.resolve();
      if (f.partOf !== null) continue; // a oneof's members are rendered only when set
      const enumDefault = f.resolvedType instanceof protobuf.Enum ? f.resolvedType.valuesById[0] : undefined;
      size += f.name.length + 4 + (f.repeated || f.map ? 2 : enumDefault !== undefined ? enumDefault.length + 2 : 1);
    }
    defaultsSize.set(type, size);
  }
  return size;
}

/**
 * A lower bound of the JSON a decoded message renders to (toObject with defaults): each message
 * costs its defaults, each enum value its name. Stops counting once past `limit`.
 */
function protobufEstimate(type: protobuf.Type, message: protobuf.Message, limit: number): number {
  let total = 0;
  const visit = (t: protobuf.Type, m: Record<string, unknown>): void => {
    total += defaultsOf(t);
    for (const f of t.fieldsArray) {
      if (total > limit) return;
      const v = m[f.name];
      if (v === undefined || v === null) continue;
      const items: unknown[] = Array.isArray(v) ? v : f.map ? Object.values(v as object) : [v];
      const resolved = f.resolvedType;
      if (resolved instanceof protobuf.Type) {
        for (const item of items) if (total <= limit) visit(resolved, item as Record<string, unknown>);
      } else if (resolved instanceof protobuf.Enum) {
        for (const item of items) total += (resolved.valuesById[item as number]?.length ?? 12) + 3;
      } else {
        total += items.length * 2;
      }
    }
  };
  visit(type, message as unknown as Record<string, unknown>);
  return total;
}

function isType(o: protobuf.ReflectionObject): o is protobuf.Type {
  return o instanceof protobuf.Type;
}

const INT32 = new Set(['int32', 'sint32', 'sfixed32']);
const UINT32 = new Set(['uint32', 'fixed32']);
const INT64 = new Set(['int64', 'sint64', 'sfixed64', 'uint64', 'fixed64']);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$|^[A-Za-z0-9_-]*$/;

/**
 * Protobuf's JSON mapping, strictly (as protobuf's JsonFormat parser): unknown fields, wrong types,
 * out-of-range integers and unknown enum names are issues; the result is what Type.fromObject takes.
 */
function fromJson(type: protobuf.Type, value: unknown, path: string, issues: ValidationIssue[]): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    issues.push({ path, message: `must be an object (message ${type.name})` });
    return undefined;
  }
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const field = type.fields[key] ?? type.fieldsArray.find((f) => snakeToCamel(key) === f.name);
    const at = `${path}/${key}`;
    if (field === undefined) {
      issues.push({ path: at, message: `unknown field of message ${type.name}` });
      continue;
    }
    if (v === null) continue; // null means the field's default, as in protobuf's JSON mapping
    field.resolve();
    if (field.map) {
      if (typeof v !== 'object' || Array.isArray(v)) {
        issues.push({ path: at, message: 'must be an object (a map)' });
        continue;
      }
      const map: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v as object)) map[k] = fieldValue(field, item, `${at}/${k}`, issues);
      out[field.name] = map;
    } else if (field.repeated) {
      if (!Array.isArray(v)) {
        issues.push({ path: at, message: 'must be an array (a repeated field)' });
        continue;
      }
      out[field.name] = v.map((item, i) => fieldValue(field, item, `${at}/${i}`, issues));
    } else {
      out[field.name] = fieldValue(field, v, at, issues);
    }
  }
  return out;
}

function fieldValue(field: protobuf.Field, v: unknown, path: string, issues: ValidationIssue[]): unknown {
  const fail = (message: string) => {
    issues.push({ path, message });
    return undefined;
  };
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return fromJson(resolved, v, path, issues);
  if (resolved instanceof protobuf.Enum) {
    if (typeof v === 'string' && v in resolved.values) return v;
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    return fail(`must be one of ${Object.keys(resolved.values).join(', ')} (enum ${resolved.name})`);
  }
  const t = field.type;
  if (t === 'string') return typeof v === 'string' ? v : fail('must be a string');
  if (t === 'bool') return typeof v === 'boolean' ? v : fail('must be a boolean');
  if (t === 'bytes') return typeof v === 'string' && BASE64.test(v) ? v : fail('must be a base64 string');
  if (t === 'double' || t === 'float') {
    if (typeof v === 'number') return v;
    if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return Number(v);
    return fail(`must be a number (${t})`);
  }
  // An integer past 2^53 is a bigint in the plain view: its digits, exactly.
  const n =
    typeof v === 'bigint'
      ? v.toString()
      : typeof v === 'string' && /^-?\d+$/.test(v)
        ? v
        : typeof v === 'number' && Number.isInteger(v)
          ? v
          : null;
  if (n === null) return fail(`must be an integer (${t})`);
  if (INT64.has(t)) {
    const big = BigInt(n);
    const unsigned = t === 'uint64' || t === 'fixed64';
    const ok = unsigned ? big >= 0n && big < 1n << 64n : big >= -(1n << 63n) && big < 1n << 63n;
    return ok ? String(n) : fail(`is out of range for ${t}`);
  }
  const num = Number(n);
  if (INT32.has(t) && num >= -(2 ** 31) && num < 2 ** 31) return num;
  if (UINT32.has(t) && num >= 0 && num < 2 ** 32) return num;
  return fail(`is out of range for ${t}`);
}

function snakeToCamel(s: string): string {
  return s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
