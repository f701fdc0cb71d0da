import { Type } from '@sinclair/typebox';
import { Percent } from '../common.ts';
import type { FamilyDefinition } from './family.ts';

const Credential = Type.Union(['card', 'face', 'qr', 'password', 'remote', 'exit_button', 'key'].map((c) => Type.Literal(c)));

/** 门禁 door-access controller of a unit entrance. */
export const door = {
  family: 'door',
  label: { 'zh-CN': '门禁', en: 'Door access' },
  messages: {
    'door.opened': { channel: 'event', data: Type.Object({ door: Type.Optional(Type.String({ maxLength: 32 })), method: Type.Optional(Credential) }) },
    'door.closed': { channel: 'event', data: Type.Object({ door: Type.Optional(Type.String({ maxLength: 32 })) }) },
    'door.access_granted': { channel: 'event', data: Type.Object({ credential: Credential, subjectRef: Type.Optional(Type.String({ maxLength: 64, description: 'pseudonymous resident reference, never a name' })) }) },
    'door.access_denied': { channel: 'event', data: Type.Object({ credential: Credential, reason: Type.Union(['unknown_credential', 'expired', 'blacklisted', 'face_mismatch', 'other'].map((r) => Type.Literal(r))) }) },
    'door.forced': { channel: 'event', data: Type.Object({}) },
    'door.held_open': { channel: 'event', data: Type.Object({ durationS: Type.Number({ minimum: 0, maximum: 86400 }) }) },
    'door.tamper': { channel: 'event', data: Type.Object({}) },
    'door.heartbeat': { channel: 'telemetry', data: Type.Object({ batteryPct: Type.Optional(Percent), rssiDbm: Type.Optional(Type.Number({ minimum: -150, maximum: 0 })) }) },
    'door.status': { channel: 'status', data: Type.Object({ online: Type.Boolean(), firmware: Type.Optional(Type.String({ maxLength: 32 })) }) },
  },
  metrics: [
    { type: 'door.heartbeat', field: 'batteryPct', metric: 'battery_pct', unit: '%' },
  ],
} as const satisfies FamilyDefinition;
