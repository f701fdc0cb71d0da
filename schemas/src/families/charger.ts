import { Type } from '@sinclair/typebox';
import { Celsius, Port } from '../common.ts';
import type { FamilyDefinition } from './family.ts';

/** 充电桩 e-bike charging post; one message per port. Heartbeat every 30 s. */
export const charger = {
  family: 'charger',
  label: { 'zh-CN': '充电桩', en: 'E-bike charger' },
  messages: {
    'charger.telemetry': {
      channel: 'telemetry',
      data: Type.Object({
        port: Port,
        powerW: Type.Number({ minimum: 0, maximum: 10000 }),
        temperatureC: Celsius,
        plugged: Type.Boolean(),
        sessionId: Type.Optional(Type.String({ maxLength: 64 })),
      }),
    },
    'charger.heartbeat': { channel: 'telemetry', data: Type.Object({ portsInUse: Type.Optional(Type.Integer({ minimum: 0, maximum: 64 })) }) },
    'charger.session_start': { channel: 'event', data: Type.Object({ port: Port, sessionId: Type.String({ maxLength: 64 }) }) },
    'charger.session_stop': { channel: 'event', data: Type.Object({ port: Port, sessionId: Type.String({ maxLength: 64 }), energyWh: Type.Optional(Type.Number({ minimum: 0 })) }) },
    'charger.fault': { channel: 'event', data: Type.Object({ port: Type.Optional(Port), code: Type.String({ minLength: 1, maxLength: 32 }), message: Type.Optional(Type.String({ maxLength: 256 })) }) },
    'charger.smoke': { channel: 'event', data: Type.Object({ port: Type.Optional(Port) }) },
    'charger.status': { channel: 'status', data: Type.Object({ online: Type.Boolean(), firmware: Type.Optional(Type.String({ maxLength: 32 })) }) },
  },
  metrics: [
    { type: 'charger.telemetry', field: 'powerW', metric: 'power_w', unit: 'W' },
    { type: 'charger.telemetry', field: 'temperatureC', metric: 'temperature_c', unit: '°C' },
  ],
} as const satisfies FamilyDefinition;
