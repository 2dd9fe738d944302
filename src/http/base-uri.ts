/**
 * The absolute URL clients use to reach this gateway, for consumer `base_uri`s. In order:
 * PUBLIC_URL; then, only when TRUST_PROXY is on, what the proxy in front says (RFC 7239
 * `Forwarded`, else `X-Forwarded-Proto`/`X-Forwarded-Host` as express reads them); else the
 * request's own scheme and Host header (as Confluent without advertised.listeners).
 */
import type { Request } from 'express';

export function publicBaseUrl(req: Request, publicUrl: string | undefined, trustProxy: unknown): string {
  if (publicUrl !== undefined) return publicUrl;
  const trusted = trustProxy !== false && trustProxy !== 0 && trustProxy !== undefined;
  if (trusted) {
    const fwd = parseForwarded(req.headers.forwarded);
    if (fwd.host !== undefined) return `${fwd.proto ?? req.protocol}://${fwd.host}`;
    // express honours X-Forwarded-Proto / X-Forwarded-Host when `trust proxy` is set.
    return `${req.protocol}://${req.host}`;
  }
  // Without trust, req.protocol is the connection's own scheme (https only for TLS).
  return `${req.protocol}://${req.headers.host ?? 'localhost'}`;
}

/** First element of a `Forwarded` header: `for=…;proto=https;host=gw.example.com, for=…`. */
export function parseForwarded(header: string | undefined): { proto?: string; host?: string } {
  if (header === undefined) return {};
  const first = header.split(',')[0] ?? '';
  const out: { proto?: string; host?: string } = {};
  for (const pair of first.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const k = pair.slice(0, eq).trim().toLowerCase();
    const v = pair
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
    if (k === 'proto' && /^https?$/i.test(v)) out.proto = v.toLowerCase();
    if (k === 'host' && /^[A-Za-z0-9.:[\]-]+$/.test(v)) out.host = v;
  }
  return out;
}
