/**
 * Per-topic JSON Schemas for record values and keys (from the topic policy file). Every record of
 * a request is checked before anything is sent; all failures are reported together, each with the
 * record index, the JSON pointer inside the value and the rule that failed.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { Ajv as Ajv07 } from 'ajv';
import addFormats from 'ajv-formats';
import type { ValidationIssue } from '../../core/errors.js';
import { ruleFor, type JsonSchema, type TopicPolicies } from '../../config/topic-policies.js';
import { describe } from './openapi.js';

export interface RecordView {
  key?: unknown;
  value?: unknown;
}

interface TopicValidators {
  key?: ValidateFunction;
  value?: ValidateFunction;
}

export class RecordSchemas {
  private readonly ajv2020 = withFormats(new Ajv2020({ allErrors: true, strict: false }));
  private readonly ajv07 = withFormats(new Ajv07({ allErrors: true, strict: false }));
  private readonly cache = new Map<string, TopicValidators>();

  constructor(private readonly policies: TopicPolicies) {
    // Compile every configured schema now, so a broken schema stops start-up instead of a request.
    for (const rule of policies.rules) {
      if (rule.valueSchema !== undefined) this.compile(rule.valueSchema);
      if (rule.keySchema !== undefined) this.compile(rule.keySchema);
    }
  }

  /** True when the topic has a key or value schema. */
  has(topic: string): boolean {
    const v = this.validatorsFor(topic);
    return v.key !== undefined || v.value !== undefined;
  }

  /** Every schema failure of every record; empty when all records pass. */
  check(topic: string, records: readonly RecordView[]): ValidationIssue[] {
    const { key, value } = this.validatorsFor(topic);
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
      v = {
        value: rule?.valueSchema === undefined ? undefined : this.compile(rule.valueSchema),
        key: rule?.keySchema === undefined ? undefined : this.compile(rule.keySchema),
      };
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(topic, v);
    }
    return v;
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
