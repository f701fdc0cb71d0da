-- Tickets (工单, DESIGN §6), their append-only audit trail, and stored KPI reports (§7).
-- Plain tables, not hypertables: tickets are updated in place and read by id.
--
-- `doc` holds the full Ticket (schemas/src/tickets.ts) and is the source of truth when a
-- ticket is read; the other columns are copies of its fields, written in the same UPDATE,
-- for filtering, ordering and the database-enforced rules below.

CREATE TABLE IF NOT EXISTS tickets (
  id text PRIMARY KEY,
  site_id text NOT NULL,
  origin text NOT NULL,
  rule_id text,
  dedup_key text,
  status text NOT NULL,
  severity text NOT NULL,
  -- critical 0, high 1, normal 2: the board orders by it without a CASE over text.
  severity_rank smallint NOT NULL,
  category text NOT NULL,
  team text NOT NULL,
  cell_id text NOT NULL,
  device_id text,
  assignee_id text,
  escalation_level smallint NOT NULL,
  preempted boolean NOT NULL,
  opened_at timestamptz NOT NULL,
  sla_started_at timestamptz NOT NULL,
  respond_by timestamptz NOT NULL,
  resolve_by timestamptz NOT NULL,
  accepted_at timestamptz,
  resolved_at timestamptz,
  closed_at timestamptz,
  version integer NOT NULL,
  doc jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One live ticket per dedup key (contract, DESIGN §6): two hub processes racing on the same
-- evidence cannot both INSERT; the loser gets 23505 and adds an occurrence instead.
-- The status list is ACTIVE_TICKET_STATUSES (schemas/src/tickets.ts); keep them in step.
CREATE UNIQUE INDEX IF NOT EXISTS tickets_live_dedup ON tickets (dedup_key)
  WHERE status IN ('open', 'dispatched', 'accepted', 'reopened') AND dedup_key IS NOT NULL;

-- The SLA sweep and the board read live tickets only.
CREATE INDEX IF NOT EXISTS tickets_live_site ON tickets (site_id, severity_rank, opened_at)
  WHERE status IN ('open', 'dispatched', 'accepted', 'reopened');
-- Board filters and time ranges.
CREATE INDEX IF NOT EXISTS tickets_site_opened ON tickets (site_id, opened_at DESC);
CREATE INDEX IF NOT EXISTS tickets_site_status ON tickets (site_id, status);
CREATE INDEX IF NOT EXISTS tickets_assignee ON tickets (assignee_id, status) WHERE assignee_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS tickets_cell ON tickets (site_id, cell_id);
-- KPIs: a ticket counts in the period of its current SLA cycle.
CREATE INDEX IF NOT EXISTS tickets_site_sla_start ON tickets (site_id, sla_started_at);
-- Recurrence (reopen within 2 h) and complaint matching look up recent resolutions.
CREATE INDEX IF NOT EXISTS tickets_dedup_resolved ON tickets (dedup_key, resolved_at DESC) WHERE dedup_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS tickets_site_category ON tickets (site_id, category, resolved_at DESC);

CREATE TABLE IF NOT EXISTS ticket_audit (
  id bigserial PRIMARY KEY,
  ticket_id text NOT NULL REFERENCES tickets (id),
  at timestamptz NOT NULL,
  -- operator username, or system:<ruleId> / system:sla / system:complaint
  actor text NOT NULL,
  action text NOT NULL,
  from_status text,
  to_status text NOT NULL,
  note text
);
CREATE INDEX IF NOT EXISTS ticket_audit_ticket ON ticket_audit (ticket_id, id);

-- The audit trail is evidence of who did what: refuse edits and deletions at the database,
-- so no code path (or hand-written SQL) can rewrite history.
CREATE OR REPLACE FUNCTION ticket_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ticket_audit is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
DROP TRIGGER IF EXISTS ticket_audit_no_change ON ticket_audit;
CREATE TRIGGER ticket_audit_no_change BEFORE UPDATE OR DELETE ON ticket_audit
  FOR EACH ROW EXECUTE FUNCTION ticket_audit_append_only();

-- Daily ranking (日监控排名), weekly analysis (周调度分析), monthly report (月总结通报).
-- period_start is local midnight in TZ_REPORTS; a re-run for the same period replaces it.
CREATE TABLE IF NOT EXISTS reports (
  kind text NOT NULL CHECK (kind IN ('daily', 'weekly', 'monthly')),
  site_id text NOT NULL,
  period_start timestamptz NOT NULL,
  period_end timestamptz NOT NULL,
  generated_at timestamptz NOT NULL,
  snapshot jsonb NOT NULL,
  PRIMARY KEY (kind, site_id, period_start)
);
CREATE INDEX IF NOT EXISTS reports_site_kind ON reports (site_id, kind, period_start DESC);
