/**
 * An independent Confluent client (@kafkajs/confluent-schema-registry) against the embedded
 * registry: it registers Avro, JSON Schema and protobuf schemas, encodes records in the Confluent
 * wire format with the ids it got, and decodes them again by fetching schemas by id.
 */
import { strict as assert } from 'node:assert';
import { after, before, it } from 'node:test';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { closeAdmin } from './support/kafka.js';
import { startRegistryGateway, type RegistryGateway } from './support/registry.js';

let reg: RegistryGateway;
before(async () => {
  reg = await startRegistryGateway();
});
after(async () => {
  await reg?.gw.close();
  await closeAdmin();
});

it('serves a Confluent client: register, encode, decode in all three types', async () => {
  const client = new SchemaRegistry({ host: reg.url });
  const avro = await client.register(
    {
      type: SchemaType.AVRO,
      schema: JSON.stringify({
        type: 'record',
        name: 'Beat',
        namespace: 'demo',
        fields: [{ name: 'bpm', type: 'int' }],
      }),
    },
    { subject: 'beats-value' },
  );
  const json = await client.register(
    {
      type: SchemaType.JSON,
      schema: JSON.stringify({ type: 'object', properties: { bpm: { type: 'integer' } }, required: ['bpm'] }),
    },
    { subject: 'beats-json-value' },
  );
  const proto = await client.register(
    { type: SchemaType.PROTOBUF, schema: 'syntax = "proto3";\npackage demo;\nmessage Beat { int32 bpm = 1; }\n' },
    { subject: 'beats-proto-value' },
  );
  assert.equal(new Set([avro.id, json.id, proto.id]).size, 3);
  assert.equal(await client.getLatestSchemaId('beats-value'), avro.id);

  // A fresh client knows nothing: decoding fetches each schema by the id in the bytes.
  const reader = new SchemaRegistry({ host: reg.url });
  for (const id of [avro.id, json.id, proto.id]) {
    const bytes = await client.encode(id, { bpm: 72 });
    assert.equal(bytes.readUInt8(0), 0);
    assert.equal(bytes.readInt32BE(1), id);
    assert.deepEqual({ ...(await reader.decode(bytes)) }, { bpm: 72 });
  }
  // Registering the same schema again answers the same id.
  const again = await client.register(
    {
      type: SchemaType.AVRO,
      schema: JSON.stringify({
        type: 'record',
        name: 'Beat',
        namespace: 'demo',
        fields: [{ name: 'bpm', type: 'int' }],
      }),
    },
    { subject: 'beats-value' },
  );
  assert.equal(again.id, avro.id);
});
