/**
 * schema-registry.openapi.yaml is the registry's contract: every route the registry serves is in
 * it with its method, and every path in it is served.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import pino from 'pino';
import YAML from 'yaml';
import { Authorizer } from '../../src/policy/authz/authorizer.js';
import { registryApp } from '../../src/registry/http.js';
import type { EmbeddedRegistry } from '../../src/registry/registry.js';

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

it('serves exactly the paths and methods of schema-registry.openapi.yaml', () => {
  const app = registryApp({
    registry: {} as EmbeddedRegistry,
    ready: Promise.resolve(),
    caughtUp: async () => undefined,
    leader: async () => undefined,
    auth: { methods: [], allowAnonymous: true } as never,
    authorizer: new Authorizer(undefined),
    nodeId: 'n1',
    maxBodyBytes: 1024,
    bodyTimeoutMs: 1000,
    peerUrls: [],
    timeoutMs: 1000,
    logger: pino({ level: 'silent' }),
  });
  const served = new Set<string>();
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route !== undefined)
        for (const method of Object.keys(layer.route.methods))
          served.add(`${method.toUpperCase()} ${layer.route.path.replace(/:(\w+)/g, '{$1}')}`);
      else if (layer.handle?.stack !== undefined) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  const doc = YAML.parse(readFileSync('schema-registry.openapi.yaml', 'utf8')) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const documented = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths))
    for (const method of Object.keys(item))
      if (method !== 'parameters') documented.add(`${method.toUpperCase()} ${path}`);
  assert.deepEqual([...served].sort(), [...documented].sort());
});
