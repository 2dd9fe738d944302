/**
 * The registry's state, rebuilt by applying the `_schemas` topic's records in order, in the record
 * format Confluent Schema Registry and Karapace write (so either's topic can be read, and they can
 * read ours):
 *
 *   key   {"keytype":"SCHEMA","subject":"s","version":1,"magic":1}
 *   value {"subject":"s","version":1,"id":7,"schemaType":"JSON","references":[…],"schema":"…","deleted":false}
 *         (schemaType absent for AVRO, references absent when none); null = permanently deleted
 *   key   {"keytype":"CONFIG","subject":"s"|null,"magic":0}   value {"compatibilityLevel":"FULL"} | null
 *   key   {"keytype":"DELETE_SUBJECT","subject":"s","magic":0} value {"subject":"s","version":3}
 *   NOOP, MODE and other key types are skipped.
 *
 * Applying is deterministic, so every replica that read the same records holds the same state. A
 * SCHEMA record that claims an id already taken by a different schema, or a subject's version
 * already holding another id, is refused by every reader alike: it could only come from two
 * writers at once (a leader paused past its session), and the first record stands. The writer
 * checks that its own record was applied before answering (registry.ts).
 */
import type { SchemaReference, SchemaText, SchemaType } from '../core/ports.js';
import { COMPATIBILITY_LEVELS, type CompatibilityLevel } from './compatibility.js';

export interface VersionEntry {
  id: number;
  deleted: boolean;
}

export interface SchemaKey {
  keytype: 'SCHEMA';
  subject: string;
  version: number;
  magic: 1;
}

export const schemaKey = (subject: string, version: number): SchemaKey => ({
  keytype: 'SCHEMA',
  subject,
  version,
  magic: 1,
});

export const configKey = (subject: string | null) => ({ keytype: 'CONFIG', subject, magic: 0 });
export const deleteSubjectKey = (subject: string) => ({ keytype: 'DELETE_SUBJECT', subject, magic: 0 });

/** A SCHEMA record's value, in Confluent's field order, leaving out the defaults as it does. */
export function schemaValue(
  subject: string,
  version: number,
  id: number,
  s: SchemaText,
  deleted: boolean,
): Record<string, unknown> {
  const out: Record<string, unknown> = { subject, version, id };
  if (s.schemaType !== 'AVRO') out.schemaType = s.schemaType;
  if (s.references.length > 0) out.references = s.references;
  out.schema = s.schema;
  out.deleted = deleted;
  return out;
}

/** The identity of a schema's content: type, canonical text and references. */
export function contentKey(s: SchemaText): string {
  return JSON.stringify([s.schemaType, s.schema, s.references.map((r) => [r.name, r.subject, r.version])]);
}

export class RegistryState {
  readonly schemas = new Map<number, SchemaText>();
  private readonly byContent = new Map<string, number>();
  readonly subjects = new Map<string, Map<number, VersionEntry>>();
  readonly subjectLevels = new Map<string, CompatibilityLevel>();
  globalLevel: CompatibilityLevel | undefined;
  maxId = 0;

  constructor(private readonly onConflict: (message: string) => void = () => undefined) {}

  idOf(s: SchemaText): number | undefined {
    return this.byContent.get(contentKey(s));
  }

  /** Applies one record of the topic; malformed records are skipped. */
  apply(keyBytes: Buffer | null, valueBytes: Buffer | null): void {
    if (keyBytes === null) return;
    let key: Record<string, unknown>;
    let value: Record<string, unknown> | null;
    try {
      key = JSON.parse(keyBytes.toString('utf8')) as Record<string, unknown>;
      value = valueBytes === null ? null : (JSON.parse(valueBytes.toString('utf8')) as Record<string, unknown> | null);
    } catch {
      return;
    }
    if (key === null || typeof key !== 'object') return;
    switch (key.keytype) {
      case 'SCHEMA':
        return this.applySchema(key, value);
      case 'CONFIG': {
        const subject = typeof key.subject === 'string' ? key.subject : null;
        const level = value?.compatibilityLevel ?? value?.compatibility;
        const valid = (COMPATIBILITY_LEVELS as readonly unknown[]).includes(level);
        if (subject === null) this.globalLevel = valid ? (level as CompatibilityLevel) : undefined;
        else if (valid) this.subjectLevels.set(subject, level as CompatibilityLevel);
        else this.subjectLevels.delete(subject);
        return;
      }
      case 'DELETE_SUBJECT': {
        if (value === null || typeof value.subject !== 'string' || typeof value.version !== 'number') return;
        for (const [v, entry] of this.subjects.get(value.subject) ?? []) if (v <= value.version) entry.deleted = true;
        return;
      }
      default:
        return;
    }
  }

  private applySchema(key: Record<string, unknown>, value: Record<string, unknown> | null): void {
    const subject = key.subject;
    const version = key.version;
    if (typeof subject !== 'string' || typeof version !== 'number') return;
    if (value === null) {
      const versions = this.subjects.get(subject);
      const entry = versions?.get(version);
      if (entry === undefined) return;
      versions!.delete(version);
      if (versions!.size === 0) this.subjects.delete(subject);
      this.forgetIfUnused(entry.id);
      return;
    }
    const id = value.id;
    const schema = value.schema;
    if (typeof id !== 'number' || typeof schema !== 'string') return;
    const schemaType = (typeof value.schemaType === 'string' ? value.schemaType : 'AVRO') as SchemaType;
    const references = Array.isArray(value.references) ? (value.references as SchemaReference[]) : [];
    const text: SchemaText = { schemaType, schema, references };
    const existing = this.schemas.get(id);
    if (existing !== undefined && contentKey(existing) !== contentKey(text)) {
      this.onConflict(`record ${subject}/${version} claims id ${id}, which another schema holds: skipped`);
      return;
    }
    const versions = this.subjects.get(subject) ?? new Map<number, VersionEntry>();
    const previous = versions.get(version);
    // A version is not rewritten with another id (a soft delete keeps it, a permanent delete is a
    // tombstone first): a record that tries came from a second writer, and the first one stands.
    if (previous !== undefined && previous.id !== id) {
      this.onConflict(
        `record ${subject}/${version} claims a version another schema holds (id ${previous.id}): skipped`,
      );
      return;
    }
    versions.set(version, { id, deleted: value.deleted === true });
    this.subjects.set(subject, versions);
    if (existing === undefined) {
      this.schemas.set(id, text);
      const content = contentKey(text);
      if (!this.byContent.has(content)) this.byContent.set(content, id);
    }
    if (id > this.maxId) this.maxId = id;
  }

  private forgetIfUnused(id: number): void {
    for (const versions of this.subjects.values()) for (const e of versions.values()) if (e.id === id) return;
    const text = this.schemas.get(id);
    this.schemas.delete(id);
    if (text !== undefined && this.byContent.get(contentKey(text)) === id) this.byContent.delete(contentKey(text));
  }

  /** Versions of a subject, ascending; soft-deleted ones only when asked. */
  versions(subject: string, includeDeleted: boolean): number[] {
    const versions = this.subjects.get(subject);
    if (versions === undefined) return [];
    return [...versions.entries()]
      .filter(([, e]) => includeDeleted || !e.deleted)
      .map(([v]) => v)
      .sort((a, b) => a - b);
  }

  subjectNames(includeDeleted: boolean): string[] {
    return [...this.subjects.keys()].filter((s) => this.versions(s, includeDeleted).length > 0).sort();
  }

  /** Where an id is used: [{subject, version}] (live versions, or all when asked). */
  usesOf(id: number, includeDeleted: boolean): Array<{ subject: string; version: number }> {
    const out: Array<{ subject: string; version: number }> = [];
    for (const [subject, versions] of this.subjects)
      for (const [version, e] of versions)
        if (e.id === id && (includeDeleted || !e.deleted)) out.push({ subject, version });
    return out.sort((a, b) => a.subject.localeCompare(b.subject) || a.version - b.version);
  }

  /** Ids of live schemas whose references name subject/version. */
  referencedBy(subject: string, version: number): number[] {
    const ids = new Set<number>();
    for (const [, versions] of this.subjects)
      for (const [, e] of versions) {
        if (e.deleted) continue;
        const s = this.schemas.get(e.id);
        if (s?.references.some((r) => r.subject === subject && r.version === version)) ids.add(e.id);
      }
    return [...ids].sort((a, b) => a - b);
  }
}
