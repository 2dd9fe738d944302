/**
 * The client of an external Confluent-compatible registry (SCHEMA_REGISTRY_URL): the same
 * SchemaRegistry port as the embedded one. Schemas by id never change, so they are cached for
 * good; registrations are cached per subject and content (registering is idempotent).
 */
import { GatewayError, RegistryErrors, httpStatusOf } from '../core/errors.js';
import type { RegisteredSchema, SchemaRegistry, SchemaText, SchemaType } from '../core/ports.js';

export interface RegistryClientOptions {
  url: string;
  /** `user:password` (Confluent's basic.auth.user.info). */
  basicAuth?: string;
  bearerToken?: string;
  timeoutMs: number;
  /** Most schemas kept in each cache. */
  maxCached?: number;
}

const SR = 'application/vnd.schemaregistry.v1+json';

export class RegistryClient implements SchemaRegistry {
  private readonly byId = new Map<number, Promise<SchemaText>>();
  private readonly registered = new Map<string, number>();
  private readonly headers: Record<string, string>;
  private readonly base: string;

  constructor(private readonly options: RegistryClientOptions) {
    const u = new URL(options.url);
    // Credentials in the URL (https://user:pass@host) count as basic auth, as Confluent's clients do.
    const userInfo =
      options.basicAuth ??
      (u.username !== '' ? `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}` : undefined);
    u.username = '';
    u.password = '';
    this.base = u.toString().replace(/\/+$/, '');
    this.headers = { accept: SR };
    if (userInfo !== undefined) this.headers.authorization = `Basic ${Buffer.from(userInfo).toString('base64')}`;
    else if (options.bearerToken !== undefined) this.headers.authorization = `Bearer ${options.bearerToken}`;
  }

  async register(subject: string, schema: SchemaText): Promise<number> {
    const key = JSON.stringify([subject, schema.schemaType, schema.schema, schema.references]);
    const cached = this.registered.get(key);
    if (cached !== undefined) return cached;
    const body: Record<string, unknown> = { schema: schema.schema };
    if (schema.schemaType !== 'AVRO') body.schemaType = schema.schemaType;
    if (schema.references.length > 0) body.references = schema.references;
    const answer = (await this.call('POST', `/subjects/${encodeURIComponent(subject)}/versions`, body)) as {
      id: number;
    };
    this.remember(this.registered, key, answer.id);
    return answer.id;
  }

  schemaById(id: number): Promise<SchemaText> {
    let found = this.byId.get(id);
    if (found === undefined) {
      found = this.call('GET', `/schemas/ids/${id}`).then((b) => {
        const body = b as { schema: string; schemaType?: SchemaType; references?: SchemaText['references'] };
        return { schemaType: body.schemaType ?? 'AVRO', schema: body.schema, references: body.references ?? [] };
      });
      // A failure is not cached: the next record asks again.
      found.catch(() => this.byId.delete(id));
      this.remember(this.byId, id, found);
    }
    return found;
  }

  /** The subjects that use a schema id (`GET /schemas/ids/{id}/versions`); none for an id the registry does not know. */
  async subjectsOf(id: number): Promise<string[]> {
    try {
      const uses = (await this.call('GET', `/schemas/ids/${id}/versions`)) as Array<{ subject: string }>;
      return [...new Set(uses.map((u) => u.subject))];
    } catch (err) {
      if (err instanceof GatewayError && httpStatusOf(err.errorCode) === 404) return [];
      throw err;
    }
  }

  async version(subject: string, version: number | 'latest'): Promise<RegisteredSchema> {
    const b = (await this.call('GET', `/subjects/${encodeURIComponent(subject)}/versions/${version}`)) as {
      subject: string;
      version: number;
      id: number;
      schema: string;
      schemaType?: SchemaType;
      references?: SchemaText['references'];
    };
    return {
      subject: b.subject,
      version: b.version,
      id: b.id,
      schema: b.schema,
      schemaType: b.schemaType ?? 'AVRO',
      references: b.references ?? [],
    };
  }

  private remember<K, V>(map: Map<K, V>, key: K, value: V): void {
    if (map.size >= (this.options.maxCached ?? 10_000)) map.delete(map.keys().next().value as K);
    map.set(key, value);
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        method,
        headers: body === undefined ? this.headers : { ...this.headers, 'content-type': SR },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (err) {
      throw RegistryErrors.unreachable((err as Error).message);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (res.ok) return parsed;
    const e = parsed as { error_code?: unknown; message?: unknown } | undefined;
    const code = typeof e?.error_code === 'number' ? e.error_code : res.status;
    const message = typeof e?.message === 'string' ? e.message : `HTTP ${res.status} from the schema registry`;
    // The registry's own authentication failures are the gateway's configuration problem, not the caller's.
    if (res.status === 401 || res.status === 403)
      throw RegistryErrors.unreachable(`the registry refused the gateway's credentials (${res.status})`);
    throw RegistryErrors.remote(code, message);
  }
}
