import type { Family } from '@shaobing/schemas';
import type { CompiledRules } from './compiled.ts';

/**
 * Silence after which a device of `family` at `siteId` counts as offline: the shortest enabled
 * offline rule (RULES_FILE or the family defaults). Presence (the online dot) and the offline
 * tickets read this one number; undefined when the site runs no offline rule for the family.
 */
export function offlineAfterMs(rules: CompiledRules, siteId: string, family: Family): number | undefined {
  const set = rules.sites.get(siteId) ?? rules.base;
  const forMs = (set.offline.get(family) ?? []).map((r) => r.forMs);
  return forMs.length ? Math.min(...forMs) : undefined;
}
