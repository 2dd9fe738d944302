/**
 * Builds the express application: cross-cutting HTTP concerns first (security headers, body
 * reading), then the operations of openapi.yaml (mounted by operationId), then 404/405 and the
 * error handler.
 */
import type { RequestListener } from 'node:http';
import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { Errors } from '../core/errors.js';
import type {
  AdminService,
  ConsumerDirectory,
  ConsumerService,
  MetadataService,
  ProduceService,
} from '../core/ports.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { Readiness } from '../observability/readiness.js';
import { countValidationFailures, observeRequests, type InFlightRequests } from '../observability/requests.js';
import { traceContext } from '../observability/tracing.js';
import type { Security } from '../policy/security.js';
import { principalStamp } from '../policy/identity.js';
import type { OpenApiValidator } from '../policy/validation/openapi.js';
import type { RecordSchemas } from '../policy/validation/record-schemas.js';
import { errorHandler, toGatewayError } from './errors.js';
import { cors } from './cors.js';
import { stagePrefixOf, stripStagePrefix } from './base-uri.js';
import { forwardToOwner } from './consumer-forwarding.js';
import { contractRouter } from './contract-router.js';
import { requestTargetGuard } from './request-target.js';
import { bodyDeadline } from './body-deadline.js';
import { registrationCaller } from '../registry/caller.js';
import { allowHeader, type RouteTable } from '../core/route-table.js';
import { makeOperation } from './operation.js';
import { docsRoutes } from './routes/docs.js';
import { healthRoutes, metricsRoutes } from './routes/health.js';
import { consumerHandlers } from './routes/consumers.js';
import { metadataHandlers } from './routes/metadata.js';
import { produceHandlers } from './routes/produce.js';
import type { SchemaFormats } from '../formats/schema-formats.js';
import { withFastLane, type FastLane } from './fast-lane.js';
import { securityHeaders } from './security-headers.js';
import { RecordStreams, STREAM_BATCH_BYTES } from '../streaming/record-stream.js';
import { V3_STREAMING_OPERATION, v3Handlers } from '../v3/routes.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  validator: OpenApiValidator;
  /** The contract's paths (from the validator's document), shared with the security layer. */
  routes: RouteTable;
  recordSchemas: RecordSchemas;
  /** avro, jsonschema and protobuf over the schema registry (src/formats); absent = those formats refused. */
  schemaFormats?: SchemaFormats;
  metadata: MetadataService;
  producer: ProduceService;
  /** Cluster administration for the v3 API (src/kafka/admin). */
  admin: AdminService;
  /** Consumer instances (src/kafka/consumers) and where other replicas' instances live. */
  consumers: { service: ConsumerService; directory: ConsumerDirectory };
  /** Authentication, authorization, rate limits, quotas and shedding (src/policy/security.ts); absent = all off. */
  security?: Security;
  /** Metrics, readiness checks and the in-flight request count (src/observability). */
  ops: { metrics: GatewayMetrics; readiness: Readiness; inFlight: InFlightRequests; serveMetrics: boolean };
}

export interface GatewayApp {
  app: Express;
  /** The server's request listener: produce takes the fast lane (http/fast-lane.ts), the rest express. */
  listener: RequestListener;
  /** Options for http(s).createServer that make the fast lane cheaper (see http/fast-lane.ts). */
  serverOptions: FastLane['serverOptions'];
}

export function createApp(deps: AppDeps): GatewayApp {
  const { config, logger, validator } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  // Routing is case-sensitive, as Confluent's: `/TOPICS/x` is a 404, not a produce that skips its limits.
  app.set('case sensitive routing', true);
  // TRUST_PROXY=true trusts one hop (never a client-chosen leftmost X-Forwarded-For entry).
  app.set('trust proxy', config.http.trustProxy === true ? 1 : config.http.trustProxy);
  const { ops, security } = deps;
  // Operability first: request ids, logs, metrics and shutdown tracking see every request, and
  // probes, metrics and docs answer before authentication and rate limits.
  const headers = securityHeaders();
  const observe = observeRequests({
    logger,
    metrics: ops.metrics,
    inFlight: ops.inFlight,
    accessLog: config.observability.accessLog,
  });
  // Before anything reads the path: one unambiguous origin-form path, or 400.
  const target = requestTargetGuard();
  // Every middleware before the routes is mounted through one of these two, so the produce fast
  // lane (http/fast-lane.ts) runs exactly `lane` and knows why it skips the rest (checked at start).
  const lane: RequestHandler[] = [];
  const offLane: RequestHandler[] = [];
  const onLane = (...handlers: RequestHandler[]) => {
    lane.push(...handlers);
    app.use(...handlers);
  };
  /** Middleware that answers only paths no produce operation has (or, the stage prefix, whose job the lane does itself). */
  const besideLane = (...handlers: RequestHandler[]) => {
    offLane.push(...handlers);
    app.use(...handlers);
  };
  onLane(headers, observe, target);
  // PUBLIC_URL's path (a stage prefix) is accepted in front of any route too (http/base-uri.ts).
  const stagePath = stagePrefixOf(config.http.publicUrl);
  if (stagePath !== undefined) besideLane(stripStagePrefix(stagePath));
  besideLane(healthRoutes(ops.readiness));
  // /metrics names every topic: with authentication on it is served only to authenticated callers
  // (after the door below); METRICS_PORT serves it on a separate management listener instead.
  const metricsNeedAuth = config.security.auth.methods.length > 0;
  if (ops.serveMetrics && !metricsNeedAuth) besideLane(metricsRoutes(ops.metrics));
  besideLane(docsRoutes({ publicUrl: config.http.publicUrl }));
  // What every API request passes before its route, in order (the produce fast lane runs the same):
  // CORS; security at the door before any body is read (authentication that fails closed, rate
  // limits, shedding); the body, read as bytes and parsed by each route (produce needs lossless
  // numbers); trace context.
  const beforeRoutes: RequestHandler[] = [];
  if (config.security.corsOrigins.length > 0) beforeRoutes.push(cors(config.security.corsOrigins));
  if (security !== undefined) beforeRoutes.push(...security.door);
  beforeRoutes.push(bodyDeadline(config.http.bodyTimeoutMs));
  // v3 streaming produce reads its own body as it arrives (one request may last hours): not buffered here.
  const streams = (req: Request) => deps.routes.match(req.path)?.operationIds[req.method] === V3_STREAMING_OPERATION;
  beforeRoutes.push(express.raw({ type: (req) => !streams(req as Request), limit: config.http.maxBodyBytes }));
  if (security !== undefined) beforeRoutes.push(...security.afterBody);
  // Whether the caller may add schema versions, for registrations the produce path makes.
  beforeRoutes.push(registrationCaller(security?.authorizer));
  if (config.observability.tracingEnabled) beforeRoutes.push(traceContext());
  onLane(...beforeRoutes);
  if (ops.serveMetrics && metricsNeedAuth) {
    // Its labels name every topic: with a policy, only callers with admin on every topic (`*`) read it.
    const authorizer = security?.authorizer;
    if (authorizer?.enabled)
      besideLane((req, _res, next) => next(req.path === '/metrics' ? authorizer.checkAdminOfAll(req) : undefined));
    besideLane(metricsRoutes(ops.metrics));
  }
  const authz = security?.authorizer.enabled ? security.authorizer.hooks() : undefined;

  const operation = makeOperation(validator);
  // OPTIONS answers from the contract, not from whichever router matched first (the metadata
  // router alone would say `GET, HEAD` for /topics/{topic}, which also takes POST).
  besideLane(answerOptions(deps.routes));
  // What v2 and v3 produce share: the principal stamp on every record, and the produce metrics.
  const principalHeader =
    config.security.recordPrincipalHeader === undefined
      ? undefined
      : principalStamp(config.security.recordPrincipalHeader);
  const onProduced = (topic: string, records: number, bytes: number) => ops.metrics.produced(topic, records, bytes);
  const metadata = metadataHandlers({
    operation,
    metadata: deps.metadata,
    strictMediaTypes: config.http.strictMediaTypes,
    unknownTopicErrorCode: config.http.unknownTopicErrorCode,
    canDescribe: authz?.canDescribe,
    authorizeDescribe: authz?.authorizeDescribe,
  });
  const produce = produceHandlers({
    operation,
    validator,
    recordSchemas: deps.recordSchemas,
    metadata: deps.metadata,
    producer: deps.producer,
    strictMediaTypes: config.http.strictMediaTypes,
    limits: config.produce,
    authorize: authz?.authorizeProduce,
    canDescribe: authz?.canDescribe,
    admit: security?.admitProduce,
    principalHeader,
    onProduced,
    schemaFormats: deps.schemaFormats,
  });
  const { service, directory } = deps.consumers;
  const c = config.consumers;
  const consumers = consumerHandlers({
    operation,
    validator,
    consumers: service,
    metadata: deps.metadata,
    strictMediaTypes: config.http.strictMediaTypes,
    publicUrl: config.http.publicUrl,
    trustProxy: config.http.trustProxy,
    publicHosts: config.http.publicHosts,
    logger,
    limits: { requestTimeoutMs: c.requestTimeoutMs, maxFetchBytes: c.maxFetchBytes },
    authorizeGroup: authz?.authorizeGroup,
    authorizeTopics: authz?.authorizeTopics,
    canConsume: authz?.canConsume,
    schemaFormats: deps.schemaFormats,
    streams: new RecordStreams({
      heartbeatMs: c.streamHeartbeatMs,
      maxPerIdentity: c.maxStreamsPerIdentity,
      batchBytes: STREAM_BATCH_BYTES,
      logger,
    }),
  });
  // Every operation of openapi.yaml, mounted by operationId. A request for an instance another
  // replica owns is relayed to it first (after this replica's auth).
  const forwarding = forwardToOwner({
    consumers: service,
    directory,
    nodeId: c.nodeId,
    logger,
    timeoutMs: c.joinTimeoutMs + 300_000 + 10_000,
    proof: security?.peerProof,
    tls:
      config.security.tls === undefined
        ? undefined
        : { ca: config.security.tls.ca, cert: config.security.tls.cert, key: config.security.tls.key },
  });
  const v3 = v3Handlers({
    operation,
    validator,
    admin: deps.admin,
    metadata: deps.metadata,
    producer: deps.producer,
    recordSchemas: deps.recordSchemas,
    schemaFormats: deps.schemaFormats,
    limits: {
      maxJsonDepth: config.produce.maxJsonDepth,
      maxStringLength: config.produce.maxStringLength,
      requestTimeoutMs: config.produce.requestTimeoutMs,
      maxInFlightRecords: config.v3.streamMaxInFlightRecords,
      maxRecordBytes: config.v3.streamMaxRecordBytes,
      maxStreamDurationMs: config.v3.streamMaxDurationMs,
      maxInFlightBytes: config.v3.streamMaxInFlightBytes,
      idleTimeoutMs: config.v3.streamIdleTimeoutMs,
      maxStreamsPerClient: config.v3.streamMaxPerClient,
    },
    publicUrl: config.http.publicUrl,
    trustProxy: config.http.trustProxy,
    publicHosts: config.http.publicHosts,
    authorize: authz?.authorizeV3,
    may: authz?.mayV3,
    authorizeProduce: authz?.authorizeProduce,
    admit: security?.admitProduce,
    principalHeader,
    onProduced,
    // v3 answers a bad record in the stream, not as the request's error: counted per record.
    onInvalid: (errorCode) => ops.metrics.validationFailed(errorCode),
    // The registry's store: its configured topic, and Confluent's conventional one (an external registry's).
    ownTopics: [
      ...new Set(['_schemas', ...(config.schemaRegistry.mode === 'embedded' ? [config.schemaRegistry.topic] : [])]),
    ],
  });
  const routes = contractRouter(deps.routes, { ...metadata, ...produce, ...consumers, ...v3 }, { before: forwarding });
  app.use(routes);

  const unrouted = notFoundOrMethodNotAllowed(deps.routes);
  app.use(unrouted);
  const onError: ErrorRequestHandler[] = [
    countValidationFailures(ops.metrics, (err) => toGatewayError(err, config.http.maxBodyBytes)),
    errorHandler(config.http.maxBodyBytes, (err, req: Request) =>
      logger.error({ err, method: req.method, path: req.path }, 'unexpected error'),
    ),
  ];
  for (const handler of onError) app.use(handler);
  const { listener, serverOptions } = withFastLane(app, {
    before: lane,
    beside: offLane,
    until: routes,
    stagePrefix: stagePath,
    routes: deps.routes,
    lane: produce,
    unrouted,
    onError,
  });
  return { app, listener, serverOptions };
}

/** Unknown path → 404 `HTTP 404 Not Found`; known path, other method → 405 (as Confluent). */
function notFoundOrMethodNotAllowed(routes: RouteTable): RequestHandler {
  return (req, _res, next) => {
    const route = routes.match(req.path);
    next(route === undefined ? Errors.notFound() : Errors.methodNotAllowed(allowHeader(route.methods)));
  };
}

/** OPTIONS on a contract path → 204 with the path's methods in Allow (CORS preflights are answered before). */
function answerOptions(routes: RouteTable): RequestHandler {
  return (req, res, next) => {
    const route = req.method === 'OPTIONS' ? routes.match(req.path) : undefined;
    if (route === undefined) return next();
    res.setHeader('Allow', allowHeader(route.methods));
    res.status(204).end();
  };
}
