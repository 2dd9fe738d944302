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
  if (reader.type === 'JSON' && writer.type === 'JSON') return jsonCanRead(reader, writer);
  if (reader.type === 'PROTOBUF' && writer.type === 'PROTOBUF') return protobufCanRead(reader, writer);
  return ['the schema type changed'];
}

// ---------------------------------------------------------------------------------------------
// JSON Schema: does every document valid under `writer` stay valid under `reader`? Decided on the
// keywords of common evolution (type, enum/const, properties, required, additionalProperties,
// items, string and number bounds, pattern); every other keyword that is not an annotation must
// be the same in both (added, removed or changed: not compatible). The walk is bounded: a pair of
// schema nodes is compared once (recursive $refs), it stops at MAX_JSON_DEPTH and after
// JSON_WORK_BUDGET comparisons, and both cutoffs answer "not compatible".

type Obj = { [key: string]: unknown };
const MAX_JSON_DEPTH = 64;
const JSON_WORK_BUDGET = 20_000;
type JsonParsed = Extract<ParsedSchema, { type: 'JSON' }>;

/** Keywords compared by the rules below, and annotations that do not affect validity. */
const MODELLED = new Set([
  'type',
  'enum',
  'const',
  'maxLength',
  'maximum',
  'exclusiveMaximum',
  'maxItems',
  'minLength',
  'minimum',
  'exclusiveMinimum',
  'minItems',
  'pattern',
  'properties',
  'required',
  'additionalProperties',
  'items',
  '$ref',
]);
const ANNOTATIONS = new Set([
  'title',
  'description',
  '$comment',
  'examples',
  'default',
  'deprecated',
  'readOnly',
  'writeOnly',
  // Only reached through a $ref, which is compared at its target.
  'definitions',
  '$defs',
]);

class OverBudget extends Error {}

interface Walk {
  rctx: JsonParsed;
  wctx: JsonParsed;
  /** Pairs (reader node, writer node) already compared or being compared. */
  seen: WeakMap<object, WeakSet<object>>;
  work: number;
}

/** A node with its $refs followed: the schema, or the $ref that cannot be resolved here. */
function deref(schema: JsonSchema, doc: JsonSchema, ctx: JsonParsed): { s: JsonSchema; doc: JsonSchema } | string {
  let s = schema;
  let base = doc;
  for (let i = 0; typeof s === 'object' && typeof s.$ref === 'string'; i++) {
    const ref = s.$ref;
    if (i >= 16) return ref;
    if (ctx.refs.has(ref)) {
      s = ctx.refs.get(ref)!;
      base = s;
    } else if (ref === '#') s = base;
    else if (ref.startsWith('#/')) {
      let node: unknown = base;
      for (const part of ref.slice(2).split('/')) {
        const key = decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~');
        node =
          node !== null && typeof node === 'object' && Object.prototype.hasOwnProperty.call(node, key)
            ? (node as Obj)[key]
            : undefined;
      }
      if (typeof node !== 'boolean' && (node === null || typeof node !== 'object' || Array.isArray(node))) return ref;
      s = node as JsonSchema;
    } else return ref; // $id, $anchor, remote: not resolved locally
  }
  return { s, doc: base };
}

function typesOf(s: Obj): Set<string> | undefined {
  if (s.type === undefined) return undefined;
  const list = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
  return new Set(list);
}

function jsonCanRead(rctx: JsonParsed, wctx: JsonParsed): string[] {
  const walk: Walk = { rctx, wctx, seen: new WeakMap(), work: 0 };
  try {
    return compareJson(walk, rctx.json, rctx.json, wctx.json, wctx.json, '#', 0);
  } catch (err) {
    if (err instanceof OverBudget || err instanceof RangeError)
      return [
        `the schemas are too large or too deeply recursive to compare (${JSON_WORK_BUDGET} steps): not compatible`,
      ];
    throw err;
  }
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function compareJson(
  walk: Walk,
  readerIn: JsonSchema,
  readerDoc: JsonSchema,
  writerIn: JsonSchema,
  writerDoc: JsonSchema,
  path: string,
  depth: number,
): string[] {
  if (++walk.work > JSON_WORK_BUDGET) throw new OverBudget();
  if (depth > MAX_JSON_DEPTH) return [`${path}: nested deeper than ${MAX_JSON_DEPTH} levels: not compatible`];
  const rd = deref(readerIn, readerDoc, walk.rctx);
  if (typeof rd === 'string') return [`${path}: $ref ${rd} cannot be resolved within the schema: not compatible`];
  const wd = deref(writerIn, writerDoc, walk.wctx);
  if (typeof wd === 'string') return [`${path}: $ref ${wd} cannot be resolved within the schema: not compatible`];
  const problems: string[] = [];
  // A reader's $ref with sibling keywords (2019-09 / 2020-12) is both: the siblings count too. (A
  // writer's siblings only narrow what it writes, so leaving them out errs on the safe side.)
  if (typeof readerIn === 'object' && typeof readerIn.$ref === 'string' && Object.keys(readerIn).length > 1) {
    const { $ref: _ref, ...siblings } = readerIn;
    problems.push(...compareJson(walk, siblings, readerDoc, writerIn, writerDoc, path, depth + 1));
  }
  const reader = rd.s;
  const writer = wd.s;
  if (typeof reader === 'object' && typeof writer === 'object') {
    // Each pair of nodes once: a recursive schema's second visit adds nothing the first does not.
    let seen = walk.seen.get(reader);
    if (seen === undefined) walk.seen.set(reader, (seen = new WeakSet()));
    if (seen.has(writer)) return problems;
    seen.add(writer);
  }
  const rDoc = rd.doc;
  const wDoc = wd.doc;
  if (reader === true || (typeof reader === 'object' && Object.keys(reader).length === 0)) return problems;
  if (writer === false) return problems;
  if (reader === false) return [...problems, `${path}: the reader accepts nothing`];
  const w: Obj = writer === true ? {} : writer;
  const r: Obj = reader;

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
        if (!rEnum.some((x) => same(x, v)))
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
    if (rv === undefined) continue;
    if (typeof rv !== 'number') {
      if (!same(rv, wv)) problems.push(`${path}: ${key} changed`);
      continue;
    }
    if (typeof wv !== 'number' || tighter(rv, wv)) problems.push(`${path}: ${key} tightened to ${rv}`);
  }
  if (r.pattern !== undefined && r.pattern !== w.pattern) problems.push(`${path}: pattern changed`);

  // Objects.
  const rProps = (isObj(r.properties) ? r.properties : {}) as Record<string, JsonSchema>;
  const wProps = (isObj(w.properties) ? w.properties : {}) as Record<string, JsonSchema>;
  if (r.properties !== undefined && !isObj(r.properties)) problems.push(`${path}: properties changed`);
  const rRequired = new Set(Array.isArray(r.required) ? (r.required as string[]) : []);
  const wRequired = new Set(Array.isArray(w.required) ? (w.required as string[]) : []);
  for (const name of rRequired)
    if (!wRequired.has(name))
      problems.push(
        name in wProps
          ? `${path}/properties/${name}: became required`
          : `${path}/properties/${name}: a new required property`,
      );
  for (const [name, rp] of Object.entries(rProps)) {
    if (Object.prototype.hasOwnProperty.call(wProps, name))
      problems.push(...compareJson(walk, rp, rDoc, wProps[name]!, wDoc, `${path}/properties/${name}`, depth + 1));
  }
  const rAdditional = r.additionalProperties as JsonSchema | undefined;
  const wAdditional = w.additionalProperties as JsonSchema | undefined;
  for (const name of Object.keys(wProps)) {
    if (Object.prototype.hasOwnProperty.call(rProps, name)) continue;
    if (rAdditional === false)
      problems.push(`${path}/properties/${name}: removed while additional properties are closed`);
    else if (rAdditional !== undefined && rAdditional !== true)
      problems.push(
        ...compareJson(walk, rAdditional, rDoc, wProps[name]!, wDoc, `${path}/properties/${name}`, depth + 1),
      );
  }
  if (rAdditional !== undefined && rAdditional !== true) {
    if (wAdditional === undefined || wAdditional === true) problems.push(`${path}: additional properties closed`);
    else
      problems.push(
        ...compareJson(walk, rAdditional, rDoc, wAdditional, wDoc, `${path}/additionalProperties`, depth + 1),
      );
  }

  // Arrays: one item schema for every item is compared; the tuple forms must stay the same.
  const schemaLike = (v: unknown) => typeof v === 'boolean' || isObj(v);
  if (r.items !== undefined) {
    if (schemaLike(r.items) && schemaLike(w.items))
      problems.push(
        ...compareJson(walk, r.items as JsonSchema, rDoc, w.items as JsonSchema, wDoc, `${path}/items`, depth + 1),
      );
    else if (schemaLike(r.items) && w.items === undefined) problems.push(`${path}/items: item schema added`);
    else if (!same(r.items, w.items)) problems.push(`${path}/items: changed`);
  } else if (w.items !== undefined && !schemaLike(w.items)) problems.push(`${path}/items: changed`);

  // Everything else: unchanged, or not compatible.
  for (const key of new Set([...Object.keys(r), ...Object.keys(w)])) {
    if (MODELLED.has(key) || ANNOTATIONS.has(key)) continue;
    if (!same(r[key], w[key]))
      problems.push(`${path}: ${key} ${key in r ? (key in w ? 'changed' : 'added') : 'removed'}`);
  }
  return problems;
}

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
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
