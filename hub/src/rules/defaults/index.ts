import type { Family, Rule } from '@shaobing/schemas';
import { BIN_RULES } from './bin.ts';
import { CAMERA_RULES } from './camera.ts';
import { CHARGER_RULES } from './charger.ts';
import { DOOR_RULES } from './door.ts';

export { BIN_RULES, CAMERA_RULES, CHARGER_RULES, DOOR_RULES };

/** Default rules per family (DESIGN §5); a new family adds its module here. */
export const DEFAULT_RULES_BY_FAMILY: Readonly<Record<Family, readonly Rule[]>> = {
  door: DOOR_RULES, camera: CAMERA_RULES, bin: BIN_RULES, charger: CHARGER_RULES,
};

/** Every default rule, the base that RULES_FILE overrides by id. */
export const DEFAULT_RULES: readonly Rule[] = [...DOOR_RULES, ...CAMERA_RULES, ...BIN_RULES, ...CHARGER_RULES];
