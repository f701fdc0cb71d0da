import { DEFAULT_REVIEW_BELOW } from '@shaobing/schemas';
import type { Category, Evidence, Site, Ticket } from '@shaobing/schemas';

/**
 * 人工核准 (DESIGN §6): an AI alert whose model is unsure waits for a control-room operator
 * instead of dispatching blindly. The alert's confidence is on its evidence (the event's scalar
 * fields, rules/core describeEvent); evidence without one (a bin's fill level, a door) never waits.
 */
export function alertConfidence(e: Evidence): number | undefined {
  const c = e.detail?.fields?.confidence;
  return typeof c === 'number' && Number.isFinite(c) ? c : undefined;
}

/** The site's bar for a category: byCategory, else the site's `below`, else DESIGN §5's 0.8. */
export function reviewBelowFor(site: Pick<Site, 'aiReview'> | undefined, category: Category): number {
  const r = site?.aiReview;
  return r?.byCategory?.[category] ?? r?.below ?? DEFAULT_REVIEW_BELOW;
}

/** The review this evidence calls for (confidence under the bar), or null: dispatch as usual. */
export function reviewOf(e: Evidence, below: number): Ticket['review'] | null {
  const confidence = alertConfidence(e);
  return confidence !== undefined && confidence < below ? { confidence, below } : null;
}
