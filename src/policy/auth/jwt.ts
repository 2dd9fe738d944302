/**
 * Bearer token verification with jsonwebtoken. The algorithm is pinned by configuration before any
 * key is chosen (so `alg: none` and HS/RS key confusion never reach a verifier), then signature,
 * issuer, audience, expiry (required) and not-before are checked with a small clock tolerance.
 */
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { JwtAlgorithm, JwtConfig } from '../../config/security.js';
import type { Identity } from '../identity.js';
import { JwksCache } from './jwks.js';

/** Why a credential was refused; the message is safe to show the caller. */
export class AuthFailure extends Error {
  constructor(
    message: string,
    /** RFC 6750: `invalid_token` for a bad credential, none when there was no credential. */
    readonly oauthError?: 'invalid_token' | 'invalid_request',
  ) {
    super(message);
    this.name = 'AuthFailure';
  }
}

export class JwtVerifier {
  private readonly secret?: KeyObject;
  private readonly publicKey?: KeyObject;
  private readonly jwks?: JwksCache;

  constructor(private readonly config: JwtConfig) {
    if (config.secret !== undefined) this.secret = createSecretKey(config.secret);
    if (config.publicKey !== undefined) this.publicKey = createPublicKey(config.publicKey);
    if (config.jwksUrl !== undefined)
      this.jwks = new JwksCache({
        url: config.jwksUrl,
        cacheMs: config.jwksCacheMs,
        refreshCooldownMs: config.jwksRefreshCooldownMs,
      });
  }

  async verify(token: string): Promise<Identity> {
    if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token))
      throw new AuthFailure('The access token is malformed.', 'invalid_token');
    let decoded: jwt.Jwt | null;
    try {
      decoded = jwt.decode(token, { complete: true });
    } catch {
      decoded = null;
    }
    if (decoded === null || typeof decoded.payload !== 'object')
      throw new AuthFailure('The access token is malformed.', 'invalid_token');
    // RFC 7515 §4.1.11: a token whose `crit` names extensions must be refused unless every one is
    // understood, and this verifier understands none.
    const crit = (decoded.header as { crit?: unknown }).crit;
    if (crit !== undefined)
      throw new AuthFailure(
        'The access token has critical header extensions (crit) that are not understood.',
        'invalid_token',
      );
    const alg = decoded.header.alg;
    if (!(this.config.algorithms as string[]).includes(alg))
      throw new AuthFailure(`The access token's algorithm ${JSON.stringify(alg)} is not accepted.`, 'invalid_token');

    const key = await this.keyFor(alg as JwtAlgorithm, decoded.header.kid);
    let claims: jwt.JwtPayload;
    try {
      claims = jwt.verify(token, key, {
        algorithms: [alg as JwtAlgorithm],
        issuer: this.config.issuer,
        audience: this.config.audience as [string, ...string[]],
        clockTolerance: this.config.clockToleranceSeconds,
        ...(this.config.maxTokenAgeSeconds === undefined ? {} : { maxAge: this.config.maxTokenAgeSeconds }),
      }) as jwt.JwtPayload;
    } catch (err) {
      throw new AuthFailure(describe(err), 'invalid_token');
    }
    if (typeof claims.exp !== 'number') throw new AuthFailure('The access token has no expiry (exp).', 'invalid_token');
    const subject = claims[this.config.identityClaim] as unknown;
    if ((typeof subject !== 'string' && typeof subject !== 'number') || String(subject) === '')
      throw new AuthFailure(`The access token has no ${this.config.identityClaim} claim.`, 'invalid_token');
    const expiresAt = (claims.exp + (this.config.clockToleranceSeconds ?? 0)) * 1000;
    return { id: `jwt:${String(subject)}`, kind: 'jwt', claims, expiresAt };
  }

  private async keyFor(alg: JwtAlgorithm, kid: string | undefined): Promise<KeyObject> {
    if (alg === 'HS256') return this.secret!; // config guarantees a secret when HS256 is pinned
    if (this.jwks !== undefined && kid !== undefined) {
      let key: KeyObject | undefined;
      try {
        key = await this.jwks.key(kid);
      } catch {
        throw new AuthFailure('The token issuer\u2019s keys cannot be fetched right now.', 'invalid_token');
      }
      if (key !== undefined) return key;
      throw new AuthFailure('The access token was signed with an unknown key.', 'invalid_token');
    }
    if (this.publicKey === undefined) throw new AuthFailure('The access token names no key id (kid).', 'invalid_token');
    return this.publicKey;
  }
}

function describe(err: unknown): string {
  if (err instanceof jwt.TokenExpiredError)
    return /maxAge/.test(err.message)
      ? 'The access token is older than this gateway accepts.'
      : 'The access token expired.';
  if (/iat required when maxAge/.test((err as Error).message ?? '')) return 'The access token has no issue time (iat).';
  if (err instanceof jwt.NotBeforeError) return 'The access token is not valid yet.';
  const message = (err as Error).message ?? '';
  if (/signature/i.test(message)) return 'The access token signature is invalid.';
  if (/issuer/i.test(message)) return 'The access token was issued by an issuer that is not accepted.';
  if (/audience/i.test(message)) return 'The access token is meant for another audience.';
  if (/malformed|invalid token/i.test(message)) return 'The access token is malformed.';
  return 'The access token is invalid.';
}
