/**
 * A gateway in a process of its own (`node src/main.ts`), for stories that need a second real
 * process: an external registry, workers, signals. Ports are chosen free up front; the handle
 * resolves once the process logs that it listens.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brokers } from './kafka.js';
import { freePort } from './net.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface GatewayProcess {
  url: string;
  /** The embedded registry's URL, when the process runs one. */
  registryUrl?: string;
  /** Everything the process printed so far. */
  output(): string;
  /** SIGTERM, then its exit code once it has exited (null if it was already gone or killed by a signal). */
  stop(): Promise<number | null>;
}

/** `withRegistry`: the process runs its embedded registry (on a free port, its own topic and group). */
export async function startGatewayProcess(
  env: Record<string, string> = {},
  options: {
    withRegistry?: boolean;
    timeoutMs?: number;
    /** When the process counts as started (default: it logged that the gateway, and its registry, listen). */
    ready?: (output: string) => boolean;
  } = {},
): Promise<GatewayProcess> {
  const port = await freePort();
  const registryPort = options.withRegistry ? await freePort() : undefined;
  const suffix = `${process.pid}-${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/main.ts')], {
    cwd: root,
    env: {
      ...process.env,
      KAFKA_BROKERS: brokers.join(','),
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'info',
      SHUTDOWN_DELAY_MS: '0',
      ...(registryPort === undefined
        ? { SCHEMA_REGISTRY_ENABLED: 'false' }
        : {
            SCHEMA_REGISTRY_ENABLED: 'true',
            SCHEMA_REGISTRY_PORT: String(registryPort),
            SCHEMA_REGISTRY_TOPIC: `_schemas-test-${suffix}`,
            SCHEMA_REGISTRY_GROUP: `schema-registry-test-${suffix}`,
          }),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const ready = () =>
    options.ready?.(output) ??
    (output.includes('"msg":"gateway listening"') &&
      (registryPort === undefined || output.includes('"msg":"schema registry listening"')));
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (!ready()) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the gateway process did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    registryUrl: registryPort === undefined ? undefined : `http://127.0.0.1:${registryPort}`,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return null;
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      return exited;
    },
  };
}
