/**
 * Two writers at once (issue 12 B1: a leader frozen past its session goes on writing after its
 * successor started). Every reader keeps the first record for an id and for a subject's version;
 * a writer answers only after reading back its own record applied with the id and version it
 * wrote, and otherwise answers a retriable error, never a 200 with an id that is not its schema's.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { KafkaStore } from '../../src/registry/kafka-store.js';
import { EmbeddedRegistry } from '../../src/registry/registry.js';
import { RegistryState, schemaKey, schemaValue } from '../../src/registry/state.js';

const avro = (name: string) => JSON.stringify({ type: 'record', name, fields: [{ name: 'f', type: 'int' }] });
const text = (name: string) => ({ schemaType: 'AVRO' as const, schema: avro(name), references: [] });
const bytes = (v: unknown) => Buffer.from(JSON.stringify(v));

/** A store whose topic receives `rival`'s records just before each of ours (the other writer). */
function racingStore(rival: () => Array<{ key: object; value: object | null }>): KafkaStore {
  const state = new RegistryState();
  return {
    state,
    caughtUp: async () => undefined,
    write: async (records: Array<{ key: object; value: object | null }>) => {
      for (const r of [...rival(), ...records]) state.apply(bytes(r.key), r.value === null ? null : bytes(r.value));
    },
  } as unknown as KafkaStore;
}

describe('two writers at once', () => {
  it('a registration whose id another writer took first is a retriable error, not a 200', async () => {
    let once = true;
    const store = racingStore(() => {
      if (!once) return [];
      once = false;
      return [{ key: schemaKey('r1-b4', 1), value: schemaValue('r1-b4', 1, 1, text('B4'), false) }];
    });
    const registry = new EmbeddedRegistry(store);
    await assert.rejects(
      registry.registerInput('r1-a2', { schema: avro('A2') }, false),
      (err: { errorCode?: number; message: string }) =>
        err.errorCode !== undefined && err.errorCode >= 50000 && /another writer|retry/i.test(err.message),
    );
    assert.equal(store.state.schemas.get(1)!.schema, avro('B4'), 'id 1 is the first writer’s schema');
    // Retried, it gets an id of its own.
    const id = await registry.registerInput('r1-a2', { schema: avro('A2') }, false);
    assert.equal(store.state.schemas.get(id)!.schema, avro('A2'));
    assert.notEqual(id, 1);
  });

  it('a subject version another writer took first keeps its first schema', async () => {
    let once = true;
    const store = racingStore(() => {
      if (!once) return [];
      once = false;
      return [{ key: schemaKey('same', 1), value: schemaValue('same', 1, 50, text('Other'), false) }];
    });
    const registry = new EmbeddedRegistry(store);
    await assert.rejects(registry.registerInput('same', { schema: avro('Mine') }, false));
    assert.equal(store.state.subjects.get('same')!.get(1)!.id, 50);
    assert.equal(store.state.schemas.get(50)!.schema, avro('Other'));
  });
});
