/**
 * A gateway in a process of its own (`node src/main.ts` via tsx) against this run's brokers, for
 * stories that need a real process: workers, signals, faults, memory, an external registry. The
 * port (and the registry's) is chosen free up front; start() resolves once the process logs that
 * it listens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brokers } from './kafka.js';
import { freePort } from './net.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** What a process's output is kept to (a fault run logs a line per request). */
const KEPT_OUTPUT = 1_000_000;

export interface GatewayProcessOptions {
  /** Run the embedded registry (on a free port, with its own topic and group). */
  withRegistry?: boolean;
  /** When the process counts as started (default: it logged that it, and its registry, listen). */
  ready?: (output: string) => boolean;
  timeoutMs?: number;
}

export class GatewayProcess {
  // Output arrives in many small chunks (a line per request during a fault run): kept as a list and
  // joined only when read or when it outgrows twice the bound, so each chunk costs O(1).
  private chunks: string[] = [];
  private size = 0;
  private constructor(
    readonly url: string,
    /** The embedded registry's URL, when the process runs one. */
    readonly registryUrl: string | undefined,
    private readonly child: ChildProcess,
  ) {}

  static async start(env: Record<string, string> = {}, options: GatewayProcessOptions = {}): Promise<GatewayProcess> {
    const port = await freePort();
    const registryPort = options.withRegistry ? await freePort() : undefined;
    const suffix = `${process.pid}-${port}`;
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/main.ts')], {
      env: {
        ...process.env,
        KAFKA_BROKERS: brokers.join(','),
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'info',
        ...(registryPort === undefined
          ? {}
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
    const registryUrl = registryPort === undefined ? undefined : `http://127.0.0.1:${registryPort}`;
    const gw = new GatewayProcess(`http://127.0.0.1:${port}`, registryUrl, child);
    const onData = (b: Buffer) => gw.keep(b.toString());
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const ready =
      options.ready ??
      ((out: string) =>
        /"msg":"gateway (workers )?listening"/.test(out) &&
        (registryPort === undefined || out.includes('"msg":"schema registry listening"')));
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    while (!ready(gw.output)) {
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill('SIGKILL');
        throw new Error(`gateway did not start:\n${gw.output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return gw;
  }

  /** The last KEPT_OUTPUT characters the process printed. */
  get output(): string {
    const all = this.chunks.join('').slice(-KEPT_OUTPUT);
    this.chunks = [all];
    this.size = all.length;
    return all;
  }

  private keep(text: string): void {
    this.chunks.push(text);
    this.size += text.length;
    if (this.size > 2 * KEPT_OUTPUT) void this.output;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The process id (for /proc figures such as peak RSS). */
  get pid(): number {
    return this.child.pid!;
  }

  /** SIGTERM (graceful) or SIGKILL; resolves with the exit code once the process is gone (null: already gone, or a signal). */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<number | null> {
    if (!this.running) return null;
    const exited = new Promise<number | null>((r) => this.child.once('exit', (code) => r(code)));
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }
}
