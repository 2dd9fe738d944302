/**
 * The contract's paths (openapi.yaml) as one table that every decision made before routing uses:
 * limit families, per-topic limits, shedding, authorization at the door, 404 vs 405. Matching is
 * case-sensitive and segment-exact, as the router's (and Confluent's), so `/TOPICS/x` is nobody's
 * produce request: it is a 404.
 */
export interface MatchedRoute {
  /** The contract's path template, e.g. `/topics/{topic}/partitions/{partition}`. */
  template: string;
  /** Decoded path parameters by name. */
  params: Record<string, string>;
  /** Methods the contract declares for this path (upper case). */
  methods: string[];
  /** The operationId for each of those methods. */
  operationIds: Record<string, string>;
}

/** One operation of the contract: what the app mounts a handler on (http/contract-router.ts). */
export interface ContractOperation {
  operationId: string;
  /** Upper case. */
  method: string;
  template: string;
  /** Names of the query parameters the operation declares. */
  query: string[];
}

interface CompiledRoute {
  template: string;
  pattern: RegExp;
  names: string[];
  methods: string[];
  operationIds: Record<string, string>;
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

export class RouteTable {
  private readonly routes: CompiledRoute[];
  /** Every operation, in the document's order. */
  readonly operations: ContractOperation[] = [];

  constructor(document: Record<string, unknown>) {
    const paths = (document.paths ?? {}) as Record<string, Record<string, unknown>>;
    this.routes = Object.entries(paths).map(([template, item]) => {
      const operations = operationsOf(template, item);
      this.operations.push(...operations);
      const { pattern, names } = compileTemplate(template);
      const methods = operations.map((o) => o.method);
      const operationIds = Object.fromEntries(operations.map((o) => [o.method, o.operationId]));
      return { template, pattern, names, methods, operationIds };
    });
  }

  /** The route a path belongs to (whatever the method), or undefined for an unknown path. */
  match(path: string): MatchedRoute | undefined {
    for (const route of this.routes) {
      const m = route.pattern.exec(path);
      if (m === null) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => {
        const raw = m[i + 1]!;
        try {
          params[name] = decodeURIComponent(raw);
        } catch {
          params[name] = raw;
        }
      });
      return { template: route.template, params, methods: route.methods, operationIds: route.operationIds };
    }
    return undefined;
  }
}

/** A path template as a case-sensitive, segment-exact pattern (an optional trailing slash, as express). */
export function compileTemplate(template: string): { pattern: RegExp; names: string[] } {
  const names: string[] = [];
  const source = template
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const m = /^\{([^}]+)\}$/.exec(part);
      if (m === null) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(m[1]!);
      return '([^/]+)';
    })
    .join('');
  return { pattern: new RegExp(`^${source}/?$`), names };
}

function operationsOf(template: string, item: Record<string, unknown>): ContractOperation[] {
  const shared = (item.parameters ?? []) as Array<{ in?: string; name?: string }>;
  return Object.entries(item)
    .filter(([method]) => HTTP_METHODS.has(method))
    .map(([method, op]) => {
      const { operationId, parameters = [] } = op as { operationId?: unknown; parameters?: typeof shared };
      if (typeof operationId !== 'string') throw new Error(`openapi.yaml: ${method} ${template} has no operationId`);
      const query = [...shared, ...parameters].filter((p) => p.in === 'query').map((p) => p.name!);
      return { operationId, method: method.toUpperCase(), template, query };
    });
}

/**
 * The `Allow` header for a route: the methods the contract declares, plus OPTIONS (answered on
 * every path). Never HEAD: the contract declares none, and express would run a GET's handler for it
 * (a HEAD of a fetch would hand out records nobody reads).
 */
export function allowHeader(methods: string[]): string {
  return [...new Set([...methods, 'OPTIONS'])].sort().join(', ');
}
