/**
 * A protobuf schema's top-level messages in declaration order: what Confluent's message indexes
 * count, and whose first is the message a record uses by default (index [0]). One function for
 * the codec (src/formats/codecs.ts) and the registry's compatibility check (src/registry), so
 * both agree on which message is first.
 *
 * Call it right after parsing the schema's own file, before its imports: a dependency in the same
 * package adds messages to the same namespace.
 */
import protobuf from 'protobufjs';

export function packageMessages(root: protobuf.Root, pkg: string | undefined): protobuf.Type[] {
  const ns = pkg === undefined || pkg === '' ? root : root.lookup(pkg);
  return ns instanceof protobuf.Namespace ? ns.nestedArray.filter((o) => o instanceof protobuf.Type) : [];
}
