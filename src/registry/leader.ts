/**
 * One writer among the replicas, elected through Kafka: every replica joins one consumer group
 * (SCHEMA_REGISTRY_GROUP) and the group's leader, which Kafka's coordinator chooses, is the writer.
 * Each replica's Kafka client id carries its registry URL (hex-encoded), and Kafka forms member
 * ids as `<client id>-<uuid>`, so every member learns the leader's URL from the leader id it is
 * told at each join. When the leader goes away the group rebalances and another member leads.
 *
 * The group assigns no partitions to anyone: it exists only for the election.
 */
import { AssignerProtocol, type Consumer, type Kafka, type PartitionAssigner } from 'kafkajs';
import type { Logger } from 'pino';

export interface LeaderInfo {
  /** This replica leads. */
  self: boolean;
  /** The leader's registry URL. */
  url?: string;
}

const PROTOCOL = 'SchemaRegistryElection';
const PREFIX = 'schema-registry-';

export function electionClientId(url: string): string {
  return `${PREFIX}${Buffer.from(url, 'utf8').toString('hex')}`;
}

/** The registry URL encoded in a member id, if it is one of ours. */
export function urlOfMember(memberId: string): string | undefined {
  const m = /^schema-registry-([0-9a-f]+)-/.exec(memberId);
  if (m === null || m[1]!.length % 2 !== 0) return undefined;
  return Buffer.from(m[1]!, 'hex').toString('utf8');
}

const assignNothing: PartitionAssigner = () => ({
  name: PROTOCOL,
  version: 1,
  assign: async ({ members }) =>
    members.map((m) => ({
      memberId: m.memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 1,
        assignment: {},
        userData: Buffer.alloc(0),
      }),
    })),
  protocol: ({ topics }) => ({
    name: PROTOCOL,
    metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
  }),
});

export class LeaderElection {
  private consumer?: Consumer;
  private leader?: LeaderInfo;
  private waiters: Array<() => void> = [];

  constructor(
    /** A Kafka client whose clientId is electionClientId(ownUrl). */
    private readonly kafka: Kafka,
    private readonly group: string,
    private readonly topic: string,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.group,
      partitionAssigners: [assignNothing],
      sessionTimeout: 10_000,
      rebalanceTimeout: 10_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 1_000,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.leader = { self: payload.isLeader, url: urlOfMember(payload.leaderId) };
      this.logger.info(
        { group: this.group, leader: this.leader.url, self: payload.isLeader },
        payload.isLeader ? 'this replica is the schema registry leader' : 'schema registry leader elected',
      );
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    });
    consumer.on(consumer.events.REBALANCING, () => {
      this.leader = undefined;
    });
    consumer.on(consumer.events.CRASH, () => {
      this.leader = undefined;
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [this.topic] });
    await consumer.run({ autoCommit: false, eachMessage: async () => undefined });
  }

  /** The current leader, waiting up to `timeoutMs` for an election; undefined if none by then. */
  current(timeoutMs: number): Promise<LeaderInfo | undefined> {
    return this.other(undefined, timeoutMs);
  }

  /**
   * A leader other than `stale` (one that did not answer): waits up to `timeoutMs` for the group
   * to elect again (a stopped leader leaves the group; a crashed one is dropped after the session
   * timeout).
   */
  async other(stale: LeaderInfo | undefined, timeoutMs: number): Promise<LeaderInfo | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.leader === undefined || this.leader === stale) {
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await this.joined(left);
    }
    return this.leader;
  }

  private async joined(timeoutMs: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
  }
}
