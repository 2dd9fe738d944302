/** The errors of the throttling layer, from the one catalog (core/errors.ts). */
import { Errors, type GatewayError } from '../../core/errors.js';

export function tooManyRequests(message: string, retryAfterSeconds: number): GatewayError {
  return Errors.tooManyRequests(message, retryAfterSeconds);
}

/** 50301: the gateway sheds load (in-flight cap) or cannot meter it (Redis away). HTTP 503. */
export function overloaded(message?: string, retryAfterSeconds?: number): GatewayError {
  return Errors.overloaded(message, retryAfterSeconds);
}
