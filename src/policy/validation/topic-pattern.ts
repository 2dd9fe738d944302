/**
 * `topic_pattern` from a subscribe request, compiled with RE2 (re2js: linear-time matching, no
 * backtracking), so no pattern can stall the event loop however it is written. The syntax is the
 * common subset of Java's regexes that Kafka clients use (classes, groups, alternation, bounded
 * repetition, `(?i)`); back-references and look-around do not exist in RE2 and are refused with
 * a 422 that says so. The whole topic name must match, as with Java's Pattern.matches.
 */
import { RE2JS } from 're2js';
import { Errors } from '../../core/errors.js';

/** Longer than any sensible pattern over 249-character topic names. */
export const MAX_TOPIC_PATTERN_LENGTH = 1_000;
/**
 * RE2's matching time is linear in the name *and* in the compiled program: `(.{0,31}){0,31}`
 * compiles to ~2,000 instructions, 66 copies of it to ~130,000 (seconds per topic name). 500
 * still allows `.{1,249}` and is ten times any pattern seen in practice (`tweets-.*` is 11).
 */
export const MAX_TOPIC_PATTERN_PROGRAM = 500;
/** Topic names matched between two turns of the event loop. */
const CHUNK = 200;

export interface TopicPattern {
  test(topic: string): boolean;
  /** The names that match, matched a chunk at a time so other requests are served meanwhile. */
  filter(topics: string[]): Promise<string[]>;
}

export function compileTopicPattern(source: string): TopicPattern {
  if (source.length > MAX_TOPIC_PATTERN_LENGTH)
    throw Errors.unprocessable(`topic_pattern is longer than ${MAX_TOPIC_PATTERN_LENGTH} characters.`);
  let re: RE2JS;
  try {
    re = RE2JS.compile(source);
  } catch (err) {
    throw Errors.unprocessable(
      `topic_pattern is not a supported regular expression (${(err as Error).message}); ` +
        'back-references and look-around are not supported.',
    );
  }
  if (re.programSize() > MAX_TOPIC_PATTERN_PROGRAM)
    throw Errors.unprocessable(
      `topic_pattern is too complex (${re.programSize()} RE2 instructions; at most ${MAX_TOPIC_PATTERN_PROGRAM}): ` +
        'use fewer or smaller counted repetitions.',
    );
  const test = (topic: string) => re.matches(topic);
  return {
    test,
    filter: async (topics) => {
      const out: string[] = [];
      for (let i = 0; i < topics.length; i += CHUNK) {
        if (i > 0) await new Promise((resolve) => setImmediate(resolve));
        for (const t of topics.slice(i, i + CHUNK)) if (test(t)) out.push(t);
      }
      return out;
    },
  };
}
