/**
 * Writes JSON responses with an exact Content-Type (no charset added to vendor types),
 * compressed when the client accepts it and the body is large enough (compression.ts).
 */
import type { Response } from 'express';
import { COMPRESSION_THRESHOLD_BYTES, endCompressed } from './compression.js';

/** `body` is a value to serialize, or JSON already rendered (a string, or bytes: the records fetch). */
export function sendJson(res: Response, status: number, contentType: string, body: unknown): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  if (Buffer.isBuffer(body)) {
    endCompressed(res, body);
    return;
  }
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  // Hot path (every produce answer): a short body goes out as the string it is.
  if (text.length < COMPRESSION_THRESHOLD_BYTES / 3) {
    res.setHeader('Content-Length', Buffer.byteLength(text));
    res.end(text);
    return;
  }
  endCompressed(res, Buffer.from(text));
}

export function sendNoContent(res: Response): void {
  res.statusCode = 204;
  res.end();
}
