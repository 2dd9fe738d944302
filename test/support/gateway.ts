/**
 * The gateway a test talks to: by default a real one started in-process against the test run's
 * broker; with GATEWAY_URL set, an external one (a container, a deployed replica) that the suites
 * which make sense against any gateway run against unchanged.
 */
import { loadConfig, type Config } from '../../src/config/config.js';
import { startGateway, type RunningGateway } from '../../src/gateway.js';
import { brokers } from './kafka.js';
import { waitUntil } from './wait.js';

/** The external gateway under test (GATEWAY_URL), without a trailing slash; undefined = in-process. */
export const externalGateway: string | undefined = process.env.GATEWAY_URL?.replace(/\/+$/, '') || undefined;

/**
 * `{ skip: needsOwnGateway }` on a test or suite that starts a gateway with settings of its own
 * (or looks inside the process): it cannot run against an external GATEWAY_URL.
 */
export const needsOwnGateway: false | string =
  externalGateway === undefined ? false : `needs an in-process gateway with settings of its own (GATEWAY_URL is set)`;

/**
 * A real gateway in-process (PORT 0, silent logs, no drain delay) with `env` on top of the test
 * defaults, or, with GATEWAY_URL set and no `env`, a handle to the external gateway. Asking for
 * settings of its own in that mode throws: mark such tests `{ skip: needsOwnGateway }`.
 */
export async function startTestGateway(env: Record<string, string> = {}): Promise<RunningGateway> {
  if (externalGateway !== undefined) {
    if (Object.keys(env).length > 0) {
      throw new Error(
        `this test needs a gateway with ${Object.keys(env).join(', ')} set; it cannot run against GATEWAY_URL ` +
          '(mark it { skip: needsOwnGateway })',
      );
    }
    return externalHandle(externalGateway);
  }
  return startGateway(testConfig(env));
}

/** The settings of an in-process test gateway: `env` on top of the test defaults. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    KAFKA_BROKERS: brokers.join(','),
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // No load balancer in front of in-process test gateways: close() needs no drain delay.
    SHUTDOWN_DELAY_MS: '0',
    // The embedded schema registry (on by default, on the fixed port 8081) only where a test asks
    // for it: gateways of concurrent test files would otherwise fight over that port.
    SCHEMA_REGISTRY_ENABLED: 'false',
    ...env,
  });
}

/**
 * An external gateway seen as a RunningGateway: url and port are real, close() leaves it running,
 * and anything only an in-process gateway has (server, metrics object, logger …) throws when used.
 */
function externalHandle(url: string): RunningGateway {
  const parsed = new URL(url);
  const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
  const known: Record<string, unknown> = { url, port, close: async () => undefined, then: undefined };
  return new Proxy(known, {
    get(target, prop) {
      if (typeof prop !== 'string' || prop in target) return target[prop as string];
      throw new Error(`gateway.${prop} exists only for an in-process gateway; this test runs against GATEWAY_URL`);
    },
  }) as unknown as RunningGateway;
}

/** gateway_consumer_instances from GET /metrics: how many instances the gateway holds, without touching any. */
export async function consumerInstanceCount(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('gateway_consumer_instances '));
  if (line === undefined) throw new Error('no gateway_consumer_instances in /metrics');
  return Number(line.split(' ')[1]);
}

/** Waits until the gateway holds exactly `count` consumer instances (expiry, deletion). */
export function waitForConsumerInstances(url: string, count: number, timeoutMs = 15_000): Promise<true> {
  return waitUntil(
    `${count} consumer instances on ${url}`,
    async () => (await consumerInstanceCount(url)) === count || undefined,
    { timeoutMs, everyMs: 100 },
  ) as Promise<true>;
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
