/**
 * Security settings: HTTPS and client certificates, authentication (JWT, API keys, certificates),
 * the authorization policy file, CORS, rate limits, quotas and overload shedding. Key files are
 * read here, so a missing or unreadable file stops the start with a line naming its variable.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, type EnvReader } from './env.js';
import { loadPolicyFile } from '../policy/authz/policy-file.js';
import type { Policy } from '../policy/authz/policy.js';

export const JWT_ALGORITHMS = ['HS256', 'RS256', 'ES256'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];
export const AUTH_METHODS = ['jwt', 'apikey', 'cert'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

export interface TlsConfig {
  cert: Buffer;
  key: Buffer;
  /** CA bundle that signs acceptable client certificates. */
  ca?: Buffer;
  /** none: no client certificates; request: optional (verified if sent); require: handshake fails without a good one. */
  clientAuth: 'none' | 'request' | 'require';
}

export interface JwtConfig {
  algorithms: JwtAlgorithm[];
  /** HS256 shared secret. */
  secret?: Buffer;
  /** RS256/ES256 verification key (PEM). */
  publicKey?: string;
  jwksUrl?: string;
  jwksCacheMs: number;
  /** Least time between JWKS fetches caused by an unknown `kid` (stops a key-id flood hammering the issuer). */
  jwksRefreshCooldownMs: number;
  issuer: string;
  audience: string[];
  clockToleranceSeconds: number;
  /** Claim naming the caller (principal `jwt:<value>`). */
  identityClaim: string;
  /** Refuse tokens whose `iat` is older than this (and tokens without `iat`); undefined = no cap. */
  maxTokenAgeSeconds?: number;
}

export interface ApiKeyEntry {
  name: string;
  /** sha256 of the key, lower-case hex. */
  sha256: string;
}

export interface TopicRateLimit {
  pattern: string;
  limit: number;
}

export interface SecurityConfig {
  tls?: TlsConfig;
  auth: {
    /** Empty ⇒ authentication is off and every caller is anonymous. */
    methods: AuthMethod[];
    /** With authentication on: let callers without any credential in as `anonymous`. */
    allowAnonymous: boolean;
    jwt?: JwtConfig;
    apiKeys: ApiKeyEntry[];
  };
  /** Undefined ⇒ no authorization: every authenticated caller may do everything. */
  policy?: Policy;
  corsOrigins: string[];
  limits: {
    windowMs: number;
    /** Requests per window per caller; 0 = unlimited. */
    produce: number;
    consume: number;
    metadata: number;
    topics: TopicRateLimit[];
    recordsPerSecond: number;
    bytesPerSecond: number;
    redisUrl?: string;
    maxInFlightProduceRequests: number;
    maxInFlightProduceBytes: number;
    maxInFlightProducePerClient: number;
    /** Declared produce body bytes one caller may have in flight. */
    maxInFlightProduceBytesPerClient: number;
    /** Consumer instances one caller may hold on this replica (429 beyond). */
    maxConsumerInstancesPerClient: number;
  };
  /**
   * Record header that produce stamps with the authenticated principal (replacing any header of
   * that name the client sent), so consumers can trust who produced a record. Undefined = off.
   */
  recordPrincipalHeader?: string;
}

export function loadSecurityConfig(e: EnvReader): SecurityConfig {
  const methods = e.list('AUTH_METHODS').map((m) => {
    if (!(AUTH_METHODS as readonly string[]).includes(m))
      throw new ConfigError(`AUTH_METHODS: "${m}" is not one of ${AUTH_METHODS.join(', ')}`);
    return m as AuthMethod;
  });
  const tls = loadTls(e);
  if (methods.includes('cert') && (tls === undefined || tls.clientAuth === 'none'))
    throw new ConfigError('AUTH_METHODS=cert needs TLS_CERT_FILE, TLS_KEY_FILE, TLS_CA_FILE and TLS_CLIENT_AUTH');
  const apiKeys = loadApiKeys(e);
  if (methods.includes('apikey') && apiKeys.length === 0)
    throw new ConfigError('AUTH_METHODS=apikey needs API_KEYS (name:sha256hex,…)');
  const policyFile = e.optionalString('POLICY_FILE');
  return {
    tls,
    auth: {
      methods,
      allowAnonymous: e.bool('AUTH_ALLOW_ANONYMOUS', false),
      jwt: methods.includes('jwt') ? loadJwt(e) : undefined,
      apiKeys,
    },
    policy: policyFile === undefined ? undefined : loadPolicyFile(policyFile),
    corsOrigins: e.list('CORS_ORIGINS'),
    limits: {
      windowMs: e.int('RATE_LIMIT_WINDOW_MS', 60_000, { min: 100, max: 86_400_000 }),
      produce: e.int('RATE_LIMIT_PRODUCE', 0, { min: 0 }),
      consume: e.int('RATE_LIMIT_CONSUME', 0, { min: 0 }),
      metadata: e.int('RATE_LIMIT_METADATA', 0, { min: 0 }),
      topics: parseTopicLimits(e.list('RATE_LIMIT_TOPICS')),
      recordsPerSecond: e.int('QUOTA_RECORDS_PER_SEC', 0, { min: 0 }),
      bytesPerSecond: e.int('QUOTA_BYTES_PER_SEC', 0, { min: 0 }),
      redisUrl: e.url('REDIS_URL'),
      maxInFlightProduceRequests: e.int('SHED_MAX_INFLIGHT_REQUESTS', 1024, { min: 1, max: 1_000_000 }),
      maxInFlightProduceBytes: e.int('SHED_MAX_INFLIGHT_BYTES', 256 * 1024 * 1024, { min: 1024 }),
      maxInFlightProducePerClient: e.int('SHED_MAX_INFLIGHT_PER_CLIENT', 0, { min: 0, max: 1_000_000 }),
      maxInFlightProduceBytesPerClient: e.int('SHED_MAX_INFLIGHT_BYTES_PER_CLIENT', 32 * 1024 * 1024, { min: 0 }),
      maxConsumerInstancesPerClient: e.int('MAX_CONSUMER_INSTANCES_PER_CLIENT', 100, { min: 1, max: 1_000_000 }),
    },
    recordPrincipalHeader: recordHeaderName(e.optionalString('RECORD_PRINCIPAL_HEADER')),
  };
}

function readFile(e: EnvReader, name: string): Buffer | undefined {
  const file = e.optionalString(name);
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError(`${name}=${file} cannot be read: ${(err as Error).message}`);
  }
}

function loadTls(e: EnvReader): TlsConfig | undefined {
  const cert = readFile(e, 'TLS_CERT_FILE');
  const key = readFile(e, 'TLS_KEY_FILE');
  const ca = readFile(e, 'TLS_CA_FILE');
  const clientAuth = e.oneOf('TLS_CLIENT_AUTH', ['none', 'request', 'require'] as const, 'none');
  if (cert === undefined && key === undefined) {
    if (ca !== undefined || clientAuth !== 'none')
      throw new ConfigError('TLS_CA_FILE and TLS_CLIENT_AUTH need TLS_CERT_FILE and TLS_KEY_FILE');
    return undefined;
  }
  if (cert === undefined || key === undefined)
    throw new ConfigError('TLS_CERT_FILE and TLS_KEY_FILE must be set together');
  if (clientAuth !== 'none' && ca === undefined)
    throw new ConfigError(`TLS_CLIENT_AUTH=${clientAuth} needs TLS_CA_FILE`);
  return { cert, key, ca, clientAuth };
}

function loadJwt(e: EnvReader): JwtConfig {
  const algorithms = e.list('JWT_ALGORITHMS').map((a) => {
    if (!(JWT_ALGORITHMS as readonly string[]).includes(a))
      throw new ConfigError(`JWT_ALGORITHMS: "${a}" is not one of ${JWT_ALGORITHMS.join(', ')}`);
    return a as JwtAlgorithm;
  });
  if (algorithms.length === 0) throw new ConfigError('AUTH_METHODS=jwt needs JWT_ALGORITHMS (HS256, RS256, ES256)');
  const issuer = e.optionalString('JWT_ISSUER');
  const audience = e.list('JWT_AUDIENCE');
  if (issuer === undefined) throw new ConfigError('AUTH_METHODS=jwt needs JWT_ISSUER');
  if (audience.length === 0) throw new ConfigError('AUTH_METHODS=jwt needs JWT_AUDIENCE');

  const secretText = e.optionalString('JWT_SECRET');
  const secret = secretText !== undefined ? Buffer.from(secretText, 'utf8') : readFile(e, 'JWT_SECRET_FILE');
  const publicKey = readFile(e, 'JWT_PUBLIC_KEY_FILE')?.toString('utf8');
  const jwksUrl = e.url('JWT_JWKS_URL');
  if (algorithms.includes('HS256')) {
    if (secret === undefined) throw new ConfigError('JWT_ALGORITHMS=HS256 needs JWT_SECRET or JWT_SECRET_FILE');
    if (secret.length < 32) throw new ConfigError('JWT_SECRET must be at least 32 bytes for HS256');
  }
  if (algorithms.some((a) => a !== 'HS256') && publicKey === undefined && jwksUrl === undefined)
    throw new ConfigError('JWT_ALGORITHMS RS256/ES256 need JWT_PUBLIC_KEY_FILE or JWT_JWKS_URL');
  return {
    algorithms,
    secret,
    publicKey,
    jwksUrl,
    jwksCacheMs: e.int('JWT_JWKS_CACHE_MS', 600_000, { min: 0, max: 86_400_000 }),
    jwksRefreshCooldownMs: e.int('JWT_JWKS_REFRESH_COOLDOWN_MS', 10_000, { min: 0, max: 3_600_000 }),
    issuer,
    audience,
    clockToleranceSeconds: e.int('JWT_CLOCK_TOLERANCE_S', 5, { min: 0, max: 300 }),
    identityClaim: e.string('JWT_IDENTITY_CLAIM', 'sub'),
    maxTokenAgeSeconds:
      e.raw('JWT_MAX_TOKEN_AGE_S') === undefined
        ? undefined
        : e.int('JWT_MAX_TOKEN_AGE_S', 0, { min: 1, max: 10 * 365 * 86_400 }),
  };
}

function recordHeaderName(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(v))
    throw new ConfigError(`RECORD_PRINCIPAL_HEADER=${v} must be 1-64 letters, digits, '.', '_' or '-'`);
  return v;
}

function loadApiKeys(e: EnvReader): ApiKeyEntry[] {
  const entries = e.list('API_KEYS').map((item) => {
    const m = /^([A-Za-z0-9._@-]+):([0-9a-fA-F]{64})$/.exec(item);
    if (m === null) throw new ConfigError(`API_KEYS: "${item.slice(0, 40)}" is not name:sha256hex`);
    return { name: m[1]!, sha256: m[2]!.toLowerCase() };
  });
  const names = new Set(entries.map((k) => k.name));
  if (names.size !== entries.length) throw new ConfigError('API_KEYS: names must be unique');
  return entries;
}

function parseTopicLimits(items: string[]): TopicRateLimit[] {
  return items.map((item) => {
    const m = /^([A-Za-z0-9._*?-]+)=(\d+)$/.exec(item);
    if (m === null) throw new ConfigError(`RATE_LIMIT_TOPICS: "${item}" is not topic-glob=requests`);
    return { pattern: m[1]!, limit: Number(m[2]) };
  });
}
