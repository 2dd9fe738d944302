/**
 * Operational endpoints, mounted before authentication and rate limits so probes and scrapers
 * always get through: GET /healthz (the process answers), GET /readyz (its dependencies answer;
 * 503 with the reason otherwise) and GET /metrics (Prometheus text format). None of these paths
 * exists in the v2 API, so they never shadow a v2 route.
 */
import express, { Router, type Express, type Response } from 'express';
import { Errors } from '../../core/errors.js';
import type { GatewayMetrics } from '../../observability/metrics.js';
import type { Readiness } from '../../observability/readiness.js';
import { errorHandler } from '../errors.js';

export function healthRoutes(readiness: Readiness): Router {
  const router = Router({ caseSensitive: true });
  router.get('/healthz', (_req, res) => {
    noStore(res).json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const report = await readiness.report();
    noStore(res)
      .status(report.ready ? 200 : 503)
      .json({ status: report.ready ? 'ready' : 'not ready', checks: report.checks });
  });
  return router;
}

export function metricsRoutes(metrics: GatewayMetrics): Router {
  const router = Router({ caseSensitive: true });
  router.get('/metrics', async (_req, res) => {
    const text = await metrics.text();
    noStore(res).type(metrics.contentType()).send(text);
  });
  return router;
}

function noStore(res: Response): Response {
  return res.setHeader('Cache-Control', 'no-store');
}

/** The separate management listener (METRICS_PORT): probes and metrics only. */
export function managementApp(readiness: Readiness, metrics: GatewayMetrics): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(healthRoutes(readiness), metricsRoutes(metrics));
  app.use((_req, _res, next) => next(Errors.notFound()));
  app.use(errorHandler(0, () => undefined));
  return app;
}
