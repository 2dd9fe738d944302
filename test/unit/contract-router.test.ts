// Routes from the contract (broker-free): every operation of openapi.yaml is mounted by its
// operationId, a path is written only there, and a missing or extra handler stops start-up.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RequestHandler } from 'express';
import { RouteTable } from '../../src/core/route-table.js';
import { contractRouter, expressPath } from '../../src/http/contract-router.js';
import { OpenApiValidator } from '../../src/policy/validation/openapi.js';
import { FakeKafka, startFakeGateway } from '../support/fakes.js';

const routes = new RouteTable(new OpenApiValidator().document);
const noop: RequestHandler = (_req, res) => void res.end();
const allHandlers = () => Object.fromEntries(routes.operations.map((o) => [o.operationId, noop]));

describe('routes from the contract', () => {
  it('reads every operation of openapi.yaml with its method, path and query parameters', () => {
    const fetch = routes.operations.find((o) => o.operationId === 'fetchRecords');
    assert.deepEqual(fetch, {
      operationId: 'fetchRecords',
      method: 'GET',
      template: '/consumers/{group}/instances/{instance}/records',
      query: ['timeout', 'max_bytes'],
    });
    assert.equal(new Set(routes.operations.map((o) => o.operationId)).size, routes.operations.length);
    assert.equal(expressPath('/topics/{topic}/partitions/{partition}'), '/topics/:topic/partitions/:partition');
  });

  it('refuses to start when an operation has no handler', () => {
    const handlers = allHandlers();
    delete handlers.seekToEnd;
    assert.throws(
      () => contractRouter(routes, handlers),
      /operations without a handler: seekToEnd \(POST \/consumers\/\{group\}\/instances\/\{instance\}\/positions\/end\)/,
    );
  });

  it('refuses to start when a handler has no operation', () => {
    assert.throws(
      () => contractRouter(routes, { ...allHandlers(), listWidgets: noop }),
      /handlers without an operation in openapi\.yaml: listWidgets/,
    );
  });

  it('mounts what the app serves: every operation answers from its own handler', async () => {
    assert.doesNotThrow(() => contractRouter(routes, allHandlers()));
  });
});

describe('the gateway built from the contract', () => {
  let gateway: Awaited<ReturnType<typeof startFakeGateway>>;
  before(async () => {
    const kafka = new FakeKafka({ events: 2 });
    gateway = await startFakeGateway(kafka);
  });
  after(() => gateway.close());

  it('serves a path of the contract, with its parameter types from the contract', async () => {
    const ok = await fetch(`${gateway.url}/topics/events/partitions/1`);
    assert.equal(ok.status, 200);
    const bad = await fetch(`${gateway.url}/topics/events/partitions/x`);
    assert.equal(bad.status, 404);
  });

  it('answers an instance operation without an instance as 40403, through the forwarding step', async () => {
    const res = await fetch(`${gateway.url}/consumers/g/instances/nobody/subscription`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error_code: number }).error_code, 40403);
  });
});
