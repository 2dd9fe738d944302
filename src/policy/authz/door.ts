/**
 * Authorization at the door, from the matched route alone, before any body is read: a produce to
 * a topic, or a consumer created in a group, that the caller may not use is refused (403) without
 * its body costing memory, time or the shared in-flight byte budget. The routes check again with
 * the body in hand (topics named in the body, instance ownership).
 */
import type { RequestHandler } from 'express';
import { produceTopic, routeOf } from '../limits/classify.js';
import type { Authorizer } from './authorizer.js';

export function authorizeAtDoor(authorizer: Authorizer): RequestHandler {
  return (req, res, next) => {
    try {
      const topic = produceTopic(req);
      if (topic !== undefined) authorizer.check(req, 'produce', { topic });
      const route = routeOf(req);
      if (req.method === 'POST' && route?.template === '/consumers/{group}')
        authorizer.check(req, 'consume', { group: route.params.group! });
    } catch (err) {
      // The unread body is not wanted: close the connection after the answer instead of draining it.
      res.setHeader('Connection', 'close');
      return next(err);
    }
    next();
  };
}
