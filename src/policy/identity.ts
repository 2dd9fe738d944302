/**
 * Who is calling. Authentication (policy/auth) sets the identity on the response locals; everything
 * downstream — authorization, consumer instance ownership, rate-limit keys, logs — reads it here.
 * Without authentication every caller is anonymous, keyed by client address.
 */
import type { Request, Response } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';

export interface Identity {
  /** Stable principal name, e.g. `jwt:device-42`, `cert:CN=watch-1`, `apikey:lobby-sensor`, `anonymous`. */
  id: string;
  kind: 'anonymous' | 'jwt' | 'cert' | 'apikey';
  /** Token claims (JWT) or certificate fields, for policy rules on roles and scopes. */
  claims?: Record<string, unknown>;
  /** When the credential stops being valid (epoch ms), if it says: a long stream re-checks it. */
  expiresAt?: number;
}

const ANONYMOUS: Identity = { id: 'anonymous', kind: 'anonymous' };

export function setIdentity(res: Response, identity: Identity): void {
  res.locals.identity = identity;
}

export function identityOf(res: Response): Identity {
  return (res.locals.identity as Identity | undefined) ?? ANONYMOUS;
}

/**
 * Key for per-client limits: the principal, or for anonymous callers their address (IPv6 grouped
 * by /56, so one host cannot dodge a limit by rotating through its addresses).
 */
export function clientKey(req: Request, res: Response): string {
  const identity = identityOf(res);
  return identity.kind === 'anonymous' ? `ip:${ipKeyGenerator(req.ip ?? 'unknown')}` : identity.id;
}

/** RECORD_PRINCIPAL_HEADER: a record header naming the request's authenticated caller. */
export function principalStamp(header: string): (req: Request) => { key: string; value: Buffer } {
  return (req) => ({ key: header, value: Buffer.from(identityOf(req.res!).id, 'utf8') });
}
