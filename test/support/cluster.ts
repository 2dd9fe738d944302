/**
 * The replicated Kafka cluster the test run started (scripts/test.mjs, for test/cluster-*.test.ts
 * files): its nodes can be stopped, killed, frozen and restarted through the control endpoint
 * scripts/local-kafka.mjs serves (KAFKA_CLUSTER_CONTROL). Expectations come from the cluster itself
 * (broker count, replica lists, which broker leads or coordinates), never from "one broker".
 *
 * Also: a real gateway process against it (so a test can SIGKILL the gateway too), and the
 * per-record ledger fault tests count with (acked / lost / duplicated / slowest answer).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { admin, brokers } from './kafka.js';
import { freePort } from './net.js';

export type NodeState = 'running' | 'stopped' | 'frozen';
export interface NodeInfo {
  id: number;
  port: number;
  pid: number | null;
  state: NodeState;
}
export interface ClusterInfo {
  version: string;
  brokers: string;
  replicationFactor: number;
  minInsync: number;
  nodes: NodeInfo[];
}
export type NodeAction = 'stop' | 'kill' | 'freeze' | 'thaw' | 'start' | 'restart';

const control = process.env.KAFKA_CLUSTER_CONTROL;

function controlUrl(): string {
  if (!control) {
    throw new Error(
      'KAFKA_CLUSTER_CONTROL is not set: run cluster tests with `node scripts/test.mjs test/cluster-….test.ts`',
    );
  }
  return control;
}

async function call<T>(method: 'GET' | 'POST', pathname: string): Promise<T> {
  const res = await fetch(`${controlUrl()}${pathname}`, { method });
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(`cluster control ${pathname}: ${body.error ?? res.status}`);
  return body;
}

export const cluster = {
  /** True when this run has a controllable cluster (the cluster phase of scripts/test.mjs). */
  available: Boolean(control),
  info: () => call<ClusterInfo>('GET', '/'),
  /**
   * stop = SIGTERM (controlled shutdown), kill = SIGKILL, freeze/thaw = SIGSTOP/SIGCONT,
   * start/restart on the same log dir. Resolves when done (start: the port accepts connections).
   */
  node: (id: number, action: NodeAction) => call<NodeInfo>('POST', `/nodes/${id}/${action}`),
  /** Every node running again, all brokers registered, no partition under-replicated. */
  heal: () => call<ClusterInfo>('POST', '/heal'),
};

/** Broker ids Kafka reports as registered right now. */
export async function liveBrokerIds(): Promise<number[]> {
  const a = await admin();
  return (await a.describeCluster()).brokers.map((b) => b.nodeId).sort((x, y) => x - y);
}

export interface PartitionPlacement {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

/** Leader, replicas and ISR of every partition of a topic, as Kafka reports them now. */
export async function placement(topic: string): Promise<PartitionPlacement[]> {
  const a = await admin();
  const { topics } = await a.fetchTopicMetadata({ topics: [topic] });
  return topics[0]!.partitions
    .map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: [...p.replicas], isr: [...p.isr] }))
    .sort((x, y) => x.partition - y.partition);
}

/** Java's String.hashCode: Kafka picks a group's __consumer_offsets partition with it. */
function javaHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * The broker coordinating a consumer group: the leader of its __consumer_offsets partition
 * (Utils.abs(groupId.hashCode()) % partitions, as the broker computes it).
 */
export async function coordinatorOf(group: string): Promise<number> {
  const offsets = await placement('__consumer_offsets');
  const p = (javaHashCode(group) & 0x7fffffff) % offsets.length;
  return offsets[p]!.leader;
}

/** Polls `check` until it returns true (or throws after `timeoutMs`). */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // Not yet answerable (a leader moving): ask again.
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A real gateway process (src/main.ts via tsx) against this run's brokers. */
export class GatewayProcess {
  output = '';
  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(env: Record<string, string> = {}): Promise<GatewayProcess> {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/main.ts')], {
      env: {
        ...process.env,
        KAFKA_BROKERS: brokers.join(','),
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'info',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const gw = new GatewayProcess(`http://127.0.0.1:${port}`, child);
    const onData = (b: Buffer) => (gw.output = (gw.output + b.toString()).slice(-20_000));
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const deadline = Date.now() + 60_000;
    while (!/"msg":"gateway (workers )?listening"/.test(gw.output)) {
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill('SIGKILL');
        throw new Error(`gateway did not start:\n${gw.output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return gw;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The process id (for /proc figures such as peak RSS). */
  get pid(): number {
    return this.child.pid!;
  }

  /** SIGTERM (graceful) or SIGKILL; resolves when the process is gone. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    if (!this.running) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
}

/** One fault run's figures: per record, HTTP 200 with error_code null = acknowledged. */
export interface FaultRow {
  fault: string;
  sent: number;
  acked: number;
  /** Answered but not acknowledged (HTTP error or a per-record error code). */
  failed: number;
  /** Acknowledged and not in Kafka afterwards. Must be 0. */
  lost: number;
  /** Copies beyond the first in Kafka, of any record sent (acked or not). */
  duplicated: number;
  slowestMs: number;
  note?: string;
}

/** Prints the fault table so a run's figures can be quoted as they are. */
export function printFaultTable(rows: FaultRow[]): void {
  const head = ['fault', 'sent', 'acked', 'failed', 'lost', 'dup', 'slowest ms', 'note'];
  const lines = rows.map((r) => [
    r.fault,
    String(r.sent),
    String(r.acked),
    String(r.failed),
    String(r.lost),
    String(r.duplicated),
    String(Math.round(r.slowestMs)),
    r.note ?? '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const out = [fmt(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmt)];
  console.log(`\n[fault table]\n${out.join('\n')}\n`);
}
