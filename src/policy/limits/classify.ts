/** Which limit family a request belongs to, read from the path before routing. */
import type { Request } from 'express';

export type Family = 'produce' | 'consume' | 'metadata';

const PRODUCE = /^\/topics\/([^/]+)(?:\/partitions\/[^/]+)?\/?$/;

export function familyOf(req: Request): Family {
  if (req.method === 'POST' && PRODUCE.test(req.path)) return 'produce';
  if (req.path.startsWith('/consumers/')) return 'consume';
  return 'metadata';
}

/** The topic a produce request targets, or undefined. */
export function produceTopic(req: Request): string | undefined {
  if (req.method !== 'POST') return undefined;
  const m = PRODUCE.exec(req.path);
  if (m === null) return undefined;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return m[1];
  }
}
