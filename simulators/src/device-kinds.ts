/*
 * Sub-kinds of devices that the schemas do not model but behaviour depends on (a lift camera
 * sees e-bikes, a fire-lane camera sees parked cars). The builder encodes them in the device id
 * (`cam-c01-y02-lift-b03-u1`, `bin-c01-y02-p1-kitchen`) so a site file alone is enough to
 * simulate it, and ids stay readable in the control room.
 */
import type { Device } from '@shaobing/schemas';

export const CAMERA_PLACEMENTS = ['lift', 'gate', 'lane', 'binpt', 'facade'] as const;
export type CameraPlacement = (typeof CAMERA_PLACEMENTS)[number];

/** Beijing's four garbage classes (厨余/其他/可回收/有害). */
export const BIN_KINDS = ['kitchen', 'other', 'recyclable', 'hazardous'] as const;
export type BinKind = (typeof BIN_KINDS)[number];

export const BIN_KIND_ZH: Record<BinKind, string> = {
  kitchen: '厨余垃圾桶', other: '其他垃圾桶', recyclable: '可回收物桶', hazardous: '有害垃圾桶',
};

export function cameraPlacement(device: Pick<Device, 'id'>): CameraPlacement {
  for (const p of CAMERA_PLACEMENTS) if (device.id.includes(`-${p}-`) || device.id.endsWith(`-${p}`)) return p;
  return 'gate';
}

export function binKind(device: Pick<Device, 'id'>): BinKind {
  for (const k of BIN_KINDS) if (device.id.endsWith(`-${k}`)) return k;
  return 'other';
}
