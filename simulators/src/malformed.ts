/*
 * Bad and hostile messages, each labelled with the rejection the MQTT contract (DESIGN §4)
 * says the hub must give it — or 'accepted' for hostile-but-valid strings that the hub must
 * store verbatim and render escaped (SQL, HTML, emoji, control characters); NUL is refused.
 */
import { MAX_PAYLOAD_BYTES, deviceTopic, gatewayBatchTopic, type Device, type Family } from '@shaobing/schemas';
import type { Rng } from './random.ts';

export type RejectReason = 'bad_json' | 'schema' | 'unknown_device' | 'too_large' | 'forbidden_topic' | 'rate_limited';
export type Sender = { kind: 'device'; siteId: string; device: Device } | { kind: 'gateway'; siteId: string; gatewayId: string; device: Device };

export interface RawMessage {
  kind: MalformedKind;
  /** Who publishes it: a device with its own credentials, or a gateway. */
  via: { kind: 'device' | 'gateway'; id: string };
  topic: string;
  payload: string | Buffer;
  expect: RejectReason | 'accepted';
}

const HOSTILE = {
  sql: "'; DROP TABLE events; --",
  html: '<img src=x onerror=alert(1)>',
  emoji: '🔥门禁💥⚠️',
  control: '\u0007\u001b[31mred\u202e',
  /** PostgreSQL text cannot hold U+0000: the hub refuses it (`schema`) instead of storing it. */
  nul: 'a\u0000b',
} as const;

/** A message of the sender's family that violates its payload schema. */
const OUT_OF_RANGE: Record<Family, { type: string; data: Record<string, unknown> }> = {
  door: { type: 'door.heartbeat', data: { rssiDbm: 50 } },
  camera: { type: 'camera.alert', data: { kind: 'ebike_in_elevator', confidence: 1.7 } },
  bin: { type: 'bin.telemetry', data: { fillPct: 150, temperatureC: 24 } },
  charger: { type: 'charger.telemetry', data: { port: 0, powerW: 200, temperatureC: 30, plugged: true } },
};
/** A valid message of each family carrying hostile strings where its schema allows strings. */
const HOSTILE_VALID: Record<Family, (s: string) => { type: string; data: Record<string, unknown> }> = {
  door: (s) => ({ type: 'door.access_granted', data: { credential: 'card', subjectRef: s } }),
  camera: (s) => ({ type: 'camera.alert', data: { kind: 'corridor_clutter', confidence: 0.55, trackId: s } }),
  bin: () => ({ type: 'bin.telemetry', data: { fillPct: 10 } }), // no string field: the id carries it
  charger: (s) => ({ type: 'charger.fault', data: { code: 'E99', message: s } }),
};

export const MALFORMED_KINDS = [
  'truncated-json', 'not-json', 'invalid-utf8', 'empty-payload', 'missing-id', 'extra-field', 'bad-timestamp',
  'wrong-family-type', 'unknown-type', 'out-of-range', 'wrong-channel', 'unknown-device', 'oversized',
  'batch-not-array', 'batch-bad-item', 'control-char-id',
  'hostile-sql', 'hostile-html', 'hostile-emoji', 'hostile-control', 'hostile-nul',
  // Last: the hub closes the connection on these, the sender has to reconnect.
  'foreign-topic', 'foreign-site',
] as const;
export type MalformedKind = (typeof MALFORMED_KINDS)[number];

/** Kinds that need a gateway sender (batches) or a device sender (own topic). */
const GATEWAY_ONLY = new Set<MalformedKind>(['unknown-device', 'batch-not-array', 'batch-bad-item', 'control-char-id']);
const DEVICE_ONLY = new Set<MalformedKind>(['foreign-topic', 'wrong-channel']);
export function kindFitsSender(kind: MalformedKind, sender: Sender['kind']): boolean {
  return sender === 'gateway' ? !DEVICE_ONLY.has(kind) : !GATEWAY_ONLY.has(kind);
}

/**
 * Relative frequency when malformed traffic is mixed into the normal stream. Oversized and
 * forbidden-topic ones are rare: the first costs 256 KiB each, the second makes the hub close
 * the connection (MQTT 3.1.1 has no negative PUBACK).
 */
export const MIXED_WEIGHTS: ReadonlyArray<readonly [MalformedKind, number]> = MALFORMED_KINDS.map((k) => [k, k === 'oversized' ? 0.2 : k === 'foreign-topic' || k === 'foreign-site' ? 0.3 : 1] as const);

export function malformedMessage(kind: MalformedKind, sender: Sender, otherDevice: Device, id: string, rng: Rng): RawMessage {
  const { siteId, device } = sender;
  const ts = new Date().toISOString();
  const viaGw = sender.kind === 'gateway';
  const via = viaGw ? { kind: 'gateway' as const, id: sender.gatewayId } : { kind: 'device' as const, id: device.id };
  const ownTopic = (channel: 'event' | 'telemetry' | 'status' = 'event'): string =>
    viaGw ? gatewayBatchTopic(siteId, sender.gatewayId) : deviceTopic(siteId, device.family, device.id, channel);
  // A gateway wraps the same thing in a one-item batch, so every kind exercises both paths.
  const wrap = (msg: Record<string, unknown>, deviceId = device.id): string =>
    JSON.stringify(viaGw ? [{ deviceId, ...msg }] : msg);
  const out = (topic: string, payload: string | Buffer, expect: RawMessage['expect']): RawMessage => ({ kind, via, topic, payload, expect });
  const telemetryType = OUT_OF_RANGE[device.family];
  const valid = HOSTILE_VALID[device.family];

  switch (kind) {
    case 'truncated-json': return out(ownTopic(), `{"id":"${id}","ts":"${ts}","type":"${device.family}.`, 'bad_json');
    case 'not-json': return out(ownTopic(), 'online=1;temp=23.5 <b>not json</b>', 'bad_json');
    // Not UTF-8 at all: refused as `schema` (fatal decoding), never stored with U+FFFD.
    case 'invalid-utf8': return out(ownTopic(), Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]), 'schema');
    case 'empty-payload': return out(ownTopic(), '', 'bad_json');
    case 'missing-id': return out(ownTopic(), wrap({ ts, type: valid('x').type, data: valid('x').data }), 'schema');
    case 'extra-field': return out(ownTopic(), JSON.stringify(viaGw ? [{ deviceId: device.id, id, ts, ...valid('x'), extra: true }] : { id, ts, ...valid('x'), extra: true }), 'schema');
    case 'bad-timestamp': return out(ownTopic(), wrap({ id, ts: 'yesterday at noon', ...valid('x') }), 'schema');
    case 'wrong-family-type': {
      const other = device.family === 'bin' ? OUT_OF_RANGE.door.type : 'bin.telemetry';
      return out(ownTopic(), wrap({ id, ts, type: other, data: { fillPct: 50 } }), 'schema');
    }
    case 'unknown-type': return out(ownTopic(), wrap({ id, ts, type: `${device.family}.self_destruct`, data: {} }), 'schema');
    case 'out-of-range': return out(ownTopic('telemetry'), wrap({ id, ts, ...telemetryType }), 'schema');
    // A telemetry-channel message on the event topic (and vice versa) breaks the topic contract.
    case 'wrong-channel': return out(ownTopic('event'), JSON.stringify({ id, ts, type: `${device.family}.status`, data: { online: true } }), 'schema');
    case 'unknown-device': return out(ownTopic(), wrap({ id, ts, ...valid('x') }, `ghost-${rng.hex(6)}`), 'unknown_device');
    case 'oversized': {
      const filler = 'x'.repeat(MAX_PAYLOAD_BYTES + 1024);
      return out(ownTopic(), wrap({ id, ts, type: `${device.family}.status`, data: { online: true, firmware: filler } }), 'too_large');
    }
    // Publishing as a neighbour: the credentials do not cover that topic.
    case 'foreign-topic': return out(deviceTopic(siteId, otherDevice.family, otherDevice.id, 'event'), JSON.stringify({ id, ts, ...HOSTILE_VALID[otherDevice.family]('spoof') }), 'forbidden_topic');
    case 'foreign-site': {
      const site = `${siteId}-other`;
      const topic = viaGw ? gatewayBatchTopic(site, sender.gatewayId) : deviceTopic(site, device.family, device.id, 'event');
      return out(topic, wrap({ id, ts, ...valid('x') }), 'forbidden_topic');
    }
    case 'batch-not-array': return out(ownTopic(), JSON.stringify({ deviceId: device.id, id, ts, ...valid('x') }), 'schema');
    // One bad item among good ones: the good ones must still be stored.
    case 'batch-bad-item': return out(ownTopic(), JSON.stringify([
      { deviceId: device.id, id: `${id}-a`, ts, ...valid('ok') },
      { deviceId: device.id, id: `${id}-b`, ts, ...telemetryType },
    ]), 'schema');
    case 'control-char-id': return out(ownTopic(), JSON.stringify([{ deviceId: `${device.id}\u0000`, id, ts, ...valid('x') }]), 'schema');
    case 'hostile-sql': return out(ownTopic(), wrap({ id: `${id}${HOSTILE.sql}`, ts, ...valid(HOSTILE.sql) }), 'accepted');
    case 'hostile-html': return out(ownTopic(), wrap({ id: `${id}<script>alert(1)</script>`, ts, ...valid(HOSTILE.html) }), 'accepted');
    case 'hostile-emoji': return out(ownTopic(), wrap({ id: `${id}🔥`, ts, ...valid(HOSTILE.emoji) }), 'accepted');
    case 'hostile-control': return out(ownTopic(), wrap({ id: `${id}${HOSTILE.control}`, ts, ...valid(HOSTILE.control) }), 'accepted');
    case 'hostile-nul': return out(ownTopic(), wrap({ id: `${id}${HOSTILE.nul}`, ts, ...valid(HOSTILE.nul) }), 'schema');
  }
}

/** True if any string in a (parsed) value carries one of the hostile samples (used by tests). */
export function isHostile(value: unknown): boolean {
  if (typeof value === 'string') return Object.values(HOSTILE).some((h) => value.includes(h)) || value.includes('<script>') || value.includes('🔥');
  if (value && typeof value === 'object') return Object.values(value).some(isHostile);
  return false;
}
