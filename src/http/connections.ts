/**
 * Connection limits for the listening servers: a global cap below the process's file-descriptor
 * limit, a cap per client address, and timeouts for headers that never finish and idle
 * keep-alive sockets. Twenty thousand idle sockets from one host then cost that host its extra
 * connections, not everyone their service.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ipKeyGenerator } from 'express-rate-limit';
import type { ConnectionLimits } from '../config/config.js';

export function limitConnections(server: Server, limits: ConnectionLimits): void {
  server.headersTimeout = limits.headersTimeoutMs;
  // node checks header and request deadlines on this period (default 30 s: too coarse for short timeouts).
  (server as Server & { connectionsCheckingInterval?: number }).connectionsCheckingInterval = Math.min(
    1_000,
    limits.headersTimeoutMs,
  );
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  let open = 0;
  const perClient = new Map<string, number>();
  const untilFirstRequest = new WeakMap<Socket, NodeJS.Timeout>();
  // Requests in flight per connection: node dispatches every pipelined request at once, so a
  // client could queue thousands on one socket; beyond the cap its connection is closed.
  const pipelined = new WeakMap<Socket, number>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    // Over TLS the request's socket is the TLSSocket; the timer belongs to the TCP socket beneath it.
    const socket = req.socket as Socket & { _parent?: Socket };
    clearTimeout(untilFirstRequest.get(socket._parent ?? socket));
    const depth = (pipelined.get(socket) ?? 0) + 1;
    pipelined.set(socket, depth);
    if (depth > limits.maxPipelinedRequests) {
      socket.destroy();
      return;
    }
    let counted = true;
    const release = () => {
      if (!counted) return;
      counted = false;
      pipelined.set(socket, (pipelined.get(socket) ?? 1) - 1);
    };
    res.once('finish', release);
    res.once('close', release);
  });
  server.on('connection', (socket: Socket) => {
    // IPv6 hosts are grouped by /56 (as the rate limits do), so rotating addresses gains nothing.
    const address = ipKeyGenerator(socket.remoteAddress ?? 'unknown');
    const mine = perClient.get(address) ?? 0;
    if (
      open >= limits.maxConnections ||
      (limits.maxConnectionsPerClient > 0 && mine >= limits.maxConnectionsPerClient)
    ) {
      socket.destroy();
      return;
    }
    open++;
    perClient.set(address, mine + 1);
    // node's headersTimeout counts from a request's first byte: a socket that never sends a request
    // is closed here instead (cleared when its first request arrives).
    const silent = setTimeout(() => socket.destroy(), limits.headersTimeoutMs);
    silent.unref();
    untilFirstRequest.set(socket, silent);
    socket.once('close', () => {
      clearTimeout(silent);
      open--;
      const left = (perClient.get(address) ?? 1) - 1;
      if (left <= 0) perClient.delete(address);
      else perClient.set(address, left);
    });
  });
}
