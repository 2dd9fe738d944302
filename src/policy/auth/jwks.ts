/**
 * Verification keys from a JWKS URL, cached by `kid`. An unknown `kid` triggers one refetch (the
 * issuer may have rotated keys), but at most once per cooldown, so tokens with made-up key ids
 * cannot turn the gateway into a flood against the issuer.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';

export interface JwksOptions {
  url: string;
  cacheMs: number;
  refreshCooldownMs: number;
  timeoutMs?: number;
}

export class JwksCache {
  private keys = new Map<string, KeyObject>();
  private fetchedAt = 0;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly options: JwksOptions) {}

  /** The key for `kid`, or undefined when the issuer does not publish it. Network failures throw. */
  async key(kid: string): Promise<KeyObject | undefined> {
    const age = Date.now() - this.fetchedAt;
    if (this.fetchedAt === 0 || age > this.options.cacheMs) await this.refresh();
    else if (!this.keys.has(kid) && age >= this.options.refreshCooldownMs) await this.refresh();
    return this.keys.get(kid);
  }

  private refresh(): Promise<void> {
    // Concurrent requests with the same new kid share one fetch.
    this.inFlight ??= this.fetchKeys().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async fetchKeys(): Promise<void> {
    const res = await fetch(this.options.url, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
    });
    if (!res.ok) throw new Error(`JWKS ${this.options.url} answered ${res.status}`);
    const doc = (await res.json()) as { keys?: unknown };
    if (!Array.isArray(doc.keys)) throw new Error(`JWKS ${this.options.url} has no "keys" list`);
    const keys = new Map<string, KeyObject>();
    for (const jwk of doc.keys as Array<JsonWebKey & { kid?: string; use?: string }>) {
      if (typeof jwk.kid !== 'string' || (jwk.use !== undefined && jwk.use !== 'sig')) continue;
      try {
        keys.set(jwk.kid, createPublicKey({ key: jwk, format: 'jwk' }));
      } catch {
        // A key type this runtime cannot read is skipped; tokens naming it get 401.
      }
    }
    this.keys = keys;
    this.fetchedAt = Date.now();
  }
}
