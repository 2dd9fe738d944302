/**
 * Authentication at the door, failing closed: with authentication on, a request gets through
 * only with a valid credential — or with none at all when anonymous access was configured.
 * A credential that is present but wrong is always refused, whatever the anonymous setting.
 *
 * Order: `Authorization: Bearer <JWT>`, then `X-API-Key`, then a verified client certificate.
 */
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { SecurityConfig } from '../../config/security.js';
import { Errors, type GatewayError } from '../../core/errors.js';
import { setIdentity, type Identity } from '../identity.js';
import { ApiKeyVerifier } from './api-keys.js';
import { certificateIdentity } from './client-cert.js';
import { AuthFailure, JwtVerifier } from './jwt.js';
import { PEER_HEADERS, bodyDigest, type PeerProof } from './peer-proof.js';

export const REALM = 'kafka-rest';

export function unauthorized(failure: AuthFailure): GatewayError {
  const challenge =
    failure.oauthError === undefined
      ? `Bearer realm="${REALM}"`
      : `Bearer realm="${REALM}", error="${failure.oauthError}", error_description="${failure.message.replace(/"/g, "'")}"`;
  return Errors.unauthorized(failure.message, challenge);
}

export class Authenticator {
  private readonly jwt?: JwtVerifier;
  private readonly apiKeys?: ApiKeyVerifier;
  private readonly methods: Set<string>;

  constructor(private readonly config: SecurityConfig['auth']) {
    this.methods = new Set(config.methods);
    if (config.jwt !== undefined) this.jwt = new JwtVerifier(config.jwt);
    if (this.methods.has('apikey')) this.apiKeys = new ApiKeyVerifier(config.apiKeys);
  }

  get enabled(): boolean {
    return this.methods.size > 0;
  }

  /** The caller's identity; undefined means anonymous (allowed). Throws AuthFailure to refuse. */
  async authenticate(req: Request): Promise<Identity | undefined> {
    // A client certificate that was presented but failed verification is refused whatever else the
    // request carries (TLS_CLIENT_AUTH=request lets the handshake finish without a good one).
    const certificate = certificateIdentity(req.socket);
    const authorization = req.headers.authorization;
    if (authorization !== undefined) {
      const m = /^(\S+)(?: +(.*))?$/.exec(authorization.trim());
      if (m === null || m[1] === '') throw new AuthFailure('The Authorization header is empty.', 'invalid_request');
      if (m[1]!.toLowerCase() !== 'bearer' || this.jwt === undefined)
        // The scheme is not echoed: a client may have put its secret there.
        throw new AuthFailure('The Authorization scheme is not accepted; use Bearer.', 'invalid_request');
      const token = (m[2] ?? '').trim();
      if (token === '') throw new AuthFailure('The Bearer token is empty.', 'invalid_request');
      return this.jwt.verify(token);
    }
    const apiKey = req.headers['x-api-key'];
    if (apiKey !== undefined) {
      if (this.apiKeys === undefined) throw new AuthFailure('API keys are not accepted here.', 'invalid_request');
      return this.apiKeys.verify(Array.isArray(apiKey) ? apiKey.join(',') : apiKey);
    }
    if (this.methods.has('cert') && certificate !== undefined) return certificate;
    if (this.config.allowAnonymous) return undefined;
    throw new AuthFailure('Authentication is required.');
  }
}

/** True for a request a sibling replica forwarded and proved (see peerHopMiddleware). */
export function isVerifiedPeerHop(res: Response): boolean {
  return res.locals.peerHop === true;
}

/**
 * With PEER_SECRET: a request that says it was forwarded by a sibling replica must prove it; its
 * caller is then the identity the sibling authenticated (authentication and limits were applied
 * there). A claim without a valid proof is refused, never silently downgraded.
 */
export function peerHopMiddleware(proof: PeerProof, logger: Logger): RequestHandler {
  return (req, res, next) => {
    if (req.headers[PEER_HEADERS.from] === undefined) return next();
    const result = proof.verify(req.method, req.originalUrl, req.headers);
    if ('refused' in result) {
      logger.warn({ method: req.method, path: req.path, ip: req.ip, reason: result.refused }, 'peer hop refused');
      return next(unauthorized(new AuthFailure(result.refused)));
    }
    res.locals.peerHop = true;
    res.locals.peerBodyDigest = result.bodyDigest;
    setIdentity(res, result.identity);
    next();
  };
}

/** After the body is read: a proved hop's body must be the one its sibling signed. */
export function peerBodyCheck(): RequestHandler {
  return (req, res, next) => {
    if (!isVerifiedPeerHop(res)) return next();
    const body = Buffer.isBuffer(req.body) && req.body.length > 0 ? (req.body as Buffer) : undefined;
    if (bodyDigest(body) === res.locals.peerBodyDigest) return next();
    next(unauthorized(new AuthFailure('The forwarded request body does not match its peer signature.')));
  };
}

export function authenticationMiddleware(
  authenticator: Authenticator,
  exempt: (req: Request) => boolean,
  logger: Logger,
): RequestHandler {
  return (req, res, next) => {
    if (exempt(req) || isVerifiedPeerHop(res)) return next();
    authenticator.authenticate(req).then(
      (identity) => {
        if (identity !== undefined) setIdentity(res, identity);
        next();
      },
      (err: unknown) => {
        if (!(err instanceof AuthFailure)) return next(err);
        logger.info({ method: req.method, path: req.path, ip: req.ip, reason: err.message }, 'authentication refused');
        next(unauthorized(err));
      },
    );
  };
}
