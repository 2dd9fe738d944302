/**
 * API keys for devices that cannot sign tokens. Configuration holds only the sha256 of each key
 * (keys are long random strings, so a fast hash is enough and keeps per-request cost tiny); the
 * lookup is by hash, so timing reveals nothing about the key itself.
 */
import { createHash } from 'node:crypto';
import type { ApiKeyEntry } from '../../config/security.js';
import type { Identity } from '../identity.js';
import { AuthFailure } from './jwt.js';

export class ApiKeyVerifier {
  private readonly byHash: Map<string, string>;

  constructor(entries: ApiKeyEntry[]) {
    this.byHash = new Map(entries.map((e) => [e.sha256, e.name]));
  }

  verify(key: string): Identity {
    const name = this.byHash.get(hashApiKey(key.trim()));
    if (key.trim() === '' || name === undefined) throw new AuthFailure('The API key is not valid.', 'invalid_token');
    return { id: `apikey:${name}`, kind: 'apikey', claims: { name } };
  }
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
