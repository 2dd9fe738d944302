/**
 * Per-topic JSON Schemas for record values and keys (from the topic policy file, or for values
 * from the schema registry: `valueSchemaFromRegistry`). Every record of a request is checked before
 * anything is sent; all failures are reported together, each with the record index, the JSON
 * pointer inside the value and the rule that failed.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { Ajv as Ajv07 } from 'ajv';
import addFormats from 'ajv-formats';
import { Errors, GatewayError, type ValidationIssue } from '../../core/errors.js';
import type { SchemaRegistry } from '../../core/ports.js';
import { re2Engine } from '../../formats/codecs.js';
import { ruleFor, type JsonSchema, type TopicPolicies } from '../../config/topic-policies.js';
import { describe } from './openapi.js';

export interface RecordView {
  key?: unknown;
  value?: unknown;
}

interface TopicValidators {
  key?: ValidateFunction;
  value?: ValidateFunction;
  /** The value schema lives in the registry: `value` is what was read last (refreshed by prepare). */
  source?: { subject: string; version: number | 'latest' };
}

/** How long a registry-backed schema is used before the registry is asked again (an evolved schema applies within it). */
export const REGISTRY_SCHEMA_REFRESH_MS = 1000;

export class RecordSchemas {
  private readonly ajv2020 = withFormats(new Ajv2020({ allErrors: true, strict: false }));
  private readonly ajv07 = withFormats(new Ajv07({ allErrors: true, strict: false }));
  private readonly cache = new Map<string, TopicValidators>();
  private registry?: SchemaRegistry;
  /** Registry-backed value validators: by subject, the id read and until when it is fresh. */
  private readonly fromRegistry = new Map<string, { id: number; validate: ValidateFunction; freshUntil: number }>();
  private readonly byId = new Map<number, ValidateFunction>();

  constructor(private readonly policies: TopicPolicies) {
    // Compile every configured schema now, so a broken schema stops start-up instead of a request.
    for (const rule of policies.rules) {
      if (rule.valueSchema !== undefined) this.compile(rule.valueSchema);
      if (rule.keySchema !== undefined) this.compile(rule.keySchema);
    }
  }

  /** The registry that `valueSchemaFromRegistry` rules read (without it they use their file schema, if any). */
  useRegistry(registry: SchemaRegistry): void {
    this.registry = registry;
    this.cache.clear();
  }

  /** True when the topic has a key or value schema. */
  has(topic: string): boolean {
    const v = this.validatorsFor(topic);
    return v.key !== undefined || v.value !== undefined || v.source !== undefined;
  }

  /**
   * For a topic whose value schema is in the registry: reads it (at most once per
   * REGISTRY_SCHEMA_REFRESH_MS) before check(). Undefined, at no cost, for every other topic.
   * Throws 42207 when the subject has no JSON Schema (fail closed), 50003 when the registry does
   * not answer and no earlier read can stand in.
   */
  prepare(topic: string): Promise<void> | undefined {
    const v = this.validatorsFor(topic);
    if (v.source === undefined) return undefined;
    const known = this.fromRegistry.get(v.source.subject);
    if (known !== undefined && known.freshUntil > Date.now()) {
      v.value = known.validate;
      return undefined;
    }
    return this.refresh(v, v.source);
  }

  private async refresh(v: TopicValidators, source: { subject: string; version: number | 'latest' }): Promise<void> {
    const stale = this.fromRegistry.get(source.subject);
    let schema;
    try {
      schema = await this.registry!.version(source.subject, source.version);
    } catch (err) {
      if (err instanceof GatewayError && err.errorCode >= 40400 && err.errorCode < 40500) {
        throw Errors.schemaSerialization(
          `The topic's value schema comes from the schema registry, which has none: ${err.message}`,
        );
      }
      if (stale !== undefined) {
        v.value = stale.validate; // the registry is away: the last schema read stands in
        return;
      }
      throw Errors.kafkaRetriable(
        `The schema registry did not answer for ${source.subject}: ${(err as Error).message}`,
      );
    }
    if (schema.schemaType !== 'JSON') {
      throw Errors.schemaSerialization(
        `${source.subject} version ${schema.version} is ${schema.schemaType}, not a JSON Schema.`,
      );
    }
    let validate = this.byId.get(schema.id);
    if (validate === undefined) {
      try {
        validate = this.compileFresh(JSON.parse(schema.schema) as JsonSchema);
      } catch (err) {
        throw Errors.schemaSerialization(
          `${source.subject} schema ${schema.id} cannot be compiled: ${(err as Error).message}`,
        );
      }
      if (this.byId.size > 1000) this.byId.clear();
      this.byId.set(schema.id, validate);
    }
    this.fromRegistry.set(source.subject, {
      id: schema.id,
      validate,
      freshUntil: Date.now() + REGISTRY_SCHEMA_REFRESH_MS,
    });
    v.value = validate;
  }

  /** Every schema failure of every record; empty when all records pass. */
  check(topic: string, records: readonly RecordView[]): ValidationIssue[] {
    const v = this.validatorsFor(topic);
    if (v.source !== undefined) {
      // A caller that did not await prepare() (a synchronous path) still gets fresh schemas soon,
      // and never an unchecked record: without a schema read yet, the request is refused.
      this.prepare(topic)?.catch(() => undefined);
      if (v.value === undefined) {
        throw Errors.kafkaRetriable(`The topic's value schema has not been read from the schema registry yet; retry.`);
      }
    }
    const { key, value } = v;
    const issues: ValidationIssue[] = [];
    // A null or absent key means "no key" and a null value is a tombstone: neither is checked.
    records.forEach((r, i) => {
      if (value !== undefined && r.value != null && !value(r.value))
        issues.push(...toIssues(`records[${i}].value`, value));
      if (key !== undefined && r.key != null && !key(r.key)) issues.push(...toIssues(`records[${i}].key`, key));
    });
    return issues;
  }

  private validatorsFor(topic: string): TopicValidators {
    let v = this.cache.get(topic);
    if (v === undefined) {
      const rule = ruleFor(this.policies, topic);
      const fromRegistry = rule?.valueSchemaSource !== undefined && this.registry !== undefined;
      v = {
        value: rule?.valueSchema === undefined || fromRegistry ? undefined : this.compile(rule.valueSchema),
        key: rule?.keySchema === undefined ? undefined : this.compile(rule.keySchema),
      };
      if (fromRegistry) {
        const { subject = `${topic}-value`, version } = rule.valueSchemaSource!;
        v.source = { subject, version };
      }
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(topic, v);
    }
    return v;
  }

  /** Registry schemas each get an Ajv of their own: versions of one schema may share an `$id`. */
  private compileFresh(schema: JsonSchema): ValidateFunction {
    const draft = typeof schema === 'object' ? String(schema.$schema ?? '') : '';
    // Whoever may register under the subject writes these patterns: RE2 keeps them linear-time.
    const options = { allErrors: true, strict: false, code: { regExp: re2Engine } };
    const ajv = /draft-0[4-7]/.test(draft) ? withFormats(new Ajv07(options)) : withFormats(new Ajv2020(options));
    return ajv.compile(schema);
  }

  private compile(schema: JsonSchema): ValidateFunction {
    const draft = typeof schema === 'object' ? String(schema.$schema ?? '') : '';
    // Draft-07 (and older) schemas are the common case in the wild; 2020-12 is the default.
    const ajv = /draft-0[4-7]/.test(draft) ? this.ajv07 : this.ajv2020;
    return ajv.compile(schema);
  }
}

function withFormats<T extends Ajv07 | Ajv2020>(ajv: T): T {
  addFormats.default(ajv);
  return ajv;
}

function toIssues(prefix: string, validate: ValidateFunction): ValidationIssue[] {
  return (validate.errors ?? []).map((e) => ({ path: `${prefix}${e.instancePath}`, message: describe(e) }));
}
