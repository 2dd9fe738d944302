/** Raw HTTP/1.1 over a TCP socket, for request targets and headers that fetch() would never send. */
import net from 'node:net';

export interface RawReply {
  status: number;
  head: string;
  body: string;
}

/**
 * Sends `text` (the whole request, as written) to the server at `url`, from `localAddress` when
 * given (any 127.x.y.z is a distinct client address on loopback), and reads the first response.
 * Status 0 means the connection closed without an answer.
 */
export function rawRequest(url: string, text: string, localAddress?: string, timeoutMs = 10_000): Promise<RawReply> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ port: Number(port), host: hostname, localAddress });
    let data = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      const split = data.indexOf('\r\n\r\n');
      const head = split < 0 ? data : data.slice(0, split);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      resolve({ status: m === null ? 0 : Number(m[1]), head, body: split < 0 ? '' : data.slice(split + 4) });
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('data', (d: Buffer) => {
      data += d.toString();
      const split = data.indexOf('\r\n\r\n');
      if (split < 0) return;
      const length = /\r\ncontent-length: *(\d+)/i.exec(data.slice(0, split));
      if (length !== null && data.length - split - 4 >= Number(length[1])) done();
    });
    socket.on('close', done);
    socket.on('error', done);
    socket.write(text);
  });
}

/** Opens a connection and keeps it idle; resolves once connected (or closed). */
export function idleSocket(url: string, localAddress?: string): Promise<net.Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ port: Number(port), host: hostname, localAddress });
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve(socket));
    socket.once('close', () => resolve(socket));
  });
}

/** A listening socket that counts every connection it receives (and never answers). */
export async function canary(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let count = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    count++;
    sockets.add(s);
    s.on('error', () => undefined);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
