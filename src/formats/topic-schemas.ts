/**
 * Topic JSON Schemas from the schema registry (`valueSchemaFromRegistry` in the topic policy):
 * at start-up a rule's file schema seeds its subject when the subject has no version yet (the
 * heart-rate demo registers its schema this way), then the plain-json produce path validates
 * against the subject's latest (or pinned) version, so operators evolve schemas through the
 * registry API, with compatibility checked, without restarting anything.
 */
import type { TopicPolicies } from '../config/topic-policies.js';
import { GatewayError } from '../core/errors.js';
import type { SchemaRegistry } from '../core/ports.js';
import type { RecordSchemas } from '../policy/validation/record-schemas.js';

interface Log {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** How long start-up waits for the registry to take a seed schema (an embedded one elects its writer first). */
const SEED_WAIT_MS = 15_000;

export async function useRegistrySchemas(
  policies: TopicPolicies,
  recordSchemas: RecordSchemas,
  registry: SchemaRegistry | undefined,
  logger: Log,
): Promise<void> {
  const rules = policies.rules.filter((r) => r.valueSchemaSource !== undefined);
  if (rules.length === 0) return;
  if (registry === undefined) {
    // Without a registry a rule keeps its file schema; one without a file would check nothing.
    const bare = rules.find((r) => r.valueSchema === undefined);
    if (bare !== undefined) {
      throw new Error(
        `TOPICS_CONFIG: ${bare.name ?? String(bare.pattern)} takes its value schema from the schema registry, ` +
          'which is turned off (SCHEMA_REGISTRY_ENABLED=false and no SCHEMA_REGISTRY_URL); add a valueSchema file or turn it on',
      );
    }
    return;
  }
  for (const rule of rules) {
    if (rule.valueSchema === undefined || rule.name === undefined) continue;
    const subject = rule.valueSchemaSource!.subject ?? `${rule.name}-value`;
    await seed(registry, subject, JSON.stringify(rule.valueSchema), logger);
  }
  recordSchemas.useRegistry(registry);
  // Read them once now: a path that checks without awaiting prepare() (v3 produce) then has them
  // from the first request, and refreshes them in the background from there on.
  for (const rule of rules) {
    if (rule.name !== undefined) await recordSchemas.prepare(rule.name)?.catch(() => undefined);
  }
}

async function seed(registry: SchemaRegistry, subject: string, schema: string, logger: Log): Promise<void> {
  const until = Date.now() + SEED_WAIT_MS;
  for (;;) {
    try {
      await registry.version(subject, 'latest');
      return; // the subject has versions: the registry's is the schema now
    } catch (err) {
      if (!(err instanceof GatewayError && err.errorCode === 40401)) {
        if (Date.now() > until) {
          logger.warn(
            { subject, err: (err as Error).message },
            `could not read ${subject}: records are refused until it can be`,
          );
          return;
        }
        await new Promise((r) => setTimeout(r, 250));
        continue;
      }
    }
    try {
      const id = await registry.register(subject, { schemaType: 'JSON', schema, references: [] });
      logger.info({ subject, id }, `registered the topic policy's JSON Schema as ${subject} (id ${id})`);
      return;
    } catch (err) {
      // 5xxxx: the registry is not ready to write yet (no elected writer); anything else is final.
      const retriable = !(err instanceof GatewayError) || err.errorCode >= 50000;
      if (!retriable || Date.now() > until) {
        logger.warn(
          { subject, err: (err as Error).message },
          `could not register ${subject}: records are refused until it exists`,
        );
        return;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
