/** Limit keys: the principal, or for anonymous callers their address (IPv6 by /56, so one host cannot rotate addresses). */
import type { Request, Response } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import { clientKey, identityOf } from '../identity.js';

export function limitKey(req: Request, res: Response): string {
  return identityOf(res).kind === 'anonymous' ? `ip:${ipKeyGenerator(req.ip ?? 'unknown')}` : clientKey(req, res);
}
