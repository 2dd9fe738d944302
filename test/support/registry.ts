/** Gateways with the embedded schema registry on, each test on a `_schemas` topic and election group of its own. */
import type { RunningGateway } from '../../src/gateway.js';
import { startTestGateway, request, type Reply } from './gateway.js';
import { uniqueName } from './kafka.js';

export const SR = 'application/vnd.schemaregistry.v1+json';

export interface RegistryGateway {
  gw: RunningGateway;
  /** The registry listener's URL. */
  url: string;
  topic: string;
  group: string;
}

/** The PEER_SECRET test registries share, as replicas of one registry must (README "Schema registry"). */
export const TEST_PEER_SECRET = 'registry-replicas-test-peer-secret-0123456789';

/**
 * A gateway whose embedded registry uses `topic`/`group` (fresh ones by default), with
 * TEST_PEER_SECRET unless `peerSecret: false` (replicas forward writes only with one).
 */
export async function startRegistryGateway(
  options: { topic?: string; group?: string; env?: Record<string, string>; peerSecret?: false } = {},
): Promise<RegistryGateway> {
  const topic = options.topic ?? uniqueName('_schemas');
  const group = options.group ?? uniqueName('sr-group');
  const gw = await startTestGateway({
    SCHEMA_REGISTRY_ENABLED: 'true',
    SCHEMA_REGISTRY_PORT: '0',
    SCHEMA_REGISTRY_TOPIC: topic,
    SCHEMA_REGISTRY_GROUP: group,
    ...(options.peerSecret === false ? {} : { PEER_SECRET: TEST_PEER_SECRET }),
    ...options.env,
  });
  return { gw, url: gw.schemaRegistry!.url!, topic, group };
}

/** A Confluent-style client call: JSON in the registry's media type, JSON out. */
export function sr(base: string, headers: Record<string, string> = {}) {
  const call = (method: string, path: string, body?: unknown): Promise<Reply> =>
    request(base + path, {
      method,
      headers: { accept: SR, ...(body === undefined ? {} : { 'content-type': SR }), ...headers },
      body: body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    });
  return {
    get: (path: string) => call('GET', path),
    post: (path: string, body: unknown) => call('POST', path, body),
    put: (path: string, body: unknown) => call('PUT', path, body),
    del: (path: string) => call('DELETE', path),
  };
}

export const avroRecord = (name: string, fields: Array<Record<string, unknown>>) =>
  JSON.stringify({ type: 'record', name, fields });
