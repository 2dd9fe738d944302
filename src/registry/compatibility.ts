/**
 * Compatibility between schema versions. `canRead(reader, writer)` answers whether data written
 * with `writer` can be read with `reader`; the levels combine it:
 *
 *   BACKWARD: the new schema reads the latest version's data   canRead(new, latest)
 *   FORWARD:  the latest version reads the new schema's data   canRead(latest, new)
 *   FULL:     both; *_TRANSITIVE: against every live version, not only the latest.
 *
 * Avro: avsc's schema resolution (the Avro specification's rules, complete). JSON Schema and
 * protobuf: the common changes, as the README's table lists them.
 */
import protobuf from 'protobufjs';
import { enumsOf, messagesOf, type JsonSchema, type ParsedSchema } from './schemas.js';

export const COMPATIBILITY_LEVELS = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const;
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

/**
 * The reasons `candidate` is incompatible under `level` with `earlier` (oldest first, live
 * versions only); empty when compatible.
 */
export function incompatibilities(
  level: CompatibilityLevel,
  candidate: ParsedSchema,
  earlier: ParsedSchema[],
): string[] {
  if (level === 'NONE' || earlier.length === 0) return [];
  const against = level.endsWith('_TRANSITIVE') ? earlier : earlier.slice(-1);
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const problems: string[] = [];
  for (const old of against) {
    if (old.type !== candidate.type) {
      problems.push(`the schema type changed from ${old.type} to ${candidate.type}`);
      continue;
    }
    if (backward) problems.push(...canRead(candidate, old).map((p) => `backward: ${p}`));
    if (forward) problems.push(...canRead(old, candidate).map((p) => `forward: ${p}`));
  }
  return [...new Set(problems)];
}

/** Why data written with `writer` cannot be read with `reader` (empty: it can). */
export function canRead(reader: ParsedSchema, writer: ParsedSchema): string[] {
  if (reader.type === 'AVRO' && writer.type === 'AVRO') {
    try {
      reader.avro.createResolver(writer.avro);
      return [];
    } catch (err) {
      return [(err as Error).message.split('\n')[0]!];
    }
  }
  if (reader.type === 'JSON' && writer.type === 'JSON')
    return jsonCanRead(reader, writer, reader.json, writer.json, '#', 0);
  if (reader.type === 'PROTOBUF' && writer.type === 'PROTOBUF') return protobufCanRead(reader, writer);
  return ['the schema type changed'];
}

// ---------------------------------------------------------------------------------------------
// JSON Schema: does every document valid under `writer` stay valid under `reader`? Decided on the
// keywords of common evolution (type, enum/const, properties, required, additionalProperties,
// items, string and number bounds); keywords it does not model are compared for equality.

type Obj = { [key: string]: unknown };
const MAX_JSON_DEPTH = 64;
type JsonParsed = Extract<ParsedSchema, { type: 'JSON' }>;

function deref(schema: JsonSchema, ctx: JsonParsed): JsonSchema {
  let s = schema;
  for (let i = 0; i < 16 && typeof s === 'object' && typeof s.$ref === 'string'; i++) {
    const ref = s.$ref;
    if (ctx.refs.has(ref)) s = ctx.refs.get(ref)!;
    else if (ref.startsWith('#/')) {
      let node: unknown = ctx.json;
      for (const part of ref.slice(2).split('/'))
        node = (node as Obj | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
      if (node === undefined) return s;
      s = node as JsonSchema;
    } else return s;
  }
  return s;
}

function typesOf(s: Obj): Set<string> | undefined {
  if (s.type === undefined) return undefined;
  const list = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
  return new Set(list);
}

function jsonCanRead(
  rctx: JsonParsed,
  wctx: JsonParsed,
  readerIn: JsonSchema,
  writerIn: JsonSchema,
  path: string,
  depth: number,
): string[] {
  // Recursive schemas ($ref to an ancestor) are compared this deep, no deeper.
  if (depth > MAX_JSON_DEPTH) return [];
  const reader = deref(readerIn, rctx);
  const writer = deref(writerIn, wctx);
  if (reader === true || (typeof reader === 'object' && Object.keys(reader).length === 0)) return [];
  if (writer === false) return [];
  if (reader === false) return [`${path}: the reader accepts nothing`];
  const w: Obj = writer === true ? {} : writer;
  const r: Obj = reader;
  const problems: string[] = [];

  const rt = typesOf(r);
  const wt = typesOf(w);
  if (rt !== undefined) {
    if (wt === undefined) problems.push(`${path}: type restricted to ${[...rt].join('|')}`);
    else
      for (const t of wt)
        if (!rt.has(t) && !(t === 'integer' && rt.has('number')))
          problems.push(`${path}: type ${t} is no longer accepted (now ${[...rt].join('|')})`);
  }

  const rEnum = enumOf(r);
  const wEnum = enumOf(w);
  if (rEnum !== undefined) {
    if (wEnum === undefined) problems.push(`${path}: values restricted to an enum`);
    else
      for (const v of wEnum)
        if (!rEnum.some((x) => JSON.stringify(x) === JSON.stringify(v)))
          problems.push(`${path}: enum value ${JSON.stringify(v)} is no longer accepted`);
  }

  for (const [key, tighter] of [
    ['maxLength', (a: number, b: number) => a < b],
    ['maximum', (a: number, b: number) => a < b],
    ['exclusiveMaximum', (a: number, b: number) => a < b],
    ['maxItems', (a: number, b: number) => a < b],
    ['minLength', (a: number, b: number) => a > b],
    ['minimum', (a: number, b: number) => a > b],
    ['exclusiveMinimum', (a: number, b: number) => a > b],
    ['minItems', (a: number, b: number) => a > b],
  ] as const) {
    const rv = r[key];
    const wv = w[key];
    if (typeof rv !== 'number') continue;
    if (typeof wv !== 'number' || tighter(rv, wv)) problems.push(`${path}: ${key} tightened to ${rv}`);
  }
  if (typeof r.pattern === 'string' && r.pattern !== w.pattern) problems.push(`${path}: pattern changed`);

  // Objects.
  const rProps = (r.properties ?? {}) as Record<string, JsonSchema>;
  const wProps = (w.properties ?? {}) as Record<string, JsonSchema>;
  const rRequired = new Set((r.required ?? []) as string[]);
  const wRequired = new Set((w.required ?? []) as string[]);
  for (const name of rRequired)
    if (!wRequired.has(name))
      problems.push(
        name in wProps
          ? `${path}/properties/${name}: became required`
          : `${path}/properties/${name}: a new required property`,
      );
  for (const [name, rp] of Object.entries(rProps)) {
    if (name in wProps)
      problems.push(...jsonCanRead(rctx, wctx, rp, wProps[name]!, `${path}/properties/${name}`, depth + 1));
  }
  const rAdditional = r.additionalProperties as JsonSchema | undefined;
  const wAdditional = w.additionalProperties as JsonSchema | undefined;
  for (const name of Object.keys(wProps)) {
    if (name in rProps) continue;
    if (rAdditional === false)
      problems.push(`${path}/properties/${name}: removed while additional properties are closed`);
    else if (rAdditional !== undefined && rAdditional !== true)
      problems.push(...jsonCanRead(rctx, wctx, rAdditional, wProps[name]!, `${path}/properties/${name}`, depth + 1));
  }
  if (rAdditional === false && wAdditional !== false) problems.push(`${path}: additional properties closed`);

  // Arrays.
  if (r.items !== undefined && typeof r.items !== 'object' && r.items !== true && r.items !== false) {
    // tuple forms are compared for equality below
  } else if (r.items !== undefined && !Array.isArray(r.items)) {
    if (w.items === undefined || Array.isArray(w.items)) problems.push(`${path}/items: item schema added`);
    else
      problems.push(
        ...jsonCanRead(rctx, wctx, r.items as JsonSchema, w.items as JsonSchema, `${path}/items`, depth + 1),
      );
  }

  // Composition keywords and the rest: unchanged or incompatible.
  for (const key of ['oneOf', 'anyOf', 'allOf', 'not', 'if', 'then', 'else', 'const', 'prefixItems', 'format'])
    if (key in r && JSON.stringify(r[key]) !== JSON.stringify(w[key])) problems.push(`${path}: ${key} changed`);
  return problems;
}

function enumOf(s: Obj): unknown[] | undefined {
  if (Array.isArray(s.enum)) return s.enum as unknown[];
  if ('const' in s) return [s.const];
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Protobuf: wire compatibility of the messages and enums both schemas declare.

type ProtoParsed = Extract<ParsedSchema, { type: 'PROTOBUF' }>;

const WIRE_GROUPS: string[][] = [
  ['int32', 'uint32', 'int64', 'uint64', 'bool'],
  ['sint32', 'sint64'],
  ['fixed32', 'sfixed32'],
  ['fixed64', 'sfixed64'],
  ['string', 'bytes'],
];

function wireCompatible(r: protobuf.Field, w: protobuf.Field): boolean {
  const rEnum = r.resolvedType instanceof protobuf.Enum;
  const wEnum = w.resolvedType instanceof protobuf.Enum;
  const rMsg = r.resolvedType instanceof protobuf.Type;
  const wMsg = w.resolvedType instanceof protobuf.Type;
  if (rMsg || wMsg) return rMsg && wMsg && r.resolvedType!.fullName === w.resolvedType!.fullName;
  const rt = rEnum ? 'int32' : r.type;
  const wt = wEnum ? 'int32' : w.type;
  if (rt === wt) return true;
  return WIRE_GROUPS.some((g) => g.includes(rt) && g.includes(wt));
}

function protobufCanRead(reader: ProtoParsed, writer: ProtoParsed): string[] {
  const problems: string[] = [];
  const rMessages = new Map(messagesOf(reader.root).map((m) => [m.fullName, m]));
  if (reader.main !== writer.main) problems.push(`the first message changed from ${writer.main} to ${reader.main}`);
  for (const wm of messagesOf(writer.root)) {
    const rm = rMessages.get(wm.fullName);
    if (rm === undefined) {
      problems.push(`message ${wm.fullName.slice(1)} removed`);
      continue;
    }
    for (const rf of rm.fieldsArray) {
      const wf = wm.fieldsById[rf.id];
      const where = `${rm.fullName.slice(1)}.${rf.name} (${rf.id})`;
      if (wf === undefined) {
        if (rf.required) problems.push(`${where}: a new required field`);
        continue;
      }
      if (!wireCompatible(rf, wf)) problems.push(`${where}: type changed from ${wf.type} to ${rf.type}`);
      if (rf.repeated !== wf.repeated || rf.map !== wf.map) problems.push(`${where}: label changed`);
      if (rf.required && !wf.required) problems.push(`${where}: became required`);
      if ((rf.partOf?.name ?? null) !== (wf.partOf?.name ?? null) && wf.partOf !== null && wf.partOf !== undefined)
        problems.push(`${where}: moved out of oneof ${wf.partOf.name}`);
    }
  }
  const rEnums = new Map(enumsOf(reader.root).map((e) => [e.fullName, e]));
  for (const we of enumsOf(writer.root)) {
    const re = rEnums.get(we.fullName);
    if (re === undefined) continue; // a removed enum type shows as the fields using it changing type
    const readerValues = new Set(Object.values(re.values));
    for (const [name, n] of Object.entries(we.values))
      if (!readerValues.has(n)) problems.push(`enum ${we.fullName.slice(1)}: value ${name} (${n}) removed`);
  }
  return problems;
}
