/**
 * What a schema of each type means to the registry: whether it is valid (Avro parses with avsc,
 * JSON Schema compiles with ajv for draft-07 / 2019-09 / 2020-12, protobuf parses with
 * protobufjs), its canonical text (what "the same schema" means for idempotent registration) and
 * whether a new schema is compatible with an earlier one (./compatibility.ts).
 *
 * References are resolved by the caller (the registry) into `resolved`: the texts of every schema
 * referenced, transitively, by name.
 */
import avro from 'avsc';
import { Ajv, type AnySchema } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import protobuf from 'protobufjs';
import { RegistryErrors } from '../core/errors.js';
import { re2Engine } from '../formats/codecs.js';
import { packageMessages } from '../formats/protobuf-messages.js';
import type { SchemaReference, SchemaType } from '../core/ports.js';

export const SCHEMA_TYPES: readonly SchemaType[] = ['JSON', 'PROTOBUF', 'AVRO'];

/** A referenced schema, by the name the referring schema uses for it. */
export interface ResolvedReference {
  name: string;
  schemaType: SchemaType;
  schema: string;
}

/** A schema ready for compatibility checks. */
export type ParsedSchema =
  | { type: 'AVRO'; avro: avro.Type }
  | { type: 'JSON'; json: JsonSchema; refs: Map<string, JsonSchema> }
  | { type: 'PROTOBUF'; root: protobuf.Root; main: string };

export type JsonSchema = boolean | { [key: string]: unknown };

/** Parses and validates a schema with its resolved references; throws 42201 for an invalid one. */
export function parseSchema(schemaType: SchemaType, text: string, resolved: ResolvedReference[]): ParsedSchema {
  try {
    switch (schemaType) {
      case 'AVRO':
        return { type: 'AVRO', avro: parseAvro(text, resolved) };
      case 'JSON':
        return parseJson(text, resolved);
      case 'PROTOBUF':
        return parseProtobuf(text, resolved);
    }
  } catch (err) {
    if ((err as { errorCode?: number }).errorCode !== undefined) throw err;
    if (err instanceof RangeError) throw tooDeep();
    throw RegistryErrors.invalidSchema(firstLine((err as Error).message));
  }
}

/** A stack overflow (or a string too long) while reading a schema: its nesting is the cause. */
const tooDeep = () => RegistryErrors.invalidSchema('the schema is nested too deeply to be read');

/**
 * The text stored and compared: compact JSON for Avro and JSON Schema (so whitespace does not make
 * a new schema, as in Confluent), the text as given for protobuf. `normalize` also sorts JSON keys
 * (JSON Schema) / uses avsc's normalized form (Avro) and collapses protobuf whitespace.
 */
export function canonicalText(schemaType: SchemaType, text: string, normalize: boolean): string {
  if (schemaType === 'PROTOBUF') {
    return normalize
      ? text
          .split('\n')
          .map((l) => l.trim().replace(/\s+/g, ' '))
          .filter((l) => l !== '')
          .join('\n')
      : text;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    if (err instanceof RangeError) throw tooDeep();
    throw RegistryErrors.invalidSchema(`not JSON: ${firstLine((err as Error).message)}`);
  }
  try {
    if (normalize && schemaType === 'JSON') return JSON.stringify(sortKeys(doc));
    return JSON.stringify(doc);
  } catch (err) {
    if (err instanceof RangeError) throw tooDeep();
    throw err;
  }
}

function parseAvro(text: string, resolved: ResolvedReference[]): avro.Type {
  const registry: Record<string, avro.Type> = {};
  for (const ref of resolved) {
    if (ref.schemaType !== 'AVRO') throw new Error(`reference ${ref.name} is not an Avro schema`);
    avro.Type.forSchema(JSON.parse(ref.schema) as avro.Schema, { registry });
  }
  return avro.Type.forSchema(JSON.parse(text) as avro.Schema, { registry });
}

// Patterns compile with RE2, as the produce validators compile them (src/formats/codecs.ts): a
// schema they cannot compile (look-around, back-references) is refused here, not accepted.
const ajvOptions = { strict: false, allErrors: false, validateFormats: false, code: { regExp: re2Engine } } as const;

function ajvFor(doc: JsonSchema): Ajv {
  const draft = typeof doc === 'object' && typeof doc.$schema === 'string' ? doc.$schema : '';
  if (draft.includes('2020-12')) return new Ajv2020(ajvOptions);
  if (draft.includes('2019-09')) return new Ajv2019(ajvOptions);
  return new Ajv(ajvOptions);
}

/**
 * Ajv spends about half a millisecond compiling each `$ref` (more when they recurse): a schema
 * with more than this many, with its references, is refused rather than stalling the process.
 */
export const MAX_JSON_REFS = 1000;

/** How many `$ref`s a JSON document holds (iterative: no stack to overflow). */
function countRefs(doc: unknown): number {
  let count = 0;
  const stack: unknown[] = [doc];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) stack.push(...node);
    else
      for (const [k, v] of Object.entries(node)) {
        if (k === '$ref') count++;
        stack.push(v);
      }
  }
  return count;
}

function parseJson(text: string, resolved: ResolvedReference[]): ParsedSchema {
  const json = JSON.parse(text) as unknown;
  if (typeof json !== 'boolean' && (typeof json !== 'object' || json === null || Array.isArray(json)))
    throw new Error('a JSON Schema is an object or a boolean');
  const refCount = countRefs(json) + resolved.reduce((n, r) => n + countRefs(JSON.parse(r.schema)), 0);
  if (refCount > MAX_JSON_REFS)
    throw new Error(`the schema and its references hold ${refCount} $refs; at most ${MAX_JSON_REFS} are accepted`);
  const ajv = ajvFor(json as JsonSchema);
  const refs = new Map<string, JsonSchema>();
  for (const ref of resolved) {
    if (ref.schemaType !== 'JSON') throw new Error(`reference ${ref.name} is not a JSON Schema`);
    const doc = JSON.parse(ref.schema) as JsonSchema;
    refs.set(ref.name, doc);
    const { $id: _ignored, ...rest } = typeof doc === 'object' ? doc : {};
    ajv.addSchema(typeof doc === 'object' ? (rest as AnySchema) : doc, ref.name);
  }
  ajv.compile(json as AnySchema);
  return { type: 'JSON', json: json as JsonSchema, refs };
}

function parseProtobuf(text: string, resolved: ResolvedReference[]): ParsedSchema {
  const root = new protobuf.Root();
  const files = new Map(resolved.map((r) => [r.name, r]));
  const loaded = new Set<string>();
  const load = (source: string, name: string, parsed?: (result: protobuf.IParserResult) => void) => {
    const result = protobuf.parse(source, root, { keepCase: true, alternateCommentMode: true });
    parsed?.(result);
    for (const imp of [...(result.imports ?? []), ...(result.weakImports ?? [])]) {
      if (loaded.has(imp)) continue;
      loaded.add(imp);
      const common = imp.startsWith('google/protobuf/') ? protobuf.common.get(imp) : null;
      if (common !== null) {
        root.addJSON(common.nested ?? {});
        continue;
      }
      const ref = files.get(imp);
      if (ref === undefined) throw new Error(`${name} imports "${imp}", which is not among the schema's references`);
      if (ref.schemaType !== 'PROTOBUF') throw new Error(`reference ${imp} is not a protobuf schema`);
      load(ref.schema, imp);
    }
    return result;
  };
  // The schema's first message is the one records use by default (message index [0]): the codec's
  // choice, taken from the schema's own file before its imports add to the namespace.
  let first: protobuf.Type | undefined;
  load(text, 'the schema', (parsed) => (first = packageMessages(root, parsed.package)[0]));
  root.resolveAll();
  if (first === undefined) throw new Error('the schema declares no message');
  return { type: 'PROTOBUF', root, main: first.fullName.replace(/^\./, '') };
}

export function messagesOf(ns: protobuf.NamespaceBase): protobuf.Type[] {
  const out: protobuf.Type[] = [];
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Type) out.push(nested);
    if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) out.push(...messagesOf(nested));
  }
  return out;
}

export function enumsOf(ns: protobuf.NamespaceBase): protobuf.Enum[] {
  const out: protobuf.Enum[] = [];
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Enum) out.push(nested);
    if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) out.push(...enumsOf(nested));
  }
  return out;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  return v;
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.slice(0, 500);
}

/** Same references, in order (part of a schema's identity). */
export function sameReferences(a: SchemaReference[], b: SchemaReference[]): boolean {
  return (
    a.length === b.length &&
    a.every((r, i) => r.name === b[i]!.name && r.subject === b[i]!.subject && r.version === b[i]!.version)
  );
}
