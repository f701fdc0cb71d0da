import { Type, type Static } from '@sinclair/typebox';

/** Safe identifier: usable as an MQTT topic level (no '/', '+', '#') and in URLs. */
export const Id = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$', description: 'identifier: letters, digits, _ . - (max 64)' });

export const FAMILIES = ['door', 'camera', 'bin', 'charger'] as const;
export const Family = Type.Union(FAMILIES.map((f) => Type.Literal(f)));
export type Family = Static<typeof Family>;

export const CHANNELS = ['event', 'telemetry', 'status'] as const;
export const Channel = Type.Union(CHANNELS.map((c) => Type.Literal(c)));
export type Channel = Static<typeof Channel>;

/** ISO-8601 string or epoch milliseconds. */
export const Timestamp = Type.Union([
  Type.String({ format: 'date-time', description: 'ISO-8601 with zone' }),
  Type.Integer({ minimum: 946684800000, maximum: 4102444800000, description: 'epoch milliseconds' }),
]);

export const MessageId = Type.Union([
  Type.String({ minLength: 1, maxLength: 128 }),
  Type.Integer({ minimum: 0 }),
], { description: 'unique per device; a redelivery with the same id is stored once' });

export const Port = Type.Integer({ minimum: 1, maximum: 64, description: 'charging port number on the post' });
export const Percent = Type.Number({ minimum: 0, maximum: 100 });
export const Celsius = Type.Number({ minimum: -60, maximum: 400 });
