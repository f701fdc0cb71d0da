-- The read side at a month of history (issue 12): indexes in the order the calls read.
--
-- The ticker (/api/events): newest first, ts DESC, site_id DESC, device_id DESC, msg_id DESC
-- with LIMIT 100. With this index each chunk is read in that order and the scan stops after
-- 100 rows; before, the newest chunk was sorted whole, growing through the day. It replaces
-- the hypertable's default (ts DESC) index, whose every use it serves, so ingest keeps the
-- same number of indexes to maintain.
CREATE INDEX IF NOT EXISTS events_ticker ON events (ts DESC, site_id DESC, device_id DESC, msg_id DESC);
DROP INDEX IF EXISTS events_ts_idx;

-- The board and the finished list (/api/tickets, tickets/ticket-query.ts): the finished
-- tickets in the board's order within their group (severity, then the oldest, then id), per
-- site and for every site (the phone page, operators who see all sites). The live part is
-- small and has tickets_live_site (010). Not partial on status, so a new ticket state needs
-- no index change.
CREATE INDEX IF NOT EXISTS tickets_board ON tickets (site_id, severity_rank, opened_at, id);
CREATE INDEX IF NOT EXISTS tickets_board_all ON tickets (severity_rank, opened_at, id);

-- The KPI window (kpi/kpi-repo.ts kpiRows: current SLA cycle started since from − lookback,
-- opened before to) with every column the KPI reads, so the partial days at either end of a
-- period and the per-day rollup read the index only, never the row with its jsonb document.
CREATE INDEX IF NOT EXISTS tickets_kpi_window ON tickets (site_id, sla_started_at)
  INCLUDE (opened_at, id, origin, status, severity, category, cell_id, assignee_id, preempted, rating,
           respond_by, resolve_by, accepted_at, resolved_at, closed_at);
