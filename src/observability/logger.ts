/**
 * The gateway's pino logger: JSON lines, with credentials redacted wherever they might appear
 * (request headers of error logs, configuration objects), so a log shipped to a central store never
 * carries a bearer token or an API key.
 */
import pino, { type DestinationStream, type Logger } from 'pino';

export const REDACTED_PATHS = [
  'authorization',
  'apiKey',
  'password',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  'headers["proxy-authorization"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["proxy-authorization"]',
  '*.authorization',
  '*.apiKey',
  '*.password',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  return destination === undefined ? pino(options) : pino(options, destination);
}
