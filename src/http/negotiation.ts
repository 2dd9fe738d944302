/**
 * Content negotiation for the Confluent v2 media types:
 *   application/vnd.kafka[.<embedded format>][.v2]+json
 * Strict mode reproduces Confluent's 415/406 answers; the lenient default also accepts plain
 * `application/json` (as the json embedded format) and `*\/*`, which is what curl, Postman and
 * IoT devices send.
 */
import { Errors } from '../core/errors.js';
import type { EmbeddedFormat } from '../core/ports.js';

export const V2 = 'application/vnd.kafka.v2+json';
export const mediaTypeOf = (format: EmbeddedFormat) => `application/vnd.kafka.${format}.v2+json`;

export interface MediaType {
  type: string;
  subtype: string;
  /** Lower-cased `type/subtype`, parameters removed. */
  essence: string;
  /** `q` parameter of an Accept entry. */
  q: number;
}

const VENDOR = /^application\/vnd\.kafka(?:\.(binary|json|avro|jsonschema|protobuf))?(?:\.(v1|v2))?\+json$/;

export function parseMediaType(text: string): MediaType | undefined {
  const [essencePart, ...params] = text.split(';');
  const essence = essencePart!.trim().toLowerCase();
  const m = /^([\w.+*-]+)\/([\w.+*-]+)$/.exec(essence);
  if (!m) return undefined;
  let q = 1;
  for (const p of params) {
    const [k, v] = p.split('=').map((s) => s.trim());
    if (k?.toLowerCase() === 'q' && v !== undefined) {
      const n = Number(v);
      q = Number.isFinite(n) ? Math.min(Math.max(n, 0), 1) : 0;
    }
  }
  return { type: m[1]!, subtype: m[2]!, essence, q };
}

/** `{ format, version }` of a Kafka vendor type, undefined for anything else. */
export function vendorParts(essence: string): { format?: EmbeddedFormat; version?: string } | undefined {
  const m = VENDOR.exec(essence);
  if (!m) return undefined;
  return { format: m[1] as EmbeddedFormat | undefined, version: m[2] };
}

/**
 * The embedded format a vendor type names for a request body, lenient: what older Confluent
 * versions and Karapace take. v1 and version-less types mean their v2 equivalent; a type without
 * a format (`application/vnd.kafka.v1+json`, `application/vnd.kafka+json`) is binary, as
 * Confluent v1's produce endpoint read it. Strict: only `{format}.v2`.
 */
function vendorFormat(essence: string, strict: boolean): EmbeddedFormat | undefined {
  const vendor = vendorParts(essence);
  if (vendor === undefined) return undefined;
  if (vendor.version === 'v2') return vendor.format;
  return strict ? undefined : (vendor.format ?? 'binary');
}

/**
 * The embedded format a produce request's Content-Type selects. Schema-registry formats (avro,
 * jsonschema, protobuf) are returned too: the produce route answers them (see refuseSchemaFormat).
 */
export function produceFormat(contentType: string | undefined, strict: boolean): EmbeddedFormat {
  const mt = contentType === undefined ? undefined : parseMediaType(contentType);
  if (mt === undefined) {
    if (!strict && contentType === undefined) return 'json';
    throw Errors.unsupportedMediaType();
  }
  const format = vendorFormat(mt.essence, strict);
  if (format !== undefined) return format;
  if (!strict && mt.essence === 'application/json') return 'json';
  throw Errors.unsupportedMediaType();
}

/**
 * Request Content-Type check for non-produce endpoints that take a body (the consumer API):
 * any Kafka v2 vendor type, or (lenient) application/json and the v1 / version-less vendor types.
 * Body-less requests are never checked.
 */
export function checkControlContentType(contentType: string | undefined, strict: boolean): void {
  if (contentType === undefined) return;
  const mt = parseMediaType(contentType);
  if (mt !== undefined) {
    const vendor = vendorParts(mt.essence);
    if (vendor !== undefined && (vendor.version === 'v2' || !strict)) return;
    if (!strict && mt.essence === 'application/json') return;
  }
  throw Errors.unsupportedMediaType();
}

export function parseAccept(accept: string | undefined, lenient = false): MediaType[] {
  if (accept === undefined || accept.trim() === '') return [];
  return accept
    .split(',')
    .map((s) => parseMediaType(s))
    .filter((m): m is MediaType => m !== undefined)
    .map((m) => (lenient ? asV2(m) : m));
}

/**
 * Lenient Accept ranges: v1 and version-less vendor types stand for their v2 equivalent (a
 * format-less one for the bare v2 type), `*\/json` for `application/json`.
 */
function asV2(m: MediaType): MediaType {
  if (m.essence === '*/json') return { ...m, type: 'application', essence: 'application/json' };
  const vendor = vendorParts(m.essence);
  if (vendor === undefined || vendor.version === 'v2') return m;
  const essence = vendor.format === undefined ? V2 : mediaTypeOf(vendor.format);
  return { ...m, subtype: essence.slice('application/'.length), essence };
}

function matchQuality(range: MediaType, offered: string): number {
  if (range.essence === offered) return 3;
  const [type] = offered.split('/');
  if (range.subtype === '*' && range.type === type) return 2;
  if (range.essence === '*/*') return 1;
  return 0;
}

/**
 * Picks the response media type from what the endpoint offers (in the server's preference order)
 * and the client's Accept header. No Accept means anything. Throws 406 when nothing fits.
 */
export function negotiate(accept: string | undefined, offered: readonly string[]): string {
  // Lenient offers are the ones that include plain JSON (v2Offers, consumerOffers, negotiateFetch).
  const ranges = parseAccept(accept, offered.includes('application/json'));
  if (ranges.length === 0) return offered[0]!;
  let best: { type: string; q: number; specificity: number } | undefined;
  for (const type of offered) {
    let q = -1;
    let specificity = 0;
    for (const r of ranges) {
      const s = matchQuality(r, type);
      if (s > specificity || (s === specificity && s > 0 && r.q > q)) {
        specificity = s;
        q = r.q;
      }
    }
    if (specificity > 0 && q > 0 && (best === undefined || q > best.q)) best = { type, q, specificity };
  }
  if (best === undefined) {
    const jsonLike = ranges.some((r) => r.subtype === 'json' || r.subtype.endsWith('+json'));
    throw Errors.notAcceptable(!jsonLike);
  }
  return best.type;
}

/** What metadata and produce endpoints offer: Confluent's v2 type, and plain JSON when lenient. */
export function v2Offers(strict: boolean): readonly string[] {
  return strict ? [V2] : [V2, 'application/json'];
}

const ALL_FORMATS: readonly EmbeddedFormat[] = ['binary', 'json', 'avro', 'jsonschema', 'protobuf'];

/**
 * What consumer endpoints other than fetch answer with (Confluent: the v2 type first, then every
 * `{fmt}.v2` type), plus plain JSON when lenient.
 */
export function consumerOffers(strict: boolean): readonly string[] {
  return [V2, ...ALL_FORMATS.map(mediaTypeOf), ...(strict ? [] : ['application/json'])];
}

/**
 * The response type of a records fetch, and whether it names the instance's own format.
 * Strict (Confluent): `*\/*`, no Accept and the bare v2 type select the binary reader, so a json
 * instance answers 40601 to them. Lenient (default): they, and `application/json`, mean "the
 * instance's own format". Throws 406 when nothing in Accept is offered at all. As in Confluent,
 * avro, jsonschema and protobuf share one reader: any of their types reads any of their instances.
 */
export function negotiateFetch(
  accept: string | undefined,
  instanceFormat: EmbeddedFormat,
  strict: boolean,
): { type: string; matches: boolean } {
  const others = ALL_FORMATS.filter((f) => f !== instanceFormat).map(mediaTypeOf);
  const offers = strict
    ? [mediaTypeOf('binary'), V2, ...ALL_FORMATS.filter((f) => f !== 'binary').map(mediaTypeOf)]
    : [mediaTypeOf(instanceFormat), V2, 'application/json', ...others];
  const type = negotiate(accept, offers);
  const format = vendorParts(type)?.format ?? (strict ? 'binary' : instanceFormat);
  const schemaFormat = (f: EmbeddedFormat) => f === 'avro' || f === 'jsonschema' || f === 'protobuf';
  return { type, matches: format === instanceFormat || (schemaFormat(format) && schemaFormat(instanceFormat)) };
}
