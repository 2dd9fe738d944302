/**
 * The one mapping from a Kafka (kafkajs) failure to a gateway error, used by every Kafka call:
 * producer, metadata, admin and consumers.
 *
 * - 50003 (retriable): Kafka could not answer now but may in a moment — broker down or
 *   unreachable, request timeouts, leader moves, coordinator loading or moving, too few in-sync
 *   replicas, retries exhausted on any of these. A client following Confluent's rules retries.
 * - 50002 (not retriable): Kafka refused the request itself (record too large, not authorized,
 *   invalid config …); sending it again gives the same answer.
 * - 40401 / 40402: Kafka says the topic (or the partition of a known topic) does not exist.
 *
 * kafkajs wraps the real cause: KafkaJSNumberOfRetriesExceeded and KafkaJSNonRetriableError are
 * both marked non-retriable whatever they wrap, so the wrapper alone would call a broker outage
 * permanent. We therefore walk the whole chain (`cause`, `originalError`, aggregate `errors`)
 * and decide by what Kafka (or the network) actually said.
 */
import { Errors, GatewayError } from '../core/errors.js';

export type KafkaFailure = 'retriable' | 'fatal' | 'unknownTopicOrPartition';

/** Protocol errors kafkajs calls permanent that are transient for a client of the gateway. */
const TRANSIENT_TYPES = new Set([
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'BROKER_NOT_AVAILABLE',
  'REPLICA_NOT_AVAILABLE',
  'GROUP_LOAD_IN_PROGRESS', // COORDINATOR_LOAD_IN_PROGRESS
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR_FOR_GROUP',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'NOT_CONTROLLER',
  'KAFKA_STORAGE_ERROR',
  'REBALANCE_IN_PROGRESS',
  'ILLEGAL_GENERATION',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'OFFSET_NOT_AVAILABLE',
  'PREFERRED_LEADER_NOT_AVAILABLE',
  'ELIGIBLE_LEADERS_NOT_AVAILABLE',
  'CONCURRENT_TRANSACTIONS',
  // The idempotent producer's state was lost on the broker (e.g. after a restart); nothing was written.
  'UNKNOWN_PRODUCER_ID',
]);

/** kafkajs error classes that mean "could not reach or hear from Kafka in time". */
const TRANSIENT_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSBrokerNotFound',
  'KafkaJSTimeout',
  'KafkaJSLockTimeout',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSStaleTopicMetadataAssignment',
  'KafkaJSGroupCoordinatorNotFound',
]);

/** Node socket errors seen when a broker goes away. */
const TRANSIENT_SYSCALL_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * Plain `Error`s kafkajs throws (no class, no type) that mean the broker is out of reach: a frozen
 * broker's connection is dropped and its next request fails with this (kafkajs broker/index.js).
 */
const TRANSIENT_PLAIN_MESSAGES = new Set(['Broker not connected']);

/** Errors that only wrap another: their own `retriable` flag says nothing about the cause. */
const WRAPPERS = new Set(['KafkaJSNumberOfRetriesExceeded', 'KafkaJSNonRetriableError', 'KafkaJSAggregateError']);

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  type?: unknown;
  code?: unknown;
  retriable?: unknown;
  cause?: unknown;
  originalError?: unknown;
  errors?: unknown;
}

/** Every error in the chain, outermost first (bounded, cycle-safe). */
function chainOf(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  const seen = new Set<unknown>();
  const pending: unknown[] = [err];
  while (pending.length > 0 && out.length < 32) {
    const e = pending.shift();
    if (e === null || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const link = e as ErrorLike;
    out.push(link);
    pending.push(link.cause, link.originalError);
    if (Array.isArray(link.errors)) pending.push(...(link.errors as unknown[]));
  }
  return out;
}

/** What kind of failure a Kafka call's error is. */
export function classifyKafkaError(err: unknown): KafkaFailure {
  const chain = chainOf(err);
  let transient = false;
  let refused = false;
  for (const link of chain) {
    const name = typeof link.name === 'string' ? link.name : '';
    const type = typeof link.type === 'string' ? link.type : undefined;
    if (type === 'UNKNOWN_TOPIC_OR_PARTITION') return 'unknownTopicOrPartition';
    if (type !== undefined) {
      // A protocol error: Kafka's own answer decides.
      if (TRANSIENT_TYPES.has(type) || link.retriable === true) transient = true;
      else refused = true;
      continue;
    }
    if (TRANSIENT_NAMES.has(name)) transient = true;
    else if (typeof link.code === 'string' && TRANSIENT_SYSCALL_CODES.has(link.code)) transient = true;
    else if (name === 'Error' && typeof link.message === 'string' && TRANSIENT_PLAIN_MESSAGES.has(link.message))
      transient = true;
    else if (!WRAPPERS.has(name) && name.startsWith('KafkaJS') && link.retriable === true) transient = true;
  }
  // Kafka refusing the request itself outweighs a timeout met on the way to that answer.
  if (refused) return 'fatal';
  return transient ? 'retriable' : 'fatal';
}

/** True when sending the same request again later may succeed (Confluent's 50003). */
export function isRetriable(err: unknown): boolean {
  const kind = classifyKafkaError(err);
  // An unknown topic/partition right after creation is Kafka catching up, hence retriable.
  return kind === 'retriable' || kind === 'unknownTopicOrPartition';
}

/** The per-record error code of a produce outcome: 50003 when retriable, else 50002. */
export function recordErrorCode(err: unknown): 50002 | 50003 {
  return isRetriable(err) ? 50003 : 50002;
}

/** Whether Kafka's protocol error `type` (e.g. MESSAGE_TOO_LARGE) is anywhere in the cause chain. */
export function hasKafkaErrorType(err: unknown, type: string): boolean {
  return chainOf(err).some((l) => l.type === type);
}

/** The message a client sees: the innermost Kafka explanation, not kafkajs's wrapper text. */
export function kafkaMessage(err: unknown): string {
  const chain = chainOf(err);
  const protocol = chain.find((l) => typeof l.type === 'string' && typeof l.message === 'string');
  const innermost = protocol ?? chain[chain.length - 1];
  const message = typeof innermost?.message === 'string' && innermost.message !== '' ? innermost.message : undefined;
  return message ?? (err instanceof Error ? err.message : String(err));
}

export interface KafkaErrorContext {
  /**
   * The caller already knows the topic exists, so Kafka's UNKNOWN_TOPIC_OR_PARTITION means the
   * partition (40402) rather than the topic (40401).
   */
  topicExists?: boolean;
}

/**
 * Maps anything a Kafka call threw to the error the client gets. A GatewayError passes through
 * unchanged, so callers can wrap whole blocks that also throw their own errors.
 */
export function toGatewayError(err: unknown, context: KafkaErrorContext = {}): GatewayError {
  if (err instanceof GatewayError) return err;
  const kind = classifyKafkaError(err);
  if (kind === 'unknownTopicOrPartition') {
    return context.topicExists === true ? Errors.partitionNotFound() : Errors.topicNotFound();
  }
  const message = kafkaMessage(err);
  return kind === 'retriable' ? Errors.kafkaRetriable(message) : Errors.kafka(message);
}

/** Runs one Kafka call, rethrowing any failure as its gateway error. */
export async function kafkaCall<T>(call: () => Promise<T>, context?: KafkaErrorContext): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw toGatewayError(err, context);
  }
}
