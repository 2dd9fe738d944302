/**
 * The embedded registry's operations, in Confluent Schema Registry's terms. Reads answer from the
 * replica's state (the `_schemas` topic as read so far); writes run on the leader only, one at a
 * time, each after catching up with the topic, and answer once their records are applied.
 */
import { Errors, RegistryErrors } from '../core/errors.js';
import type { RegisteredSchema, SchemaReference, SchemaRegistry, SchemaText, SchemaType } from '../core/ports.js';
import { COMPATIBILITY_LEVELS, incompatibilities, type CompatibilityLevel } from './compatibility.js';
import type { KafkaStore } from './kafka-store.js';
import { canonicalText, parseSchema, type ParsedSchema, type ResolvedReference } from './schemas.js';
import { configKey, contentKey, deleteSubjectKey, schemaKey, schemaValue } from './state.js';

export const DEFAULT_LEVEL: CompatibilityLevel = 'BACKWARD';

export type VersionSpec = number | 'latest';

/** A registration or lookup request as clients send it. */
export interface SchemaInput {
  schema: string;
  schemaType?: SchemaType;
  references?: SchemaReference[];
}

export interface SubjectVersionBody {
  subject: string;
  version: number;
  id: number;
  schemaType?: SchemaType;
  references?: SchemaReference[];
  schema: string;
}

/** Parses a version path segment: `latest`, -1 (latest) or 1…2^31-1; else 42202. */
export function parseVersion(raw: string): VersionSpec {
  if (raw === 'latest' || raw === '-1') return 'latest';
  if (!/^\d{1,10}$/.test(raw)) throw RegistryErrors.invalidVersion(raw);
  const n = Number(raw);
  if (n < 1 || n > 2 ** 31 - 1) throw RegistryErrors.invalidVersion(raw);
  return n;
}

export function parseLevel(raw: unknown): CompatibilityLevel {
  const level = typeof raw === 'string' ? raw.toUpperCase() : '';
  if (!(COMPATIBILITY_LEVELS as readonly string[]).includes(level)) throw RegistryErrors.invalidCompatibilityLevel();
  return level as CompatibilityLevel;
}

export function bodyOf(subject: string, version: number, id: number, s: SchemaText): SubjectVersionBody {
  const out: SubjectVersionBody = { subject, version, id, schema: s.schema };
  if (s.schemaType !== 'AVRO') out.schemaType = s.schemaType;
  if (s.references.length > 0) out.references = s.references;
  // Confluent's order: subject, version, id, schemaType, references, schema.
  return {
    subject,
    version,
    id,
    ...(out.schemaType ? { schemaType: out.schemaType } : {}),
    ...(out.references ? { references: out.references } : {}),
    schema: s.schema,
  };
}

export class EmbeddedRegistry implements SchemaRegistry {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly store: KafkaStore) {}

  private get state() {
    return this.store.state;
  }

  // ------------------------------------------------------------------------------- reads

  subjects(includeDeleted: boolean): string[] {
    return this.state.subjectNames(includeDeleted);
  }

  versions(subject: string, includeDeleted: boolean): number[] {
    const versions = this.state.versions(subject, includeDeleted);
    if (versions.length === 0) throw RegistryErrors.subjectNotFound(subject);
    return versions;
  }

  /** A subject's version; `latest` is the newest live one. Throws 40401 / 40402. */
  getVersion(subject: string, spec: VersionSpec, includeDeleted = false): SubjectVersionBody {
    const all = this.state.subjects.get(subject);
    const live = this.state.versions(subject, includeDeleted);
    if (all === undefined || (live.length === 0 && !includeDeleted)) throw RegistryErrors.subjectNotFound(subject);
    const version = spec === 'latest' ? live[live.length - 1] : spec;
    const entry = version === undefined ? undefined : all.get(version);
    if (entry === undefined || (entry.deleted && !includeDeleted))
      throw RegistryErrors.versionNotFound(spec === 'latest' ? 'latest' : spec);
    return bodyOf(subject, version!, entry.id, this.state.schemas.get(entry.id)!);
  }

  getSchema(id: number): SchemaText {
    const s = this.state.schemas.get(id);
    if (s === undefined) throw RegistryErrors.schemaNotFound(id);
    return s;
  }

  idVersions(id: number, includeDeleted: boolean): Array<{ subject: string; version: number }> {
    this.getSchema(id);
    return this.state.usesOf(id, includeDeleted);
  }

  referencedBy(subject: string, spec: VersionSpec): number[] {
    const v = this.getVersion(subject, spec);
    return this.state.referencedBy(subject, v.version);
  }

  /** POST /subjects/{s}: the version of this subject holding this schema. */
  lookup(subject: string, input: SchemaInput, normalize: boolean, includeDeleted: boolean): SubjectVersionBody {
    const versions = this.state.subjects.get(subject);
    if (versions === undefined || this.state.versions(subject, includeDeleted).length === 0)
      throw RegistryErrors.subjectNotFound(subject);
    const text = this.prepare(input, normalize);
    this.parse(text);
    const key = contentKey(text);
    const found = [...versions.entries()]
      .filter(([, e]) => includeDeleted || !e.deleted)
      .sort((a, b) => b[0] - a[0])
      .find(([, e]) => contentKey(this.state.schemas.get(e.id)!) === key);
    if (found === undefined) throw RegistryErrors.schemaNotFound();
    return bodyOf(subject, found[0], found[1].id, this.state.schemas.get(found[1].id)!);
  }

  level(subject?: string): CompatibilityLevel {
    return (
      (subject === undefined ? undefined : this.state.subjectLevels.get(subject)) ??
      this.state.globalLevel ??
      DEFAULT_LEVEL
    );
  }

  config(subject: string | undefined, defaultToGlobal: boolean): CompatibilityLevel {
    if (subject === undefined) return this.level();
    const own = this.state.subjectLevels.get(subject);
    if (own !== undefined) return own;
    if (defaultToGlobal) return this.level();
    throw RegistryErrors.subjectLevelConfigNotFound(subject);
  }

  /** POST /compatibility/subjects/{s}/versions/{v}: the reasons it is incompatible (empty: compatible). */
  checkCompatibility(subject: string, spec: VersionSpec, input: SchemaInput, normalize: boolean): string[] {
    const text = this.prepare(input, normalize);
    const candidate = this.parse(text);
    const live = this.state.versions(subject, false);
    if (live.length === 0) {
      if (spec === 'latest') return [];
      throw RegistryErrors.subjectNotFound(subject);
    }
    const level = this.level(subject);
    if (spec === 'latest') return incompatibilities(level, candidate, this.parsedVersions(subject, live));
    const one = this.getVersion(subject, spec);
    const old = this.parse({
      schemaType: one.schemaType ?? 'AVRO',
      schema: one.schema,
      references: one.references ?? [],
    });
    return incompatibilities(level.replace('_TRANSITIVE', '') as CompatibilityLevel, candidate, [old]);
  }

  // ------------------------------------------------------------------------------ writes (leader)

  /** Runs writes one at a time, each on a state caught up with the topic. */
  private serialized<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      await this.store.caughtUp();
      return op();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * POST /subjects/{s}/versions: the schema's id (its existing id when already registered).
   * `firstVersionOnly` (a caller without admin on the subject's topic): a subject with live
   * versions gets no new one (40301).
   */
  registerInput(subject: string, input: SchemaInput, normalize: boolean, firstVersionOnly = false): Promise<number> {
    return this.serialized(async () => {
      const text = this.prepare(input, normalize);
      const parsed = this.parse(text);
      const existing = this.registeredId(subject, text);
      if (existing !== undefined) return existing;
      const versions = this.state.subjects.get(subject);
      const live = this.state.versions(subject, false);
      if (firstVersionOnly && live.length > 0)
        throw Errors.forbidden(
          `Not authorized to add a version to subject "${subject}": a new version of an existing subject needs admin on its topic.`,
        );
      const problems = incompatibilities(this.level(subject), parsed, this.parsedVersions(subject, live));
      if (problems.length > 0) throw RegistryErrors.incompatibleSchema(subject, problems);
      const id = this.state.idOf(text) ?? this.state.maxId + 1;
      const version = Math.max(0, ...(versions?.keys() ?? [])) + 1;
      await this.store.write([
        { key: schemaKey(subject, version), value: schemaValue(subject, version, id, text, false) },
      ]);
      // Answered only once read back applied with this id and version: with two writers at once,
      // readers keep the first record for an id or a version, and the other one's client must
      // not be told an id that is not its schema's.
      const applied = this.state.subjects.get(subject)?.get(version);
      const held = this.state.schemas.get(id);
      if (applied?.id !== id || held === undefined || contentKey(held) !== contentKey(text))
        throw RegistryErrors.store(
          `another registry writer took the id or version this registration of "${subject}" wrote (two leaders at once); nothing was registered: retry`,
        );
      return id;
    });
  }

  /** The id of this schema when a live version of the subject holds it (registration's answer). */
  registeredId(subject: string, text: SchemaText): number | undefined {
    const key = contentKey(text);
    for (const [, e] of this.state.subjects.get(subject) ?? [])
      if (!e.deleted && contentKey(this.state.schemas.get(e.id)!) === key) return e.id;
    return undefined;
  }

  /**
   * The id without a write when this replica already holds the schema under the subject (the
   * produce path registers on every request); undefined when it must go to the leader.
   */
  knownId(subject: string, input: SchemaInput): number | undefined {
    try {
      return this.registeredId(subject, this.prepare(input, false));
    } catch {
      return undefined; // invalid: the leader's registration answers why
    }
  }

  deleteSubject(subject: string, permanent: boolean): Promise<number[]> {
    return this.serialized(async () => {
      const versions = this.state.subjects.get(subject);
      if (versions === undefined || versions.size === 0) throw RegistryErrors.subjectNotFound(subject);
      const live = this.state.versions(subject, false);
      if (!permanent) {
        if (live.length === 0) throw RegistryErrors.subjectSoftDeleted(subject);
        for (const v of live)
          if (this.state.referencedBy(subject, v).length > 0) throw RegistryErrors.schemaReferenced(subject, v);
        await this.store.write([
          ...live.map((v) => {
            const id = versions.get(v)!.id;
            return {
              key: schemaKey(subject, v),
              value: schemaValue(subject, v, id, this.state.schemas.get(id)!, true),
            };
          }),
          { key: deleteSubjectKey(subject), value: { subject, version: live[live.length - 1]! } },
        ]);
        return live;
      }
      if (live.length > 0) throw RegistryErrors.subjectNotSoftDeleted(subject);
      const all = this.state.versions(subject, true);
      await this.store.write([
        ...all.map((v) => ({ key: schemaKey(subject, v), value: null })),
        ...(this.state.subjectLevels.has(subject) ? [{ key: configKey(subject), value: null }] : []),
      ]);
      return all;
    });
  }

  deleteVersion(subject: string, spec: VersionSpec, permanent: boolean): Promise<number> {
    return this.serialized(async () => {
      const versions = this.state.subjects.get(subject);
      if (versions === undefined || versions.size === 0) throw RegistryErrors.subjectNotFound(subject);
      const live = this.state.versions(subject, false);
      const version = spec === 'latest' ? (permanent ? Math.max(...versions.keys()) : live[live.length - 1]) : spec;
      const entry = version === undefined ? undefined : versions.get(version);
      if (entry === undefined || version === undefined) throw RegistryErrors.versionNotFound(spec);
      if (!permanent) {
        if (entry.deleted) throw RegistryErrors.versionSoftDeleted(subject, version);
        if (this.state.referencedBy(subject, version).length > 0)
          throw RegistryErrors.schemaReferenced(subject, version);
        const text = this.state.schemas.get(entry.id)!;
        await this.store.write([
          { key: schemaKey(subject, version), value: schemaValue(subject, version, entry.id, text, true) },
        ]);
        return version;
      }
      if (!entry.deleted) throw RegistryErrors.versionNotSoftDeleted(subject, version);
      await this.store.write([{ key: schemaKey(subject, version), value: null }]);
      return version;
    });
  }

  setConfig(subject: string | undefined, level: CompatibilityLevel): Promise<CompatibilityLevel> {
    return this.serialized(async () => {
      await this.store.write([{ key: configKey(subject ?? null), value: { compatibilityLevel: level } }]);
      return level;
    });
  }

  /** DELETE /config/{s}: the level the subject had (falls back to the global one afterwards). */
  deleteConfig(subject: string): Promise<CompatibilityLevel> {
    return this.serialized(async () => {
      const own = this.state.subjectLevels.get(subject);
      if (own === undefined) {
        if (this.state.versions(subject, true).length === 0) throw RegistryErrors.subjectNotFound(subject);
        return this.level();
      }
      await this.store.write([{ key: configKey(subject), value: null }]);
      return own;
    });
  }

  // ------------------------------------------------------------------------ SchemaRegistry port

  register(subject: string, schema: SchemaText, firstVersionOnly = false): Promise<number> {
    return this.registerInput(subject, schema, false, firstVersionOnly);
  }

  async schemaById(id: number): Promise<SchemaText> {
    return this.getSchema(id);
  }

  async version(subject: string, version: number | 'latest'): Promise<RegisteredSchema> {
    return toRegistered(this.getVersion(subject, version));
  }

  // ------------------------------------------------------------------------------- helpers

  /** Canonical text, type and references of a request's schema (42201 for a malformed one). */
  prepare(input: SchemaInput, normalize: boolean): SchemaText {
    if (typeof input.schema !== 'string' || input.schema === '')
      throw RegistryErrors.invalidSchema('"schema" must be a non-empty string');
    const schemaType = input.schemaType ?? 'AVRO';
    if (typeof schemaType !== 'string' || !['AVRO', 'JSON', 'PROTOBUF'].includes(schemaType))
      throw RegistryErrors.invalidSchema(`unknown schemaType ${String(schemaType)}; use AVRO, JSON or PROTOBUF`);
    if (input.references !== undefined && input.references !== null && !Array.isArray(input.references))
      throw RegistryErrors.invalidSchema('"references" must be a list');
    const references = (input.references ?? []).map((r) => {
      if (typeof r?.name !== 'string' || typeof r.subject !== 'string' || typeof r.version !== 'number')
        throw RegistryErrors.invalidSchema('each reference needs a name, a subject and a version');
      // Version -1 means the subject's latest version, fixed at registration.
      const version = r.version === -1 ? (this.state.versions(r.subject, false).at(-1) ?? -1) : r.version;
      return { name: r.name, subject: r.subject, version };
    });
    return { schemaType, schema: canonicalText(schemaType, input.schema, normalize), references };
  }

  /** The schema parsed with its references resolved (42201 when invalid or a reference is missing). */
  parse(text: SchemaText): ParsedSchema {
    return parseSchema(text.schemaType, text.schema, this.resolve(text.references, new Set()));
  }

  private resolve(references: SchemaReference[], seen: Set<string>): ResolvedReference[] {
    const out: ResolvedReference[] = [];
    for (const ref of references) {
      const key = `${ref.subject}/${ref.version}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const entry = this.state.subjects.get(ref.subject)?.get(ref.version);
      const text = entry === undefined ? undefined : this.state.schemas.get(entry.id);
      if (text === undefined)
        throw RegistryErrors.invalidSchema(
          `reference ${ref.name} names ${ref.subject} version ${ref.version}, which does not exist`,
        );
      // Dependencies first, so a reference's own named types are known when it is parsed.
      out.push(...this.resolve(text.references, seen), {
        name: ref.name,
        schemaType: text.schemaType,
        schema: text.schema,
      });
    }
    return out;
  }

  private parsedVersions(subject: string, versions: number[]): ParsedSchema[] {
    const entries = this.state.subjects.get(subject)!;
    return versions.map((v) => this.parse(this.state.schemas.get(entries.get(v)!.id)!));
  }
}

/** A stored version as the SchemaRegistry port returns it (AVRO when no type is stored, as Confluent). */
export function toRegistered(v: ReturnType<EmbeddedRegistry['getVersion']>): RegisteredSchema {
  return {
    subject: v.subject,
    version: v.version,
    id: v.id,
    schemaType: v.schemaType ?? 'AVRO',
    schema: v.schema,
    references: v.references ?? [],
  };
}
