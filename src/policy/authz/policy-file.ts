/**
 * Reads the authorization policy file (POLICY_FILE, YAML or JSON) into a Policy, rejecting
 * anything it does not understand so a typo never silently grants or denies:
 *
 *   rules:
 *     - who: { kind: jwt, claims: { role: device } }
 *       allow:
 *         - operations: [produce]
 *           topics: ['readings.{name}']
 */
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { ConfigError } from '../../config/env.js';
import {
  OPERATIONS,
  type Grant,
  type IdentityMatcher,
  type Operation,
  type Policy,
  type PolicyRule,
} from './policy.js';

const KINDS = ['anonymous', 'jwt', 'cert', 'apikey'] as const;

export function loadPolicyFile(file: string): Policy {
  const where = `POLICY_FILE=${file}`;
  let doc: unknown;
  try {
    doc = YAML.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${where} cannot be read: ${(err as Error).message.split('\n')[0]}`);
  }
  return { source: file, ...parsePolicy(doc, where) };
}

export function parsePolicy(doc: unknown, where = 'policy'): Policy {
  const top = object(doc, where, ['rules']);
  if (!Array.isArray(top.rules)) throw new ConfigError(`${where}: "rules" must be a list`);
  return { rules: top.rules.map((r, i) => parseRule(r, `${where}: rules[${i}]`)) };
}

function parseRule(raw: unknown, where: string): PolicyRule {
  const r = object(raw, where, ['who', 'allow', 'description']);
  if (!Array.isArray(r.allow) || r.allow.length === 0) throw new ConfigError(`${where}.allow must be a non-empty list`);
  return {
    who: parseWho(r.who ?? {}, `${where}.who`),
    allow: r.allow.map((g, j) => parseGrant(g, `${where}.allow[${j}]`)),
  };
}

function parseWho(raw: unknown, where: string): IdentityMatcher {
  const w = object(raw, where, ['id', 'kind', 'claims']);
  const who: IdentityMatcher = {};
  if (w.id !== undefined) who.id = str(w.id, `${where}.id`);
  if (w.kind !== undefined) {
    const kind = str(w.kind, `${where}.kind`);
    if (!(KINDS as readonly string[]).includes(kind))
      throw new ConfigError(`${where}.kind must be one of ${KINDS.join(', ')}`);
    who.kind = kind as IdentityMatcher['kind'];
  }
  if (w.claims !== undefined) {
    const claims = object(w.claims, `${where}.claims`);
    who.claims = Object.fromEntries(
      Object.entries(claims).map(([k, v]) => [k, strList(v, `${where}.claims.${k}`, true)]),
    );
  }
  return who;
}

function parseGrant(raw: unknown, where: string): Grant {
  const g = object(raw, where, ['operations', 'topics', 'groups']);
  const operations = strList(g.operations, `${where}.operations`, false);
  for (const op of operations)
    if (!(OPERATIONS as readonly string[]).includes(op))
      throw new ConfigError(`${where}.operations: "${op}" is not one of ${OPERATIONS.join(', ')}`);
  const grant: Grant = {
    operations: operations as Operation[],
    topics: g.topics === undefined ? [] : strList(g.topics, `${where}.topics`, false),
    groups: g.groups === undefined ? [] : strList(g.groups, `${where}.groups`, false),
  };
  if (grant.topics.length === 0 && grant.groups.length === 0)
    throw new ConfigError(`${where} names no topics and no groups`);
  return grant;
}

function object(v: unknown, where: string, keys?: string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`${where} must be a mapping`);
  for (const k of Object.keys(v))
    if (keys !== undefined && !keys.includes(k)) throw new ConfigError(`${where}: unknown key "${k}"`);
  return v as Record<string, unknown>;
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string' || v === '') throw new ConfigError(`${where} must be a non-empty string`);
  return v;
}

/** A string or a list of strings (numbers and booleans allowed for claim values). */
function strList(v: unknown, where: string, scalars: boolean): string[] {
  const list = Array.isArray(v) ? v : [v];
  return list.map((x, i) => {
    if (scalars && (typeof x === 'number' || typeof x === 'boolean')) return String(x);
    return str(x, Array.isArray(v) ? `${where}[${i}]` : where);
  });
}
