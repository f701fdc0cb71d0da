import { Type } from '@sinclair/typebox';
import type { FamilyDefinition } from './family.ts';

export const CAMERA_ALERT_KINDS = [
  'ebike_in_elevator', 'fire_lane_blocked', 'bin_overflow', 'thrown_object',
  'corridor_clutter', 'smoke_fire', 'illegal_parking', 'mixed_garbage',
] as const;
const AlertKind = Type.Union(CAMERA_ALERT_KINDS.map((k) => Type.Literal(k)));

/** 摄像头 AI camera: the vendor's edge model emits alerts with a confidence and a snapshot. */
export const camera = {
  family: 'camera',
  label: { 'zh-CN': '摄像头', en: 'Camera' },
  messages: {
    'camera.alert': {
      channel: 'event',
      data: Type.Object({
        kind: AlertKind,
        confidence: Type.Number({ minimum: 0, maximum: 1 }),
        snapshotUrl: Type.Optional(Type.String({ format: 'uri', maxLength: 1024 })),
        trackId: Type.Optional(Type.String({ maxLength: 64 })),
      }),
    },
    /** The vendor model says the alerted condition is no longer seen ("event disappeared"). */
    'camera.alert_cleared': { channel: 'event', data: Type.Object({ kind: AlertKind, trackId: Type.Optional(Type.String({ maxLength: 64 })) }) },
    'camera.heartbeat': { channel: 'telemetry', data: Type.Object({ fps: Type.Optional(Type.Number({ minimum: 0, maximum: 240 })) }) },
    'camera.status': { channel: 'status', data: Type.Object({ online: Type.Boolean(), firmware: Type.Optional(Type.String({ maxLength: 32 })) }) },
  },
  metrics: [],
} as const satisfies FamilyDefinition;
