/**
 * The API listeners' servers (the gateway's and the schema registry's): plain HTTP, or HTTPS with
 * the configured certificate and client-certificate policy, and keep-alive longer than the
 * usual load balancer's idle timeout.
 */
import http from 'node:http';
import https from 'node:https';
import type { TlsConfig } from '../config/security.js';

type ServerOptions = Pick<http.ServerOptions, 'IncomingMessage' | 'ServerResponse'>;

export function createApiServer(
  tls: TlsConfig | undefined,
  listener: http.RequestListener,
  options: ServerOptions = {},
): http.Server {
  if (tls === undefined) return http.createServer({ keepAliveTimeout: 65_000, ...options }, listener);
  // https.Server has every http.Server method used here; the types just do not say so.
  return https.createServer(
    {
      keepAliveTimeout: 65_000,
      ...options,
      cert: tls.cert,
      key: tls.key,
      ca: tls.ca,
      minVersion: 'TLSv1.2',
      requestCert: tls.clientAuth !== 'none',
      rejectUnauthorized: tls.clientAuth === 'require',
    },
    listener,
  ) as unknown as http.Server;
}
