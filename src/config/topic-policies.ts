/**
 * The optional topic policy file (TOPICS_CONFIG, YAML or JSON): JSON Schemas for record values and
 * keys per topic, and topics to create at start-up. Example: config/demo/topics.yaml.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ConfigError } from './env.js';

export type JsonSchema = Record<string, unknown> | boolean;

export interface TopicRule {
  /** Exact topic name, or a regular expression when `pattern` is set. */
  name?: string;
  pattern?: RegExp;
  valueSchema?: JsonSchema;
  keySchema?: JsonSchema;
  /**
   * `valueSchemaFromRegistry`: the value schema is a JSON Schema in the schema registry, the latest
   * (or a pinned) version of `subject` (default `<topic>-value`), so it can evolve at run time.
   * A `valueSchema` file alongside seeds the subject when it has no version yet.
   */
  valueSchemaSource?: { subject?: string; version: number | 'latest' };
  /**
   * Create the topic at start-up when it does not exist; without replicationFactor the cluster's
   * default (default.replication.factor) applies.
   */
  create?: { partitions: number; replicationFactor?: number };
}

export interface TopicPolicies {
  source?: string;
  rules: TopicRule[];
}

/** The first rule naming the topic exactly, else the first pattern that matches it. */
export function ruleFor(policies: TopicPolicies, topic: string): TopicRule | undefined {
  return policies.rules.find((r) => r.name === topic) ?? policies.rules.find((r) => r.pattern?.test(topic) === true);
}

export function loadTopicPolicies(file: string | undefined): TopicPolicies {
  if (file === undefined) return { rules: [] };
  let doc: unknown;
  try {
    doc = YAML.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`TOPICS_CONFIG=${file} cannot be read: ${(err as Error).message.split('\n')[0]}`);
  }
  const where = `TOPICS_CONFIG=${file}`;
  const topics = (doc as { topics?: unknown } | null)?.topics;
  if (!Array.isArray(topics)) throw new ConfigError(`${where}: expected a "topics" list`);
  const dir = path.dirname(path.resolve(file));
  const rules = topics.map((t: unknown, i: number): TopicRule => {
    if (typeof t !== 'object' || t === null) throw new ConfigError(`${where}: topics[${i}] is not an object`);
    const o = t as Record<string, unknown>;
    const rule: TopicRule = {};
    if (typeof o.name === 'string') rule.name = o.name;
    else if (typeof o.pattern === 'string') {
      try {
        rule.pattern = new RegExp(`^(?:${o.pattern})$`);
      } catch {
        throw new ConfigError(`${where}: topics[${i}].pattern is not a valid regular expression`);
      }
    } else throw new ConfigError(`${where}: topics[${i}] needs a "name" or a "pattern"`);
    rule.valueSchema = schemaFrom(o.valueSchema, dir, `${where}: topics[${i}].valueSchema`);
    rule.keySchema = schemaFrom(o.keySchema, dir, `${where}: topics[${i}].keySchema`);
    rule.valueSchemaSource = registrySource(
      o.valueSchemaFromRegistry,
      `${where}: topics[${i}].valueSchemaFromRegistry`,
    );
    if (
      rule.valueSchemaSource?.subject === undefined &&
      rule.valueSchemaSource !== undefined &&
      rule.name === undefined
    ) {
      throw new ConfigError(`${where}: topics[${i}].valueSchemaFromRegistry needs a "subject" on a pattern rule`);
    }
    if (o.create !== undefined) {
      const c = (o.create ?? {}) as Record<string, unknown>;
      const partitions = c.partitions ?? 1;
      const replicationFactor = c.replicationFactor;
      if (
        !Number.isInteger(partitions) ||
        (partitions as number) < 1 ||
        (replicationFactor !== undefined && (!Number.isInteger(replicationFactor) || (replicationFactor as number) < 1))
      ) {
        throw new ConfigError(`${where}: topics[${i}].create needs whole-number partitions and replicationFactor`);
      }
      if (rule.name === undefined) throw new ConfigError(`${where}: topics[${i}].create needs a "name"`);
      rule.create = { partitions: partitions as number };
      if (replicationFactor !== undefined) rule.create.replicationFactor = replicationFactor as number;
    }
    return rule;
  });
  return { source: file, rules };
}

/** `latest` (or `true`), a version number, or `{subject, version}`. */
function registrySource(v: unknown, where: string): TopicRule['valueSchemaSource'] {
  if (v === undefined || v === null || v === false) return undefined;
  const o = (typeof v === 'object' ? v : { version: v === true ? 'latest' : v }) as Record<string, unknown>;
  const version = o.version ?? 'latest';
  const subject = o.subject;
  if (version !== 'latest' && (!Number.isInteger(version) || (version as number) < 1)) {
    throw new ConfigError(`${where}: version must be "latest" or a whole number from 1`);
  }
  if (subject !== undefined && (typeof subject !== 'string' || subject === '')) {
    throw new ConfigError(`${where}: subject must be a non-empty string`);
  }
  return subject === undefined
    ? { version: version as number | 'latest' }
    : { subject, version: version as number | 'latest' };
}

function schemaFrom(v: unknown, dir: string, where: string): JsonSchema | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'object' || typeof v === 'boolean') return v as JsonSchema;
  if (typeof v !== 'string') throw new ConfigError(`${where} must be a file path or an inline schema`);
  const file = path.resolve(dir, v);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as JsonSchema;
  } catch (err) {
    throw new ConfigError(`${where}: ${file} is not a readable JSON Schema (${(err as Error).message})`);
  }
}
