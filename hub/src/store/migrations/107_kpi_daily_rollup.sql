-- Per-day KPI rollup (kpi/kpi-rollup.ts): for every site and complete local day (TZ_REPORTS),
-- what each ticket contributed to that day's figures, summed per group (the site, each worker,
-- each cell) as counts, plus the response and resolution times behind the means and medians.
-- A period of whole past days is the sum of its days plus the live tickets' "now" figures:
-- exactly what a recount gives (kpi-rollup.test.ts), without reading the tickets of the month.
CREATE TABLE IF NOT EXISTS kpi_daily (
  site_id text NOT NULL,
  day_start timestamptz NOT NULL,
  day_end timestamptz NOT NULL,
  computed_at timestamptz NOT NULL,
  -- the rollup format (kpi-rollup.ts ROLLUP_FORMAT); rows of another format are recomputed
  format smallint NOT NULL,
  -- the response-window lookback it was computed with (KpiService.lookbackMs); another: recomputed
  lookback_ms bigint NOT NULL,
  acc jsonb NOT NULL,
  PRIMARY KEY (site_id, day_start)
);

-- Every change that can move a ticket's KPI contribution leaves a row here, in the same
-- transaction: the ticket's opening time and the span its response can be judged in
-- ([sla_started_at, respond_by]), before and after the change. The rollup refresh recomputes
-- the stored days these touch (a reopened ticket leaves its old cycle's days behind too).
CREATE TABLE IF NOT EXISTS kpi_dirty (
  id bigserial PRIMARY KEY,
  site_id text NOT NULL,
  opened_at timestamptz NOT NULL,
  sla_started_at timestamptz NOT NULL,
  respond_by timestamptz NOT NULL
);

CREATE OR REPLACE FUNCTION kpi_dirty_tickets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    -- Only rows whose KPI inputs changed (kpi/kpi-repo.ts, kpi-facts-repo.ts): the SLA sweep's
    -- warnings and escalations, every 30 s, leave the rollup alone.
    INSERT INTO kpi_dirty (site_id, opened_at, sla_started_at, respond_by)
      SELECT DISTINCT x.site_id, x.opened_at, x.sla_started_at, x.respond_by FROM (
        SELECT o.site_id, o.opened_at, o.sla_started_at, o.respond_by, n.site_id AS n_site, n.opened_at AS n_opened, n.sla_started_at AS n_sla, n.respond_by AS n_by
          FROM kpi_old o JOIN kpi_new n ON n.id = o.id
         WHERE (o.site_id, o.origin, o.status, o.severity, o.category, o.cell_id, o.assignee_id, o.preempted, o.rating,
                o.opened_at, o.sla_started_at, o.respond_by, o.resolve_by, o.accepted_at, o.resolved_at, o.closed_at,
                o.doc->'resolution', o.doc->'arrivedAt')
               IS DISTINCT FROM
               (n.site_id, n.origin, n.status, n.severity, n.category, n.cell_id, n.assignee_id, n.preempted, n.rating,
                n.opened_at, n.sla_started_at, n.respond_by, n.resolve_by, n.accepted_at, n.resolved_at, n.closed_at,
                n.doc->'resolution', n.doc->'arrivedAt')) c
      CROSS JOIN LATERAL (VALUES (c.site_id, c.opened_at, c.sla_started_at, c.respond_by), (c.n_site, c.n_opened, c.n_sla, c.n_by))
        AS x(site_id, opened_at, sla_started_at, respond_by);
  ELSE
    INSERT INTO kpi_dirty (site_id, opened_at, sla_started_at, respond_by)
      SELECT DISTINCT site_id, opened_at, sla_started_at, respond_by FROM kpi_new;
  END IF;
  RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS tickets_kpi_dirty_insert ON tickets;
CREATE TRIGGER tickets_kpi_dirty_insert AFTER INSERT ON tickets
  REFERENCING NEW TABLE AS kpi_new FOR EACH STATEMENT EXECUTE FUNCTION kpi_dirty_tickets();
DROP TRIGGER IF EXISTS tickets_kpi_dirty_update ON tickets;
CREATE TRIGGER tickets_kpi_dirty_update AFTER UPDATE ON tickets
  REFERENCING OLD TABLE AS kpi_old NEW TABLE AS kpi_new FOR EACH STATEMENT EXECUTE FUNCTION kpi_dirty_tickets();

-- Facts kept beside the ticket row: a follow-up (双是率) and an arrival (见面率, 响应率).
CREATE OR REPLACE FUNCTION kpi_dirty_facts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE ids text[];
BEGIN
  IF TG_TABLE_NAME = 'ticket_audit' THEN
    SELECT array_agg(DISTINCT ticket_id) INTO ids FROM kpi_new WHERE action = 'arrive';
  ELSE
    SELECT array_agg(DISTINCT ticket_id) INTO ids FROM kpi_new;
  END IF;
  IF ids IS NOT NULL THEN
    INSERT INTO kpi_dirty (site_id, opened_at, sla_started_at, respond_by)
      SELECT t.site_id, t.opened_at, t.sla_started_at, t.respond_by FROM tickets t WHERE t.id = ANY(ids);
  END IF;
  RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS follow_ups_kpi_dirty ON follow_ups;
CREATE TRIGGER follow_ups_kpi_dirty AFTER INSERT ON follow_ups
  REFERENCING NEW TABLE AS kpi_new FOR EACH STATEMENT EXECUTE FUNCTION kpi_dirty_facts();
DROP TRIGGER IF EXISTS ticket_audit_kpi_dirty ON ticket_audit;
CREATE TRIGGER ticket_audit_kpi_dirty AFTER INSERT ON ticket_audit
  REFERENCING NEW TABLE AS kpi_new FOR EACH STATEMENT EXECUTE FUNCTION kpi_dirty_facts();
