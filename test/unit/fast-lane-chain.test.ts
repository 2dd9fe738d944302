// The fast lane cannot drift from express (broker-free): a middleware mounted on one path and not
// the other stops start-up, and a lane chain that ends without answering still answers.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { RouteTable } from '../../src/core/route-table.js';
import { withFastLane } from '../../src/http/fast-lane.js';
import { OpenApiValidator } from '../../src/policy/validation/openapi.js';

const routes = new RouteTable(new OpenApiValidator().document);

const answer500: ErrorRequestHandler = (_err, _req, res, _next) => {
  res.status(500).json({ error_code: 500, message: 'Internal Server Error' });
};

describe('fast lane chain', () => {
  it('refuses to start when its middleware list is not what the app mounts, in that order', () => {
    const a: RequestHandler = (_req, _res, next) => next();
    const b: RequestHandler = (_req, _res, next) => next();
    const app = express();
    app.use(a, b);
    const produce: RequestHandler = (_req, res) => void res.end();
    const parts = { routes, lane: { produceToTopic: produce, produceToPartition: produce }, onError: [answer500] };
    assert.doesNotThrow(() => withFastLane(app, { ...parts, before: [a, b] }));
    assert.throws(() => withFastLane(app, { ...parts, before: [b, a] }), /not mounted on the app in order/);
    const unmounted: RequestHandler = (_req, _res, next) => next();
    assert.throws(() => withFastLane(app, { ...parts, before: [a, unmounted, b] }), /#1/);
    // Only POST operations of the contract can take the lane.
    const wrong = { ...parts, before: [a, b], lane: { listTopics: produce } };
    assert.throws(() => withFastLane(app, wrong), /listTopics is not a POST operation/);
  });

  it('answers 500 when a produce chain ends without anyone answering', async () => {
    const pass: RequestHandler = (_req, _res, next) => next();
    const app = express();
    app.use(pass);
    const silent: RequestHandler = (_req, _res, next) => next();
    const lane = withFastLane(app, {
      before: [pass],
      routes,
      lane: { produceToTopic: silent, produceToPartition: silent },
      onError: [answer500],
    });
    const server = http.createServer(lane.serverOptions, lane.listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/topics/t`, {
        method: 'POST',
        signal: AbortSignal.timeout(5_000),
      });
      assert.equal(res.status, 500);
    } finally {
      server.close();
    }
  });
});
