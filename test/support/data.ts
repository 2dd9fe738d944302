/** The sample traffic in ../shared/data (one JSON value per line), and its expected Kafka bytes. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'lossless-json';

const here = path.dirname(fileURLToPath(import.meta.url));
export const dataDir = process.env.SHARED_DATA_DIR ?? path.resolve(here, '../../../shared/data');

/** Raw lines of a sample file. */
export function sampleLines(file: string): string[] {
  return readFileSync(path.join(dataDir, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

/** Compact JSON of a JSON text, with every number kept exactly as written. */
export function compact(jsonText: string): string {
  return stringify(parse(jsonText)) as string;
}

/** Compact JSON text of one field of a sample line (e.g. its "value"), numbers kept exactly. */
export function compactField(line: string, field: string): string {
  const obj = parse(line) as Record<string, unknown>;
  return stringify(obj[field]) as string;
}
