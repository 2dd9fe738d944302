/**
 * A real nginx (Debian's package) in front of a gateway, as an API gateway stage: TLS terminated
 * at nginx with a certificate made by scripts/gen-certs.sh, the gateway under a path prefix
 * (`/prod/`), and the forwarded headers such gateways send. Started per test file on 127.0.0.1,
 * stopped (by its own pid) in `stop()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './net.js';
import { generateCerts, tempDir, writeFile } from './security.js';

export const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx';
/** A reason to skip when nginx is not installed (.ci/run installs Debian's nginx). */
export const noNginx = existsSync(NGINX) ? false : `no nginx at ${NGINX} (CI installs Debian's nginx)`;
// In CI a missing nginx is a failure, never a silent skip.
if (noNginx && process.env.CI) throw new Error(noNginx);

/**
 * The `location /prod/ { … }` block of README.md ("Behind a proxy"), as its directives: the tests
 * run what users are told to run, so a recipe that breaks streaming fails here.
 */
export function readmeLocation(): string[] {
  const readme = readFileSync(
    path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'README.md'),
    'utf8',
  );
  const m = /```nginx\nlocation \/prod\/ \{\n([\s\S]*?)\n\}\n```/.exec(readme);
  if (m === null) throw new Error('README.md has no ```nginx location /prod/ { … } block');
  return m[1]!
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l !== '');
}

export interface StageProxy {
  /** https://localhost:<port>/prod — what clients are given. */
  url: string;
  port: number;
  /** The CA that signed nginx's certificate, for clients that verify it. */
  ca: Buffer;
  stop: () => Promise<void>;
}

/**
 * nginx on 127.0.0.1 over TLS: `location /prod/` → the gateway at `upstream` (its `/`), with
 * X-Forwarded-Proto/-Host/-Port/-Prefix set the way AWS/Kong/Traefik-style stages do.
 */
export async function startStageProxy(
  upstream: string,
  prefix = '/prod',
  /** proxy_buffering on: nginx's default, which the README recipe turns off (streams must pass either way). */
  options: { proxyBuffering?: boolean } = {},
): Promise<StageProxy> {
  const tmp = tempDir('krg-nginx-');
  const read = generateCerts(path.join(tmp.dir, 'certs'));
  const port = await freePort();
  const up = new URL(upstream);
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi', 'logs']) mkdirSync(path.join(tmp.dir, d));
  const conf = writeFile(
    tmp.dir,
    'nginx.conf',
    `
daemon off;
master_process off;
worker_processes 1;
pid ${tmp.dir}/nginx.pid;
error_log ${tmp.dir}/logs/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${tmp.dir}/body;
  proxy_temp_path ${tmp.dir}/proxy;
  fastcgi_temp_path ${tmp.dir}/fastcgi;
  uwsgi_temp_path ${tmp.dir}/uwsgi;
  scgi_temp_path ${tmp.dir}/scgi;
  server {
    listen 127.0.0.1:${port} ssl;
    server_name localhost;
    ssl_certificate ${tmp.dir}/certs/server.crt;
    ssl_certificate_key ${tmp.dir}/certs/server.key;
    location ${prefix}/ {
      proxy_set_header Host 127.0.0.1:${up.port};
      ${readmeLocation()
        .map((d) =>
          d
            .replace('proxy_pass http://127.0.0.1:8082/;', `proxy_pass http://${up.host}/;`)
            .replace('X-Forwarded-Prefix /prod;', `X-Forwarded-Prefix ${prefix};`)
            .replace('proxy_buffering off;', `proxy_buffering ${options.proxyBuffering === true ? 'on' : 'off'};`),
        )
        .join('\n      ')}
    }
  }
}
`,
  );
  const child: ChildProcess = spawn(NGINX, ['-p', tmp.dir, '-c', conf, '-e', `${tmp.dir}/logs/error.log`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      tmp.remove();
      throw new Error(`nginx did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `https://localhost:${port}${prefix}`,
    port,
    ca: read('ca.crt'),
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      tmp.remove();
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
