// The fast lane cannot drift from express (broker-free): every middleware the app mounts before its
// routes either runs on the lane, in the same order, or is declared beside it, else start-up stops;
// a lane chain that ends without answering gets express's answer.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { RouteTable } from '../../src/core/route-table.js';
import { withFastLane } from '../../src/http/fast-lane.js';
import { OpenApiValidator } from '../../src/policy/validation/openapi.js';
import { rawRequest } from '../support/raw-http.js';
import { FakeKafka, startFakeGateway } from '../support/fakes.js';

const routes = new RouteTable(new OpenApiValidator().document);
const pass = (): RequestHandler => (_req, _res, next) => next();
const answer500: ErrorRequestHandler = (err, _req, res, _next) => {
  res.status((err as { status?: number }).status ?? 500).json({ error_code: 500, message: String(err) });
};
const unrouted: RequestHandler = (_req, _res, next) => next(Object.assign(new Error('405'), { status: 405 }));

describe('fast lane chain', () => {
  it('refuses to start unless the app mounts exactly the lane middleware, in order, and what is declared beside it', () => {
    const [a, b, probes, extra] = [pass(), pass(), pass(), pass()];
    const produce: RequestHandler = (_req, res) => void res.end();
    const build = (mount: RequestHandler[]) => {
      const app = express();
      for (const h of mount) app.use(h);
      const until = express.Router();
      app.use(until);
      return { app, until };
    };
    const parts = {
      routes,
      lane: { produceToTopic: produce, produceToPartition: produce },
      unrouted,
      onError: [answer500],
    };
    const ok = build([a, probes, b]);
    assert.doesNotThrow(() => withFastLane(ok.app, { ...parts, before: [a, b], beside: [probes], until: ok.until }));
    assert.throws(
      () => withFastLane(ok.app, { ...parts, before: [b, a], beside: [probes], until: ok.until }),
      /fast lane: middleware #0/,
    );
    // A middleware added to the app only (the lane would skip it for produce).
    const drifted = build([a, probes, extra, b]);
    assert.throws(
      () => withFastLane(drifted.app, { ...parts, before: [a, b], beside: [probes], until: drifted.until }),
      /#2 .* neither runs on the lane nor is declared beside it/,
    );
    // Only POST operations of the contract can take the lane.
    const wrong = { ...parts, before: [a, b], beside: [probes], until: ok.until, lane: { listTopics: produce } };
    assert.throws(() => withFastLane(ok.app, wrong), /listTopics is not a POST operation/);
  });

  it('answers a produce chain that ends without anyone answering as express would (its 404/405 step)', async () => {
    const first = pass();
    const app = express();
    app.use(first);
    const until = express.Router();
    app.use(until);
    const silent: RequestHandler = (_req, _res, next) => next();
    const lane = withFastLane(app, {
      before: [first],
      beside: [],
      until,
      routes,
      lane: { produceToTopic: silent, produceToPartition: silent },
      unrouted,
      onError: [answer500],
    });
    const server = http.createServer(lane.serverOptions, lane.listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/topics/t`, {
        method: 'POST',
        signal: AbortSignal.timeout(5_000),
      });
      assert.equal(res.status, 405);
    } finally {
      server.close();
    }
  });
});

describe('fast lane and express agree behind a stage prefix and on odd targets', () => {
  const kafka = new FakeKafka({ events: 1 });
  let gw: Awaited<ReturnType<typeof startFakeGateway>>;
  before(async () => {
    gw = await startFakeGateway(kafka, { PUBLIC_URL: 'http://gw.example/prod' });
  });
  after(() => gw.close());
  const produce = (target: string) =>
    rawRequest(
      gw.url,
      `POST ${target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/vnd.kafka.json.v2+json\r\nContent-Length: 25\r\nConnection: close\r\n\r\n{"records":[{"value":1}]}`,
    );

  it('produces through the stage prefix, with or without a query, as without it', async () => {
    for (const target of ['/topics/events', '/prod/topics/events', '/prod/topics/events?', '/topics/events#frag']) {
      const res = await produce(target);
      assert.equal(res.status, 200, target);
    }
    assert.equal(kafka.log.get('events')![0]!.length, 4);
  });

  it('answers the stage root with or without a slash or query as the root, in JSON', async () => {
    for (const path of ['/prod', '/prod/', '/prod?x=1']) {
      const res = await fetch(`${gw.url}${path}`);
      assert.equal(res.status, 200, path);
      assert.deepEqual(await res.json(), {}, path);
    }
  });
});
