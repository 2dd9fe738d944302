/**
 * helmet's security headers, computed once. helmet's fifteen small middlewares set the same
 * static headers on every response; running them per request costs more than the whole produce
 * logic on the hot path, so they run once against a recording response at start-up and the
 * recorded headers are replayed. Same headers, same values: helmet stays the source of truth.
 */
import type { RequestHandler } from 'express';
import helmet from 'helmet';

type HelmetOptions = Parameters<typeof helmet>[0];

export function securityHeaders(options?: HelmetOptions): RequestHandler {
  const set: Array<[string, string]> = [];
  const removed: string[] = [];
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => set.push([name, String(value)]),
    removeHeader: (name: string) => removed.push(name),
    getHeader: () => undefined,
  };
  let sync = false;
  helmet(options)({} as never, recorder as never, () => (sync = true));
  // A helmet that ever became asynchronous or request-dependent must fail loudly, not silently.
  if (!sync) throw new Error('helmet did not finish synchronously; cannot precompute its headers');
  return (_req, res, next) => {
    for (const [name, value] of set) res.setHeader(name, value);
    for (const name of removed) res.removeHeader(name);
    next();
  };
}
