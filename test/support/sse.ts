/**
 * A Server-Sent Events client over plain node:http, as a small device would hold a stream open:
 * it parses events as they arrive, can stop reading (a slow reader), and can be cut off at any
 * moment (a dropped connection). Browsers are tested with their own EventSource (streaming-browser).
 */
import http from 'node:http';
import https from 'node:https';
import { waitUntil } from './wait.js';

export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

export interface SseStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The whole body when the answer was not a stream (an error). */
  text: Promise<string>;
  events: SseEvent[];
  /** Comment lines seen (heartbeats). */
  comments: number;
  /** The id of the last event received, what an EventSource sends back as Last-Event-ID. */
  lastEventId: string | undefined;
  ended: boolean;
  /** Waits until at least `count` events arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<SseEvent[]>;
  /** Stops reading from the socket (the server's writes back up). */
  pause(): void;
  resume(): void;
  /** Cuts the connection, as a lost network does. */
  destroy(): void;
}

export function openStream(
  url: string,
  headers: Record<string, string> = {},
  options: { ca?: Buffer } = {},
): Promise<SseStream> {
  const secure = url.startsWith('https:');
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(
      url,
      { headers: { accept: 'text/event-stream', ...headers }, ca: options.ca, agent: false },
      (res) => {
        let buffer = '';
        let body = '';
        const stream: SseStream = {
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: new Promise((done) => res.on('end', () => done(body)).on('close', () => done(body))),
          events: [],
          comments: 0,
          lastEventId: undefined,
          ended: false,
          waitFor: (count, timeoutMs = 20_000) =>
            waitUntil(
              `${count} events (have ${stream.events.length})`,
              (): SseEvent[] | false => {
                if (stream.events.length >= count) return stream.events;
                if (stream.ended) throw new Error('stream ended');
                return false;
              },
              { timeoutMs, everyMs: 10 },
            ) as Promise<SseEvent[]>,
          pause: () => res.pause(),
          resume: () => res.resume(),
          destroy: () => req.destroy(),
        };
        const isStream = res.statusCode === 200 && /^text\/event-stream/.test(res.headers['content-type'] ?? '');
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (!isStream) {
            body += chunk;
            return;
          }
          buffer += chunk;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event: SseEvent = { event: 'message', data: '' };
            const data: string[] = [];
            let hasData = false;
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) stream.comments++;
              else if (line.startsWith('id: ')) event.id = line.slice(4);
              else if (line.startsWith('event: ')) event.event = line.slice(7);
              else if (line.startsWith('data: ')) {
                data.push(line.slice(6));
                hasData = true;
              }
            }
            if (!hasData) continue;
            event.data = data.join('\n');
            if (event.id !== undefined) stream.lastEventId = event.id;
            stream.events.push(event);
          }
        });
        res.on('close', () => (stream.ended = true));
        res.on('error', () => (stream.ended = true));
        resolve(stream);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The records of the `message` events, parsed. */
export function recordsOf(
  events: SseEvent[],
): Array<{ topic: string; partition: number; offset: number; value: unknown; key: unknown }> {
  return events.filter((e) => e.event === 'message').map((e) => JSON.parse(e.data));
}
