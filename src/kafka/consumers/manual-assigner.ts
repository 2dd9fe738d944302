/**
 * Manual assignment (`POST …/assignments`) with kafkajs, which has no public assign().
 *
 * The instance's kafkajs consumer joins a private group of its own (see privateGroupId), alone,
 * with this assigner: the group leader — the consumer itself — hands itself exactly the requested
 * partitions. That gives kafkajs's fetch loop, seek and pause machinery without touching the real
 * group's membership, as Kafka's own assign() does. The real group is used only for offsets:
 * committed offsets are read from it when the assignment starts, and commits go to it without
 * membership (a transactional producer's sendOffsets, see group-offsets.ts). The private group
 * never commits, so it leaves nothing behind in __consumer_offsets.
 */
import { randomUUID } from 'node:crypto';
import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';
import type { TopicPartition } from '../../core/ports.js';

const NAME = 'RestProxyManualAssignment';

export function manualAssigner(partitions: TopicPartition[]): PartitionAssigner {
  const assignment: Record<string, number[]> = {};
  for (const { topic, partition } of partitions) (assignment[topic] ??= []).push(partition);
  return () => ({
    name: NAME,
    version: 1,
    assign: async ({ members }) =>
      // Alone in its private group; should anyone else ever join, they get nothing.
      members.map((m, i) => ({
        memberId: m.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: i === 0 ? assignment : {},
          userData: Buffer.alloc(0),
        }),
      })),
    protocol: ({ topics }) => ({
      name: NAME,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
    }),
  });
}

/** A group no one else joins. Random, so a quick re-assign never waits for the old member to leave. */
export function privateGroupId(group: string, instance: string): string {
  return `_rest-assign.${group}.${instance}.${randomUUID().slice(0, 8)}`;
}
