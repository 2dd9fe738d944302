/** Schema registry settings: the defaults, and a bad value stops the start with a line naming it. */
import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { ConfigError, EnvReader } from '../../src/config/env.js';
import { loadSchemaRegistryConfig } from '../../src/config/schema-registry.js';

const load = (env: Record<string, string>) => loadSchemaRegistryConfig(new EnvReader(env), '127.0.0.1');

it('embeds a registry on 8081 with the _schemas topic by default', () => {
  assert.deepEqual(load({}), {
    mode: 'embedded',
    host: '127.0.0.1',
    port: 8081,
    topic: '_schemas',
    group: 'kafka-rest-gateway-schema-registry',
    advertisedUrl: undefined,
    replicationFactor: undefined,
    timeoutMs: 10_000,
  });
  assert.deepEqual(load({ SCHEMA_REGISTRY_ENABLED: 'false' }), { mode: 'off' });
  assert.equal(load({ SCHEMA_REGISTRY_URL: 'https://sr.example.com/' }).mode, 'external');
});

it('refuses bad settings, naming the variable', () => {
  for (const [env, name] of [
    [{ SCHEMA_REGISTRY_PORT: '70000' }, 'SCHEMA_REGISTRY_PORT'],
    [{ SCHEMA_REGISTRY_TOPIC: 'bad topic!' }, 'SCHEMA_REGISTRY_TOPIC'],
    [{ SCHEMA_REGISTRY_ENABLED: 'maybe' }, 'SCHEMA_REGISTRY_ENABLED'],
    [{ SCHEMA_REGISTRY_URL: 'not a url' }, 'SCHEMA_REGISTRY_URL'],
    [{ SCHEMA_REGISTRY_URL: 'ftp://x' }, 'SCHEMA_REGISTRY_URL'],
    [
      { SCHEMA_REGISTRY_URL: 'http://x', SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO: 'nocolon' },
      'SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO',
    ],
    [
      {
        SCHEMA_REGISTRY_URL: 'http://x',
        SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO: 'a:b',
        SCHEMA_REGISTRY_BEARER_TOKEN: 't',
      },
      'SCHEMA_REGISTRY_BEARER_TOKEN',
    ],
    [{ SCHEMA_REGISTRY_TIMEOUT_MS: '5' }, 'SCHEMA_REGISTRY_TIMEOUT_MS'],
  ] as const)
    assert.throws(
      () => load(env),
      (e: Error) => e instanceof ConfigError && e.message.includes(name),
    );
});
