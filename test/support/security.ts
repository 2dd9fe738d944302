/** Helpers for the security tests: certificates, tokens, a real redis-server, HTTPS and raw-socket clients. */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import jwt from 'jsonwebtoken';
import { freePort } from './net.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function tempDir(prefix = 'krg-sec-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function writeFile(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** Runs scripts/gen-certs.sh into `dir` and returns a reader of its files. */
export function generateCerts(dir: string): (name: string) => Buffer {
  execFileSync('bash', [path.join(root, 'scripts/gen-certs.sh'), dir], { stdio: 'ignore' });
  return (name) => readFileSync(path.join(dir, name));
}

export const ISSUER = 'https://issuer.test';
export const AUDIENCE = 'kafka-rest';
export const HS_SECRET = 'test-secret-of-at-least-32-bytes-long!!';

export function hsToken(claims: Record<string, unknown>, options: jwt.SignOptions = {}, secret = HS_SECRET): string {
  const all: jwt.SignOptions = { algorithm: 'HS256', issuer: ISSUER, audience: AUDIENCE, expiresIn: 300, ...options };
  // `expiresIn: undefined` means "no exp claim" (jsonwebtoken rejects an undefined option).
  if (all.expiresIn === undefined) delete all.expiresIn;
  return jwt.sign(claims, secret, all);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function newKey(): string {
  return randomBytes(24).toString('base64url');
}

export function ecKeyPair() {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

export function rsaKeyPair() {
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}

/** A throwaway redis-server on 127.0.0.1 (no persistence); stop() kills it. */
export async function startRedis(
  options: { port?: number } = {},
): Promise<{ url: string; port: number; pid: number; stop: () => Promise<void> }> {
  const port = options.port ?? (await freePort());
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('redis-server did not start in 10 s')), 10_000);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${out.slice(-500)}`));
    });
  });
  child.stdout!.resume();
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid!,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export interface HttpsReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests inspect arbitrary JSON
}

/** One HTTPS request with explicit trust and an optional client certificate (fresh connection each time). */
export function httpsRequest(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    ca: Buffer;
    cert?: Buffer;
    key?: Buffer;
  },
): Promise<HttpsReply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        ca: options.ca,
        cert: options.cert,
        key: options.key,
        agent: false,
        servername: 'localhost',
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode!, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.end(options.body);
  });
}

/**
 * A produce request whose body never finishes: it stays in flight in the gateway until `release()`.
 * `status` resolves with the status of an answer that arrives before the body is complete (a shed
 * request), or with 0 once released without an answer.
 */
export function slowProduce(
  baseUrl: string,
  topic: string,
  headers: Record<string, string>,
): { status: Promise<number>; release: () => void } {
  const { hostname, port } = new URL(baseUrl);
  const socket = net.connect(Number(port), hostname);
  const head = [
    `POST /topics/${topic} HTTP/1.1`,
    `Host: ${hostname}:${port}`,
    'Content-Type: application/vnd.kafka.json.v2+json',
    'Content-Length: 1000',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    '',
    '{"records":[',
  ].join('\r\n');
  socket.write(head);
  let data = '';
  const status = new Promise<number>((resolve) => {
    socket.on('data', (d: Buffer) => {
      data += d.toString();
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
      if (m !== null) resolve(Number(m[1]));
    });
    socket.on('close', () => resolve(0));
    socket.on('error', () => resolve(0));
  });
  return { status, release: () => socket.destroy() };
}

export { freePort };
