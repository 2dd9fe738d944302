/**
 * Response compression for clients that ask for it (`Accept-Encoding`), above a small size
 * threshold: a fetch of a thousand JSON readings shrinks several-fold, a produce answer of a few
 * dozen bytes is sent as is (compressing it would cost more than it saves). br is preferred when
 * the client offers it, gzip otherwise, both at their cheapest level (see BROTLI_OPTIONS).
 *
 * Done where bodies are written (respond.ts, the docs route) rather than by wrapping
 * res.write/res.end as the `compression` middleware does: every JSON body is already one buffer,
 * and the produce fast lane keeps its direct res.end for small answers. Compression runs on
 * libuv's thread pool, so a large fetch never stalls the event loop.
 *
 * Request bodies in gzip/deflate/br are inflated by express.raw (body-parser), which counts the
 * decompressed bytes against MAX_BODY_BYTES: a zip bomb is a 413 after at most that many bytes.
 */
import type { ServerResponse } from 'node:http';
import zlib from 'node:zlib';

/** Bodies shorter than this are sent uncompressed. */
export const COMPRESSION_THRESHOLD_BYTES = 1024;

export type Encoding = 'br' | 'gzip';

/** The encoding to use for a client's Accept-Encoding: br, else gzip, when acceptable (q > 0). */
export function pickEncoding(acceptEncoding: string | string[] | undefined): Encoding | undefined {
  const text = Array.isArray(acceptEncoding) ? acceptEncoding.join(',') : acceptEncoding;
  if (text === undefined || text === '') return undefined;
  const q = new Map<string, number>();
  for (const part of text.split(',')) {
    const [name, ...params] = part.split(';');
    const coding = name!.trim().toLowerCase();
    if (coding === '') continue;
    let weight = 1;
    for (const p of params) {
      const [k, v] = p.split('=').map((x) => x.trim());
      if (k?.toLowerCase() === 'q') weight = Number(v) || 0;
    }
    q.set(coding, weight);
  }
  const weight = (c: Encoding) => q.get(c) ?? q.get('*') ?? 0;
  if (weight('br') > 0 && weight('br') >= weight('gzip')) return 'br';
  if (weight('gzip') > 0) return 'gzip';
  return undefined;
}

/**
 * The cheapest levels: a fetch answer is compressed once and read once, so speed wins over the
 * last percent of ratio. On a 260 KB fetch of clickstream records (bench, 2026-12-01): brotli
 * quality 1 ran at 425 MB/s for 11.2× (quality 4: 161 MB/s, 12.7×; 11, the default, ~50× slower),
 * gzip level 1 at 321 MB/s for 9.6× (level 6: 133 MB/s, 11.8×). At levels 4 and 6 a json consumer
 * draining a topic spent more CPU compressing than rendering.
 */
const BROTLI_OPTIONS: zlib.BrotliOptions = {
  params: {
    [zlib.constants.BROTLI_PARAM_QUALITY]: 1,
    [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
  },
};
const GZIP_OPTIONS: zlib.ZlibOptions = { level: 1 };

export function compress(encoding: Encoding, body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, out: Buffer) => (err === null ? resolve(out) : reject(err));
    if (encoding === 'br') zlib.brotliCompress(body, BROTLI_OPTIONS, done);
    else zlib.gzip(body, GZIP_OPTIONS, done);
  });
}

/**
 * Ends the response with `body`, compressed when the request accepts it and the body is large
 * enough; headers other than Content-Encoding/Content-Length/Vary are the caller's. `cached`
 * lets a caller keep the compressed form of a body that never changes (docs assets).
 */
export function endCompressed(res: ServerResponse, body: Buffer, cached?: Map<Encoding, Promise<Buffer>>): void {
  const encoding =
    body.length >= COMPRESSION_THRESHOLD_BYTES && res.statusCode !== 204 && res.statusCode !== 304
      ? pickEncoding(res.req?.headers['accept-encoding'])
      : undefined;
  if (body.length >= COMPRESSION_THRESHOLD_BYTES) res.setHeader('Vary', varyWith(res.getHeader('Vary')));
  if (encoding === undefined) {
    res.setHeader('Content-Length', body.length);
    res.end(body);
    return;
  }
  let pending = cached?.get(encoding);
  if (pending === undefined) {
    pending = compress(encoding, body);
    cached?.set(encoding, pending);
  }
  pending.then(
    (out) => {
      if (res.destroyed || res.headersSent) return;
      res.setHeader('Content-Encoding', encoding);
      res.setHeader('Content-Length', out.length);
      res.end(out);
    },
    () => {
      // zlib does not fail on a buffer in memory; if it ever does, the identity body still answers.
      if (res.destroyed || res.headersSent) return;
      res.setHeader('Content-Length', body.length);
      res.end(body);
    },
  );
}

function varyWith(current: number | string | string[] | undefined): string {
  const list =
    current === undefined
      ? []
      : String(current)
          .split(',')
          .map((s) => s.trim());
  if (list.some((v) => v.toLowerCase() === 'accept-encoding' || v === '*')) return list.join(', ');
  return [...list.filter((v) => v !== ''), 'Accept-Encoding'].join(', ');
}
