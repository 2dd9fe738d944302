/**
 * v3's resource envelope: `{kind, metadata: {self, resource_name}, …fields, rel: {related}}` and
 * lists `{kind: "…List", metadata: {self, next: null}, data}`. Links are absolute, built from the
 * same base as v2's consumer `base_uri` (http/base-uri.ts: PUBLIC_URL with its stage prefix, or
 * what a trusted proxy says, or the request's own Host), so they work behind a prefix.
 */
export interface Link {
  related: string;
}

export class Links {
  constructor(
    /** The gateway's public base URL, no trailing slash (e.g. `https://gw.example.com/prod`). */
    private readonly base: string,
    readonly clusterId: string,
  ) {}

  /** Absolute URL of a path under the cluster; segments are URL-encoded. */
  cluster(...segments: Array<string | number>): string {
    const rest = segments.map((s) => `/${encodeURIComponent(String(s))}`).join('');
    return `${this.base}/v3/clusters/${encodeURIComponent(this.clusterId)}${rest}`;
  }

  /** The bare `/v3/clusters` URL. */
  clusters(): string {
    return `${this.base}/v3/clusters`;
  }

  related(...segments: Array<string | number>): Link {
    return { related: this.cluster(...segments) };
  }

  /** Confluent resource name: `crn:///kafka=<cluster>/topic=<t>/partition=<p>`. */
  crn(...pairs: Array<[string, string | number]>): string {
    return `crn:///kafka=${this.clusterId}${pairs.map(([k, v]) => `/${k}=${v}`).join('')}`;
  }
}

export function resource(
  kind: string,
  self: string,
  resourceName: string | null,
  fields: Record<string, unknown>,
): Record<string, unknown> {
  return { kind, metadata: { self, resource_name: resourceName }, ...fields };
}

export function list(kind: string, self: string, data: unknown[]): Record<string, unknown> {
  return { kind: `${kind}List`, metadata: { self, next: null }, data };
}
