/** Writes JSON responses with an exact Content-Type (no charset added to vendor types). */
import type { Response } from 'express';

export function sendJson(res: Response, status: number, contentType: string, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

export function sendNoContent(res: Response): void {
  res.statusCode = 204;
  res.end();
}
