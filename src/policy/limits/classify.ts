/**
 * Which limit family a request belongs to and which topic it produces to, read from the route the
 * contract's table matched (core/route-table.ts) before the body is read — the same route the
 * router will run, so no spelling of a path can reach a handler while dodging its limits.
 */
import type { Request, Response } from 'express';
import type { MatchedRoute, RouteTable } from '../../core/route-table.js';

export type Family = 'produce' | 'consume' | 'metadata';

const PRODUCE_OPERATIONS = new Set(['produceToTopic', 'produceToPartition', 'produceRecord']);

/** Door middleware's first step: remembers the matched route for everything after it. */
export function rememberRoute(table: RouteTable): (req: Request, res: Response) => MatchedRoute | undefined {
  return (req, res) => {
    if (!('route' in res.locals)) res.locals.route = table.match(req.path);
    return res.locals.route as MatchedRoute | undefined;
  };
}

export function routeOf(req: Request): MatchedRoute | undefined {
  return req.res?.locals.route as MatchedRoute | undefined;
}

/** The contract's operationId for this request's route and method, or undefined. */
export function operationOf(req: Request): string | undefined {
  return routeOf(req)?.operationIds[req.method];
}

export function familyOf(req: Request): Family {
  const route = routeOf(req);
  if (route === undefined) return 'metadata';
  if (PRODUCE_OPERATIONS.has(route.operationIds[req.method] ?? '')) return 'produce';
  if (route.template.startsWith('/consumers/')) return 'consume';
  return 'metadata';
}

/** The topic a produce request targets, or undefined. */
export function produceTopic(req: Request): string | undefined {
  if (familyOf(req) !== 'produce') return undefined;
  const { params } = routeOf(req)!;
  return params.topic ?? params.topic_name; // v2 `{topic}`, v3 `{topic_name}`
}

/** Whether the request announces a body (a length above 0, or chunked): only such a request is read or charged for one. */
export function declaresBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}
