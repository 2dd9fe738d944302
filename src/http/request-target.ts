/**
 * The first check every request passes: its target must be an origin-form path (`/topics/x`),
 * with no dot segments (`..`, `.`, or their percent-encoded forms) and no backslashes. Routing,
 * limits and forwarding then all see one unambiguous path; an absolute-form target
 * (`PUT http://other-host/…`) or `/a/../b` can never steer the gateway somewhere else.
 */
import type { RequestHandler } from 'express';
import { Errors } from '../core/errors.js';

/** Undefined when the target is acceptable, else why not (for the 400 message). */
export function targetProblem(url: string | undefined): string | undefined {
  if (url === undefined || !url.startsWith('/') || url.startsWith('//'))
    return 'The request target must be a path starting with a single "/" (no absolute-form or authority-form targets).';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (path.includes('\\')) return 'The request path must not contain backslashes.';
  for (const segment of path.split('/')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return 'The request path has an invalid percent-encoding.';
    }
    if (decoded.includes('\\')) return 'The request path must not contain backslashes.';
    // `..%2F..` decodes to a segment that still hides dot segments.
    if (decoded.split('/').some((part) => part === '.' || part === '..'))
      return 'The request path must not contain dot segments ("." or "..").';
  }
  return undefined;
}

export function requestTargetGuard(): RequestHandler {
  return (req, _res, next) => {
    const problem = targetProblem(req.url);
    next(problem === undefined ? undefined : Errors.badRequest(problem));
  };
}
