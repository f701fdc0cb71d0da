/*
 * A reference reading of the MQTT contract (DESIGN §4) for tests: what the hub must accept
 * and the reason code it must give otherwise. Independent of the hub's implementation.
 */
import {
  BatchItem, Envelope, MAX_BATCH_ITEMS, MAX_PAYLOAD_BYTES, MESSAGE_TYPES, Validator,
  channelOfType, familyOfType, isMessageType, parseTopic, type Site,
} from '@shaobing/schemas';
import type { RejectReason } from '../../src/malformed.ts';

export interface Accepted { deviceId: string; id: string | number; type: string; data: Record<string, unknown> }
export type Verdict = { ok: true; messages: Accepted[] } | { ok: false; reason: RejectReason; accepted: Accepted[] };

const envelope = new Validator(Envelope);
const batchItem = new Validator(BatchItem);
const dataValidators = new Map<string, Validator<(typeof MESSAGE_TYPES)[keyof typeof MESSAGE_TYPES]['data']>>();
function dataValidator(type: keyof typeof MESSAGE_TYPES): Validator<(typeof MESSAGE_TYPES)[keyof typeof MESSAGE_TYPES]['data']> {
  let v = dataValidators.get(type);
  if (!v) { v = new Validator(MESSAGE_TYPES[type].data); dataValidators.set(type, v); }
  return v;
}

const deviceIndex = new WeakMap<Site, Map<string, Site['devices'][number]>>();
function findDevice(site: Site, id: string): Site['devices'][number] | undefined {
  let index = deviceIndex.get(site);
  if (!index) { index = new Map(site.devices.map((d) => [d.id, d])); deviceIndex.set(site, index); }
  return index.get(id);
}

/** Checks one message of a device: envelope, type of the device's family and channel, payload. */
function checkMessage(site: Site, deviceId: string, channel: string | null, msg: { type: string; data: unknown }): RejectReason | null {
  const device = findDevice(site, deviceId);
  if (!device) return 'unknown_device';
  if (!isMessageType(msg.type) || familyOfType(msg.type) !== device.family) return 'schema';
  if (channel !== null && channelOfType(msg.type) !== channel) return 'schema';
  // The contract refuses U+0000 anywhere (PostgreSQL text cannot hold it).
  if (JSON.stringify(msg).includes('\\u0000')) return 'schema';
  return dataValidator(msg.type).is(msg.data) ? null : 'schema';
}

export function checkPublish(site: Site, sender: { kind: 'device' | 'gateway'; id: string }, topic: string, payload: Buffer | string): Verdict {
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const fail = (reason: RejectReason, accepted: Accepted[] = []): Verdict => ({ ok: false, reason, accepted });
  if (bytes.length > MAX_PAYLOAD_BYTES) return fail('too_large');
  const t = parseTopic(topic);
  if (!t || t.siteId !== site.id) return fail('forbidden_topic');
  if (sender.kind === 'device' && (t.kind !== 'device' || t.deviceId !== sender.id)) return fail('forbidden_topic');
  if (sender.kind === 'gateway' && t.kind === 'gateway' && t.gatewayId !== sender.id) return fail('forbidden_topic');
  // The hub's order: bytes that are not UTF-8 are `schema` (strings the contract cannot hold),
  // text that does not parse is `bad_json`.
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return fail('schema');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return fail('bad_json');
  }
  if (t.kind === 'device') {
    if (!envelope.is(doc)) return findDevice(site, t.deviceId) ? fail('schema') : fail('unknown_device');
    const reason = checkMessage(site, t.deviceId, t.channel, doc);
    return reason ? fail(reason) : { ok: true, messages: [{ deviceId: t.deviceId, id: doc.id, type: doc.type, data: doc.data }] };
  }
  if (!Array.isArray(doc) || doc.length > MAX_BATCH_ITEMS) return fail('schema');
  const accepted: Accepted[] = [];
  let first: RejectReason | null = null;
  for (const item of doc) {
    const reason = batchItem.is(item) ? checkMessage(site, item.deviceId, null, item) : 'schema';
    if (reason) first ??= reason;
    else accepted.push({ deviceId: item.deviceId, id: item.id, type: item.type, data: item.data });
  }
  return first ? fail(first, accepted) : { ok: true, messages: accepted };
}
