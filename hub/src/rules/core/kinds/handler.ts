import type { IngestedEvent } from '../../../events.ts';
import type { CompiledRule } from '../compiled.ts';
import type { Sink } from '../emit.ts';
import type { DeviceContext, Slot } from '../types.ts';

/**
 * One module per rule kind. `t` is the event's effective time: its device timestamp, capped at
 * `now` (a device clock running ahead must not push durations into the future).
 */
export interface KindHandler<C extends CompiledRule> {
  onEvent(c: C, slot: Slot, ev: IngestedEvent, t: number, dev: DeviceContext, now: number, x: Sink): void;
  /** A tick reached the time recorded in `slot.due[sk]`. */
  onDue?(c: C, slot: Slot, sk: string, now: number, x: Sink): void;
  /**
   * A tick visits every registered device of the rule's family (absence, offline). Returns when
   * this subject comes due next (undefined: not while its episode is open): the slot's `next`.
   */
  scan?(c: C, slot: Slot, dev: DeviceContext, now: number, x: Sink): number | undefined;
}
