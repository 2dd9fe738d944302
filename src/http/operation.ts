/**
 * Wraps a route handler with what every v2 operation needs: Accept negotiation, parameter
 * validation against openapi.yaml, and turning the handler's reply into a response.
 */
import type { Request, RequestHandler, Response } from 'express';
import type { OpenApiValidator } from '../policy/validation/openapi.js';
import { negotiate } from './negotiation.js';
import { sendJson, sendNoContent } from './respond.js';

export interface Reply {
  status?: number;
  /** Omitted ⇒ 204 No Content. */
  body?: unknown;
  /** Response media type; defaults to the negotiated one. */
  contentType?: string;
}

export interface OperationContext {
  req: Request;
  res: Response;
  /** Path parameters, coerced to the types openapi.yaml declares. */
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  /** The negotiated response media type. */
  responseType: string;
}

export interface OperationOptions {
  id: string;
  /** Response media types this operation offers, in preference order. */
  offers: readonly string[] | ((req: Request) => readonly string[]);
  /** Negotiate Accept later, inside the handler (the records fetch depends on the instance). */
  deferAccept?: boolean;
  /** Judges the request's Content-Type before Accept, so both wrong is a 415 (as Confluent). */
  checkContentType?: (req: Request) => void;
}

export function makeOperation(validator: OpenApiValidator) {
  return (options: OperationOptions, handler: (ctx: OperationContext) => Promise<Reply> | Reply): RequestHandler => {
    if (!validator.has(options.id)) throw new Error(`openapi.yaml has no operation ${options.id}`);
    return async (req, res) => {
      const offers = typeof options.offers === 'function' ? options.offers(req) : options.offers;
      res.locals.responseType = offers[0];
      options.checkContentType?.(req);
      if (!options.deferAccept) res.locals.responseType = negotiate(req.headers.accept, offers);
      const params: Record<string, unknown> = { ...req.params };
      const query: Record<string, unknown> = { ...(req.query as Record<string, unknown>) };
      validator.validateParams(options.id, { path: params, query, header: req.headers as Record<string, unknown> });
      const reply = await handler({ req, res, params, query, responseType: res.locals.responseType as string });
      if (res.headersSent) return;
      if (reply.body === undefined) sendNoContent(res);
      else sendJson(res, reply.status ?? 200, reply.contentType ?? (res.locals.responseType as string), reply.body);
    };
  };
}

export type Operation = ReturnType<typeof makeOperation>;
