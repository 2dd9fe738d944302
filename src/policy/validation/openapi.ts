/**
 * Request validation derived from openapi.yaml, the single source of truth: every operation's
 * path/query/header parameters and request bodies (per media type) are compiled into ajv
 * validators once, at start-up. Route handlers name their operationId; nothing is written twice.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';
import { Errors, type ValidationIssue } from '../../core/errors.js';

type Json = Record<string, unknown>;
type Location = 'path' | 'query' | 'header';

interface ParamSpec {
  name: string;
  in: Location;
  required: boolean;
  validate: ValidateFunction;
  /** Confluent error code for a failing value (x-error-code), 400 by default. */
  errorCode: number;
}

interface OperationValidators {
  params: ParamSpec[];
  bodies: Map<string, ValidateFunction>;
}

export const openapiPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../openapi.yaml');

export class OpenApiValidator {
  private readonly operations = new Map<string, OperationValidators>();
  readonly document: Json;

  constructor(documentText: string = readFileSync(openapiPath, 'utf8')) {
    this.document = YAML.parse(documentText) as Json;
    // Parameters arrive as strings: coerce them to the declared types. Bodies are never coerced.
    const paramAjv = newAjv({ coerceTypes: true });
    const bodyAjv = newAjv({ coerceTypes: false });
    paramAjv.addSchema(this.document, 'openapi');
    bodyAjv.addSchema(this.document, 'openapi');

    const paths = (this.document.paths ?? {}) as Record<string, Json>;
    for (const pathItem of Object.values(paths)) {
      const shared = (pathItem.parameters ?? []) as Json[];
      for (const [method, op] of Object.entries(pathItem)) {
        if (method === 'parameters' || typeof op !== 'object' || op === null) continue;
        const operation = op as Json;
        const id = operation.operationId as string | undefined;
        if (id === undefined) continue;
        const params = [...shared, ...((operation.parameters ?? []) as Json[])].map((p) =>
          this.compileParam(paramAjv, this.deref(p)),
        );
        const bodies = new Map<string, ValidateFunction>();
        if (operation.requestBody !== undefined) {
          const rb = this.deref(operation.requestBody as Json);
          for (const [mediaType, media] of Object.entries((rb.content ?? {}) as Record<string, Json>)) {
            if (media.schema !== undefined) bodies.set(mediaType, bodyAjv.compile(inDocument(media.schema)));
          }
        }
        this.operations.set(id, { params, bodies });
      }
    }
  }

  has(operationId: string): boolean {
    return this.operations.has(operationId);
  }

  /**
   * Validates (and coerces in place) the parameters of a request. Throws the GatewayError named
   * by the first failing parameter's x-error-code.
   */
  validateParams(
    operationId: string,
    values: { path: Record<string, unknown>; query: Record<string, unknown>; header: Record<string, unknown> },
  ): void {
    const op = this.operation(operationId);
    for (const p of op.params) {
      const bag = values[p.in];
      const key = p.in === 'header' ? p.name.toLowerCase() : p.name;
      const raw = bag[key];
      if (raw === undefined) {
        if (p.required) throw Errors.invalidParameter(p.errorCode, `Missing ${p.in} parameter "${p.name}".`);
        continue;
      }
      const holder = { v: raw };
      if (!p.validate(holder)) {
        const issue = `${p.in} parameter "${p.name}" ${describe(p.validate.errors?.[0])}`;
        throw Errors.invalidParameter(p.errorCode, p.errorCode === 404 ? 'HTTP 404 Not Found' : `Invalid ${issue}.`, [
          { path: `${p.in}.${p.name}`, message: describe(p.validate.errors?.[0]) },
        ]);
      }
      bag[key] = holder.v;
    }
  }

  /**
   * Validates a request body for an operation and media type. Unknown fields and wrong JSON
   * types answer 400 (as Confluent's Jackson does); a missing or empty required list answers 422.
   */
  validateBody(operationId: string, mediaType: string, body: unknown): void {
    const validate = this.operation(operationId).bodies.get(mediaType);
    if (validate === undefined) throw new Error(`openapi.yaml has no ${mediaType} body for ${operationId}`);
    if (validate(body)) return;
    const errors = validate.errors ?? [];
    const issues = toIssues(errors);
    const unprocessable = errors.every((e) => e.keyword === 'required' || e.keyword === 'minItems');
    const summary = issues
      .slice(0, 5)
      .map((i) => `${i.path}: ${i.message}`)
      .join('; ');
    throw Errors.invalidBody(unprocessable ? 422 : 400, summary, issues);
  }

  private operation(id: string): OperationValidators {
    const op = this.operations.get(id);
    if (op === undefined) throw new Error(`openapi.yaml has no operation ${id}`);
    return op;
  }

  private compileParam(ajv: Ajv2020, p: Json): ParamSpec {
    const schema = { type: 'object', properties: { v: inDocument(p.schema ?? {}) } };
    return {
      name: p.name as string,
      in: p.in as Location,
      required: p.required === true,
      validate: ajv.compile(schema),
      errorCode: typeof p['x-error-code'] === 'number' ? p['x-error-code'] : 400,
    };
  }

  private deref(node: Json): Json {
    let n = node;
    while (typeof n.$ref === 'string') {
      const parts = (n.$ref as string).replace(/^#\//, '').split('/');
      n = parts.reduce<Json>((acc, k) => acc[k] as Json, this.document);
    }
    return n;
  }
}

/** A schema taken out of the document, with its `#/…` references pointing back into it. */
function inDocument(schema: unknown): Json {
  return JSON.parse(
    JSON.stringify(schema, (key, value: unknown) =>
      key === '$ref' && typeof value === 'string' && value.startsWith('#/') ? `openapi${value}` : value,
    ),
  ) as Json;
}

function newAjv(opts: { coerceTypes: boolean }): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: true,
    strict: false,
    coerceTypes: opts.coerceTypes,
    // OpenAPI keywords (example, x-*) are annotations, not validation rules.
    keywords: ['example', 'x-error-code'],
  });
  addFormats.default(ajv);
  return ajv;
}

/** `must match pattern "…"`, `must NOT have additional property "foo"`, … */
export function describe(e: ErrorObject | undefined): string {
  if (e === undefined) return 'is invalid';
  if (e.keyword === 'additionalProperties') {
    return `must NOT have additional property "${(e.params as { additionalProperty: string }).additionalProperty}"`;
  }
  if (e.keyword === 'required')
    return `must have property "${(e.params as { missingProperty: string }).missingProperty}"`;
  if (e.keyword === 'anyOf' || e.keyword === 'oneOf') return 'does not match any allowed type';
  return e.message ?? 'is invalid';
}

/** `/records/3/value/heartrate` → `records[3].value/heartrate` */
export function formatPointer(pointer: string): string {
  const m = /^\/records\/(\d+)(?:\/(key|value|partition|headers))?(\/.*)?$/.exec(pointer);
  if (!m) return pointer === '' ? '(body)' : pointer.slice(1);
  return `records[${m[1]}]${m[2] ? `.${m[2]}` : ''}${m[3] ?? ''}`;
}

/**
 * One issue per failing place. An `anyOf` (e.g. base64-or-null) fails with an error per branch;
 * those collapse into one sentence that names what is allowed.
 */
export function toIssues(errors: ErrorObject[]): ValidationIssue[] {
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    const where = formatPointer(e.instancePath);
    if (anyOfPaths.has(e.instancePath)) {
      if (seen.has(where)) continue;
      seen.add(where);
      const siblings = errors.filter((x) => x.instancePath === e.instancePath);
      const base64 = siblings.some((x) => x.schemaPath.includes('Base64'));
      const partition = siblings.some((x) => x.schemaPath.includes('RecordPartition'));
      const message = base64
        ? 'must be a base64 string or null'
        : partition
          ? 'must be a partition number (0 or more) or null'
          : describe(siblings.find((x) => x.keyword !== 'anyOf'));
      issues.push({ path: where, message });
    } else {
      const isBase64 = e.keyword === 'pattern' && e.schemaPath.includes('Base64');
      issues.push({ path: where, message: isBase64 ? 'must be a base64 string' : describe(e) });
    }
  }
  return issues;
}
