/**
 * W3C trace context through the gateway (TRACING_ENABLED, off by default). A `traceparent` (and
 * `tracestate`) arriving with a request is kept for that request; when it produces, a PRODUCER span
 * is started under it (OpenTelemetry API: a no-op unless the process registers an SDK) and the
 * span's context is written into every record's Kafka headers, so a consumer continues the same
 * trace from device to consumer. Without an SDK the incoming context is passed on unchanged.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  createTraceState,
  isSpanContextValid,
  trace,
  type Context,
  type SpanContext,
} from '@opentelemetry/api';
import type { RequestHandler } from 'express';
import type { OutgoingRecord, ProduceService, RecordHeader } from '../core/ports.js';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** The trace context of the request being handled (set by traceContext()). */
const incoming = new AsyncLocalStorage<Context>();

/** Parses W3C trace context headers; undefined when absent or malformed (then it is ignored). */
export function parseTraceContext(traceparent: unknown, tracestate?: unknown): SpanContext | undefined {
  if (typeof traceparent !== 'string') return undefined;
  const m = TRACEPARENT.exec(traceparent.trim());
  if (m === null) return undefined;
  const [, version, traceId, spanId, flags, rest] = m;
  // Version ff is forbidden; version 00 has exactly four fields. Later versions may add fields.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  const spanContext: SpanContext = {
    traceId: traceId!,
    spanId: spanId!,
    traceFlags: parseInt(flags!, 16) & 0xff,
    isRemote: true,
    traceState: typeof tracestate === 'string' && tracestate.trim() !== '' ? createTraceState(tracestate) : undefined,
  };
  return isSpanContextValid(spanContext) ? spanContext : undefined;
}

export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** Keeps a request's incoming trace context for the rest of its handling. Mount after body parsing. */
export function traceContext(): RequestHandler {
  return (req, _res, next) => {
    const spanContext = parseTraceContext(req.headers.traceparent, req.headers.tracestate);
    if (spanContext === undefined) next();
    else incoming.run(trace.setSpanContext(ROOT_CONTEXT, spanContext), next);
  };
}

/** A ProduceService that adds the request's trace context to every record it sends. */
export function tracedProducer(inner: ProduceService): ProduceService {
  const tracer = trace.getTracer('kafka-rest-gateway');
  return {
    async produce(topic, records, deadline) {
      const parent = incoming.getStore();
      if (parent === undefined) return inner.produce(topic, records, deadline);
      const span = tracer.startSpan(
        `${topic} publish`,
        {
          kind: SpanKind.PRODUCER,
          attributes: {
            'messaging.system': 'kafka',
            'messaging.operation.type': 'send',
            'messaging.destination.name': topic,
            'messaging.batch.message_count': records.length,
          },
        },
        parent,
      );
      const headers = traceHeaders(span.spanContext());
      try {
        const outcomes = await inner.produce(
          topic,
          records.map((r) => withHeaders(r, headers)),
        );
        const failed = outcomes.filter((o) => !o.ok).length;
        if (failed > 0) span.setStatus({ code: SpanStatusCode.ERROR, message: `${failed} records not delivered` });
        return outcomes;
      } finally {
        span.end();
      }
    },
  };
}

function traceHeaders(sc: SpanContext): RecordHeader[] {
  const headers = [{ key: 'traceparent', value: Buffer.from(formatTraceparent(sc)) }];
  const state = sc.traceState?.serialize();
  if (state) headers.push({ key: 'tracestate', value: Buffer.from(state) });
  return headers;
}

/** A record that already carries its own traceparent header keeps it. */
function withHeaders(record: OutgoingRecord, headers: RecordHeader[]): OutgoingRecord {
  if (record.headers?.some((h) => h.key === 'traceparent')) return record;
  return { ...record, headers: [...(record.headers ?? []), ...headers] };
}
