/**
 * Proof that a forwarded request comes from a sibling replica (or worker) and who its caller is.
 *
 * A replica that forwards a consumer-instance request to the instance's owner has already
 * authenticated the caller; it signs the request (method, target, sending node, time, caller
 * identity, body digest) with the shared PEER_SECRET. The owner trusts the identity in the headers
 * only when the signature checks out and the time is recent; anything else that claims to be
 * forwarded is refused. Without a PEER_SECRET nothing is trusted: the owner authenticates the
 * forwarded request from its own headers, as if the caller had sent it directly.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Identity } from '../identity.js';

export const PEER_HEADERS = {
  /** Node id of the forwarding replica; also stops a forwarded request from being forwarded again. */
  from: 'x-kafka-rest-forwarded-by',
  principal: 'x-kafka-rest-principal',
  time: 'x-kafka-rest-peer-time',
  signature: 'x-kafka-rest-peer-signature',
  /** sha256 of the body, signed with the rest; checked once the body has been read. */
  body: 'x-kafka-rest-body-sha256',
} as const;

export function bodyDigest(body: Buffer | undefined): string {
  return createHash('sha256')
    .update(body ?? Buffer.alloc(0))
    .digest('hex');
}

export interface SignedRequest {
  method: string;
  /** The body's media type (signed: the owner parses the body by it). */
  contentType?: string;
  /** Path and query exactly as sent to the owner, e.g. `/consumers/g/instances/i/records?timeout=500`. */
  target: string;
  from: string;
  identity: Identity;
  body?: Buffer;
}

export class PeerProof {
  /** Signatures accepted within the time window: each proves exactly one request (no replays). */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly secret: Buffer,
    /** How far a signature's time may be from this replica's clock (bounds replays). */
    private readonly maxSkewMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The headers that prove the request (the `from` header included). */
  sign(r: SignedRequest): Record<string, string> {
    const time = String(this.now());
    const principal = Buffer.from(JSON.stringify(r.identity)).toString('base64url');
    const digest = bodyDigest(r.body);
    return {
      [PEER_HEADERS.from]: r.from,
      [PEER_HEADERS.principal]: principal,
      [PEER_HEADERS.time]: time,
      [PEER_HEADERS.body]: digest,
      [PEER_HEADERS.signature]: this.mac(r.method, r.target, r.from, time, principal, digest, r.contentType ?? ''),
    };
  }

  /**
   * The caller's identity when the headers prove the request, else a reason to refuse it. Runs
   * before the body is read: the caller must then check the body against `bodyDigest`.
   */
  verify(
    method: string,
    target: string,
    headers: Record<string, string | string[] | undefined>,
  ): { identity: Identity; bodyDigest: string } | { refused: string } {
    const one = (name: string) => {
      const v = headers[name];
      return typeof v === 'string' ? v : undefined;
    };
    const from = one(PEER_HEADERS.from);
    const principal = one(PEER_HEADERS.principal);
    const time = one(PEER_HEADERS.time);
    const signature = one(PEER_HEADERS.signature);
    const digest = one(PEER_HEADERS.body);
    if (
      from === undefined ||
      principal === undefined ||
      time === undefined ||
      signature === undefined ||
      digest === undefined
    )
      return { refused: 'The forwarded request carries no valid peer signature.' };
    if (!/^\d{1,16}$/.test(time) || Math.abs(this.now() - Number(time)) > this.maxSkewMs)
      return { refused: 'The forwarded request is too old or from the future.' };
    const contentType = one('content-type') ?? '';
    const expected = Buffer.from(this.mac(method, target, from, time, principal, digest, contentType), 'hex');
    const given = Buffer.from(/^[0-9a-f]{64}$/.test(signature) ? signature : '', 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return { refused: 'The forwarded request carries no valid peer signature.' };
    if (!this.firstUse(signature)) return { refused: 'The forwarded request was already used.' };
    try {
      const identity = JSON.parse(Buffer.from(principal, 'base64url').toString('utf8')) as Identity;
      if (typeof identity.id !== 'string' || typeof identity.kind !== 'string') throw new Error('not an identity');
      return { identity, bodyDigest: digest };
    } catch {
      return { refused: 'The forwarded request names no valid caller.' };
    }
  }

  /** Remembers a signature until it could no longer pass the time check; false if seen before. */
  private firstUse(signature: string): boolean {
    const now = this.now();
    if (this.seen.size > 100_000 || this.seen.size % 1_000 === 999)
      for (const [sig, expires] of this.seen) if (expires < now) this.seen.delete(sig);
    if (this.seen.has(signature)) return false;
    this.seen.set(signature, now + 2 * this.maxSkewMs);
    return true;
  }

  private mac(
    method: string,
    target: string,
    from: string,
    time: string,
    principal: string,
    digest: string,
    contentType: string,
  ): string {
    return createHmac('sha256', this.secret)
      .update([method.toUpperCase(), target, from, time, principal, digest, contentType].join('\n'))
      .digest('hex');
  }
}
