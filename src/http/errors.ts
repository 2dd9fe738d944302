/**
 * The one place where errors become HTTP responses: a GatewayError's Confluent code decides the
 * status; anything else is logged and answered with a plain 500 (never a stack trace).
 */
import type { ErrorRequestHandler, Request, Response } from 'express';
import { Errors, GatewayError, httpStatusOf } from '../core/errors.js';
import { sendJson } from './respond.js';
import { V2 } from './negotiation.js';

/** Turns body-parser and other library errors into GatewayErrors. */
export function toGatewayError(err: unknown, limitBytes: number): GatewayError | undefined {
  if (err instanceof GatewayError) return err;
  const e = err as { type?: string; status?: number; message?: string };
  if (e?.type === 'entity.too.large') return Errors.payloadTooLarge(limitBytes);
  if (e?.type === 'request.aborted') return Errors.badRequest('Request aborted.');
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') return Errors.unsupportedMediaType();
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500)
    return Errors.fromHttpStatus(e.status, e.message ?? 'Bad Request');
  return undefined;
}

export function sendError(req: Request, res: Response, err: GatewayError): void {
  const status = httpStatusOf(err.errorCode);
  for (const [k, v] of Object.entries(err.details.headers ?? {})) res.setHeader(k, v);
  if (err.details.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(err.details.retryAfterSeconds));
  if (err.details.noBody) {
    res.status(status).end();
    return;
  }
  const body: Record<string, unknown> = { error_code: err.errorCode, message: err.message };
  // v3 (chosen by route): plain application/json and Confluent's v3 body, `{error_code, message}` only.
  if (isV3(req)) {
    sendJson(res, status, 'application/json', body);
    return;
  }
  if (err.details.validationErrors !== undefined) body.validation_errors = err.details.validationErrors;
  sendJson(res, status, (res.locals.responseType as string | undefined) ?? V2, body);
}

export function errorHandler(
  limitBytes: number,
  onUnexpected: (err: unknown, req: Request) => void,
): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const gatewayError = toGatewayError(err, limitBytes);
    if (gatewayError === undefined) onUnexpected(err, req);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendError(req, res, gatewayError ?? Errors.internal());
  };
}

/** A request for the v3 API (`/v3/…`, after any stage prefix was taken off). */
function isV3(req: Request): boolean {
  const path = req.path ?? '';
  return path === '/v3' || path.startsWith('/v3/');
}
