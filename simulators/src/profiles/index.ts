import type { Family } from '@shaobing/schemas';
import { binProfile } from './bin.ts';
import { cameraProfile } from './camera.ts';
import { chargerProfile } from './charger.ts';
import { doorProfile } from './door.ts';
import type { Profile } from './types.ts';

export type { DeviceModel, Emit, Profile } from './types.ts';

/** One simulator profile per device family (a new family adds one module here). */
export const PROFILES: Record<Family, Profile> = {
  door: doorProfile,
  camera: cameraProfile,
  bin: binProfile,
  charger: chargerProfile,
};
