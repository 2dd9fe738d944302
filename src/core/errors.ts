/**
 * Errors are values: every failure the gateway reports carries a Confluent `error_code`.
 * The HTTP status is derived from the code in one place (http/errors.ts), never chosen ad hoc.
 */
export interface ValidationIssue {
  /** Where the problem is, e.g. `records[3].value/heartrate`. */
  path: string;
  /** The rule that failed, in words, e.g. `must match pattern "^[0-9]+$"`. */
  message: string;
}

export class GatewayError extends Error {
  constructor(
    /** Confluent error code: an HTTP status (400) or status×100+n (40401). */
    readonly errorCode: number,
    message: string,
    readonly details: {
      validationErrors?: ValidationIssue[];
      retryAfterSeconds?: number;
      /** Extra response headers, e.g. WWW-Authenticate. */
      headers?: Record<string, string>;
      /** Send no body (Confluent answers some 406s without one). */
      noBody?: boolean;
    } = {},
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}

/** The Confluent error codes the gateway emits, with the messages clients sometimes match on. */
export const Errors = {
  badRequest: (message: string) => new GatewayError(400, message),
  notFound: () => new GatewayError(404, 'HTTP 404 Not Found'),
  /** `allow`: the path's methods, for the Allow header RFC 9110 requires on a 405. */
  methodNotAllowed: (allow?: string) =>
    new GatewayError(405, 'HTTP 405 Method Not Allowed', allow === undefined ? {} : { headers: { Allow: allow } }),
  notAcceptable: (noBody = false) => new GatewayError(406, 'HTTP 406 Not Acceptable', { noBody }),
  unsupportedMediaType: (message = 'HTTP 415 Unsupported Media Type') => new GatewayError(415, message),
  payloadTooLarge: (limit: number) => new GatewayError(413, `Request body is larger than the limit of ${limit} bytes.`),
  unprocessable: (message: string, validationErrors?: ValidationIssue[]) =>
    new GatewayError(422, message, { validationErrors }),
  topicNotFound: () => new GatewayError(40401, 'Topic not found.'),
  /** Confluent ≥ 6.0's answer to a metadata GET for an unknown topic (UNKNOWN_TOPIC_ERROR_CODE=40403). */
  topicNotHosted: () => new GatewayError(40403, 'This server does not host this topic-partition.'),
  partitionNotFound: () => new GatewayError(40402, 'Partition not found.'),
  consumerInstanceNotFound: () => new GatewayError(40403, 'Consumer instance not found.'),
  consumerFormatMismatch: () =>
    new GatewayError(
      40601,
      'The requested embedded data format does not match the deserializer for this consumer instance',
    ),
  consumerAlreadyExists: () =>
    new GatewayError(40902, 'Consumer with specified consumer ID already exists in the specified consumer group.'),
  illegalState: (detail: string) => new GatewayError(40903, `Illegal state: ${detail}`),
  keySchemaMissing: () => new GatewayError(42201, 'Request includes keys but does not include key schema'),
  valueSchemaMissing: () => new GatewayError(42202, 'Request includes values but does not include value schema'),
  schemaRegistryUnsupported: (format: string) =>
    new GatewayError(
      415,
      `HTTP 415 Unsupported Media Type: the ${format} embedded format needs a schema registry, ` +
        'which is turned off on this gateway; use application/vnd.kafka.json.v2+json or application/vnd.kafka.binary.v2+json',
    ),
  // Schema formats (src/formats): Confluent REST Proxy's codes for avro, jsonschema and protobuf.
  /** key_schema/value_schema text that is not a schema of its format at all (Confluent: a plain 400). */
  schemaUnparsable: (message: string) => new GatewayError(400, message),
  /** 42205: the text parsed but is not a valid schema (or the registry refused it as invalid). */
  invalidSchema: (message: string) => new GatewayError(42205, message),
  /** 42207: the registry could not resolve or register a schema, or the id names another schema type. */
  schemaSerialization: (detail: string) => new GatewayError(42207, `Error serializing message. ${detail}`),
  /** A record's key or value does not fit its schema (Confluent: 400); every problem is listed. */
  schemaDataInvalid: (issues: ValidationIssue[]) =>
    new GatewayError(
      400,
      `Bad Request: ${issues
        .slice(0, 5)
        .map((i) => `${i.path}: ${i.message}`)
        .join('; ')}${issues.length > 5 ? '; …' : ''}`,
      { validationErrors: issues },
    ),
  invalidConsumerConfig: (detail: string) => new GatewayError(42204, `Invalid consumer configuration: ${detail}`),
  recordValidation: (issues: ValidationIssue[]) =>
    new GatewayError(
      42206,
      `${issues.length} validation error${issues.length === 1 ? '' : 's'}: ${issues
        .slice(0, 5)
        .map((i) => `${i.path}: ${i.message}`)
        .join('; ')}${issues.length > 5 ? '; …' : ''}`,
      { validationErrors: issues },
    ),
  kafka: (message: string) => new GatewayError(50002, message),
  kafkaRetriable: (message: string) => new GatewayError(50003, message),
  internal: () => new GatewayError(500, 'Internal Server Error'),
  /** A 4xx a library raised (body-parser and the like), kept with its status. */
  fromHttpStatus: (status: number, message: string) => new GatewayError(status, message),
  /** A path, query or header parameter is missing or invalid (its x-error-code, 400 by default). */
  invalidParameter: (errorCode: number, message: string, validationErrors?: ValidationIssue[]) =>
    new GatewayError(errorCode, message, { validationErrors }),
  /** A body that breaks openapi.yaml: 400 for wrong fields and types, 422 for missing required ones. */
  invalidBody: (status: 400 | 422, summary: string, validationErrors: ValidationIssue[]) =>
    new GatewayError(status, summary, { validationErrors }),
  unauthorized: (message: string, challenge: string) =>
    new GatewayError(40101, message, { headers: { 'WWW-Authenticate': challenge } }),
  forbidden: (message: string) => new GatewayError(40301, message),
  requestTimeout: (timeoutMs: number) =>
    new GatewayError(408, `The request body did not arrive within ${timeoutMs} ms.`),
  recordNotDeserializable: (message: string) => new GatewayError(40801, message),
  tooManyRequests: (message: string, retryAfterSeconds: number) =>
    new GatewayError(429, message, { retryAfterSeconds: Math.max(1, Math.ceil(retryAfterSeconds)) }),
  /** Streaming consume (src/streaming): the caller has STREAM_MAX_PER_IDENTITY event streams open here. */
  tooManyStreams: (limit: number) =>
    new GatewayError(
      429,
      `Too many open event streams: at most ${limit} per caller on this gateway (STREAM_MAX_PER_IDENTITY); close one first.`,
      { retryAfterSeconds: 5 },
    ),
  /** 50301: the gateway sheds load (in-flight cap) or cannot meter it (Redis away). HTTP 503. */
  overloaded: (message = 'The gateway is overloaded; retry later.', retryAfterSeconds = 1) =>
    new GatewayError(50301, message, { retryAfterSeconds }),
  shuttingDown: () =>
    new GatewayError(503, 'The gateway is shutting down; retry on another instance.', { retryAfterSeconds: 1 }),
  // The v3 API (issue 14): Confluent's v3 texts, e.g. `Cluster x cannot be found.`
  clusterNotFound: (clusterId: string) => new GatewayError(404, `Cluster ${clusterId} cannot be found.`),
  /** Kafka refused a topic or config request (exists, bad replication factor, invalid config …): v3's 40002. */
  kafkaRefused: (message: string) => new GatewayError(40002, message),
  configNotFound: (name: string) => new GatewayError(404, `Config ${name} cannot be found.`),
  /** Kafka's own topics (`__consumer_offsets`, …) are never created, deleted or reconfigured over the gateway. */
  internalTopic: (topic: string) =>
    new GatewayError(
      40301,
      `Topic ${topic} is internal to Kafka: the gateway does not create, delete or reconfigure it.`,
    ),
  /** The gateway's own topics (the schema registry's, SCHEMA_REGISTRY_TOPIC) are not deleted or reconfigured over HTTP. */
  gatewayTopic: (topic: string) =>
    new GatewayError(
      40301,
      `Topic ${topic} holds the gateway's schema registry: the gateway does not delete or reconfigure it.`,
    ),
  consumerGroupNotFound: (group: string) => new GatewayError(404, `Consumer Group ${group} could not be found.`),
  consumerNotFound: (consumer: string) => new GatewayError(404, `Consumer ${consumer} could not be found.`),
  assignmentNotFound: () => new GatewayError(404, 'Consumer assignment could not be found.'),
  brokerNotFound: (id: number | string) => new GatewayError(404, `Broker ${id} cannot be found.`),
  consumerLagsNotFound: () => new GatewayError(404, 'Consumer lags not found.'),
  consumerGroupOffsetsNotFound: () => new GatewayError(404, 'Consumer group offsets could not be found.'),
  /** v3 produce: an empty body, or a record that breaks the request rules (Confluent's 42206). */
  v3PayloadError: (detail: string) => new GatewayError(42206, `Payload error. ${detail}`),
  /** v3 streaming produce: the connection outlived STREAM_MAX_DURATION_MS. */
  streamExpired: () =>
    new GatewayError(408, 'Streaming connection open for longer than allowed: Connection will be closed.'),
  /** v3 streaming produce: no new record for V3_STREAM_IDLE_TIMEOUT_MS. */
  streamIdle: (timeoutMs: number) =>
    new GatewayError(
      408,
      `No record arrived for ${timeoutMs} ms (V3_STREAM_IDLE_TIMEOUT_MS): Connection will be closed.`,
    ),
  /** v3 streaming produce: the caller has V3_STREAM_MAX_PER_CLIENT produce streams open here. */
  tooManyProduceStreams: (limit: number) =>
    new GatewayError(
      429,
      `Too many open produce streams: at most ${limit} per caller on this gateway (V3_STREAM_MAX_PER_CLIENT); close one first.`,
      { retryAfterSeconds: 5 },
    ),
} as const;

/** HTTP status for a Confluent error code (Confluent's own quirk: 40001 travels with 422). */
export function httpStatusOf(errorCode: number): number {
  if (errorCode === 40001) return 422;
  if (errorCode < 1000) return errorCode;
  return Math.floor(errorCode / 100);
}

/**
 * The schema registry's errors (src/registry), with Confluent Schema Registry's codes and the
 * messages its clients print. Their HTTP status follows from the code like every other error.
 */
export const RegistryErrors = {
  subjectNotFound: (subject: string) => new GatewayError(40401, `Subject '${subject}' not found.`),
  versionNotFound: (version: number | string) => new GatewayError(40402, `Version ${version} not found.`),
  schemaNotFound: (id?: number) =>
    new GatewayError(40403, id === undefined ? 'Schema not found' : `Schema ${id} not found`),
  subjectSoftDeleted: (subject: string) =>
    new GatewayError(40404, `Subject '${subject}' was soft deleted. Set permanent=true to delete permanently`),
  subjectNotSoftDeleted: (subject: string) =>
    new GatewayError(40405, `Subject '${subject}' was not deleted first before being permanently deleted`),
  versionSoftDeleted: (subject: string, version: number) =>
    new GatewayError(
      40406,
      `Subject '${subject}' Version ${version} was soft deleted. Set permanent=true to delete permanently`,
    ),
  versionNotSoftDeleted: (subject: string, version: number) =>
    new GatewayError(
      40407,
      `Subject '${subject}' Version ${version} was not deleted first before being permanently deleted`,
    ),
  subjectLevelConfigNotFound: (subject: string) =>
    new GatewayError(40408, `Subject '${subject}' does not have subject-level compatibility configured`),
  incompatibleSchema: (subject: string, details: string[]) =>
    new GatewayError(
      409,
      `Schema being registered is incompatible with an earlier schema for subject "${subject}", details: [${details.join('; ')}]`,
    ),
  invalidSchema: (detail: string) => new GatewayError(42201, `Invalid schema: ${detail}`),
  invalidVersion: (version: string) =>
    new GatewayError(
      42202,
      `The specified version '${version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
    ),
  invalidCompatibilityLevel: () =>
    new GatewayError(
      42203,
      'Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive',
    ),
  schemaReferenced: (subject: string, version: number) =>
    new GatewayError(42206, `One or more references exist to the schema {subject=${subject},version=${version}}.`),
  store: (detail: string) => new GatewayError(50001, `Error in the backend datastore: ${detail}`),
  timeout: () => new GatewayError(50002, 'Operation timed out'),
  forwarding: (detail: string) =>
    new GatewayError(50003, `Error while forwarding the request to the registry leader: ${detail}`),
  /** An external registry's error answer, kept with its own code and message. */
  remote: (errorCode: number, message: string) =>
    new GatewayError(errorCode >= 400 && errorCode < 60000 ? errorCode : 50001, message),
  /** The external registry (SCHEMA_REGISTRY_URL) did not answer. */
  unreachable: (detail: string) => new GatewayError(50003, `The schema registry is unreachable: ${detail}`),
  unknownLeader: () =>
    new GatewayError(50004, 'Unknown registry leader: no replica holds the write role yet; retry shortly'),
} as const;
