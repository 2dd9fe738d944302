/**
 * The Confluent wire format: what Kafka Streams, ksqlDB, Connect and Confluent's serializers read.
 *
 *   byte 0     magic byte 0
 *   bytes 1-4  the schema's registry id, big-endian
 *   protobuf   message indexes: which message of the schema file (zig-zag varints: a count, then
 *              the path through nested messages); the first message, [0], is written as one 0 byte
 *   rest       the payload (Avro binary, UTF-8 JSON, or the protobuf message)
 */

export const MAGIC_BYTE = 0;

/** Why bytes are not a framed record; the caller names the record. */
export class WireFormatError extends Error {}

export function frame(id: number, payload: Buffer, messageIndexes?: readonly number[]): Buffer {
  const indexes = messageIndexes === undefined ? undefined : encodeMessageIndexes(messageIndexes);
  const out = Buffer.allocUnsafe(5 + (indexes?.length ?? 0) + payload.length);
  out[0] = MAGIC_BYTE;
  out.writeUInt32BE(id, 1);
  let at = 5;
  if (indexes !== undefined) at += indexes.copy(out, at);
  payload.copy(out, at);
  return out;
}

/** The schema id and the bytes after it (message indexes included, for protobuf). */
export function unframe(bytes: Buffer): { id: number; rest: Buffer } {
  if (bytes.length < 5) throw new WireFormatError(`${bytes.length} bytes is too short for the Confluent wire format`);
  if (bytes[0] !== MAGIC_BYTE) {
    throw new WireFormatError(`unknown magic byte ${bytes[0]} (the Confluent wire format starts with 0)`);
  }
  return { id: bytes.readUInt32BE(1), rest: bytes.subarray(5) };
}

/** Message indexes: [0] is the shortcut single 0; otherwise the count then each index, all zig-zag varints. */
export function encodeMessageIndexes(indexes: readonly number[]): Buffer {
  if (indexes.length === 1 && indexes[0] === 0) return Buffer.from([0]);
  const bytes: number[] = [];
  writeZigZag(bytes, indexes.length);
  for (const i of indexes) writeZigZag(bytes, i);
  return Buffer.from(bytes);
}

/** The message indexes at the start of `bytes`, and the payload after them. */
export function decodeMessageIndexes(bytes: Buffer): { indexes: number[]; payload: Buffer } {
  const reader = { bytes, at: 0 };
  const count = readZigZag(reader);
  if (count === 0) return { indexes: [0], payload: bytes.subarray(reader.at) };
  if (count < 0 || count > 100) throw new WireFormatError(`invalid protobuf message index count ${count}`);
  const indexes: number[] = [];
  for (let i = 0; i < count; i++) {
    const index = readZigZag(reader);
    if (index < 0) throw new WireFormatError(`invalid protobuf message index ${index}`);
    indexes.push(index);
  }
  return { indexes, payload: bytes.subarray(reader.at) };
}

function writeZigZag(out: number[], n: number): void {
  let v = n >= 0 ? n * 2 : -n * 2 - 1;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

function readZigZag(reader: { bytes: Buffer; at: number }): number {
  let v = 0;
  let scale = 1;
  for (let i = 0; i < 5; i++) {
    if (reader.at >= reader.bytes.length) throw new WireFormatError('protobuf message indexes are cut short');
    const b = reader.bytes[reader.at++]!;
    v += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
    scale *= 128;
  }
  throw new WireFormatError('protobuf message index varint is too long');
}
