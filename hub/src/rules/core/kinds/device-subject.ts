import type { CompiledRule } from '../compiled.ts';
import { keyParts } from '../emit.ts';
import type { DeviceContext, Slot, Subject } from '../types.ts';

/** A device's subject of a rule (the device plus the rule's key fields), as an event reaches it. */
export interface DeviceSubject { parts: string; sk: string; s: Subject }

/**
 * The subject `data` speaks of, created on first sight; null when the event is late (older
 * than the newest one already applied to it, e.g. a closed that arrived before its opened):
 * the present is known, so a late event changes nothing.
 */
export function deviceSubject(c: CompiledRule, slot: Slot, dev: DeviceContext, data: Record<string, unknown>, t: number): DeviceSubject | null {
  const parts = keyParts(c, data);
  const sk = dev.deviceId + parts;
  const s = slot.s[sk] ?? (slot.s[sk] = {});
  return s.last !== undefined && t < s.last ? null : { parts, sk, s };
}
