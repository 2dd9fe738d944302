/**
 * The gateway's Prometheus metrics (prom-client), in one registry per gateway so that several
 * gateways in one process (the tests) never share counters. Labels are bounded: routes are express
 * route patterns (never raw URLs), topics are only counted after Kafka accepted records for them.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ProduceService } from '../core/ports.js';

/** Statuses operators alert on: auth failures, rate limiting, overload and shutdown. */
const REJECTION_STATUSES = new Set([401, 403, 429, 503]);

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly duration: Histogram<'method' | 'route' | 'status'>;
  private readonly rejections: Counter<'status'>;
  private readonly validationFailures: Counter<'error_code'>;
  private readonly producedRecords: Counter<'topic'>;
  private readonly producedBytes: Counter<'topic'>;
  private readonly kafkaErrors: Counter<'client'>;
  private consumerInstanceCount: () => number = () => 0;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'gateway_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.duration = new Histogram({
      name: 'gateway_http_request_duration_seconds',
      help: 'Time from request arrival to the end of the response, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.rejections = new Counter({
      name: 'gateway_http_rejections_total',
      help: 'Requests refused with 401, 403, 429 or 503, by status',
      labelNames: ['status'],
      registers,
    });
    this.validationFailures = new Counter({
      name: 'gateway_validation_failures_total',
      help: 'Requests refused because the request or a record was invalid, by Confluent error code',
      labelNames: ['error_code'],
      registers,
    });
    this.producedRecords = new Counter({
      name: 'gateway_produced_records_total',
      help: 'Records acknowledged by Kafka, by topic',
      labelNames: ['topic'],
      registers,
    });
    this.producedBytes = new Counter({
      name: 'gateway_produced_bytes_total',
      help: 'Key and value bytes of produce requests Kafka accepted, by topic',
      labelNames: ['topic'],
      registers,
    });
    this.kafkaErrors = new Counter({
      name: 'gateway_kafka_errors_total',
      help: 'Kafka client errors: records the producer could not deliver, producer and consumer error logs',
      labelNames: ['client'],
      registers,
    });
    const count = () => this.consumerInstanceCount();
    new Gauge({
      name: 'gateway_consumer_instances',
      help: 'Consumer instances currently open on this gateway',
      registers,
      collect() {
        this.set(count());
      },
    });
    // Process metrics, including nodejs_eventloop_lag_seconds.
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.requests.inc(labels);
    this.duration.observe(labels, seconds);
    if (REJECTION_STATUSES.has(status)) this.rejections.inc({ status: String(status) });
  }

  /** A request refused for being invalid (bad JSON, envelope, schema, limits). */
  validationFailed(errorCode: number): void {
    this.validationFailures.inc({ error_code: String(errorCode) });
  }

  produced(topic: string, records: number, bytes: number): void {
    if (records > 0) this.producedRecords.inc({ topic }, records);
    if (bytes > 0) this.producedBytes.inc({ topic }, bytes);
  }

  kafkaError(client: 'producer' | 'consumer', n = 1): void {
    this.kafkaErrors.inc({ client }, n);
  }

  /** Where the consumer instance gauge reads its value (the consumer manager's count). */
  countConsumerInstancesWith(count: () => number): void {
    this.consumerInstanceCount = count;
  }

  contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** Confluent error codes that mean "the request was invalid" (not auth, not Kafka, not routing). */
export function isValidationFailure(errorCode: number): boolean {
  if (errorCode === 400 || errorCode === 413 || errorCode === 422) return true;
  return (errorCode > 40000 && errorCode < 40100) || (errorCode > 42200 && errorCode < 42300);
}

/** A ProduceService that counts records Kafka did not take as producer errors. */
export function countedProducer(inner: ProduceService, metrics: GatewayMetrics): ProduceService {
  return {
    async produce(topic, records, deadline) {
      const outcomes = await inner.produce(topic, records, deadline);
      const failed = outcomes.filter((o) => !o.ok).length;
      if (failed > 0) metrics.kafkaError('producer', failed);
      return outcomes;
    },
  };
}

/**
 * Which client a kafkajs error log belongs to, for gateway_kafka_errors_total. Connection and admin
 * logs are left out: they include benign noise (e.g. "topic already exists" at start-up), and a
 * broker that is down shows as producer errors and in /readyz anyway.
 */
export function kafkaClientOf(namespace: string | undefined): 'producer' | 'consumer' | undefined {
  if (namespace === undefined) return undefined;
  if (/producer|transaction/i.test(namespace)) return 'producer';
  if (/consumer|runner|fetch/i.test(namespace)) return 'consumer';
  return undefined;
}
