import { bin } from './bin.ts';
import { camera } from './camera.ts';
import { charger } from './charger.ts';
import { door } from './door.ts';

export { bin, camera, charger, door };
export { CAMERA_ALERT_KINDS } from './camera.ts';
export type { FamilyDefinition } from './family.ts';

/** Adding a family = one new module here plus its entry in FAMILIES (common.ts). */
export const FAMILY_DEFINITIONS = { door, camera, bin, charger } as const;
