/**
 * Authorization at the door, from the matched route alone, before any body is read: a produce to
 * a topic, or a consumer created in a group, that the caller may not use is refused (403) without
 * its body costing memory, time or the shared in-flight byte budget. The routes check again with
 * the body in hand (topics named in the body, instance ownership).
 */
import type { RequestHandler } from 'express';
import { Errors } from '../../core/errors.js';
import { allowHeader } from '../../core/route-table.js';
import { operationOf, produceTopic, routeOf } from '../limits/classify.js';
import type { Authorizer } from './authorizer.js';

export function authorizeAtDoor(authorizer: Authorizer): RequestHandler {
  return (req, res, next) => {
    try {
      const topic = produceTopic(req);
      if (topic !== undefined) authorizer.check(req, 'produce', { topic });
      if (operationOf(req) === 'createConsumer')
        authorizer.check(req, 'consume', { group: routeOf(req)!.params.group! });
    } catch (err) {
      // The unread body is not wanted: close the connection after the answer instead of draining it.
      res.setHeader('Connection', 'close');
      return next(err);
    }
    next();
  };
}

/** Paths outside the contract that are still served after the door (with authentication on). */
const SERVED_OUTSIDE_CONTRACT = new Set(['/metrics']);

/**
 * A request for no route of the contract, or with a method its path does not take, is answered
 * (404/405) before its body is read, instead of reading a body nobody will use.
 */
export function refuseUnroutable(): RequestHandler {
  return (req, res, next) => {
    if (SERVED_OUTSIDE_CONTRACT.has(req.path)) return next();
    const route = routeOf(req);
    let err;
    if (route === undefined) err = Errors.notFound();
    else if (!route.methods.includes(req.method) && req.method !== 'OPTIONS')
      err = Errors.methodNotAllowed(allowHeader(route.methods));
    if (err === undefined) return next();
    // An unread body is not wanted: close the connection after the answer instead of draining it.
    if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined)
      res.setHeader('Connection', 'close');
    next(err);
  };
}
