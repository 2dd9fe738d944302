/**
 * The contract and its documentation: GET /openapi.yaml (openapi.yaml, with `servers` pointing at
 * this gateway so "Try it out" calls it) and GET /docs, an interactive page rendered by Swagger UI
 * from the locally installed swagger-ui-dist package — no CDN, so it works on an isolated network.
 * The page is the only place that gets a content security policy tailored to it; everything else
 * keeps helmet's strict defaults.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Router, type Response } from 'express';
import YAML from 'yaml';
import { openapiPath } from '../../policy/validation/openapi.js';
import { endCompressed, type Encoding } from '../compression.js';

/** The Swagger UI files the page loads; the package's own demo pages are not served. */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

// Scripts only from this origin and no inline script; Swagger UI sets inline styles and shows
// data: images; requests from "Try it out" go to this origin only.
const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'self'",
].join('; ');

export interface DocsOptions {
  /** Public base URL of the gateway; the served document's `servers` (default: same origin). */
  publicUrl?: string;
}

export function docsRoutes(options: DocsOptions = {}): Router {
  const spec = servedDocument(readFileSync(openapiPath, 'utf8'), options.publicUrl);
  const assetDir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const assets = new Map(
    Object.entries(ASSETS).map(([name, type]) => [
      name,
      { type, body: readFileSync(path.join(assetDir, name)), cache: new Map<Encoding, Promise<Buffer>>() },
    ]),
  );

  const router = Router({ caseSensitive: true });
  const specBody = { body: Buffer.from(spec), cache: new Map<Encoding, Promise<Buffer>>() };
  router.get('/openapi.yaml', (_req, res) => {
    res.type('application/yaml; charset=utf-8');
    endCompressed(res, specBody.body, specBody.cache);
  });
  router.get('/docs', (req, res) => {
    // The page's URLs are relative to it (so it works under any stage prefix); `/docs/` would
    // shift them one level down.
    if (req.originalUrl.split('?')[0]!.endsWith('/')) {
      res.redirect(301, '../docs');
      return;
    }
    docsPolicy(res).type('text/html; charset=utf-8').send(PAGE);
  });
  router.get('/docs/init.js', (_req, res) => {
    docsPolicy(res).type('text/javascript; charset=utf-8').send(INIT);
  });
  router.get('/docs/assets/:file', (req, res, next) => {
    const asset = assets.get(req.params.file);
    if (asset === undefined) {
      next();
      return;
    }
    res.setHeader('Cache-Control', 'public, max-age=86400');
    docsPolicy(res).type(asset.type);
    endCompressed(res, asset.body, asset.cache);
  });
  return router;
}

/**
 * openapi.yaml as written, except `servers`: the gateway serving it. Unless PUBLIC_URL says
 * where that is, `.`: relative to the document's own URL, so behind a stage prefix
 * (`/prod/openapi.yaml`) "Try it out" calls `/prod/topics/…`.
 */
export function servedDocument(text: string, publicUrl?: string): string {
  const doc = YAML.parseDocument(text);
  doc.set('servers', [{ url: publicUrl ?? '.', description: 'this gateway' }]);
  return doc.toString();
}

function docsPolicy(res: Response): Response {
  return res.setHeader('Content-Security-Policy', DOCS_CSP);
}

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Kafka REST gateway — API</title>
    <link rel="stylesheet" href="docs/assets/swagger-ui.css" />
    <link rel="icon" type="image/png" href="docs/assets/favicon-32x32.png" sizes="32x32" />
    <link rel="icon" type="image/png" href="docs/assets/favicon-16x16.png" sizes="16x16" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="docs/assets/swagger-ui-bundle.js"></script>
    <script src="docs/init.js"></script>
  </body>
</html>
`;

// "Try it out" is switched on, so the heart-rate example (openapi.yaml's Produce example, with
// the topic parameter's example `heartrate`) is one click on Execute away.
const INIT = `window.ui = SwaggerUIBundle({
  // Relative to the page: /prod/docs loads /prod/openapi.yaml behind a stage prefix.
  url: 'openapi.yaml',
  dom_id: '#swagger-ui',
  deepLinking: true,
  tryItOutEnabled: true,
  displayRequestDuration: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
});
`;
