import { Type } from '@sinclair/typebox';
import { Celsius, Percent } from '../common.ts';
import type { FamilyDefinition } from './family.ts';

/** 垃圾桶 garbage-bin fill sensor (ultrasonic level, temperature, tilt). */
export const bin = {
  family: 'bin',
  label: { 'zh-CN': '垃圾桶', en: 'Garbage bin' },
  messages: {
    'bin.telemetry': {
      channel: 'telemetry',
      data: Type.Object({
        fillPct: Percent,
        temperatureC: Type.Optional(Celsius),
        tiltDeg: Type.Optional(Type.Number({ minimum: 0, maximum: 180 })),
        batteryPct: Type.Optional(Percent),
      }),
    },
    'bin.emptied': { channel: 'event', data: Type.Object({}) },
    'bin.status': { channel: 'status', data: Type.Object({ online: Type.Boolean(), firmware: Type.Optional(Type.String({ maxLength: 32 })) }) },
  },
  metrics: [
    { type: 'bin.telemetry', field: 'fillPct', metric: 'fill_pct', unit: '%' },
    { type: 'bin.telemetry', field: 'temperatureC', metric: 'temperature_c', unit: '°C' },
    { type: 'bin.telemetry', field: 'tiltDeg', metric: 'tilt_deg', unit: '°' },
  ],
} as const satisfies FamilyDefinition;
