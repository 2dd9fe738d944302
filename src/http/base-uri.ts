/**
 * The absolute URL clients use to reach this gateway, for consumer `base_uri`s. In order:
 * PUBLIC_URL (it may carry a path, e.g. an API gateway's stage `/prod`); then, only when
 * TRUST_PROXY trusts the hop the request came from, what the proxy in front says: RFC 7239
 * `Forwarded` (proto, host), else `X-Forwarded-Proto`/`X-Forwarded-Host`, plus
 * `X-Forwarded-Port` and the stage prefix (`X-Forwarded-Prefix`, or what `X-Forwarded-Path`
 * adds in front of the path this gateway saw); else the request's own scheme and Host header
 * (as Confluent without advertised.listeners).
 *
 * Header values are client-controlled once a proxy passes them on: a host must be a plain
 * host[:port] (and in PUBLIC_HOSTS when that list is set), a prefix a plain path, anything else
 * is ignored — `X-Forwarded-Host: evil.example/#` never reaches a `base_uri`. A request without
 * any usable host (HTTP/1.0 without Host) gets the listener's own address, never "undefined".
 */
import type { Request, RequestHandler } from 'express';

export interface BaseUriOptions {
  publicUrl?: string;
  /** TRUST_PROXY as configured; the hop itself is judged by express's `trust proxy fn`. */
  trustProxy: unknown;
  /** PUBLIC_HOSTS: the only hosts (with or without port) a forwarded or Host header may name. */
  publicHosts?: readonly string[];
}

export function publicBaseUrl(req: Request, options: BaseUriOptions): string {
  if (options.publicUrl !== undefined) return options.publicUrl.replace(/\/+$/, '');
  const allowed = (host: string | undefined): string | undefined =>
    host !== undefined && validHost(host) && inAllowList(host, options.publicHosts) ? host : undefined;
  const ownHost = allowed(req.headers.host) ?? options.publicHosts?.[0] ?? listenerHost(req);

  if (!trustsHop(req, options.trustProxy)) {
    // Without trust, req.protocol is the connection's own scheme (https only for TLS).
    return `${req.protocol}://${ownHost}`;
  }
  const fwd = parseForwarded(req.headers.forwarded);
  const proto = fwd.proto ?? protoOf(firstValue(req.headers['x-forwarded-proto'])) ?? connectionProto(req);
  let host = allowed(fwd.host) ?? allowed(firstValue(req.headers['x-forwarded-host'])) ?? ownHost;
  const port = firstValue(req.headers['x-forwarded-port']);
  if (port !== undefined && /^\d{1,5}$/.test(port) && Number(port) > 0 && Number(port) < 65536 && !hasPort(host)) {
    const withPort = `${host}:${port}`;
    const isDefault = (proto === 'https' && port === '443') || (proto === 'http' && port === '80');
    if (!isDefault && inAllowList(withPort, options.publicHosts)) host = withPort;
  }
  return `${proto}://${host}${forwardedPrefix(req)}`;
}

/** Whether the peer is a proxy TRUST_PROXY trusts (express's compiled `trust proxy fn`, hop 0). */
function trustsHop(req: Request, trustProxy: unknown): boolean {
  if (trustProxy === false || trustProxy === 0 || trustProxy === undefined) return false;
  const fn = req.app?.get('trust proxy fn') as ((addr: string, i: number) => boolean) | undefined;
  return fn === undefined ? true : fn(req.socket.remoteAddress ?? '', 0);
}

function connectionProto(req: Request): string {
  return (req.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http';
}

function protoOf(v: string | undefined): string | undefined {
  return v !== undefined && /^https?$/i.test(v) ? v.toLowerCase() : undefined;
}

function firstValue(header: string | string[] | undefined): string | undefined {
  const text = Array.isArray(header) ? header[0] : header;
  if (text === undefined) return undefined;
  const first = text.split(',')[0]!.trim();
  return first === '' ? undefined : first;
}

/** host[:port]: DNS name or IPv4 (letters, digits, `-`, `.`), or a bracketed IPv6 literal. */
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

export function validHost(host: string): boolean {
  if (host.length > 255 || !HOST.test(host)) return false;
  const port = /:(\d{1,5})$/.exec(host.startsWith('[') ? host.slice(host.indexOf(']')) : host)?.[1];
  return port === undefined || (Number(port) > 0 && Number(port) < 65536);
}

function hasPort(host: string): boolean {
  return /:\d+$/.test(host.startsWith('[') ? host.slice(host.indexOf(']')) : host);
}

function inAllowList(host: string, list: readonly string[] | undefined): boolean {
  if (list === undefined || list.length === 0) return true;
  const h = host.toLowerCase();
  const bare = hasPort(h) ? h.slice(0, h.lastIndexOf(':')) : h;
  return list.some((entry) => entry === h || entry === bare);
}

/** The listener's own address, for a request that named no host at all. */
function listenerHost(req: Request): string {
  const addr = (req.socket.localAddress ?? '127.0.0.1').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  return `${addr.includes(':') ? `[${addr}]` : addr}:${req.socket.localPort ?? 80}`;
}

/** A path prefix: `/seg/seg`, plain path characters only, no `.`/`..` segments; '' for none. */
export function safePrefix(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const p = raw.trim().replace(/\/+$/, '');
  if (p === '') return '';
  if (!/^(?:\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+$/.test(p)) return undefined;
  if (p.split('/').some((s) => s === '.' || s === '..')) return undefined;
  if (/%(?![0-9A-Fa-f]{2})/.test(p)) return undefined;
  return p;
}

/**
 * The stage prefix a trusted proxy reports: `X-Forwarded-Prefix: /prod` (Spring, Traefik, our
 * nginx example), or `X-Forwarded-Path: /prod/consumers/g` (the original path; the prefix is what
 * it has in front of the path this gateway saw).
 */
function forwardedPrefix(req: Request): string {
  const prefix = safePrefix(firstValue(req.headers['x-forwarded-prefix']));
  if (prefix !== undefined) return prefix;
  const original = firstValue(req.headers['x-forwarded-path'])?.split('?')[0];
  const seen = (req.originalUrl ?? req.url ?? '').split('?')[0]!;
  if (original !== undefined && seen !== '' && original.endsWith(seen)) {
    return safePrefix(original.slice(0, original.length - seen.length)) ?? '';
  }
  return '';
}

/**
 * First element of a `Forwarded` header (`for=…;proto=https;host=gw.example.com, for=…`): the
 * host and scheme the client asked the first proxy for (RFC 7239). The proxy in front must drop a
 * client-written `Forwarded` header (the README's nginx recipe does).
 */
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
    if (k === 'host' && validHost(v)) out.host = v;
  }
  return out;
}

/** PUBLIC_URL's path without its trailing slash (a stage prefix such as `/prod`), or undefined. */
export function stagePrefixOf(publicUrl: string | undefined): string | undefined {
  if (publicUrl === undefined) return undefined;
  const prefix = new URL(publicUrl).pathname.replace(/\/+$/, '');
  return prefix === '' ? undefined : prefix;
}

/**
 * A request target with the stage prefix taken off the front (`/prod/topics/t` → `/topics/t`,
 * `/prod` and `/prod?x` → the root), or the target unchanged when it does not start with it.
 */
export function withoutStagePrefix(prefix: string, url: string): string {
  if (!url.startsWith(prefix)) return url;
  const rest = url.slice(prefix.length);
  if (rest === '' || rest.startsWith('?')) return `/${rest}`;
  return rest.startsWith('/') ? rest : url;
}

/**
 * PUBLIC_URL's path (e.g. `/prod`) is also accepted in front of every route: a client that takes
 * only the path of a `base_uri` and sends it to the gateway directly, past the stage that strips
 * it, still reaches the instance. The prefix comes from configuration, never from a request.
 */
export function stripStagePrefix(prefix: string): RequestHandler {
  return (req, _res, next) => {
    req.url = withoutStagePrefix(prefix, req.url);
    next();
  };
}
