/**
 * Schema registry settings: the embedded registry (default; its own listener, its Kafka topic and
 * election group), an external Confluent-compatible one (SCHEMA_REGISTRY_URL), or none.
 */
import { ConfigError, type EnvReader } from './env.js';

export type SchemaRegistryConfig =
  | { mode: 'off' }
  | {
      mode: 'embedded';
      host: string;
      /** 0 = an ephemeral port (tests). */
      port: number;
      topic: string;
      /** The consumer group whose leader is the one writer. */
      group: string;
      /** The URL other replicas forward writes to; default: the listener's own URL. */
      advertisedUrl?: string;
      replicationFactor?: number;
      timeoutMs: number;
    }
  | {
      mode: 'external';
      url: string;
      /** `user:password`. */
      basicAuth?: string;
      bearerToken?: string;
      timeoutMs: number;
    };

export function loadSchemaRegistryConfig(e: EnvReader, defaultHost: string): SchemaRegistryConfig {
  const timeoutMs = e.int('SCHEMA_REGISTRY_TIMEOUT_MS', 10_000, { min: 100, max: 600_000 });
  const url = e.url('SCHEMA_REGISTRY_URL');
  if (url !== undefined) {
    if (!/^https?:\/\//.test(url)) throw new ConfigError(`SCHEMA_REGISTRY_URL=${url} must be an http(s) URL`);
    const basicAuth = e.optionalString('SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO');
    if (basicAuth !== undefined && !basicAuth.includes(':'))
      throw new ConfigError('SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO must be user:password');
    const bearerToken = e.optionalString('SCHEMA_REGISTRY_BEARER_TOKEN');
    if (basicAuth !== undefined && bearerToken !== undefined)
      throw new ConfigError('SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO and SCHEMA_REGISTRY_BEARER_TOKEN exclude each other');
    return { mode: 'external', url, basicAuth, bearerToken, timeoutMs };
  }
  if (!e.bool('SCHEMA_REGISTRY_ENABLED', true)) return { mode: 'off' };
  const advertisedUrl = e.url('SCHEMA_REGISTRY_ADVERTISED_URL');
  return {
    mode: 'embedded',
    host: e.string('SCHEMA_REGISTRY_HOST', defaultHost),
    port: e.int('SCHEMA_REGISTRY_PORT', 8081, { min: 0, max: 65535 }),
    topic: topicName(e.string('SCHEMA_REGISTRY_TOPIC', '_schemas')),
    group: e.string('SCHEMA_REGISTRY_GROUP', 'kafka-rest-gateway-schema-registry'),
    advertisedUrl,
    replicationFactor:
      e.raw('SCHEMA_REGISTRY_REPLICATION_FACTOR') === undefined
        ? undefined
        : e.int('SCHEMA_REGISTRY_REPLICATION_FACTOR', 1, { min: 1, max: 32 }),
    timeoutMs,
  };
}

function topicName(v: string): string {
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(v)) throw new ConfigError(`SCHEMA_REGISTRY_TOPIC=${v} is not a valid topic name`);
  return v;
}
