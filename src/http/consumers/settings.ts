/**
 * Consumer creation settings: the body of `POST /consumers/{group}` → ConsumerSettings.
 *
 * Only the fields openapi.yaml defines exist; nothing a client sends reaches Kafka as is. Strict
 * mode takes the body as openapi.yaml describes it; lenient mode first accepts what clients written
 * against Karapace or older Confluent send (Kafka consumer properties, smallest/largest), refusing
 * the security-relevant ones. Pure: no HTTP, no Kafka, unit-tested in test/unit/consumer-settings.test.ts.
 */
import { Errors } from '../../core/errors.js';
import type { ConsumerSettings } from '../../core/ports.js';
import { isSchemaFormat } from '../../formats/schema-formats.js';

export interface CreateBody {
  name?: string;
  id?: string;
  format?: string;
  'auto.offset.reset'?: string;
  'auto.commit.enable'?: string | boolean;
  'fetch.min.bytes'?: number | string;
  responseMinBytes?: number | string;
  'consumer.request.timeout.ms'?: number | string;
  requestWaitMs?: number | string;
}

/** Longest per-instance fetch wait a client may choose. */
export const MAX_INSTANCE_WAIT_MS = 300_000;

/** The create-request fields openapi.yaml defines. */
const CREATE_FIELDS = new Set([
  'name',
  'id',
  'format',
  'auto.offset.reset',
  'auto.commit.enable',
  'fetch.min.bytes',
  'responseMinBytes',
  'consumer.request.timeout.ms',
  'requestWaitMs',
]);

/**
 * Kafka properties that pick brokers, credentials, TLS material, or classes/plugins to load:
 * refused, never ignored quietly (a client that sends them expects them to matter).
 */
const REFUSED_PROPERTY =
  /(?:^|\.)(?:bootstrap|sasl|ssl|security|interceptor|interceptors|jaas|metric\.reporters|config\.providers)(?:\.|$)|class(?:es)?$|deserializer$|^client\.dns\.lookup$/i;

/** Kafka consumer property → the Confluent create field that means the same. */
const KAFKA_ALIASES: Record<string, string> = { 'enable.auto.commit': 'auto.commit.enable' };

/**
 * Lenient create: the fields of a JSON object body that the gateway uses, and the names of those it
 * ignores (the caller logs them). Kafka's own spelling of a field counts when the Confluent one is
 * absent; old clients' smallest/largest mean earliest/latest. A security-relevant property (42204:
 * a client must never choose brokers, credentials or classes to load — CVE-2023-25194) is refused.
 * The result is still to be validated against openapi.yaml.
 */
export function lenientCreateFields(raw: Record<string, unknown>): {
  kept: Record<string, unknown>;
  ignored: string[];
} {
  const kept: Record<string, unknown> = {};
  const ignored: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    const alias = KAFKA_ALIASES[key];
    if (alias !== undefined && !(alias in raw)) kept[alias] = value;
    else if (CREATE_FIELDS.has(key)) kept[key] = value;
    else if (REFUSED_PROPERTY.test(key)) {
      throw Errors.invalidConsumerConfig(`${key} cannot be set by a client of this gateway`);
    } else ignored.push(key);
  }
  // Old Confluent clients (kafka-rest-node, kafka-rest-client) still say smallest/largest.
  const reset = kept['auto.offset.reset'];
  if (reset === 'smallest') kept['auto.offset.reset'] = 'earliest';
  if (reset === 'largest') kept['auto.offset.reset'] = 'latest';
  return { kept, ignored };
}

/** A validated create body → settings; every bad value is a 42204 naming the setting. */
export function settingsFrom(b: CreateBody, schemaFormats = false): ConsumerSettings {
  const invalid = (detail: string) => Errors.invalidConsumerConfig(detail);
  const format = (b.format ?? 'binary').toLowerCase();
  if (isSchemaFormat(format) && !schemaFormats) {
    throw invalid(
      `the ${format} format needs a schema registry, which is turned off on this gateway; use json or binary`,
    );
  }
  if (format !== 'json' && format !== 'binary' && !isSchemaFormat(format)) {
    throw invalid(`Invalid format type "${b.format}"; use binary, json, avro, jsonschema or protobuf`);
  }

  const reset = (b['auto.offset.reset'] ?? 'latest').toLowerCase();
  if (reset !== 'earliest' && reset !== 'latest' && reset !== 'none') {
    throw invalid(
      `Invalid value ${b['auto.offset.reset']} for configuration auto.offset.reset: String must be one of: latest, earliest, none`,
    );
  }

  const commitRaw = b['auto.commit.enable'];
  const commitText = commitRaw === undefined ? 'true' : String(commitRaw).toLowerCase();
  if (commitText !== 'true' && commitText !== 'false') {
    throw invalid(
      `Invalid value ${String(commitRaw)} for configuration auto.commit.enable: Expected value to be either true or false`,
    );
  }

  const fetchMinBytes = intSetting(b['fetch.min.bytes'] ?? b.responseMinBytes, 'fetch.min.bytes', -1, 10_000_000);
  const timeout = intSetting(
    b['consumer.request.timeout.ms'] ?? b.requestWaitMs,
    'consumer.request.timeout.ms',
    0,
    MAX_INSTANCE_WAIT_MS,
  );
  return {
    format,
    autoOffsetReset: reset,
    autoCommit: commitText === 'true',
    fetchMinBytes: fetchMinBytes ?? -1,
    requestTimeoutMs: timeout,
  };
}

function intSetting(v: number | string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === 'number' ? v : /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw Errors.invalidConsumerConfig(
      `Invalid value ${String(v)} for configuration ${name}: must be a whole number from ${min} to ${max}`,
    );
  }
  return n;
}
