/**
 * A request body must arrive within BODY_TIMEOUT_MS of its headers. A client that announces a
 * body and sends it slowly (or never) gets 408 and the connection is closed, so it cannot hold
 * its share of the in-flight byte budget, a socket and a buffer for long.
 */
import type { RequestHandler } from 'express';
import { Errors } from '../core/errors.js';
import { sendError } from './errors.js';
import { declaresBody } from '../policy/limits/classify.js';

export function bodyDeadline(timeoutMs: number): RequestHandler {
  return (req, res, next) => {
    // Only a request that declares a body waits for one (a GET fetch may long-poll far longer).
    if (req.complete || !declaresBody(req)) return next();
    const timer = setTimeout(() => {
      if (req.complete || res.headersSent) return;
      res.setHeader('Connection', 'close');
      // The body reader is still waiting: answer for it, then close the connection, which ends it.
      res.once('finish', () => req.socket.destroy());
      sendError(req, res, Errors.requestTimeout(timeoutMs));
    }, timeoutMs);
    const clear = () => clearTimeout(timer);
    req.once('end', clear);
    req.once('close', clear);
    res.once('close', clear);
    next();
  };
}
