/**
 * Who a registration made by the produce path is for. The produce routes do not pass the caller
 * to the SchemaRegistry port, so the main listener records, for the rest of each request, whether
 * its caller may administer a topic (AsyncLocalStorage, as tracing keeps its context). The
 * embedded registry reads it: a caller without `admin` on the subject's topic may register only
 * the first version of a subject (a new version would change what every producer is checked
 * against). No record (startup seeding, no policy) means no restriction.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { RequestHandler } from 'express';
import type { Authorizer } from '../policy/authz/authorizer.js';
import { identityOf } from '../policy/identity.js';

interface Caller {
  mayAdminister(topic: string): boolean;
}

const current = new AsyncLocalStorage<Caller>();

/** Mount after authentication: the rest of the request runs with its caller's rights recorded. */
export function registrationCaller(authorizer: Authorizer | undefined): RequestHandler {
  return (_req, res, next) => {
    if (authorizer === undefined || !authorizer.enabled) return next();
    current.run({ mayAdminister: (topic) => authorizer.may(identityOf(res), 'admin', { topic }) }, next);
  };
}

/** False when the request being handled may not add versions to subjects of `topic`. */
export function callerMayEvolve(topic: string): boolean {
  return current.getStore()?.mayAdminister(topic) ?? true;
}
