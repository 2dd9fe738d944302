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
}

interface CompiledRoute {
  template: string;
  pattern: RegExp;
  names: string[];
  methods: string[];
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

export class RouteTable {
  private readonly routes: CompiledRoute[];

  constructor(document: Record<string, unknown>) {
    const paths = (document.paths ?? {}) as Record<string, Record<string, unknown>>;
    this.routes = Object.entries(paths).map(([template, item]) => {
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
      const methods = Object.keys(item)
        .filter((m) => HTTP_METHODS.has(m))
        .map((m) => m.toUpperCase());
      return { template, pattern: new RegExp(`^${source}/?$`), names, methods };
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
      return { template: route.template, params, methods: route.methods };
    }
    return undefined;
  }
}

/** The `Allow` header for a route: its methods, plus HEAD wherever GET is (express answers HEAD for GET). */
export function allowHeader(methods: string[]): string {
  const allow = new Set(methods);
  if (allow.has('GET')) allow.add('HEAD');
  return [...allow].sort().join(', ');
}
