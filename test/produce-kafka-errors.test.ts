// Which Kafka failures a client may retry: the one mapping (src/kafka/errors.ts), fed with the
// error objects kafkajs really throws, wrapped the way its retrier wraps them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { GatewayError } from '../src/core/errors.js';
import { isRetriable, toGatewayError } from '../src/kafka/errors.js';

// kafkajs is CommonJS and builds its exports by spreading, so node sees no named exports.
const {
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
} = kafkajs;
type KafkaJSProtocolError = InstanceType<typeof KafkaJSProtocolError>;
type KafkaJSNumberOfRetriesExceeded = InstanceType<typeof KafkaJSNumberOfRetriesExceeded>;
type KafkaJSNonRetriableError = InstanceType<typeof KafkaJSNonRetriableError>;

/** A protocol error as kafkajs builds it from a broker's error code. */
function protocol(type: string, retriable: boolean, message = `${type} from the broker`): KafkaJSProtocolError {
  return new KafkaJSProtocolError(Object.assign(new Error(message), { type, code: 1, retriable }));
}

/** kafkajs's retrier: retries exhausted → KafkaJSNumberOfRetriesExceeded with the last error as cause. */
function retriesExhausted(cause: Error): KafkaJSNumberOfRetriesExceeded {
  return new KafkaJSNumberOfRetriesExceeded(cause, { retryCount: 5, retryTime: 5000 });
}

/** kafkajs's retrier: a non-retriable error → KafkaJSNonRetriableError with it as cause. */
function bailed(cause: Error): KafkaJSNonRetriableError {
  return new (KafkaJSNonRetriableError as unknown as new (e: Error, o: { cause: Error }) => KafkaJSNonRetriableError)(
    cause,
    { cause },
  );
}

describe('Kafka errors: retriable or not', () => {
  it('a broker outage is retriable even after kafkajs gave up retrying (50003)', () => {
    const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092', {
      broker: '127.0.0.1:9092',
    });
    const err = toGatewayError(retriesExhausted(refused));
    assert.equal(err.errorCode, 50003);
    assert.match(err.message, /ECONNREFUSED/);
    // The same outage, wrapped as "non-retriable" by kafkajs because it bailed out of a loop.
    assert.equal(toGatewayError(bailed(refused)).errorCode, 50003);
  });

  it('timeouts, leader moves and coordinator loads are retriable', () => {
    const cases: Error[] = [
      new KafkaJSRequestTimeoutError('Request Produce(key: 0, version: 7) timed out'),
      protocol('NOT_LEADER_FOR_PARTITION', true),
      protocol('LEADER_NOT_AVAILABLE', true),
      protocol('GROUP_LOAD_IN_PROGRESS', true),
      protocol('NOT_COORDINATOR_FOR_GROUP', true),
      protocol('NOT_ENOUGH_REPLICAS', true),
      protocol('REBALANCE_IN_PROGRESS', false),
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
    ];
    for (const e of cases) {
      assert.equal(toGatewayError(retriesExhausted(e)).errorCode, 50003, e.message);
      assert.equal(isRetriable(e), true, e.message);
    }
  });

  it('Kafka refusing the request itself is not retriable (50002), with its own message', () => {
    const tooLarge = protocol('MESSAGE_TOO_LARGE', false, 'The request included a message larger than the max');
    const err = toGatewayError(bailed(tooLarge));
    assert.equal(err.errorCode, 50002);
    assert.match(err.message, /larger than the max/);
    assert.equal(toGatewayError(protocol('TOPIC_AUTHORIZATION_FAILED', false)).errorCode, 50002);
    // A bug in a library is not something a client can wait out.
    assert.equal(toGatewayError(new TypeError("Cannot read properties of undefined (reading 'x')")).errorCode, 50002);
  });

  it('an unknown topic or partition is a 404, not a 5xx', () => {
    const unknown = retriesExhausted(protocol('UNKNOWN_TOPIC_OR_PARTITION', true));
    assert.equal(toGatewayError(unknown).errorCode, 40401);
    assert.equal(toGatewayError(unknown, { topicExists: true }).errorCode, 40402);
  });

  it('a gateway error passes through unchanged; a generic retriable kafkajs error stays retriable', () => {
    const own = new GatewayError(40402, 'Partition not found.');
    assert.equal(toGatewayError(own), own);
    assert.equal(toGatewayError(new KafkaJSError('Topic metadata not loaded')).errorCode, 50003);
  });
});
