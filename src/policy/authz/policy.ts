/**
 * Authorization decisions: who may produce, consume, describe or administer which topics and
 * consumer groups. Rules only allow; anything no rule allows is refused (default deny).
 *
 * As in Kafka's ACLs, produce and consume on a topic imply describe on it, and admin implies
 * every operation on the resources it names.
 */
import type { Identity } from '../identity.js';

export const OPERATIONS = ['produce', 'consume', 'describe', 'admin'] as const;
export type Operation = (typeof OPERATIONS)[number];

export type Resource = { topic: string } | { group: string };

/** Conditions on the caller; all given ones must hold. An empty matcher matches every caller. */
export interface IdentityMatcher {
  /** Glob on the full principal, e.g. `jwt:device-*`. */
  id?: string;
  kind?: Identity['kind'];
  /** Claim name → accepted value(s). Array claims match when they contain a value; a string
   *  claim also matches a value among its space-separated words (OAuth `scope`). */
  claims?: Record<string, string[]>;
}

export interface Grant {
  operations: Operation[];
  /** Topic globs; `{name}`, `{id}` and `{claims.X}` are replaced by the caller's values. */
  topics: string[];
  groups: string[];
}

export interface PolicyRule {
  who: IdentityMatcher;
  allow: Grant[];
}

export interface Policy {
  source?: string;
  rules: PolicyRule[];
}

const IMPLIED: Record<Operation, Operation[]> = {
  produce: ['produce', 'admin'],
  consume: ['consume', 'admin'],
  describe: ['describe', 'produce', 'consume', 'admin'],
  admin: ['admin'],
};

export function may(policy: Policy, identity: Identity, operation: Operation, resource: Resource): boolean {
  const granting = IMPLIED[operation];
  for (const rule of policy.rules) {
    if (!matchesIdentity(rule.who, identity)) continue;
    for (const grant of rule.allow) {
      if (!grant.operations.some((op) => granting.includes(op))) continue;
      const [patterns, name] = 'topic' in resource ? [grant.topics, resource.topic] : [grant.groups, resource.group];
      if (patterns.some((p) => globMatches(expand(p, identity), name))) return true;
    }
  }
  return false;
}

/** The part of the principal after its kind, e.g. `device-42` for `jwt:device-42`. */
export function nameOf(identity: Identity): string {
  const i = identity.id.indexOf(':');
  return i < 0 ? identity.id : identity.id.slice(i + 1);
}

function matchesIdentity(who: IdentityMatcher, identity: Identity): boolean {
  if (who.kind !== undefined && who.kind !== identity.kind) return false;
  if (who.id !== undefined && !globMatches([{ glob: who.id }], identity.id)) return false;
  for (const [claim, accepted] of Object.entries(who.claims ?? {})) {
    const values = claimValues(identity.claims?.[claim]);
    if (!accepted.some((a) => values.includes(a))) return false;
  }
  return true;
}

function claimValues(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x) => typeof x === 'string' || typeof x === 'number').map(String);
  if (typeof v === 'string') return [v, ...v.split(/\s+/).filter(Boolean)];
  if (typeof v === 'number' || typeof v === 'boolean') return [String(v)];
  return [];
}

/** A pattern after substitution: globs (from the policy) interleaved with literals (caller values). */
type Piece = { glob: string } | { literal: string };

/**
 * Replaces `{name}`, `{id}`, `{claims.X}`; undefined (the pattern matches nothing) when a value is
 * missing, or when a value containing the separator `.` stands in a pattern with any glob:
 * `tenant.{t}.*` must not let tenant `a.b` reach into `tenant.a.…`, nor `x.**.{t}` let tenant `c`
 * into tenant `b.c`'s space.
 */
const PLACEHOLDER = /\{(name|id|claims\.[^}]+)\}/g;

function expand(pattern: string, identity: Identity): Piece[] | undefined {
  const pieces: Piece[] = [];
  let last = 0;
  const globbing = /[*?]/.test(pattern.replace(PLACEHOLDER, ''));
  for (const m of pattern.matchAll(PLACEHOLDER)) {
    pieces.push({ glob: pattern.slice(last, m.index) });
    const key = m[1]!;
    let value: unknown;
    if (key === 'name') value = nameOf(identity);
    else if (key === 'id') value = identity.id;
    else value = identity.claims?.[key.slice('claims.'.length)];
    if (typeof value !== 'string' && typeof value !== 'number') return undefined;
    const text = String(value);
    if (text === '') return undefined;
    if (text.includes('.') && globbing) return undefined;
    pieces.push({ literal: text });
    last = m.index + m[0].length;
  }
  pieces.push({ glob: pattern.slice(last) });
  return pieces;
}

const cache = new Map<string, RegExp>();

/**
 * Glob semantics, on dot-separated names: `*` is any run of characters within one segment, `?`
 * one character other than `.`, `**` anything (across segments). A pattern that is only `*` means
 * every name, as in Kafka's ACLs.
 */
function globSource(glob: string, whole: boolean): string {
  if (whole && glob === '*') return '.*';
  return glob
    .split('**')
    .map((part) =>
      part
        .split('*')
        .map((s) => s.split('?').map(escape).join('[^.]'))
        .join('[^.]*'),
    )
    .join('.*');
}

function globMatches(pieces: Piece[] | undefined, name: string): boolean {
  if (pieces === undefined) return false;
  const whole = pieces.length === 1;
  const source = pieces.map((p) => ('literal' in p ? escape(p.literal) : globSource(p.glob, whole))).join('');
  let re = cache.get(source);
  if (re === undefined) {
    re = new RegExp(`^${source}$`, 's');
    if (cache.size > 10_000) cache.clear(); // substituted names vary per caller; keep the cache bounded
    cache.set(source, re);
  }
  return re.test(name);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
