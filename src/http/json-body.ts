/**
 * The request body as JSON. express.raw leaves it as bytes, so every route parses it the same
 * way: losslessly (core/json.ts), with a 400 naming the parser's complaint when it is not JSON.
 */
import type { Request } from 'express';
import { Errors } from '../core/errors.js';
import { parseJson, type ParsedJson } from '../core/json.js';

/** Bodies already parsed; their bytes are released (see jsonBody). */
const parsedBodies = new WeakMap<Request, ParsedJson>();

/** True when the request carried a body (express.raw read it as bytes). */
export function hasBody(req: Request): boolean {
  if (parsedBodies.has(req)) return true;
  const raw = req.body as Buffer | undefined;
  return Buffer.isBuffer(raw) && raw.length > 0;
}

/** The parsed body, or undefined when the request has none. */
export function jsonBody(req: Request): ParsedJson | undefined {
  const parsed = parsedBodies.get(req);
  if (parsed !== undefined) return parsed;
  if (!hasBody(req)) return undefined;
  let body: ParsedJson;
  try {
    body = parseJson((req.body as Buffer).toString('utf8'));
  } catch (err) {
    throw Errors.badRequest(`Malformed JSON: ${(err as Error).message}`);
  }
  parsedBodies.set(req, body);
  // Memory bound: a produce holds its request until Kafka acknowledges, often the longest part of
  // its life; the raw bytes (as large as the body) are not needed for that, only the parsed value.
  req.body = undefined;
  return body;
}
