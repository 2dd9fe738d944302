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

export interface TopicPattern {
  test(topic: string): boolean;
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
  return { test: (topic) => re.matches(topic) };
}
