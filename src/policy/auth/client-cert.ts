/**
 * Identity from a verified TLS client certificate: its subject CN, or else its first SAN
 * (DNS name, URI or e-mail). Certificates the TLS layer did not verify give no identity.
 */
import type { TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import type { Identity } from '../identity.js';
import { AuthFailure } from './jwt.js';

export function certificateIdentity(socket: Socket): Identity | undefined {
  const tls = socket as TLSSocket;
  if (typeof tls.getPeerCertificate !== 'function') return undefined; // plain HTTP
  const cert = tls.getPeerCertificate();
  if (cert === null || cert === undefined || Object.keys(cert).length === 0) return undefined; // none sent
  if (!tls.authorized)
    throw new AuthFailure(
      `The client certificate is not accepted (${String(tls.authorizationError ?? 'unverified')}).`,
      'invalid_token',
    );
  const cn = Array.isArray(cert.subject?.CN) ? cert.subject.CN[0] : cert.subject?.CN;
  const sans = (cert.subjectaltname ?? '')
    .split(/,\s*/)
    .map((s) => /^(?:DNS|URI|email):(.+)$/.exec(s)?.[1])
    .filter((s): s is string => s !== undefined);
  const name = cn ?? sans[0];
  if (name === undefined || name === '')
    throw new AuthFailure('The client certificate names no subject.', 'invalid_token');
  return {
    id: `cert:${name}`,
    kind: 'cert',
    claims: { cn, san: sans, issuer: cert.issuer?.CN, fingerprint256: cert.fingerprint256 },
  };
}
