/**
 * Routes from the contract: every operation of openapi.yaml is mounted on the handler registered
 * under its `operationId`, at the path the document gives it. A path is written once (in the
 * document); an operation without a handler, or a handler without an operation, stops start-up.
 */
import { Router, type RequestHandler } from 'express';
import { Errors } from '../core/errors.js';
import { allowHeader, type ContractOperation, type RouteTable } from '../core/route-table.js';

/** Request handlers by operationId (each route module returns one such map). */
export type OperationHandlers = Record<string, RequestHandler>;

export interface ContractRouterOptions {
  /** Middleware to run before an operation's handler (e.g. forwarding to the replica that owns an instance). */
  before?: (operation: ContractOperation) => RequestHandler[];
}

export function contractRouter(
  routes: RouteTable,
  handlers: OperationHandlers,
  options: ContractRouterOptions = {},
): Router {
  const router = Router({ caseSensitive: true });
  // The contract declares no HEAD; express would run the GET's handler for one (see allowHeader).
  router.use((req, _res, next) => {
    const route = req.method === 'HEAD' ? routes.match(req.path) : undefined;
    next(route === undefined ? undefined : Errors.methodNotAllowed(allowHeader(route.methods)));
  });
  const unused = new Set(Object.keys(handlers));
  const missing: string[] = [];
  for (const operation of routes.operations) {
    const handler = handlers[operation.operationId];
    if (handler === undefined) {
      missing.push(`${operation.operationId} (${operation.method} ${operation.template})`);
      continue;
    }
    unused.delete(operation.operationId);
    const method = operation.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete' | 'patch';
    router[method](expressPath(operation.template), ...(options.before?.(operation) ?? []), handler);
  }
  const problems = [
    ...(missing.length > 0 ? [`operations without a handler: ${missing.join(', ')}`] : []),
    ...(unused.size > 0 ? [`handlers without an operation in openapi.yaml: ${[...unused].join(', ')}`] : []),
  ];
  if (problems.length > 0) throw new Error(`routes: ${problems.join('; ')}`);
  return router;
}

/** `/topics/{topic}/partitions/{partition}` → `/topics/:topic/partitions/:partition`. */
export function expressPath(template: string): string {
  // A literal `:` (v3's `configs:alter`) is escaped: express would read it as a parameter.
  return template.replace(/:/g, '\\:').replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, ':$1');
}
