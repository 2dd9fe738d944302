/** Starts a real gateway in-process against the test run's broker. */
import { loadConfig } from '../../src/config/config.js';
import { startGateway, type RunningGateway } from '../../src/gateway.js';
import { brokers } from './kafka.js';

export async function startTestGateway(env: Record<string, string> = {}): Promise<RunningGateway> {
  const config = loadConfig({
    KAFKA_BROKERS: brokers.join(','),
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // No load balancer in front of in-process test gateways: close() needs no drain delay.
    SHUTDOWN_DELAY_MS: '0',
    // The embedded schema registry (on by default, port 8081) only where a test asks for it.
    SCHEMA_REGISTRY_ENABLED: 'false',
    ...env,
  });
  return startGateway(config);
}

export const JSON_V2 = 'application/vnd.kafka.json.v2+json';
export const BINARY_V2 = 'application/vnd.kafka.binary.v2+json';
export const V2 = 'application/vnd.kafka.v2+json';

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON body (undefined when the body is empty). */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests inspect arbitrary JSON
}

export async function request(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array } = {},
): Promise<Reply> {
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers: init.headers,
    body: init.body as BodyInit | undefined,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text === '' ? undefined : JSON.parse(text) };
}

export function post(
  url: string,
  contentType: string | undefined,
  body: unknown,
  headers: Record<string, string> = {},
) {
  return request(url, {
    method: 'POST',
    headers: { ...(contentType ? { 'content-type': contentType } : {}), ...headers },
    // A Buffer body, so fetch adds no Content-Type of its own (a string would be sent as text/plain).
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  });
}
