/**
 * POST /v3/clusters/{cluster_id}/topics/{topic_name}/records — v3 produce, always streaming.
 *
 * The body is a stream of concatenated JSON records, read as it arrives (never buffered whole: a
 * client may keep one request open for hours). Once the first record is read the answer is HTTP
 * 200 and one report per record follows, in input order, each one JSON object and `\r\n`:
 * `{"error_code":200, cluster_id, topic_name, partition_id, offset, timestamp, key, value}` once
 * Kafka acknowledged the record (acks=all), or `{"error_code", "message"}` for that record alone
 * (bad record, schema failure, quota 429, Kafka failure) — the stream goes on.
 *
 * Before the 200 (plain error answers): 415 wrong Content-Type, 403, 404 unknown topic, 422 empty
 * body. A body that cannot be framed (not a JSON object, or one record above the size limit) gets
 * one 400 report after the earlier ones, then the answer ends.
 *
 * Bounds: at most `maxInFlightRecords` records are read but not yet reported (the request is
 * not read further until reports go out), and reading also waits while the client does not take
 * its reports (the response's write buffer is full). After `maxStreamDurationMs` the stream stops
 * reading, reports what it has, adds one 408 report and ends.
 *
 * Each record is checked alone, exactly as v2 checks a request (per-topic JSON Schema, JSON
 * depth and string limits, quota), so nothing is produced for a bad record; the valid records of
 * one chunk go to the shared ProduceService together and are coalesced with other requests' sends.
 */
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import type { Request } from 'express';
import { Errors } from '../core/errors.js';
import type { MetadataService, ProduceService, RecordHeader } from '../core/ports.js';
import type { SchemaFormats } from '../formats/schema-formats.js';
import type { OperationContext, Reply } from '../http/operation.js';
import type { RecordSchemas } from '../policy/validation/record-schemas.js';
import { isValidationFailure } from '../observability/metrics.js';
import { AuthFailure } from '../policy/auth/jwt.js';
import { unauthorized } from '../policy/auth/middleware.js';
import { clientKey, identityOf } from '../policy/identity.js';
import { recharge } from '../policy/limits/shedding.js';
import { JsonObjectSplitter } from './json-stream.js';
import { decodeRecord, errorReport, type DecodedRecord, type DecodeRules } from './records.js';

export interface V3ProduceLimits {
  maxJsonDepth: number;
  maxStringLength: number;
  /** Produce deadline of each record, from when it was read. */
  requestTimeoutMs: number;
  /** Records read and not yet reported; reading pauses at this many. */
  maxInFlightRecords: number;
  /** Largest single record (its JSON text); 0 = no limit beyond the JSON depth/string limits. */
  maxRecordBytes: number;
  /** A streaming request's lifetime. */
  maxStreamDurationMs: number;
  /** Bytes of records read and not yet reported; reading pauses at this many (and sheds load by it). */
  maxInFlightBytes: number;
  /** No new record for this long: one 408 report and the stream ends (not while reading is paused). */
  idleTimeoutMs: number;
  /** Open produce streams per caller; one more is 429. */
  maxStreamsPerClient: number;
}

export interface V3ProduceDeps {
  metadata: MetadataService;
  producer: ProduceService;
  recordSchemas: RecordSchemas;
  schemaFormats?: SchemaFormats;
  /** With a policy: may this caller describe this topic (and so use its subjects' schema ids)? */
  mayDescribe?: (req: Request, topic: string) => boolean;
  limits: V3ProduceLimits;
  authorize?: (req: Request, topic: string) => void;
  /** The produce quota (records/bytes per second), charged per record; throws 429 to refuse it. */
  admit?: (req: Request, topic: string, records: number, bytes: number) => Promise<void>;
  principalHeader?: (req: Request) => RecordHeader;
  onProduced?: (topic: string, records: number, bytes: number) => void;
  /** A record refused as invalid (bad JSON, field, schema, limit): counted like v2's invalid requests. */
  onInvalid?: (errorCode: number) => void;
}

interface Slot {
  text?: string;
  /** Bytes of the record's JSON text, held until its report goes out. */
  held?: number;
}

interface Pending {
  slot: Slot;
  decoded: DecodedRecord;
  bytes: number;
}

/** A record read: decoded, or still being resolved through the schema registry. */
interface Read {
  slot: Slot;
  decoded: DecodedRecord | Promise<DecodedRecord>;
}

const sizeOf = (d: DecodedRecord) => (d.record.key?.length ?? 0) + (d.record.value?.length ?? 0);

export function v3ProduceHandler(deps: V3ProduceDeps): (ctx: OperationContext) => Promise<Reply> {
  const { limits } = deps;
  /** Open streams per caller (clientKey). */
  const open = new Map<string, number>();
  return async ({ req, res, params }) => {
    const clusterId = params.cluster_id as string;
    const topic = params.topic_name as string;
    if (!isJson(req.headers['content-type'])) throw Errors.unsupportedMediaType();
    const decode = decoderFor(req.headers['content-encoding']);
    deps.authorize?.(req, topic);
    const partitions = await deps.metadata.partitionCount(topic);
    if (partitions === undefined) throw Errors.topicNotHosted();
    const rules: DecodeRules = {
      topic,
      partitions,
      maxJsonDepth: limits.maxJsonDepth,
      maxStringLength: limits.maxStringLength,
      recordSchemas: deps.recordSchemas,
      schemaFormats: deps.schemaFormats,
      schemaAccess: deps.mayDescribe && ((t: string) => deps.mayDescribe!(req, t)),
      stamp: deps.principalHeader?.(req),
    };
    const caller = clientKey(req, res);
    const mine = open.get(caller) ?? 0;
    if (mine >= limits.maxStreamsPerClient) throw Errors.tooManyProduceStreams(limits.maxStreamsPerClient);
    open.set(caller, mine + 1);
    let closed = false;
    const leave = () => {
      if (closed) return;
      closed = true;
      const n = (open.get(caller) ?? 1) - 1;
      if (n <= 0) open.delete(caller);
      else open.set(caller, n);
    };
    res.once('close', leave);
    res.once('finish', leave);
    // When the credential stops being valid (a JWT's exp): records after it are refused.
    const expiresAt = identityOf(res).expiresAt;

    return new Promise<Reply>((resolve, reject) => {
      // What the records are read from: the request, or its decompressed bytes.
      let source: Readable = req;
      const splitter = new JsonObjectSplitter(limits.maxRecordBytes);
      const queue: Slot[] = [];
      let head = 0;
      let started = false;
      let inputDone = false;
      let ended = false;
      let paused = false;
      let waitingDrain = false;
      let submitting = 0;
      /** Bytes of records read and not yet reported (what shedding charges this stream). */
      let heldBytes = 0;
      // Admission (quota) runs in record order, so records reach the producer in input order.
      let chain: Promise<void> = Promise.resolve();
      // Schema records' registry work, one at a time in input order (a failure is that record's report).
      let resolving: Promise<void> = Promise.resolve();

      const start = () => {
        if (started) return;
        started = true;
        res.statusCode = 200;
        res.setHeader('Content-Type', 'application/json');
        res.flushHeaders();
      };
      const finish = () => {
        clearTimeout(lifetime);
        clearTimeout(idle);
        leave();
        source.off('data', onData);
        source.off('end', onEnd);
        resolve({});
      };
      const stopReading = () => {
        inputDone = true;
        clearTimeout(idle);
        source.off('data', onData);
        source.off('end', onEnd);
        if (!req.complete) {
          // The rest of the body is not wanted: close the connection once the answer is out.
          if (!res.headersSent) res.setHeader('Connection', 'close');
          res.once('finish', () => req.socket?.destroy());
        }
      };
      const inFlight = () => queue.length - head;
      const flow = () => {
        recharge(req, heldBytes + splitter.buffered);
        if (inputDone) return;
        const stop = waitingDrain || inFlight() >= limits.maxInFlightRecords || heldBytes >= limits.maxInFlightBytes;
        if (stop && !paused) {
          paused = true;
          source.pause();
        } else if (!stop && paused) {
          paused = false;
          source.resume();
        }
      };
      const flush = () => {
        if (ended) return;
        let out = '';
        while (head < queue.length && queue[head]!.text !== undefined) {
          out += queue[head]!.text! + '\r\n';
          heldBytes -= queue[head]!.held ?? 0;
          queue[head] = {}; // release the text
          head++;
        }
        if (head > 1024 && head * 2 > queue.length) {
          queue.splice(0, head);
          head = 0;
        }
        // One drain listener at a time, however many flushes happen while the client is behind.
        if (out !== '' && !res.write(out) && !waitingDrain) {
          waitingDrain = true;
          res.once('drain', () => {
            waitingDrain = false;
            flow();
          });
        }
        if (inputDone && inFlight() === 0 && submitting === 0) {
          ended = true;
          res.end();
          return;
        }
        flow();
      };
      const report = (slot: Slot, body: object) => {
        slot.text = JSON.stringify(body);
      };
      /** A record that failed its checks (decoding, schema): its report, counted as a validation failure. */
      const refuse = (slot: Slot, err: unknown) => {
        const body = errorReport(err);
        if (isValidationFailure(body.error_code)) deps.onInvalid?.(body.error_code);
        report(slot, body);
      };

      const submit = (reads: Read[]) => {
        if (reads.length === 0) return;
        const batch: Pending[] = [];
        submitting++;
        let handedOver = false;
        /** Fills the batch's reports; whatever goes wrong, every record gets one and the stream moves on. */
        const settle = (fill: () => void) => {
          try {
            fill();
          } catch (err) {
            for (const r of reads) if (r.slot.text === undefined) report(r.slot, errorReport(err));
          } finally {
            submitting--;
            flush();
          }
        };
        chain = chain.then(async () => {
          for (const r of reads) {
            try {
              const decoded = await r.decoded;
              batch.push({ slot: r.slot, decoded, bytes: sizeOf(decoded) });
            } catch (err) {
              refuse(r.slot, err);
            }
          }
          const admitted: Pending[] = [];
          for (const p of batch) {
            if (deps.admit === undefined) admitted.push(p);
            else {
              try {
                await deps.admit(req, topic, 1, p.bytes);
                admitted.push(p);
              } catch (err) {
                report(p.slot, errorReport(err));
              }
            }
          }
          const deadline = Date.now() + limits.requestTimeoutMs;
          const produced =
            admitted.length === 0
              ? Promise.resolve([])
              : deps.producer.produce(
                  topic,
                  admitted.map((p) => p.decoded.record),
                  deadline,
                );
          handedOver = true;
          void produced.then(
            (outcomes) =>
              settle(() => {
                let ok = 0;
                let bytes = 0;
                outcomes.forEach((o, i) => {
                  const p = admitted[i]!;
                  if (o.ok) {
                    ok++;
                    bytes += p.bytes;
                    report(p.slot, {
                      error_code: 200,
                      cluster_id: clusterId,
                      topic_name: topic,
                      partition_id: o.partition,
                      offset: o.offset,
                      timestamp: new Date(p.decoded.timestamp).toISOString(),
                      ...(p.decoded.key === undefined ? {} : { key: p.decoded.key }),
                      ...(p.decoded.value === undefined ? {} : { value: p.decoded.value }),
                    });
                  } else report(p.slot, { error_code: o.errorCode, message: o.error });
                });
                if (ok > 0) deps.onProduced?.(topic, ok, bytes);
                // Never a slot left open (that would hold every later report back).
                for (const p of admitted) if (p.slot.text === undefined) report(p.slot, errorReport(undefined));
              }),
            (err: unknown) =>
              settle(() => {
                for (const p of admitted) report(p.slot, errorReport(err));
              }),
          );
          flush();
        });
        chain = chain.catch((err: unknown) => {
          if (!handedOver)
            settle(() => {
              throw err;
            });
        });
      };

      const onData = (chunk: Buffer) => {
        if (inputDone) return;
        const { texts, error: framing } = splitter.push(chunk);
        const batch: Read[] = [];
        if (texts.length > 0) armIdle();
        for (const text of texts) {
          start();
          if (expiresAt !== undefined && Date.now() >= expiresAt) {
            // The credential expired while the stream was open: one 401 report, nothing more is read.
            const slot: Slot = {};
            queue.push(slot);
            report(slot, errorReport(unauthorized(new AuthFailure('The access token expired.', 'invalid_token'))));
            submit(batch);
            stopReading();
            flush();
            return;
          }
          const slot: Slot = { held: text.length };
          heldBytes += text.length;
          queue.push(slot);
          try {
            const decoded = decodeRecord(text, rules);
            if (typeof decoded === 'function') {
              // Schema records ask the registry one after another, in input order, while reading goes on.
              const resolved = resolving.then(decoded);
              resolving = resolved.then(
                () => undefined,
                () => undefined,
              );
              batch.push({ slot, decoded: resolved });
            } else batch.push({ slot, decoded });
          } catch (err) {
            refuse(slot, err);
          }
        }
        submit(batch);
        if (framing !== undefined) {
          if (!started) {
            // Nothing read yet: a plain 400 instead of a stream holding only the error.
            clearTimeout(lifetime);
            stopReading();
            reject(Errors.badRequest(`Bad Request: ${framing.message}`));
            return;
          }
          start();
          const slot: Slot = {};
          queue.push(slot);
          report(slot, { error_code: 400, message: `Bad Request: ${framing.message}` });
          stopReading();
        }
        flush();
      };
      const onEnd = () => {
        if (inputDone) return;
        inputDone = true;
        if (splitter.midObject) {
          if (!started) {
            clearTimeout(lifetime);
            reject(Errors.badRequest('Bad Request: Error processing JSON: the body ended inside a record.'));
            return;
          }
          start();
          const slot: Slot = {};
          queue.push(slot);
          report(slot, {
            error_code: 400,
            message: 'Bad Request: Error processing JSON: the body ended inside a record.',
          });
        }
        if (!started) {
          clearTimeout(lifetime);
          reject(Errors.v3PayloadError('Request body is empty. Data is required.'));
          return;
        }
        flush();
      };

      // No new record for idleTimeoutMs (and reading not held back by this side): one 408 and the end.
      let idle: NodeJS.Timeout | undefined;
      const armIdle = () => {
        clearTimeout(idle);
        idle = setTimeout(() => {
          if (inputDone) return;
          if (paused) return armIdle();
          start();
          stopReading();
          const slot: Slot = {};
          queue.push(slot);
          report(slot, errorReport(Errors.streamIdle(limits.idleTimeoutMs)));
          flush();
        }, limits.idleTimeoutMs);
        idle.unref();
      };

      const lifetime = setTimeout(() => {
        if (inputDone) return;
        start();
        stopReading();
        const slot: Slot = {};
        queue.push(slot);
        report(slot, errorReport(Errors.streamExpired()));
        flush();
      }, limits.maxStreamDurationMs);
      lifetime.unref();

      res.once('finish', finish);
      res.once('close', () => {
        // The client went away: nothing more is read; records already handed over still land.
        ended = true;
        finish();
      });

      const buffered = req.body as unknown;
      if (Buffer.isBuffer(buffered)) {
        // The body was already read (a caller ahead of this route buffered it).
        req.body = undefined;
        onData(buffered);
        onEnd();
      } else if (req.readableEnded) {
        onEnd();
      } else {
        if (decode !== undefined) {
          // A compressed body is inflated as it is read; pausing the inflater pauses the request.
          const inflater = decode();
          inflater.once('error', () => {
            if (inputDone) return;
            if (!started) {
              clearTimeout(lifetime);
              stopReading();
              reject(Errors.badRequest('Bad Request: the body is not valid for its Content-Encoding.'));
              return;
            }
            const slot: Slot = {};
            queue.push(slot);
            report(slot, { error_code: 400, message: 'Bad Request: the body is not valid for its Content-Encoding.' });
            stopReading();
            flush();
          });
          source = req.pipe(inflater);
        }
        source.on('data', onData);
        source.on('end', onEnd);
      }
    });
  };
}

/** gzip, deflate and br bodies are inflated as they stream; another coding is a 415. */
function decoderFor(
  encoding: string | undefined,
): (() => zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress) | undefined {
  const e = (encoding ?? 'identity').trim().toLowerCase();
  if (e === 'identity' || e === '') return undefined;
  if (e === 'gzip' || e === 'x-gzip') return () => zlib.createGunzip();
  if (e === 'deflate') return () => zlib.createInflate();
  if (e === 'br') return () => zlib.createBrotliDecompress();
  throw Errors.unsupportedMediaType(`HTTP 415 Unsupported Media Type: Content-Encoding ${e} is not supported.`);
}

function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  return contentType.split(';')[0]!.trim().toLowerCase() === 'application/json';
}
