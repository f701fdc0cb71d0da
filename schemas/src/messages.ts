import { Type, type Static, type TObject } from '@sinclair/typebox';
import { Id, MessageId, Timestamp, type Channel, type Family } from './common.ts';
import { FAMILY_DEFINITIONS } from './families/index.ts';

/** Every message type of every family, keyed by its `type` string ("family.event"). */
export const MESSAGE_TYPES = {
  ...FAMILY_DEFINITIONS.door.messages,
  ...FAMILY_DEFINITIONS.camera.messages,
  ...FAMILY_DEFINITIONS.bin.messages,
  ...FAMILY_DEFINITIONS.charger.messages,
} as const;

export type MessageType = keyof typeof MESSAGE_TYPES;
export type MessageData<T extends MessageType> = Static<(typeof MESSAGE_TYPES)[T]['data']>;

export function isMessageType(type: string): type is MessageType {
  return Object.prototype.hasOwnProperty.call(MESSAGE_TYPES, type);
}
export function familyOfType(type: MessageType): Family {
  return type.slice(0, type.indexOf('.')) as Family;
}
export function channelOfType(type: MessageType): Channel {
  return MESSAGE_TYPES[type].channel;
}

/** The envelope every device message travels in (contract, v1). */
export const Envelope = Type.Object({
  id: MessageId,
  ts: Timestamp,
  type: Type.String({ pattern: '^[a-z]+\\.[a-z_]+$', maxLength: 64 }),
  data: Type.Object({}, { additionalProperties: true }),
}, { additionalProperties: false, $id: 'Envelope' });
export type Envelope = Static<typeof Envelope>;

/** Item of a gateway batch: an envelope plus the device it speaks for. */
export const BatchItem = Type.Object({
  deviceId: Id,
  id: MessageId,
  ts: Timestamp,
  type: Envelope.properties.type,
  data: Envelope.properties.data,
}, { additionalProperties: false });
export type BatchItem = Static<typeof BatchItem>;

/** A fully typed device message, discriminated by `type`. */
export type DeviceMessage = {
  [T in MessageType]: { id: string | number; ts: string | number; type: T; data: MessageData<T> };
}[MessageType];

/** Envelope schema with `type` fixed, for the vendor-facing JSON Schema export. */
export function typedEnvelope(type: MessageType): TObject {
  return Type.Object({
    id: MessageId,
    ts: Timestamp,
    type: Type.Literal(type),
    data: MESSAGE_TYPES[type].data,
  }, { additionalProperties: false, title: type });
}

/** Hard bound on one MQTT payload (a batch included); larger ones are rejected `too_large`. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;
/** Hard bound on the number of messages in one batch. */
export const MAX_BATCH_ITEMS = 500;
