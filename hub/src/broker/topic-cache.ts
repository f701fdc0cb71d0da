import { parseTopic, type ParsedTopic } from '@shaobing/schemas';

/** Distinct topics remembered; a client publishing to ever-new topics only empties the cache. */
const MAX_TOPICS = 50_000;
const cache = new Map<string, ParsedTopic | null>();

/**
 * parseTopic, remembered per topic string: each device publishes to the same few topics over
 * and over, and a lookup is cheaper than splitting and checking the levels every time.
 * Results are frozen-by-convention values (callers never mutate a ParsedTopic).
 */
export function parseTopicCached(topic: string): ParsedTopic | null {
  let parsed = cache.get(topic);
  if (parsed === undefined) {
    if (cache.size >= MAX_TOPICS) cache.clear();
    parsed = parseTopic(topic);
    cache.set(topic, parsed);
  }
  return parsed;
}
