/**
 * The consumer instances of this replica: creation with a cap, lookup with ownership, idle expiry,
 * periodic auto-commit, and close() at shutdown so every group rebalances at once instead of
 * waiting for a session timeout.
 *
 * An instance costs almost nothing until it subscribes or is assigned partitions: its kafkajs
 * consumer (sockets, heartbeats, read-ahead buffer) exists only while it has something to read.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { Errors } from '../../core/errors.js';
import type { ConsumerInstance, ConsumerService, ConsumerSettings } from '../../core/ports.js';
import { GroupOffsets } from './group-offsets.js';
import { KafkaConsumerInstance } from './instance.js';

export interface ConsumerManagerOptions {
  nodeId: string;
  clientId: string;
  instanceTimeoutMs: number;
  maxInstances: number;
  /** Instances one caller (capKey) may hold here, so nobody can take them all. */
  maxInstancesPerClient: number;
  maxBufferBytes: number;
  joinTimeoutMs: number;
  autoCommitIntervalMs: number;
  partitionCount: (topic: string) => Promise<number | undefined>;
  logger: Logger;
  /** Expiry sweep period (Confluent: about a second). */
  sweepIntervalMs?: number;
}

export class KafkaConsumerManager implements ConsumerService {
  private readonly instances = new Map<string, KafkaConsumerInstance>();
  /** Instances held per cap key, and each instance's key (released when it is removed). */
  private readonly perClient = new Map<string, number>();
  private readonly capKeys = new WeakMap<KafkaConsumerInstance, string>();
  private readonly offsets: GroupOffsets;
  private readonly sweeper: NodeJS.Timeout;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: ConsumerManagerOptions,
  ) {
    // One transactional id per process: replicas started alike (the same NODE_ID) must not fence
    // each other's commits; nothing here needs a transactional id to survive a restart.
    this.offsets = new GroupOffsets(
      kafka,
      `${options.clientId}.${options.nodeId}.consumer-offsets.${randomUUID().slice(0, 8)}`,
    );
    this.sweeper = setInterval(() => void this.sweep(), options.sweepIntervalMs ?? 1_000);
    this.sweeper.unref();
  }

  get size(): number {
    return this.instances.size;
  }

  generateName(): string {
    return `rest-consumer-${this.options.nodeId}-${randomUUID()}`;
  }

  async create(
    group: string,
    settings: ConsumerSettings,
    owner: string,
    name?: string,
    capKey: string = owner,
  ): Promise<ConsumerInstance> {
    if (this.closing !== undefined) throw Errors.shuttingDown();
    const instanceName = name ?? this.generateName();
    const key = keyOf(group, instanceName);
    if (this.instances.has(key)) throw Errors.consumerAlreadyExists();
    const mine = this.perClient.get(capKey) ?? 0;
    if (mine >= this.options.maxInstancesPerClient) {
      throw Errors.tooManyRequests(
        `Too many consumer instances for this caller: it already holds ${mine}, the per-caller limit ` +
          `(MAX_CONSUMER_INSTANCES_PER_CLIENT=${this.options.maxInstancesPerClient}). Delete instances you no longer use.`,
        this.secondsUntilNextExpiry(),
      );
    }
    if (this.instances.size >= this.options.maxInstances) {
      throw Errors.tooManyRequests(
        `Too many consumer instances: this gateway already holds its limit of ${this.options.maxInstances}. ` +
          `Delete instances you no longer use; idle ones expire after ${this.options.instanceTimeoutMs} ms.`,
        this.secondsUntilNextExpiry(),
      );
    }
    const instance = new KafkaConsumerInstance(group, instanceName, owner, settings, {
      kafka: this.kafka,
      offsets: this.offsets,
      logger: this.options.logger,
      maxBufferBytes: this.options.maxBufferBytes,
      joinTimeoutMs: this.options.joinTimeoutMs,
      partitionCount: this.options.partitionCount,
    });
    this.instances.set(key, instance);
    this.perClient.set(capKey, mine + 1);
    this.capKeys.set(instance, capKey);
    return instance;
  }

  get(group: string, name: string, owner: string): KafkaConsumerInstance {
    const instance = this.instances.get(keyOf(group, name));
    // Someone else's instance is answered exactly like a missing one: existence is not revealed.
    if (instance === undefined || instance.owner !== owner) throw Errors.consumerInstanceNotFound();
    instance.touch();
    return instance;
  }

  has(group: string, name: string): boolean {
    return this.instances.has(keyOf(group, name));
  }

  async delete(group: string, name: string, owner: string): Promise<void> {
    const instance = this.get(group, name, owner);
    this.remove(keyOf(group, name), instance);
    await instance.close();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.sweeper);
      const all = [...this.instances.values()];
      this.instances.clear();
      await Promise.allSettled(all.map((i) => i.close()));
      await this.offsets.close();
    })();
    return this.closing;
  }

  private async sweep(): Promise<void> {
    const now = Date.now();
    const expired: KafkaConsumerInstance[] = [];
    for (const [key, instance] of this.instances) {
      if (instance.busy === 0 && now - instance.lastUsed > this.options.instanceTimeoutMs) {
        this.remove(key, instance);
        expired.push(instance);
      } else {
        void instance.autoCommitIfDue(now, this.options.autoCommitIntervalMs);
      }
    }
    if (expired.length > 0) this.options.logger.info({ count: expired.length }, 'expired idle consumer instances');
    await Promise.allSettled(expired.map((i) => i.close()));
  }

  private remove(key: string, instance: KafkaConsumerInstance): void {
    this.instances.delete(key);
    const capKey = this.capKeys.get(instance);
    if (capKey === undefined) return;
    const left = (this.perClient.get(capKey) ?? 1) - 1;
    if (left <= 0) this.perClient.delete(capKey);
    else this.perClient.set(capKey, left);
  }

  private secondsUntilNextExpiry(): number {
    let oldest = Date.now();
    for (const i of this.instances.values()) oldest = Math.min(oldest, i.lastUsed);
    return (oldest + this.options.instanceTimeoutMs - Date.now()) / 1000;
  }
}

function keyOf(group: string, name: string): string {
  return `${group}\u0000${name}`;
}
