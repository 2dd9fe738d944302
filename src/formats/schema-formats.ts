/**
 * The schema formats' side of the registry: what the produce route and the consumer rendering
 * call. Schemas come from a SchemaRegistry (embedded or external: this file cannot tell) and are
 * compiled once per id; a schema a produce request sends as text is registered once per subject
 * and text (as Confluent's caching client does), so a steady stream of produces costs no registry
 * round trip.
 */
import { Errors, GatewayError, RegistryErrors } from '../core/errors.js';
import type { SchemaRegistry, SchemaText, SchemaType } from '../core/ports.js';
import { topicOfSubject } from '../registry/http.js';
import { DataError, InvalidSchemaError, SchemaParseError, compile, type Codec, type ResolvedSchema } from './codecs.js';
import { WireFormatError, unframe } from './wire.js';
import { renderCap } from './bounded-json.js';

export type SchemaFormat = 'avro' | 'jsonschema' | 'protobuf';

export const SCHEMA_TYPE: Record<SchemaFormat, SchemaType> = {
  avro: 'AVRO',
  jsonschema: 'JSON',
  protobuf: 'PROTOBUF',
};

export function isSchemaFormat(format: string): format is SchemaFormat {
  return format === 'avro' || format === 'jsonschema' || format === 'protobuf';
}

/** Compiled schemas and registered texts kept; past this the cache starts over (ids never change meaning). */
const MAX_CACHED = 1000;
/** Deepest chain of schema references followed. */
const MAX_REFERENCE_DEPTH = 16;

/**
 * With a policy file: whether the caller may describe a topic. A schema id is usable only when it
 * is registered under a subject of such a topic (the subject → topic mapping the registry's own
 * authorization uses), so an id names nothing the caller could not read from the registry.
 */
export type TopicAccess = (topic: string) => boolean;

/** Reads records of any schema id; made per fetch, so a failed lookup is not remembered. */
export interface RecordDecoder {
  /** The field's JSON text; throws an Error naming why the bytes cannot be read. */
  render(bytes: Buffer | null): string;
}

export class SchemaFormats {
  private readonly byId = new Map<number, Promise<Codec>>();
  private readonly registered = new Map<string, number>();
  /** `<subject>\n<id>` → the subject's version holding that schema (v3 produce reports it). */
  private readonly versions = new Map<string, number>();

  constructor(private readonly registry: SchemaRegistry) {}

  /**
   * The codec a produce request's key or value uses: its schema text (registered under
   * `<topic>-key` / `<topic>-value`) or its schema id. Throws the Confluent codes: 400 for text
   * that does not parse, 42205 for an invalid schema, 42207 for registry failures or a schema of
   * another type, 40301 when the registry refuses the caller.
   */
  async forProduce(
    topic: string,
    field: 'key' | 'value',
    format: SchemaFormat,
    choice: { schema?: string; id?: number },
    access?: TopicAccess,
  ): Promise<Codec> {
    const schemaType = SCHEMA_TYPE[format];
    if (choice.schema !== undefined) {
      const subject = `${topic}-${field}`;
      const text: SchemaText = { schemaType, schema: choice.schema, references: [] };
      const cacheKey = `${subject}\n${schemaType}\n${choice.schema}`;
      const known = this.registered.get(cacheKey);
      if (known !== undefined) return this.codec(known, schemaType);
      // Parsed here first, so a broken schema gets its own answer (400/42205), not the registry's.
      checkSchema(text, format);
      const id = await registryCall(() => this.registry.register(subject, text), `registering the ${field} schema`);
      remember(this.registered, cacheKey, id);
      return this.codec(id, schemaType);
    }
    // Checked before the schema is read: its type, whether it compiles and how a record breaks it
    // are all answers only a caller who may read the schema gets.
    if (access !== undefined && !(await this.mayUse(choice.id!, access))) throw notFound(choice.id!);
    return this.codec(choice.id!, schemaType);
  }

  /** True when `id` is registered under a subject whose topic the caller may describe. */
  private async mayUse(id: number, access: TopicAccess): Promise<boolean> {
    // A registry that cannot say (an external one, today) makes every id unusable: fail closed.
    if (this.registry.subjectsOf === undefined) return false;
    let subjects: string[];
    try {
      // Soft-deleted versions count, as for the registry's GET /schemas/ids/{id}.
      subjects = await this.registry.subjectsOf(id);
    } catch (err) {
      // An id that does not exist is refused below exactly as one the caller may not use.
      if (err instanceof GatewayError && err.errorCode === 40403) return false;
      throw err;
    }
    return subjects.some((subject) => access(topicOfSubject(subject)));
  }

  /**
   * v3 produce: a schema by id, whatever its type (the registry says which format it is). With
   * `access` (a policy), an id the caller may not use answers as one that does not exist.
   */
  async schemaById(id: number, access?: TopicAccess): Promise<Codec> {
    if (access !== undefined && !(await this.mayUse(id, access))) throw notFound(id);
    return this.codec(id);
  }

  /** v3 produce: schema text registered under any subject (once per subject and text), checked first. */
  async registerUnder(subject: string, format: SchemaFormat, schema: string): Promise<Codec> {
    const schemaType = SCHEMA_TYPE[format];
    const cacheKey = `${subject}\n${schemaType}\n${schema}`;
    const known = this.registered.get(cacheKey);
    if (known !== undefined) return this.codec(known, schemaType);
    const text: SchemaText = { schemaType, schema, references: [] };
    checkSchema(text, format);
    const id = await registryCall(() => this.registry.register(subject, text), `registering under ${subject}`);
    remember(this.registered, cacheKey, id);
    return this.codec(id, schemaType);
  }

  /** v3 produce: a subject's version (or its latest) and its codec. */
  async atVersion(subject: string, version: number | 'latest'): Promise<{ codec: Codec; version: number }> {
    const found = await registryCall(
      () => this.registry.version(subject, version),
      `reading version ${version} of ${subject}`,
    );
    remember(this.versions, `${subject}\n${found.id}`, found.version);
    return { codec: await this.codec(found.id), version: found.version };
  }

  /**
   * v3 produce: the version of `subject` that holds schema `id` (Confluent's getVersion), searched
   * from the latest down and remembered; 42207 when the subject does not hold it.
   */
  async versionOf(subject: string, id: number): Promise<number> {
    const cacheKey = `${subject}\n${id}`;
    const known = this.versions.get(cacheKey);
    if (known !== undefined) return known;
    const latest = await registryCall(() => this.registry.version(subject, 'latest'), `reading ${subject}`);
    let found = latest.id === id ? latest.version : undefined;
    for (let v = latest.version - 1; found === undefined && v >= 1; v--) {
      const at = await registryCall(
        () =>
          this.registry
            .version(subject, v)
            .catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err))),
        `reading version ${v} of ${subject}`,
      );
      if (at?.id === id) found = v;
    }
    if (found === undefined) {
      throw Errors.schemaSerialization(
        `Error when fetching schema version. subject = ${subject}, schema ${id} is not one of its versions.`,
      );
    }
    remember(this.versions, cacheKey, found);
    return found;
  }

  /** Loads the schemas the records' bytes name, then renders them synchronously. */
  async decoderFor(fields: Array<Buffer | null>): Promise<RecordDecoder> {
    const ids = new Set<number>();
    for (const bytes of fields) {
      if (bytes !== null && bytes.length >= 5 && bytes[0] === 0) ids.add(bytes.readUInt32BE(1));
    }
    const codecs = new Map<number, Codec | Error>();
    await Promise.all(
      [...ids].map(async (id) => {
        try {
          codecs.set(id, await this.load(id));
        } catch (err) {
          codecs.set(id, err instanceof Error ? err : new Error(String(err)));
        }
      }),
    );
    return {
      render(bytes) {
        if (bytes === null) return 'null';
        const { id, rest } = unframe(bytes);
        const codec = codecs.get(id);
        if (codec === undefined) throw new WireFormatError(`schema ${id} was not loaded`);
        if (codec instanceof Error) throw new Error(`schema ${id}: ${codec.message}`);
        return codec.decode(rest, renderCap(bytes.length));
      },
    };
  }

  private async codec(id: number, expected?: SchemaType): Promise<Codec> {
    let codec: Codec;
    try {
      codec = await this.load(id);
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      if (err instanceof SchemaParseError || err instanceof InvalidSchemaError) {
        throw Errors.schemaSerialization(`Schema ${id} cannot be compiled: ${err.message}`);
      }
      throw Errors.schemaSerialization(`Error retrieving schema ${id}: ${(err as Error).message}`);
    }
    if (expected !== undefined && codec.schemaType !== expected) {
      throw Errors.schemaSerialization(`Schema ${id} is a ${codec.schemaType} schema, not ${expected}.`);
    }
    return codec;
  }

  private load(id: number): Promise<Codec> {
    let codec = this.byId.get(id);
    if (codec === undefined) {
      codec = registryCall(() => this.registry.schemaById(id), `reading schema ${id}`)
        .then((schema) => this.resolve(schema, 0))
        .then((resolved) => compile(id, resolved));
      // A failure is not kept: the registry may answer next time (or the id be registered).
      codec.catch(() => this.byId.delete(id));
      remember(this.byId, id, codec);
    }
    return codec;
  }

  /** The schema with every schema it references (transitively), dependencies first. */
  private async resolve(schema: SchemaText, depth: number): Promise<ResolvedSchema> {
    const dependencies: ResolvedSchema['dependencies'] = [];
    const seen = new Set<string>();
    const visit = async (s: SchemaText, level: number): Promise<void> => {
      if (level > MAX_REFERENCE_DEPTH) throw new InvalidSchemaError('schema references are nested too deeply');
      for (const ref of s.references ?? []) {
        const key = `${ref.subject}\n${ref.version}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const target = await registryCall(
          () => this.registry.version(ref.subject, ref.version),
          `reading reference ${ref.name}`,
        );
        await visit(target, level + 1);
        dependencies.push({ name: ref.name, schema: target });
      }
    };
    await visit(schema, depth);
    return { ...schema, dependencies };
  }
}

/** Parses a schema text on its own (no references), mapping failures to Confluent's codes. */
export function checkSchema(text: SchemaText, format: SchemaFormat): void {
  try {
    compile(0, { ...text, dependencies: [] });
  } catch (err) {
    if (err instanceof SchemaParseError) {
      throw Errors.schemaUnparsable(`Error parsing schema with format = ${SCHEMA_TYPE[format]}: ${err.message}`);
    }
    throw Errors.invalidSchema(`Invalid schema: ${(err as Error).message}`);
  }
}

/** Runs a registry call; an error that is not a GatewayError (an unreachable external registry) becomes 50003. */
async function registryCall<T>(call: () => Promise<T>, what: string): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw registryError(err, what);
  }
}

/** A registry call's failure as the produce path answers it. */
function registryError(err: unknown, what: string): GatewayError {
  if (!(err instanceof GatewayError)) {
    return Errors.kafkaRetriable(`The schema registry did not answer ${what}: ${(err as Error).message}`);
  }
  if (err.errorCode === 40301 || err.errorCode === 50003) return err;
  if (err.errorCode === 42201) return Errors.invalidSchema(`Invalid schema: ${err.message}`);
  if (err.errorCode >= 50000 || err.errorCode === 500 || err.errorCode === 503) {
    return Errors.kafkaRetriable(`The schema registry failed ${what}: ${err.message}`);
  }
  return Errors.schemaSerialization(`Error ${what}: ${err.message}`);
}

/** What a produce by an id that does not exist answers: the registry's 40403, mapped as load() maps it. */
function notFound(id: number): GatewayError {
  return registryError(RegistryErrors.schemaNotFound(id), `reading schema ${id}`);
}

/** A deleted or missing version (40402) while scanning a subject's versions. */
function isNotFound(err: unknown): boolean {
  return err instanceof GatewayError && (err.errorCode === 40402 || err.errorCode === 40401);
}

function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  if (map.size >= MAX_CACHED) map.clear();
  map.set(key, value);
}

export { DataError };
