/**
 * Splits a byte stream of concatenated JSON objects (`{…}{…}` or one per line) into the text of
 * each object, without ever holding more than the object being read. A tokenizer that tracks
 * brace depth, strings and escapes; JSON's structural characters are ASCII, so scanning UTF-8
 * bytes is exact and multi-byte characters split across chunks are joined before decoding.
 *
 * Only objects may stand at the top level (whitespace between them is skipped, up to
 * `maxGapBytes` in a row: a stream of nothing but spaces, maybe inflated from a tiny gzip body,
 * would otherwise burn CPU unbounded and unseen); anything else, a longer run of whitespace, or an
 * object larger than `maxObjectBytes`, is a framing error: the stream cannot be read on from
 * there, so the caller reports it and stops.
 */
export class FramingError extends Error {}

const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Whitespace allowed between two records (64 KiB). */
export const MAX_GAP_BYTES = 64 * 1024;

export class JsonObjectSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Whitespace bytes skipped since the last object ended. */
  private gap = 0;

  constructor(
    private readonly maxObjectBytes: number,
    private readonly maxGapBytes = MAX_GAP_BYTES,
  ) {}

  /** Bytes of the object being read, held until it ends. */
  get buffered(): number {
    return this.size;
  }

  /** Whether an object has started and not ended (EOF now would cut it). */
  get midObject(): boolean {
    return this.depth > 0;
  }

  /**
   * The complete objects this chunk ends, in order, and the framing error that stopped it (the
   * objects before the bad byte are still returned; nothing after it is read).
   */
  push(chunk: Buffer): { texts: string[]; error?: FramingError } {
    const out: string[] = [];
    try {
      this.scan(chunk, out);
    } catch (err) {
      if (err instanceof FramingError) return { texts: out, error: err };
      throw err;
    }
    return { texts: out };
  }

  private scan(chunk: Buffer, out: string[]): void {
    let start = this.depth > 0 ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (this.depth === 0) {
        if (c === OPEN) {
          this.depth = 1;
          this.gap = 0;
          start = i;
          continue;
        }
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
          if (++this.gap > this.maxGapBytes)
            throw new FramingError(
              `Error processing JSON: more than ${this.maxGapBytes} bytes of whitespace between records.`,
            );
          continue;
        }
        throw new FramingError(
          `Error processing JSON: expected '{' to start a record, found ${JSON.stringify(String.fromCharCode(c))}.`,
        );
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) this.inString = false;
        continue;
      }
      if (c === QUOTE) this.inString = true;
      else if (c === OPEN || c === OPEN_ARRAY) this.depth++;
      else if (c === CLOSE || c === CLOSE_ARRAY) {
        this.depth--;
        if (this.depth === 0) {
          const piece = chunk.subarray(start, i + 1);
          this.checkSize(piece.length);
          out.push(this.take(piece));
          start = -1;
        }
      }
    }
    if (this.depth > 0 && start >= 0) {
      const rest = chunk.subarray(start);
      this.checkSize(rest.length);
      // A copy: the caller's chunk buffer may be reused.
      this.parts.push(Buffer.from(rest));
      this.size += rest.length;
    }
  }

  private checkSize(extra: number): void {
    if (this.maxObjectBytes > 0 && this.size + extra > this.maxObjectBytes)
      throw new FramingError(
        `Produce request size is larger than allowed threshold: a record exceeds ${this.maxObjectBytes} bytes.`,
      );
  }

  private take(last: Buffer): string {
    const text =
      this.parts.length === 0 ? last.toString('utf8') : Buffer.concat([...this.parts, last]).toString('utf8');
    this.parts = [];
    this.size = 0;
    return text;
  }
}
