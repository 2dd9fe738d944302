/**
 * Consumer creation settings alone (http/consumers/settings.ts): what a create body means, in
 * strict and lenient mode, without a gateway or a broker.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '../../src/core/errors.js';
import { MAX_INSTANCE_WAIT_MS, lenientCreateFields, settingsFrom } from '../../src/http/consumers/settings.js';

const refused = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof GatewayError);
    assert.equal(err.errorCode, 42204);
    assert.match(err.message, pattern);
    return true;
  });

describe('consumer settings: a create body → ConsumerSettings', () => {
  it('an empty body gets Confluent defaults: binary, latest, auto-commit, no minimum, the server wait', () => {
    assert.deepEqual(settingsFrom({}), {
      format: 'binary',
      autoOffsetReset: 'latest',
      autoCommit: true,
      fetchMinBytes: -1,
      requestTimeoutMs: undefined,
    });
  });

  it('reads every field, case-insensitively where Confluent does, and numbers given as strings', () => {
    assert.deepEqual(
      settingsFrom({
        format: 'JSON',
        'auto.offset.reset': 'Earliest',
        'auto.commit.enable': 'FALSE',
        'fetch.min.bytes': '1024',
        'consumer.request.timeout.ms': 500,
      }),
      { format: 'json', autoOffsetReset: 'earliest', autoCommit: false, fetchMinBytes: 1024, requestTimeoutMs: 500 },
    );
    assert.equal(settingsFrom({ 'auto.commit.enable': false }).autoCommit, false);
  });

  it('the v3-style names responseMinBytes and requestWaitMs mean the same', () => {
    const s = settingsFrom({ responseMinBytes: 10, requestWaitMs: '250' });
    assert.equal(s.fetchMinBytes, 10);
    assert.equal(s.requestTimeoutMs, 250);
  });

  it('refuses each bad value with 42204 naming the setting', () => {
    refused(() => settingsFrom({ format: 'xml' }), /Invalid format type "xml"/);
    refused(() => settingsFrom({ 'auto.offset.reset': 'middle' }), /auto\.offset\.reset/);
    refused(() => settingsFrom({ 'auto.commit.enable': 'yes' }), /auto\.commit\.enable/);
    refused(() => settingsFrom({ 'fetch.min.bytes': '1e3' }), /fetch\.min\.bytes/);
    refused(() => settingsFrom({ 'fetch.min.bytes': -2 }), /fetch\.min\.bytes/);
    refused(() => settingsFrom({ 'consumer.request.timeout.ms': 1.5 }), /consumer\.request\.timeout\.ms/);
    refused(
      () => settingsFrom({ 'consumer.request.timeout.ms': MAX_INSTANCE_WAIT_MS + 1 }),
      /consumer\.request\.timeout\.ms/,
    );
  });

  it('keeps the longest wait a client may choose at five minutes', () => {
    assert.equal(settingsFrom({ 'consumer.request.timeout.ms': MAX_INSTANCE_WAIT_MS }).requestTimeoutMs, 300_000);
  });
});

describe('consumer settings: lenient create bodies', () => {
  it('keeps the fields openapi.yaml defines and names the others as ignored', () => {
    const { kept, ignored } = lenientCreateFields({
      name: 'c1',
      format: 'json',
      'max.poll.records': 10,
      'session.timeout.ms': 30_000,
    });
    assert.deepEqual(kept, { name: 'c1', format: 'json' });
    assert.deepEqual(ignored, ['max.poll.records', 'session.timeout.ms']);
  });

  it("takes Kafka's enable.auto.commit for auto.commit.enable, unless both are given", () => {
    assert.deepEqual(lenientCreateFields({ 'enable.auto.commit': 'false' }).kept, { 'auto.commit.enable': 'false' });
    assert.deepEqual(lenientCreateFields({ 'enable.auto.commit': 'false', 'auto.commit.enable': 'true' }).kept, {
      'auto.commit.enable': 'true',
    });
  });

  it('old clients’ smallest and largest mean earliest and latest', () => {
    assert.equal(lenientCreateFields({ 'auto.offset.reset': 'smallest' }).kept['auto.offset.reset'], 'earliest');
    assert.equal(lenientCreateFields({ 'auto.offset.reset': 'largest' }).kept['auto.offset.reset'], 'latest');
    // Strict mode never sees these: settingsFrom alone refuses them.
    refused(() => settingsFrom({ 'auto.offset.reset': 'smallest' }), /auto\.offset\.reset/);
  });

  it('refuses properties that pick brokers, credentials or classes to load, never ignoring them', () => {
    for (const key of [
      'bootstrap.servers',
      'sasl.jaas.config',
      'ssl.truststore.location',
      'security.protocol',
      'interceptor.classes',
      'key.deserializer',
      'partition.assignment.strategy.class',
      'metric.reporters',
      'config.providers',
      'client.dns.lookup',
    ]) {
      refused(() => lenientCreateFields({ [key]: 'x' }), new RegExp(`${key.replace(/\./g, '\\.')} cannot be set`));
    }
  });
});
