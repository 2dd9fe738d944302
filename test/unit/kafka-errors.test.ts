// One Kafka-error mapping (broker-free): what a Kafka call's failure becomes for the client,
// following kafkajs's wrappers down to what Kafka (or the network) said.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { httpStatusOf } from '../../src/core/errors.js';
import { toGatewayError } from '../../src/kafka/errors.js';

// kafkajs is CommonJS: its error classes are on the default export.
const { KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } = kafkajs;

const protocolError = (type: string, retriable: boolean) =>
  Object.assign(new KafkaJSProtocolError('Kafka said no'), { type, retriable });

describe('Kafka errors → gateway errors', () => {
  it('calls a broker the client cannot reach retriable, however kafkajs wraps it', () => {
    // kafkajs throws this plain Error when a frozen broker's connection is gone (broker/index.js).
    const notConnected = new Error('Broker not connected');
    for (const err of [
      notConnected,
      // kafkajs's retrier gives up with the cause attached (retry/index.js).
      Object.assign(new KafkaJSNonRetriableError(notConnected), { cause: notConnected }),
      new KafkaJSNumberOfRetriesExceeded(notConnected, { retryCount: 5, retryTime: 100 }),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { code: 'ECONNREFUSED' }),
    ]) {
      const mapped = toGatewayError(err);
      assert.equal(mapped.errorCode, 50003, `${err.name}: ${err.message}`);
      assert.equal(httpStatusOf(mapped.errorCode), 500);
    }
  });

  it('calls a request Kafka refused not retriable, even after a timeout on the way', () => {
    assert.equal(toGatewayError(protocolError('MESSAGE_TOO_LARGE', false)).errorCode, 50002);
    assert.equal(toGatewayError(protocolError('TOPIC_AUTHORIZATION_FAILED', false)).errorCode, 50002);
    assert.equal(toGatewayError(protocolError('NOT_ENOUGH_REPLICAS', false)).errorCode, 50003);
  });

  it('names an unknown topic 40401, or the partition 40402 when the topic is known', () => {
    const unknown = protocolError('UNKNOWN_TOPIC_OR_PARTITION', true);
    assert.equal(toGatewayError(unknown).errorCode, 40401);
    assert.equal(toGatewayError(unknown, { topicExists: true }).errorCode, 40402);
  });

  it('keeps the innermost explanation as the message', () => {
    const wrapped = new KafkaJSNumberOfRetriesExceeded(protocolError('REQUEST_TIMED_OUT', true), {
      retryCount: 5,
      retryTime: 100,
    });
    assert.equal(toGatewayError(wrapped).message, 'Kafka said no');
  });
});
