-- 人工核准 (issue 9): an AI alert under the site's confidence bar opens in `pending_review`.
-- It holds its dedup key like a live ticket (repeats merge into it, two hubs cannot open it
-- twice), so the unique index takes DEDUP_TICKET_STATUSES (schemas/src/tickets.ts): keep in step.
-- No SLA clock runs while it waits, so the live-site index (SLA sweep, board) stays as it is.
CREATE UNIQUE INDEX IF NOT EXISTS tickets_live_dedup_review ON tickets (dedup_key)
  WHERE status IN ('open', 'dispatched', 'accepted', 'reopened', 'pending_review') AND dedup_key IS NOT NULL;
DROP INDEX IF EXISTS tickets_live_dedup;
