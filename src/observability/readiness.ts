/**
 * Readiness: can this gateway serve traffic right now? Each dependency (Kafka, Redis when
 * configured) registers a check. Results are cached briefly and concurrent probes share one round
 * of checks, so a load balancer probing every second costs at most one metadata request a second.
 */

export interface ReadinessCheck {
  name: string;
  /** Resolves when the dependency answers; rejects (with the reason) when it does not. */
  check: () => Promise<void>;
}

export interface ReadinessReport {
  ready: boolean;
  /** `ok`, or why the dependency is not usable. */
  checks: Record<string, string>;
}

export interface ReadinessOptions {
  /** How long a result is reused. */
  cacheMs?: number;
  /** A check that has not answered by then counts as failed. */
  timeoutMs?: number;
}

export class Readiness {
  private readonly checks: ReadinessCheck[] = [];
  private readonly cacheMs: number;
  private readonly timeoutMs: number;
  private cached: { at: number; report: ReadinessReport } | undefined;
  private running: Promise<ReadinessReport> | undefined;
  private shuttingDown = false;
  /** A check still running from an earlier probe is awaited again, never started twice. */
  private readonly pending = new Map<string, Promise<string>>();

  constructor(options: ReadinessOptions = {}) {
    this.cacheMs = options.cacheMs ?? 1_000;
    this.timeoutMs = options.timeoutMs ?? 2_000;
  }

  add(check: ReadinessCheck): void {
    this.checks.push(check);
    this.cached = undefined;
  }

  /** From now on the gateway reports not ready, so load balancers stop sending it traffic. */
  shutdown(): void {
    this.shuttingDown = true;
  }

  report(): Promise<ReadinessReport> {
    if (this.shuttingDown) return Promise.resolve({ ready: false, checks: { gateway: 'shutting down' } });
    if (this.cached !== undefined && Date.now() - this.cached.at < this.cacheMs) {
      return Promise.resolve(this.cached.report);
    }
    this.running ??= this.runChecks().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async runChecks(): Promise<ReadinessReport> {
    const results = await Promise.all(
      this.checks.map(async ({ name, check }) => [name, await this.outcome(name, check)] as const),
    );
    const report = { ready: results.every(([, r]) => r === 'ok'), checks: Object.fromEntries(results) };
    this.cached = { at: Date.now(), report };
    return report;
  }

  private async outcome(name: string, check: () => Promise<void>): Promise<string> {
    let answer = this.pending.get(name);
    if (answer === undefined) {
      answer = check().then(
        () => 'ok',
        (err: unknown) => (err instanceof Error ? err.message : String(err)) || 'failed',
      );
      this.pending.set(name, answer);
      void answer.finally(() => this.pending.delete(name));
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`no answer within ${this.timeoutMs} ms`), this.timeoutMs);
    });
    try {
      return await Promise.race([answer, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
