/** The errors of the throttling layer: 429 for a caller over its limit, 503 when the gateway protects itself. */
import { GatewayError } from '../../core/errors.js';

export function tooManyRequests(message: string, retryAfterSeconds: number): GatewayError {
  return new GatewayError(429, message, { retryAfterSeconds: Math.max(1, Math.ceil(retryAfterSeconds)) });
}

/** 50301: the gateway sheds load (in-flight cap) or cannot meter it (Redis away). HTTP 503. */
export function overloaded(message = 'The gateway is overloaded; retry later.', retryAfterSeconds = 1): GatewayError {
  return new GatewayError(50301, message, { retryAfterSeconds });
}
