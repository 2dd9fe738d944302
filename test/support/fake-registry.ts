/**
 * An in-memory SchemaRegistry for the broker-free tier (test/unit): ids in registration order,
 * idempotent per subject and text, no compatibility checks. Never evidence that the real registry
 * behaves; the registry's own tests and the formats' integration tests are.
 */
import { GatewayError } from '../../src/core/errors.js';
import type { RegisteredSchema, SchemaRegistry, SchemaText } from '../../src/core/ports.js';

export class FakeRegistry implements SchemaRegistry {
  readonly schemas: SchemaText[] = [];
  readonly subjects = new Map<string, number[]>();
  /** How many calls reached the registry, by method. */
  readonly calls = { register: 0, schemaById: 0, version: 0 };

  async register(subject: string, schema: SchemaText): Promise<number> {
    this.calls.register++;
    const same = (s: SchemaText) =>
      s.schemaType === schema.schemaType &&
      s.schema === schema.schema &&
      JSON.stringify(s.references) === JSON.stringify(schema.references);
    let id = this.schemas.findIndex(same) + 1;
    if (id === 0) id = this.schemas.push({ ...schema, references: [...schema.references] });
    const versions = this.subjects.get(subject) ?? [];
    if (!versions.includes(id)) versions.push(id);
    this.subjects.set(subject, versions);
    return id;
  }

  async schemaById(id: number): Promise<SchemaText> {
    this.calls.schemaById++;
    const schema = this.schemas[id - 1];
    if (schema === undefined) throw new GatewayError(40403, `Schema ${id} not found`);
    return schema;
  }

  async version(subject: string, version: number | 'latest'): Promise<RegisteredSchema> {
    this.calls.version++;
    const versions = this.subjects.get(subject);
    if (versions === undefined) throw new GatewayError(40401, `Subject '${subject}' not found.`);
    const index = version === 'latest' ? versions.length - 1 : version - 1;
    const id = versions[index];
    if (id === undefined) throw new GatewayError(40402, `Version ${version} not found.`);
    return { ...this.schemas[id - 1]!, id, subject, version: index + 1 };
  }
}
