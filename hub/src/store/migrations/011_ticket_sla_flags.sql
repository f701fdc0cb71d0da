-- Columns so the periodic jobs never read the jsonb documents of tickets they don't change:
-- the SLA sweep selects the tickets that may be due (tickets/ticket-repo.ts sweepCandidates)
-- by their warning flags and last escalation; the KPIs are computed from columns alone
-- (kpiRows), which needs the latest rating. Like the other columns they are copies of `doc`,
-- written in the same statement.
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS warned_respond boolean NOT NULL DEFAULT false;
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS warned_resolve boolean NOT NULL DEFAULT false;
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS escalated_at timestamptz;
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS rating text;
UPDATE tickets SET warned_respond = (doc->>'warnedRespond')::boolean, warned_resolve = (doc->>'warnedResolve')::boolean,
  escalated_at = (doc->>'escalatedAt')::timestamptz, rating = doc->>'rating';

-- Tickets are updated in place many times (actions, SLA flags, occurrences) without touching
-- their indexed columns: room on each page lets PostgreSQL do those as HOT updates, which skip
-- the ten indexes. Applies to pages written from now on.
ALTER TABLE tickets SET (fillfactor = 80);
