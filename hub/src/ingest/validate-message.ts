import {
  BatchItem, Envelope, MAX_BATCH_ITEMS, MESSAGE_TYPES, Validator, channelOfType, familyOfType, formatIssues, isMessageType, parseIsoTimestamp,
  type Channel, type Family, type MessageType,
} from '@shaobing/schemas';
import { reject, type Rejection } from './reject.ts';
import { unstorableTextPath } from './storable-text.ts';

const envelope = new Validator(Envelope);
const batchItem = new Validator(BatchItem);
const dataValidators = new Map(Object.entries(MESSAGE_TYPES).map(([type, def]) => [type, new Validator(def.data)]));

/** A message that passed the contract; not yet matched against the device registry. */
export interface ValidMessage {
  deviceId: string;
  type: MessageType;
  family: Family;
  channel: Channel;
  msgId: string;
  ts: number;
  data: Record<string, unknown>;
}

/** Where a message came from decides what it may be: a device topic fixes family and channel. */
export type Expect = { deviceId: string; family: Family; channel: Channel } | { deviceId?: undefined };

const MAX_FUTURE_MS = 24 * 3600_000;
/** Older data is refused: a gateway replaying its buffer after an outage fits, a broken clock does not. */
export const MAX_AGE_MS = 30 * 24 * 3600_000;

/**
 * Checks one envelope (or gateway batch item) against the v1 contract. `escaped: false` (the
 * payload's text held no `\u` escape, see parsePayload) skips the walk for NUL and lone
 * surrogates: from UTF-8 checked text, JSON.parse can only make those out of `\u` escapes.
 */
export function validateMessage(item: unknown, expect: Expect, now: number, escaped = true): ValidMessage | Rejection {
  const shape = expect.deviceId === undefined ? batchItem.validate(item) : envelope.validate(item);
  if (!shape.ok) return reject('schema', `envelope: ${formatIssues(shape.issues)}`, expect.deviceId);
  const msg = shape.value as Envelope & { deviceId?: string };
  const deviceId = expect.deviceId ?? msg.deviceId!;
  if (!isMessageType(msg.type)) return reject('schema', `/type: unknown message type "${msg.type}"`, deviceId);
  const family = familyOfType(msg.type);
  const channel = channelOfType(msg.type);
  if (expect.deviceId !== undefined && (family !== expect.family || channel !== expect.channel)) {
    return reject('schema', `/type: "${msg.type}" does not belong on a ${expect.family}/${expect.channel} topic`, deviceId);
  }
  const data = dataValidators.get(msg.type)!.validate(msg.data);
  if (!data.ok) return reject('schema', `data: ${formatIssues(data.issues)}`, deviceId);
  const badText = escaped ? unstorableTextPath(msg.data, '/data') ?? unstorableTextPath(msg.id, '/id') : null;
  if (badText) return reject('schema', `${badText}: NUL character or invalid Unicode is not allowed`, deviceId);
  const ts = typeof msg.ts === 'number' ? msg.ts : parseIsoTimestamp(msg.ts);
  if (ts === null) return reject('schema', `/ts: not a real ISO-8601 time`, deviceId);
  if (ts > now + MAX_FUTURE_MS) return reject('schema', `/ts: more than 24 h in the future (device clock?)`, deviceId);
  if (ts < now - MAX_AGE_MS) return reject('schema', `/ts: more than 30 days old (device clock?)`, deviceId);
  return { deviceId, type: msg.type, family, channel, msgId: String(msg.id), ts, data: msg.data };
}

/** No message of the contract nests deeper than a few levels; recursion over deeper input could exhaust the stack. */
export const MAX_JSON_DEPTH = 32;

/**
 * True when `v` nests arrays/objects deeper than `limit` (the top value is level 1). Walks the
 * parsed value, not the text: V8's JSON.parse is iterative, so any depth parses safely, and a
 * typical envelope has a dozen nodes against hundreds of bytes. The walk stops descending past
 * `limit`, so its own recursion is bounded whatever the input.
 */
export function nestedDeeperThan(v: unknown, limit = MAX_JSON_DEPTH, level = 1): boolean {
  if (typeof v !== 'object' || v === null) return false;
  if (level > limit) return true;
  if (Array.isArray(v)) {
    for (const x of v) if (nestedDeeperThan(x, limit, level + 1)) return true;
  } else {
    for (const k in v) if (nestedDeeperThan((v as Record<string, unknown>)[k], limit, level + 1)) return true;
  }
  return false;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Parses a payload into the list of items it carries: one envelope, or a JSON array (batch).
 * `escaped`: the text holds a `\u` escape (one native scan), the only way a string of it can
 * carry U+0000 or a lone surrogate, which the store cannot hold (validateMessage checks then).
 */
export function parsePayload(payload: Buffer): { items: unknown[]; batch: boolean; escaped: boolean } | Rejection {
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    // Buffer#toString would turn bad bytes into U+FFFD and the message would be stored altered.
    return reject('schema', 'payload is not valid UTF-8');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return reject('bad_json', (err as Error).message.slice(0, 200));
  }
  if (nestedDeeperThan(doc)) return reject('schema', `JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  if (Array.isArray(doc)) {
    if (doc.length === 0) return reject('schema', 'empty batch');
    if (doc.length > MAX_BATCH_ITEMS) return reject('too_large', `batch of ${doc.length} items (max ${MAX_BATCH_ITEMS})`);
    return { items: doc, batch: true, escaped: text.includes('\\u') };
  }
  return { items: [doc], batch: false, escaped: text.includes('\\u') };
}

export function isRejection(x: object): x is Rejection {
  return 'reason' in x;
}
